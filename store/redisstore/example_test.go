package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store/redisstore"
	"github.com/verifykit/verifykit/verify"
)

// One Redis store serves the self-hosted provider and verify's policies, so
// that every replica shares the verifications, the factors and the limits.
// The Redis server is at REDIS_URL (such as redis://127.0.0.1:6379/0); its
// maxmemory-policy must be noeviction. Open pings it. (go test compiles this example;
// TestExample runs it against a redis-server it starts.)
func Example() {
	ctx := context.Background()
	st, err := redisstore.Open(ctx, os.Getenv("REDIS_URL"), redisstore.WithPrefix("myapp:"))
	if err != nil {
		panic(err)
	}
	defer st.Close()

	key, err := selfhosted.KeyFromEnv("VERIFYKIT_KEY") // the same on every replica
	if err != nil {
		panic(err)
	}
	outbox := new(selfhosted.Outbox) // in production: an SMS gateway's Sender
	p, err := selfhosted.New(st, key, selfhosted.WithSender(outbox, provider.ChannelSMS))
	if err != nil {
		panic(err)
	}
	client, err := verify.New(p,
		verify.WithPolicyStore(st),
		verify.WithResendCooldown(30*time.Second, 10*time.Minute))
	if err != nil {
		panic(err)
	}

	v, err := client.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
	if err != nil {
		panic(err) // ErrUnavailable when Redis is down or evicts keys
	}
	code, _ := outbox.LastCode("+14155552671")
	v, err = client.CheckID(ctx, v.ID, code, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Status)
}

// TestExample runs Example against a real redis-server.
func TestExample(t *testing.T) {
	srv := sharedServer(t)
	// The example's prefix is fixed: start from an empty one (-count=2).
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	keys, err := c.Keys(context.Background(), "myapp:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		if err := c.Del(context.Background(), keys...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("REDIS_URL", srv.URL())
	t.Setenv("VERIFYKIT_KEY", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	Example()
}
