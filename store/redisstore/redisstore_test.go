package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/redisstore"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
	"github.com/verifykit/verifykit/store/storetest/servertest"
)

// testKey is the self-hosted provider's key in the benchmarks.
var testKey = selfhosted.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")}

// shared is one redis-server for the tests that do not stop it; each test
// uses its own key prefix.
var shared *redistest.Server

// backend opens the store for the shared server tests.
var backend = servertest.Backend{Name: "Redis", Open: func(ctx context.Context, url, ns string) (store.Store, func(), error) {
	s, err := redisstore.Open(ctx, url, redisstore.WithPrefix(ns+":"))
	if err != nil {
		return nil, nil, err
	}
	return s, func() { _ = s.Close() }, nil
}}

func TestMain(m *testing.M) {
	servertest.Main(backend) // a replica process of TestScaleOut, TestReplicasShareTheBudget
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

// TestConformance runs storetest's suites and the self-hosted provider's
// conformance suite over the store.
func TestConformance(t *testing.T) {
	srv := sharedServer(t)
	servertest.Conformance(t, func(t *testing.T, now func() time.Time) servertest.Fixture {
		c := newClient(t, srv.Addr())
		prefix := uniquePrefix(t)
		s, err := redisstore.New(c, redisstore.WithPrefix(prefix), redisstore.WithClock(now))
		if err != nil {
			t.Fatal(err)
		}
		return servertest.Fixture{Store: s, Advance: func(d time.Duration) { advanceKeys(t, c, prefix, d) }}
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

// countingStore returns a store whose commands n counts.
func countingStore(t *testing.T, n *atomic.Int64) *redisstore.Store {
	c := newClient(t, sharedServer(t).Addr())
	c.AddHook(redistest.CountRoundTrips(n))
	s, err := redisstore.New(c, redisstore.WithPrefix(uniquePrefix(t)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOneRoundTrip counts the commands each operation sends once the
// server knows the scripts: one each.
func TestOneRoundTrip(t *testing.T) {
	var n atomic.Int64
	servertest.OneRoundTrip(t, countingStore(t, &n), n.Load)
}

// TestRoundTripsPerRequest counts the commands of verify's requests under
// the sign-up policy.
func TestRoundTripsPerRequest(t *testing.T) {
	var n atomic.Int64
	servertest.RoundTripsPerRequest(t, countingStore(t, &n), n.Load)
}

// TestScaleOut runs three processes of the self-hosted provider over one
// server: one approval per verification and per TOTP step, exact limits.
func TestScaleOut(t *testing.T) {
	servertest.ScaleOut(t, backend, sharedServer(t).URL())
}

// TestReplicasShareTheBudget runs four processes of verify over one
// server: a cooldown set on one holds on the others, a global budget is
// exact.
func TestReplicasShareTheBudget(t *testing.T) {
	servertest.SharedBudget(t, backend, sharedServer(t).URL())
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
// there fails with ErrUnavailable.
func TestServerDown(t *testing.T) {
	srv := redistest.Start(t)
	s, err := redisstore.Open(t.Context(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	servertest.ServerDown(t, s, srv, nil)
}

// TestSlowServer pauses the server's writes past the caller's deadline:
// ErrOutcomeUnknown.
func TestSlowServer(t *testing.T) {
	srv := sharedServer(t)
	admin := newClient(t, srv.Addr())
	s, err := redisstore.Open(t.Context(), srv.URL(), redisstore.WithPrefix(uniquePrefix(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	servertest.SlowWrite(t, s, func() func() {
		if err := admin.Do(t.Context(), "CLIENT", "PAUSE", "10000", "WRITE").Err(); err != nil {
			t.Fatal(err)
		}
		// The server is shared: never leave it paused, whatever happens.
		return func() {
			if err := admin.Do(context.Background(), "CLIENT", "UNPAUSE").Err(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
