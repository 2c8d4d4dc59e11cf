package engine

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

// counted is a store that counts its calls: one call is one round trip
// to a remote store.
type counted struct {
	store.Store
	n atomic.Int64
}

func (c *counted) Get(ctx context.Context, key string) (store.Record, error) {
	c.n.Add(1)
	return c.Store.Get(ctx, key)
}

func (c *counted) CompareAndSwap(ctx context.Context, key string, old uint64, v []byte, ttl time.Duration) (store.Record, error) {
	c.n.Add(1)
	return c.Store.CompareAndSwap(ctx, key, old, v, ttl)
}

func (c *counted) CompareAndDelete(ctx context.Context, key string, old uint64) (store.Record, error) {
	c.n.Add(1)
	return c.Store.CompareAndDelete(ctx, key, old)
}

// replicas returns n engines over one counted store, as n replicas of an
// application share one Redis or PostgreSQL.
func replicas(t *testing.T, n int, edit func(*Config)) ([]*Verifications, *counted, *clock) {
	t.Helper()
	base, c := testConfig(t)
	st := &counted{Store: base.Store}
	out := make([]*Verifications, n)
	for i := range out {
		// A name longer than NameLen: the key of a target and of its IDs
		// must still be one.
		cfg := base
		cfg.Store, cfg.MaxChecks, cfg.CreateFirst, cfg.NameLen = st, 3, true, 8
		if edit != nil {
			edit(&cfg)
		}
		var err error
		if out[i], err = New(cfg); err != nil {
			t.Fatal(err)
		}
	}
	return out, st, c
}

// TestRoundTrips counts the store calls of each step: a start is one, a
// check on the replica that wrote the verification last is one (a
// compare-and-swap on the version it cached), a check on another replica
// two (a read, then the compare-and-swap).
func TestRoundTrips(t *testing.T) {
	r, st, _ := replicas(t, 2, nil)
	a, b := r[0], r[1]
	var id string
	var got, want []string
	calls := func(name string, n int64, do func() error) {
		before := st.n.Load()
		if err := do(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got = append(got, name+": "+string(rune('0'+st.n.Load()-before)))
		want = append(want, name+": "+string(rune('0'+n)))
	}
	check := func(e *Verifications, code string, status provider.Status) func() error {
		return func() error {
			if _, st, err := e.Check(ctx, id, "", code, nil); err != nil || st != status {
				return errors.Join(err, errors.New("status "+string(st)))
			}
			return nil
		}
	}
	calls("start", 1, func() error { s, _, err := a.Start(ctx, to, provider.ChannelSMS, ""); id = s.ID(); return err })
	calls("wrong code, same replica", 1, check(a, "000000", provider.StatusPending))
	calls("wrong code, another replica", 2, check(b, "000000", provider.StatusPending))
	calls("re-send, the replica that checked last", 1, func() error { _, _, err := b.Start(ctx, to, provider.ChannelSMS, ""); return err })
	// a's cache is behind: its compare-and-swap fails and returns the
	// current record, on which the rule runs again.
	calls("right code, a replica behind", 2, check(a, "123456", provider.StatusApproved))
	calls("start after approval", 1, func() error { s, _, err := a.Start(ctx, to, provider.ChannelSMS, ""); id = s.ID(); return err })
	calls("right code, same replica", 1, check(a, "123456", provider.StatusApproved))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("store calls per step (-want +got):\n%s", diff)
	}
}

// TestStaleCacheNeverApproves: a replica whose cache still holds a
// verification that another replica approved, or replaced, finds nothing
// to approve; one whose cache holds a spent verification refuses only
// after reading the store.
func TestStaleCacheNeverApproves(t *testing.T) {
	r, _, _ := replicas(t, 2, nil)
	a, b := r[0], r[1]
	s, _, err := a.Start(ctx, to, provider.ChannelSMS, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, st, err := b.Check(ctx, s.ID(), "", "123456", nil); st != provider.StatusApproved {
		t.Fatalf("check on b: %s, %v", st, err)
	}
	if _, st, err := a.Check(ctx, s.ID(), "", "123456", nil); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("second approval through a's stale cache: %s, %v; want ErrNotFound", st, err)
	}
	if _, _, err := a.Start(ctx, to, provider.ChannelSMS, ""); err != nil {
		t.Fatal(err)
	}
	s2, _, err := b.Start(ctx, to, provider.ChannelSMS, "") // b's cache holds nothing: it creates first, conflicts, re-sends
	if err != nil || s2.ID() == s.ID() || len(s2.View("").SendAttempts) != 2 {
		t.Fatalf("re-send on b: %v", err)
	}
	if _, _, err := a.Check(ctx, s.ID(), "", "123456", nil); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("the approved ID through a's cache: %v; want ErrNotFound", err)
	}
}

// TestCacheRefusesOnStoreState: a cached state that would refuse (spent
// checks, spent sends) is read again from the store first: the refusal
// is the store's, not the cache's.
func TestCacheRefusesOnStoreState(t *testing.T) {
	r, _, _ := replicas(t, 2, func(c *Config) { c.MaxChecks, c.MaxSends = 1, 1 })
	a, b := r[0], r[1]
	s, _, _ := a.Start(ctx, to, provider.ChannelSMS, "")
	if _, err := b.End(ctx, s.ID(), nil); err != nil { // b cancels it
		t.Fatal(err)
	}
	// a's cache says one send of one: it must read the store, find
	// nothing, and start a new verification.
	s2, _, err := a.Start(ctx, to, provider.ChannelSMS, "")
	if err != nil || s2.ID() == s.ID() {
		t.Fatalf("start through a's stale cache: %v", err)
	}
}

// TestCacheBounded: the cache holds at most Config.Cache states and
// forgets the expired ones.
func TestCacheBounded(t *testing.T) {
	r, _, c := replicas(t, 1, func(c *Config) { c.Cache, c.NameLen = 4, 16 })
	e := r[0].store
	for i := range 10 {
		if _, _, err := r[0].Start(ctx, to+string(rune('0'+i)), provider.ChannelSMS, ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.cache.slots); n != 4 || len(e.cache.index) != 4 {
		t.Errorf("%d cached states (index %d), want 4", n, len(e.cache.index))
	}
	c.advance(10 * time.Minute)
	if _, ok := e.cache.get(e.cache.slots[0].k, c.now()); ok || len(e.cache.slots) != 3 {
		t.Errorf("an expired state was returned, or kept: %d left", len(e.cache.slots))
	}
}

// TestStaleCacheCheckByTo: a check by To on a replica whose cache holds
// a verification that another replica approved, and then replaced by a
// new one to the same number, is decided on the new one, as a read would.
func TestStaleCacheCheckByTo(t *testing.T) {
	r, _, _ := replicas(t, 2, nil)
	a, b := r[0], r[1]
	s1, _, err := a.Start(ctx, to, provider.ChannelSMS, "1111")
	if err != nil {
		t.Fatal(err)
	}
	if _, st, err := b.Check(ctx, s1.ID(), "", "1111", nil); st != provider.StatusApproved {
		t.Fatalf("check on b: %s, %v", st, err)
	}
	s2, _, err := b.Start(ctx, to, provider.ChannelSMS, "2222")
	if err != nil {
		t.Fatal(err)
	}
	got, st, err := a.Check(ctx, "", to, "2222", nil)
	if err != nil || st != provider.StatusApproved || got.ID() != s2.ID() {
		t.Errorf("check by To through a's stale cache: %s, %v; want the new verification approved", st, err)
	}
}
