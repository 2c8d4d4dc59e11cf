package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store/redisstore"
)

// oddAnswer is a hook that replaces the answer of every EVALSHA, once the
// server has run it (or the EVAL that follows a NOSCRIPT), with a value
// no script of the store returns.
type oddAnswer struct{}

func (oddAnswer) DialHook(next redis.DialHook) redis.DialHook { return next }

func (oddAnswer) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if c, ok := cmd.(*redis.Cmd); ok && err == nil && (cmd.Name() == "evalsha" || cmd.Name() == "eval") {
			c.SetVal([]any{"odd"})
		}
		return err
	}
}

func (oddAnswer) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestUnexpectedAnswerIsOutcomeUnknown checks that a compare-and-swap or
// compare-and-delete whose script ran and answered something the store
// does not know is ErrOutcomeUnknown, not a definite ErrUnavailable: the
// script may have written.
func TestUnexpectedAnswerIsOutcomeUnknown(t *testing.T) {
	ctx := t.Context()
	c := newClient(t, sharedServer(t).Addr())
	s, err := redisstore.New(c, redisstore.WithPrefix(uniquePrefix(t)), redisstore.WithEvictionAllowed())
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.CompareAndSwap(ctx, "k", 0, []byte("v1"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c.AddHook(oddAnswer{})
	if _, err := s.CompareAndSwap(ctx, "k", r.Version, []byte("v2"), time.Hour); !errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Errorf("CompareAndSwap with an unexpected answer: %v, want ErrOutcomeUnknown", err)
	}
	cur, err := s.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompareAndDelete(ctx, "k", cur.Version); !errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Errorf("CompareAndDelete with an unexpected answer: %v, want ErrOutcomeUnknown", err)
	}
}
