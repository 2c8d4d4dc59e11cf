package redisstore_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/redisstore"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
	"github.com/verifykit/verifykit/store/storetest"
)

func TestLimiterConformance(t *testing.T) {
	srv := sharedServer(t)
	storetest.RunLimiter(t, func(t *testing.T) storetest.Harness {
		c := newClient(t, srv.Addr())
		prefix := uniquePrefix(t)
		s, err := redisstore.New(c, redisstore.WithPrefix(prefix))
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Harness{Store: s, Advance: func(d time.Duration) { advanceKeys(t, c, prefix, d) }, Tolerance: time.Second}
	})
}

// TestLimiterOneRoundTrip checks that a Take of many limits, and a
// Release, are one command each once the server knows the scripts.
func TestLimiterOneRoundTrip(t *testing.T) {
	srv := sharedServer(t)
	ctx := t.Context()
	c := newClient(t, srv.Addr())
	var n atomic.Int64
	c.AddHook(countHook{&n})
	s, err := redisstore.New(c, redisstore.WithPrefix(uniquePrefix(t)))
	if err != nil {
		t.Fatal(err)
	}
	limits := []store.Limit{{Key: "cd", Window: time.Hour, Waits: []time.Duration{30 * time.Second, time.Minute}}}
	for i := range 6 {
		limits = append(limits, store.Limit{Key: "b" + strconv.Itoa(i), Max: 100, Window: time.Hour})
	}
	_, _ = s.Take(ctx, limits[1:2]) // teach the server the scripts
	_ = s.Release(ctx, limits[1:2])
	for _, op := range []struct {
		name string
		do   func() error
	}{
		{"Take", func() error { _, err := s.Take(ctx, limits); return err }},
		{"Take refused", func() error {
			res, err := s.Take(ctx, limits)
			if err == nil && res.OK {
				return errors.New("taken twice within the cooldown")
			}
			return err
		}},
		{"Release", func() error { return s.Release(ctx, limits) }},
	} {
		before := n.Load()
		if err := op.do(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		if got := n.Load() - before; got != 1 {
			t.Errorf("%s of %d limits sent %d commands, want 1", op.name, len(limits), got)
		}
	}
}

// TestLimiterServerDown: with the server gone, Take and Release fail with
// ErrUnavailable (nothing can have happened).
func TestLimiterServerDown(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	s, err := redisstore.Open(t.Context(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv.Kill()
	l := []store.Limit{{Key: "b", Max: 1, Window: time.Minute}}
	_, err = s.Take(ctx, l)
	if !errors.Is(err, provider.ErrUnavailable) || errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Errorf("Take with the server down: %v, want ErrUnavailable only", err)
	}
	if err := s.Release(ctx, l); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("Release with the server down: %v, want ErrUnavailable", err)
	}
}

// BenchmarkTake measures a Take of the four limits of a typical Start
// (cooldown, budgets per destination, per caller and global) against a
// bare GET, the floor of one round trip to the same server, and against
// Incr (one write, one script). The server of its own writes its
// append-only file without fsync (appendfsync no), so the figures are the
// round trip and the script, not the disk; redistest's servers fsync every
// write, which costs milliseconds on a slow disk.
func BenchmarkTake(b *testing.B) {
	srv := redistest.Start(b)
	ctx := context.Background()
	c := newClient(b, srv.Addr())
	if err := c.ConfigSet(ctx, "appendfsync", "no").Err(); err != nil {
		b.Fatal(err)
	}
	newStore := func(b *testing.B) *redisstore.Store {
		s, err := redisstore.New(c, redisstore.WithPrefix(uniquePrefix(b)))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Run("GET", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = c.Get(ctx, "absent").Err()
		}
	})
	b.Run("Incr", func(b *testing.B) {
		s := newStore(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := s.Incr(ctx, "c", time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Take4", func(b *testing.B) {
		s := newStore(b)
		keys := make([][4]string, 1<<12)
		for i := range keys {
			d := strconv.Itoa(i)
			keys[i] = [4]string{"cd:" + d, "dest:" + d, "ip:" + strconv.Itoa(i%100), "global"}
		}
		limits := make([]store.Limit, 4)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k := &keys[i%len(keys)]
			i++
			limits[0] = store.Limit{Key: k[0], Window: time.Hour, Waits: []time.Duration{time.Millisecond}}
			limits[1] = store.Limit{Key: k[1], Max: 1 << 40, Window: time.Hour}
			limits[2] = store.Limit{Key: k[2], Max: 1 << 40, Window: time.Hour}
			limits[3] = store.Limit{Key: k[3], Max: 1 << 40, Window: time.Hour}
			if _, err := s.Take(ctx, limits); err != nil {
				b.Fatal(err)
			}
		}
	})
}
