package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/redisstore"
)

// names is a hook that records the name of every command the client
// sends but EVAL (which follows an EVALSHA when the server has not loaded
// the script yet), and answers a SET with GET the way a server older than Redis 7.0
// does when old is set.
type names struct {
	got []string
	old bool
}

func (h *names) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *names) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() != "eval" {
			h.got = append(h.got, cmd.Name())
		}
		if h.old && cmd.Name() == "set" && strings.Contains(cmd.String(), " get") {
			cmd.SetErr(syntaxError{})
			return cmd.Err()
		}
		return next(ctx, cmd)
	}
}

// syntaxError is the server's answer to a command it cannot parse.
type syntaxError struct{}

func (syntaxError) Error() string { return "ERR syntax error" }
func (syntaxError) RedisError()   {}

func (h *names) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestCreateIsOneSet checks that a compare-and-swap that creates a record
// is one SET ... NX GET, no script, and answers a lost race with the
// current record; and that on a server that refuses that SET (before
// Redis 7.0) it runs the script instead, from then on.
func TestCreateIsOneSet(t *testing.T) {
	for _, old := range []bool{false, true} {
		ctx := t.Context()
		c := newClient(t, sharedServer(t).Addr())
		h := &names{old: old}
		c.AddHook(h)
		prefix := uniquePrefix(t)
		s, err := redisstore.New(c, redisstore.WithPrefix(prefix), redisstore.WithEvictionAllowed())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "a"); err != nil { // the store's first call reads the eviction policy
			t.Fatal(err)
		}
		h.got = nil
		won, err := s.CompareAndSwap(ctx, "a", 0, []byte("mine"), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.CompareAndSwap(ctx, "a", 0, []byte("theirs"), time.Minute)
		if !errors.Is(err, store.ErrConflict) || got.Version != won.Version || string(got.Value) != "mine" {
			t.Fatalf("old server %v: second create = %d %q, %v; want the first record (%d) and ErrConflict", old, got.Version, got.Value, err, won.Version)
		}
		if _, err := s.CompareAndSwap(ctx, "b", 0, []byte("kept"), store.NoExpiry); err != nil {
			t.Fatal(err)
		}
		sent := strings.Join(h.got, " ")
		if ttl := c.PTTL(ctx, prefix+"b").Val(); ttl != -1 {
			t.Errorf("old server %v: a record created with NoExpiry has TTL %v; want none (-1)", old, ttl)
		}
		want := "set set set"
		if old {
			want = "set evalsha evalsha evalsha"
		}
		if sent != want {
			t.Errorf("old server %v: commands %q; want %q", old, sent, want)
		}
	}
}
