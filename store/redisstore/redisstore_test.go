package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/redisstore"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
	"github.com/verifykit/verifykit/store/storetest"
)

// shared is one redis-server for the tests that do not stop it; each test
// uses its own key prefix.
var shared *redistest.Server

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "redisstore-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared, err = redistest.StartMain(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if shared != nil {
		shared.Kill()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// sharedServer returns the shared server, or skips (fails when
// REDIS_REQUIRED=1) when redis-server is not installed.
func sharedServer(t testing.TB) *redistest.Server {
	t.Helper()
	redistest.Require(t)
	if shared == nil {
		t.Fatal("redis-server is installed but the shared server did not start")
	}
	return shared
}

var prefixes atomic.Int64

// uniquePrefix returns a key prefix no other test in this run uses.
func uniquePrefix(t testing.TB) string {
	return fmt.Sprintf("test%d-%d:", os.Getpid(), prefixes.Add(1))
}

// clock is a manual clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newClient returns a client for the store: no retries by the client.
func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true, DisableIdentity: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// advanceKeys moves Redis's time forward by d for the keys under prefix, by
// shortening their time to live (Redis's own clock cannot be moved).
func advanceKeys(t testing.TB, c *redis.Client, prefix string, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl < 0 {
			continue // gone already (-2), or no expiry (-1: a bug the suite will catch)
		}
		if left := ttl - d; left <= 0 {
			err = c.Del(ctx, k).Err()
		} else {
			err = c.PExpire(ctx, k, left).Err()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestConformance(t *testing.T) {
	srv := sharedServer(t)
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		c := newClient(t, srv.Addr())
		clk := &clock{now: time.Now()}
		prefix := uniquePrefix(t)
		s, err := redisstore.New(c, redisstore.WithPrefix(prefix), redisstore.WithClock(clk.Now))
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Harness{Store: s, Advance: func(d time.Duration) {
			clk.Advance(d)
			advanceKeys(t, c, prefix, d)
		}, Tolerance: time.Second}
	})
}

// TestEveryKeyExpires checks that nothing the store writes lives without
// an expiry.
func TestEveryKeyExpires(t *testing.T) {
	srv := sharedServer(t)
	ctx := t.Context()
	c := newClient(t, srv.Addr())
	prefix := uniquePrefix(t)
	s, err := redisstore.New(c, redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.CompareAndSwap(ctx, "a", 0, []byte("x"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompareAndSwap(ctx, "a", r.Version, []byte("y"), 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := s.Incr(ctx, "c", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	for k, max := range map[string]time.Duration{"a": 2 * time.Minute, "c": time.Hour} {
		ttl, err := c.PTTL(ctx, prefix+k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 || ttl > max {
			t.Errorf("key %s: PTTL = %v, want in (0, %v]", k, ttl, max)
		}
	}
}

// TestOneRoundTrip counts the commands each operation sends once the
// server knows the scripts: one each.
func TestOneRoundTrip(t *testing.T) {
	srv := sharedServer(t)
	ctx := t.Context()
	c := newClient(t, srv.Addr())
	var n atomic.Int64
	c.AddHook(countHook{&n})
	s, err := redisstore.New(c, redisstore.WithPrefix(uniquePrefix(t)))
	if err != nil {
		t.Fatal(err)
	}
	// Teach the server the scripts (EVALSHA, NOSCRIPT, EVAL at most once each).
	r, _ := s.CompareAndSwap(ctx, "warm", 0, []byte("x"), time.Minute)
	_, _ = s.CompareAndDelete(ctx, "warm", r.Version)
	_, _, _ = s.Incr(ctx, "warm-c", time.Minute)

	ops := []struct {
		name string
		op   func() error
	}{
		{"Get", func() error { _, err := s.Get(ctx, "k"); return err }},
		{"CompareAndSwap create", func() error { r, err = s.CompareAndSwap(ctx, "k", 0, []byte("v"), time.Minute); return err }},
		{"CompareAndSwap update", func() error { r, err = s.CompareAndSwap(ctx, "k", r.Version, []byte("w"), time.Minute); return err }},
		{"CompareAndSwap conflict", func() error {
			_, err := s.CompareAndSwap(ctx, "k", 1, []byte("w"), time.Minute)
			if errors.Is(err, store.ErrConflict) {
				return nil
			}
			return err
		}},
		{"CompareAndDelete", func() error { _, err := s.CompareAndDelete(ctx, "k", r.Version); return err }},
		{"Incr", func() error { _, _, err := s.Incr(ctx, "c", time.Minute); return err }},
	}
	for _, o := range ops {
		before := n.Load()
		if err := o.op(); err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		if got := n.Load() - before; got != 1 {
			t.Errorf("%s sent %d commands, want 1", o.name, got)
		}
	}
}

type countHook struct{ n *atomic.Int64 }

func (countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func TestNewRefusesRetryingClient(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	if _, err := redisstore.New(c); err == nil {
		t.Fatal("New accepted a client that retries commands")
	}
	if _, err := redisstore.New(nil); err == nil {
		t.Fatal("New accepted a nil client")
	}
}

func TestOpenHidesPassword(t *testing.T) {
	t.Parallel()
	_, err := redisstore.Open(t.Context(), "redis://user:hunter2@127.0.0.1:6379/notadb")
	if err == nil {
		t.Fatal("Open accepted a bad database number")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Open's error reveals the password: %v", err)
	}
	// A password the server refuses: Open's ping fails.
	url := strings.Replace(sharedServer(t).URL(), "redis://", "redis://user:hunter2@", 1)
	if s, err := redisstore.Open(t.Context(), url); err == nil {
		s.Close()
		t.Error("Open succeeded with a password the server refuses")
	} else if out := fmt.Sprintf("%v %+v %#v", err, err, err); strings.Contains(out, "hunter2") {
		t.Errorf("Open's error reveals the password: %s", out)
	}
	s, err := redisstore.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", Username: "user", Password: "hunter2", MaxRetries: -1}))
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, s); strings.Contains(out, "hunter2") {
			t.Errorf("Sprintf(%q) = %q reveals the password", verb, out)
		}
	}
}

// TestServerDown checks that every operation against a server that is not
// there fails with ErrUnavailable: nothing can have happened.
func TestServerDown(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	s, err := redisstore.Open(t.Context(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv.Kill()
	ops := map[string]error{
		"Get":              second(s.Get(ctx, "k")),
		"CompareAndSwap":   second(s.CompareAndSwap(ctx, "k", 0, []byte("v"), time.Minute)),
		"CompareAndDelete": second(s.CompareAndDelete(ctx, "k", 7)),
		"Incr":             third(s.Incr(ctx, "c", time.Minute)),
	}
	for op, err := range ops {
		if !errors.Is(err, provider.ErrUnavailable) || errors.Is(err, provider.ErrOutcomeUnknown) {
			t.Errorf("%s with the server down: error = %v, want ErrUnavailable only", op, err)
		}
		var se *store.Error
		if !errors.As(err, &se) {
			t.Errorf("%s: errors.As(*store.Error) failed on %v", op, err)
		}
	}
	// Back up: the store works again without being reopened.
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompareAndSwap(ctx, "k", 0, []byte("v"), time.Minute); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

// TestSlowServer pauses the server's writes past the caller's deadline: the
// write is queued on the server and lands after the caller gave up, which
// is exactly why the store must answer ErrOutcomeUnknown, not
// ErrUnavailable.
func TestSlowServer(t *testing.T) {
	srv := sharedServer(t)
	ctx := t.Context()
	admin := newClient(t, srv.Addr())
	prefix := uniquePrefix(t)
	s, err := redisstore.Open(t.Context(), srv.URL(), redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Connect and load the scripts before the pause.
	r, err := s.CompareAndSwap(ctx, "k", 0, []byte("v1"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "10000", "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	// The server is shared: never leave it paused, whatever happens here.
	t.Cleanup(func() { _ = admin.Do(context.Background(), "CLIENT", "UNPAUSE").Err() })
	// Long enough to write the command even on a loaded machine; the
	// pause (10 s) holds the answer well past it.
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err = s.CompareAndSwap(short, "k", r.Version, []byte("v2"), time.Minute)
	cancel()
	if !errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Fatalf("CompareAndSwap past its deadline: error = %v, want ErrOutcomeUnknown", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not match context.DeadlineExceeded", err)
	}
	// Whether the paused write lands depends on whether the server read it
	// before the client closed the connection: the caller cannot know.
	if err := admin.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "k")
	// The Store's connection that timed out was closed; a new one reads.
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Value) != "v2" && string(got.Value) != "v1" {
		t.Fatalf("Get = %q", got.Value)
	}
	t.Logf("the write that timed out landed: %v", string(got.Value) == "v2")
	if _, err := s.CompareAndSwap(ctx, "k", got.Version, []byte("v3"), time.Minute); err != nil {
		t.Fatalf("after the pause: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }
