package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/storetest"
)

var _ store.Limiter = (*store.Memory)(nil)

func TestMemoryLimiterConformance(t *testing.T) {
	t.Parallel()
	storetest.RunLimiter(t, func(t *testing.T) storetest.Harness {
		c := newClock()
		m, err := store.NewMemory(store.WithClock(c.Now))
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Harness{Store: m, Advance: c.Advance}
	})
}

// TestMemoryLimiterBounded floods the limiter with distinct keys: it
// refuses new counters once full, without evicting live ones (which would
// reset a limit), and takes new ones again once windows end.
func TestMemoryLimiterBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	m, err := store.NewMemory(store.WithClock(c.Now), store.WithMaxEntries(160))
	if err != nil {
		t.Fatal(err)
	}
	victim := []store.Limit{{Key: "victim", Max: 1, Window: time.Hour}}
	if res, err := m.Take(ctx, victim); err != nil || !res.OK {
		t.Fatal(res, err)
	}
	var full error
	for i := range 10000 {
		_, err := m.Take(ctx, []store.Limit{{Key: fmt.Sprint("flood", i), Max: 5, Window: time.Minute}})
		if err != nil {
			full = err
		}
	}
	if !errors.Is(full, provider.ErrUnavailable) {
		t.Fatalf("flood: error = %v, want ErrUnavailable once full", full)
	}
	if n := m.Len(); n > 160 {
		t.Errorf("Len = %d, want at most 160", n)
	}
	if res, err := m.Take(ctx, victim); err != nil || res.OK {
		t.Errorf("victim's budget after the flood: %+v %v, want still spent", res, err)
	}
	c.Advance(time.Minute)
	if res, err := m.Take(ctx, []store.Limit{{Key: "flood-late", Max: 1, Window: time.Minute}}); err != nil || !res.OK {
		t.Errorf("after the flood's windows ended: %+v %v", res, err)
	}
}

// A Take that would add several counters to a nearly full part of the
// store adds none of them.
func TestMemoryLimiterFullIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, err := store.NewMemory(store.WithMaxEntries(16))
	if err != nil {
		t.Fatal(err)
	}
	var limits []store.Limit
	for i := range 40 {
		limits = append(limits, store.Limit{Key: fmt.Sprint("k", i), Max: 1, Window: time.Hour})
	}
	if _, err := m.Take(ctx, limits); !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("Take of 40 keys into 16 places: %v", err)
	}
	if n := m.Len(); n != 0 {
		t.Errorf("Len = %d after a refused Take, want 0", n)
	}
}

// TestMemoryTakeAllocatesNothing: a Take, Counts or Release of counters
// that exist allocates nothing (the shard indexes and counter keys of the
// limits stay on the stack), so a policy decision on the memory store
// allocates only its keys.
func TestMemoryTakeAllocatesNothing(t *testing.T) {
	m, err := store.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	limits := make([]store.Limit, 9)
	for i := range limits {
		limits[i] = store.Limit{Key: fmt.Sprintf("vk|f|test|%d", i), Max: 1 << 40, Window: time.Hour}
	}
	res, err := m.Take(ctx, limits)
	if err != nil || !res.OK {
		t.Fatal(res, err)
	}
	for name, op := range map[string]func(){
		"Take":    func() { _, _ = m.Take(ctx, limits) },
		"Counts":  func() { _ = m.Counts(ctx, limits) },
		"Release": func() { _ = m.Release(ctx, limits) },
	} {
		if n := testing.AllocsPerRun(100, op); n != 0 {
			t.Errorf("%s: %v allocations, want 0", name, n)
		}
	}
}

// TestCheckLimitsRepeatedKeyAmongMany: a key repeated anywhere among
// many limits is refused, whatever its length and last byte.
func TestCheckLimitsRepeatedKeyAmongMany(t *testing.T) {
	var ls []store.Limit
	for i := range 40 {
		ls = append(ls, store.Limit{Key: fmt.Sprintf("vk|f|p|%d|x%d", i*37, i), Max: 1, Window: time.Minute})
	}
	if err := store.CheckLimits(ls); err != nil {
		t.Fatalf("distinct keys: %v", err)
	}
	for i := range ls {
		dup := append(slices.Clone(ls), ls[i])
		if err := store.CheckLimits(dup); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("key %d repeated last: %v, want ErrInvalid", i, err)
		}
		dup = append([]store.Limit{ls[i]}, ls...)
		if err := store.CheckLimits(dup); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("key %d repeated first: %v, want ErrInvalid", i, err)
		}
	}
}

// TestMemoryTakeManyNewKeysAtOnce: a Take of MaxLimits keys, most of them
// new and sharing the sixteen shards (so several new counters of one
// Take end the same probe, and some take the slot of an expired one),
// counts each on its own counter, as a map of the keys does.
func TestMemoryTakeManyNewKeysAtOnce(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m, err := store.NewMemory(store.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want := map[string]int64{}
	for round := range 40 {
		if round%10 == 9 {
			now = now.Add(2 * time.Minute) // every counter expires
			clear(want)
		}
		limits := make([]store.Limit, store.MaxLimits)
		for i := range limits {
			// Half the keys are new each round, half come back.
			limits[i] = store.Limit{Key: fmt.Sprintf("k|%d", (round*store.MaxLimits/2+i)%(3*store.MaxLimits)), Max: 1 << 40, Window: time.Minute}
		}
		res, err := m.Take(ctx, limits)
		if err != nil || !res.OK {
			t.Fatal(round, res, err)
		}
		for _, l := range limits {
			want[l.Key]++
			if l.Count != want[l.Key] {
				t.Fatalf("round %d: %s counts %d, want %d", round, l.Key, l.Count, want[l.Key])
			}
		}
		if err := m.Counts(ctx, limits); err != nil {
			t.Fatal(err)
		}
		for _, l := range limits {
			if l.Count != want[l.Key] {
				t.Fatalf("round %d: Counts says %s is %d, want %d", round, l.Key, l.Count, want[l.Key])
			}
		}
	}
}
