package redisstore_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/redisstore"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
)

// TestNoExpiryHasNoTTL checks that a record stored with store.NoExpiry has
// no expiry in Redis (so no volatile-* policy can evict it), and that a
// later swap with a time to live gives it one again.
func TestNoExpiryHasNoTTL(t *testing.T) {
	srv := sharedServer(t)
	ctx := t.Context()
	c := newClient(t, srv.Addr())
	prefix := uniquePrefix(t)
	s, err := redisstore.New(c, redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.CompareAndSwap(ctx, "factor", 0, []byte("x"), store.NoExpiry)
	if err != nil {
		t.Fatal(err)
	}
	if ttl, err := c.PTTL(ctx, prefix+"factor").Result(); err != nil || ttl != -1*time.Nanosecond && ttl != -1 {
		t.Errorf("a NoExpiry record: PTTL = %v, %v; want -1 (no expiry)", ttl, err)
	}
	if _, err := s.CompareAndSwap(ctx, "factor", r.Version, []byte("y"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if ttl, err := c.PTTL(ctx, prefix+"factor").Result(); err != nil || ttl <= 0 || ttl > time.Minute {
		t.Errorf("after a swap with a ttl: PTTL = %v, %v; want in (0, 1m]", ttl, err)
	}
}

// TestEvictionPolicy checks that a store over a Redis that may evict keys
// (any maxmemory-policy but noeviction) refuses to work, since an evicted
// key is a TOTP factor lost, a pending verification gone or a limit reset;
// that WithEvictionAllowed lets it work with a warning; and that a server
// that does not let the store read its policy gets a warning, not a
// refusal.
func TestEvictionPolicy(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	admin := newClient(t, srv.Addr())
	for _, policy := range []string{"volatile-lru", "allkeys-lru", "volatile-ttl", "allkeys-random"} {
		if err := admin.ConfigSet(ctx, "maxmemory-policy", policy).Err(); err != nil {
			t.Fatal(err)
		}
		s, err := redisstore.New(newClient(t, srv.Addr()))
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.CompareAndSwap(ctx, "k", 0, []byte("v"), time.Minute)
		if !errors.Is(err, provider.ErrUnavailable) || !strings.Contains(err.Error(), policy) {
			t.Errorf("%s: CompareAndSwap: %v; want ErrUnavailable naming the policy", policy, err)
		}
		if _, err := s.Get(ctx, "k"); !errors.Is(err, provider.ErrUnavailable) {
			t.Errorf("%s: Get: %v; want ErrUnavailable", policy, err)
		}
		if _, _, err := s.Incr(ctx, "n", time.Minute); !errors.Is(err, provider.ErrUnavailable) {
			t.Errorf("%s: Incr: %v; want ErrUnavailable", policy, err)
		}
		var logs bytes.Buffer
		allowed, err := redisstore.New(newClient(t, srv.Addr()), redisstore.WithEvictionAllowed(), redisstore.WithLogger(slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := allowed.Get(ctx, "k"); err != nil {
			t.Errorf("%s with WithEvictionAllowed: Get: %v", policy, err)
		}
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), policy) {
			t.Errorf("%s with WithEvictionAllowed: no warning naming the policy: %q", policy, logs.String())
		}
	}
	// The operator fixes the policy: the refusing store works.
	s, _ := redisstore.New(newClient(t, srv.Addr()))
	if _, err := s.Get(ctx, "k"); !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("Get: %v; want ErrUnavailable", err)
	}
	if err := admin.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "k"); err != nil {
		t.Errorf("Get after the policy became noeviction: %v", err)
	}
	// A user who may not run CONFIG: a warning, and the store works.
	if err := admin.Do(ctx, "ACL", "SETUSER", "app", "on", ">app-password", "~*", "+@all", "-config").Err(); err != nil {
		t.Fatal(err)
	}
	limited := redis.NewClient(&redis.Options{Addr: srv.Addr(), Username: "app", Password: "app-password", MaxRetries: -1, DisableIdentity: true})
	t.Cleanup(func() { _ = limited.Close() })
	var logs bytes.Buffer
	ls, err := redisstore.New(limited, redisstore.WithLogger(slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ls.CompareAndSwap(ctx, "k2", 0, []byte("v"), time.Minute); err != nil {
		t.Errorf("a user without CONFIG: %v; want the store to work", err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "noeviction") {
		t.Errorf("a user without CONFIG: no warning: %q", logs.String())
	}
	if strings.Contains(logs.String(), "app-password") {
		t.Error("the warning quotes the password")
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (w *syncWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}
