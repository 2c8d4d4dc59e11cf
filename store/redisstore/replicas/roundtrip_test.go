package replicas_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/store/redisstore"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
	"github.com/verifykit/verifykit/verify"
)

type countHook struct{ n *atomic.Int64 }

func (countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// TestOneRoundTripPerRequest counts the Redis commands of docs/policies.md's
// sign-up policy: for a Start, one for all its counters (one script) and,
// since a check budget counts per destination, one to remember the
// verification's target for CheckID; one for a wrong code, two for a
// right one (the give-back of its place), one more for CheckID (the
// target's read).
func TestOneRoundTripPerRequest(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true, DisableIdentity: true})
	defer c.Close()
	var n atomic.Int64
	c.AddHook(countHook{&n})
	s, err := redisstore.New(c)
	if err != nil {
		t.Fatal(err)
	}
	client, err := verify.New(fake.MustNew(fake.WithFixedCode("123456")),
		verify.WithPolicyStore(s),
		verify.WithResendCooldown(30*time.Second, 10*time.Minute),
		verify.WithSendBudget(verify.PerDestination, 5, time.Hour),
		verify.WithSendBudget(verify.PerDestination, 10, 24*time.Hour),
		verify.WithSendBudget(verify.PerCaller("ip"), 10, time.Hour),
		verify.WithSendBudget(verify.PerPrefix(6), 30, time.Hour),
		verify.WithSendBudget(verify.Global, 2000, 24*time.Hour),
		verify.WithSendBudget(verify.PerDestination, 2, 24*time.Hour, verify.ChannelCall),
		verify.WithAllowedRegions("US", "CA", "GB"),
		verify.WithDeniedPrefixes(verify.HighCostPrefixes()...),
		verify.WithCheckBudget(verify.PerDestination, 10, time.Hour),
		verify.WithCheckBudget(verify.PerCaller("ip"), 30, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{"ip": "203.0.113.9"}
	var lastID string
	start := func(to string) error {
		v, err := client.Start(ctx, to, verify.ChannelSMS, &verify.StartOptions{CallerKeys: keys})
		if err == nil {
			lastID = v.ID
		}
		return err
	}
	check := func(to, code string) error {
		_, err := client.Check(ctx, to, code, &verify.CheckOptions{CallerKeys: keys})
		return err
	}
	// Teach the server the scripts.
	if err := start("+14155550100"); err != nil {
		t.Fatal(err)
	}
	_ = check("+14155550100", "123456")
	for _, op := range []struct {
		name string
		do   func() error
		want int64
	}{
		{"Start", func() error { return start("+14155550101") }, 2},
		{"Start refused by the cooldown", func() error { _ = start("+14155550101"); return nil }, 1},
		{"Start refused by the region rule", func() error { _ = start("+33612345678"); return nil }, 0},
		{"Check with a wrong code", func() error { return check("+14155550101", "000000") }, 1},
		{"Check with the right code", func() error { return check("+14155550101", "123456") }, 2},
		{"Start to another number", func() error { return start("+14155550102") }, 2},
		{"CheckID with a wrong code", func() error {
			_, err := client.CheckID(ctx, lastID, "000000", &verify.CheckOptions{CallerKeys: keys})
			return err
		}, 2},
	} {
		before := n.Load()
		if err := op.do(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		if got := n.Load() - before; got != op.want {
			t.Errorf("%s sent %d Redis commands, want %d", op.name, got, op.want)
		}
	}
}
