package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/storetest"
)

// clock is a manual clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

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

func TestMemoryConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		c := newClock()
		m, err := store.NewMemory(store.WithClock(c.Now))
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Harness{Store: m, Advance: c.Advance}
	})
}

func TestMemoryBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	m, err := store.NewMemory(store.WithClock(c.Now), store.WithMaxEntries(160))
	if err != nil {
		t.Fatal(err)
	}
	// Fill the store well past its bound: some shard fills first and then
	// refuses, without evicting anything live.
	var full error
	stored := 0
	var keys []string // the keys that fit
	for i := range 1000 {
		_, err := m.CompareAndSwap(ctx, fmt.Sprint("k", i), 0, []byte("v"), time.Minute)
		if err != nil {
			full = err
			continue
		}
		stored++
		keys = append(keys, fmt.Sprint("k", i))
	}
	if !errors.Is(full, provider.ErrUnavailable) {
		t.Fatalf("filling the store: error = %v, want ErrUnavailable", full)
	}
	if stored > 160 || m.Len() != stored {
		t.Fatalf("stored %d, Len = %d, bound 160", stored, m.Len())
	}
	if _, _, err := m.Incr(ctx, "counter-does-not-fit-everywhere", time.Minute); err != nil && !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("Incr on a full store: %v", err)
	}
	// Once the entries expire, the space is reused: every key that fit
	// fits again (which part of the store holds a key depends on the
	// store's hash seed, so the keys that fit are the ones to retry).
	c.Advance(time.Minute)
	if n := m.Len(); n != 0 {
		t.Fatalf("after expiry Len = %d, want 0", n)
	}
	for _, k := range keys {
		if _, err := m.CompareAndSwap(ctx, k, 0, []byte("v"), time.Minute); err != nil {
			t.Fatalf("after expiry, create %s: %v", k, err)
		}
	}
}

// TestMemorySweeps checks that expired entries that are never touched again
// are still removed as the store grows, so memory tracks the live entries.
func TestMemorySweeps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	m, err := store.NewMemory(store.WithClock(c.Now), store.WithMaxEntries(16*200))
	if err != nil {
		t.Fatal(err)
	}
	// 100 rounds of 100 short-lived keys: far more than the bound in total,
	// never more than 100 live; no error means the sweeps made room.
	for round := range 100 {
		for i := range 100 {
			if _, err := m.CompareAndSwap(ctx, fmt.Sprint(round, "-", i), 0, nil, time.Second); err != nil {
				t.Fatalf("round %d key %d: %v", round, i, err)
			}
			if _, _, err := m.Incr(ctx, fmt.Sprint("c", round, "-", i), time.Second); err != nil {
				t.Fatalf("round %d counter %d: %v", round, i, err)
			}
		}
		c.Advance(time.Second)
	}
}

func TestMemoryOptions(t *testing.T) {
	t.Parallel()
	for _, opts := range [][]store.MemoryOption{
		{nil},
		{store.WithClock(nil)},
		{store.WithMaxEntries(15)},
		{store.WithMaxEntries(-1)},
	} {
		if _, err := store.NewMemory(opts...); err == nil {
			t.Errorf("NewMemory(%d options) accepted an invalid option", len(opts))
		}
	}
}

func TestRecordStringHidesValue(t *testing.T) {
	t.Parallel()
	r := store.Record{Value: []byte("secret-hash"), Version: 7}
	// %d, %o and %x print a struct's fields unless the type has a Format
	// method: the value in decimal, octal or hex.
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%o", "%x", "%X"} {
		if s := strings.ToLower(fmt.Sprintf(verb, r)); strings.Contains(s, "secret") || strings.Contains(s, "736563726574") ||
			strings.Contains(s, "115 101 99 114 101 116") || strings.Contains(s, "163 145 143 162 145 164") {
			t.Errorf("Sprintf(%q) = %q reveals the value", verb, s)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	t.Parallel()
	cause := errors.New("connection refused")
	u := store.Unavailable("get", cause)
	if !errors.Is(u, provider.ErrUnavailable) || !errors.Is(u, cause) || errors.Is(u, provider.ErrOutcomeUnknown) {
		t.Errorf("Unavailable: wrong matches: %v", u)
	}
	o := store.OutcomeUnknown("cas", cause)
	if !errors.Is(o, provider.ErrOutcomeUnknown) || errors.Is(o, provider.ErrUnavailable) {
		t.Errorf("OutcomeUnknown: wrong matches: %v", o)
	}
	var se *store.Error
	if !errors.As(fmt.Errorf("wrapped: %w", o), &se) || se.Op != "cas" {
		t.Errorf("errors.As(*store.Error) failed on %v", o)
	}
	if got, want := o.Error(), "store: cas: outcome unknown: connection refused"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestMemoryOverwriteReusesItsCopy: a record overwritten with a value no
// larger is copied into the array of the value it replaces (which the
// store never handed out), and the caller's value stays its own.
func TestMemoryOverwriteReusesItsCopy(t *testing.T) {
	m, _ := store.NewMemory()
	ctx := context.Background()
	value := make([]byte, 2048)
	r, err := m.CompareAndSwap(ctx, "k", 0, value, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		value[0]++
		r, err = m.CompareAndSwap(ctx, "k", r.Version, value, time.Hour)
	}); err != nil || n != 0 {
		t.Errorf("overwrite: %v allocations, %v; want 0", n, err)
	}
	want := value[0]
	value[0]++ // the caller's, changed after the swap
	if got, _ := m.Get(ctx, "k"); got.Value[0] != want {
		t.Errorf("stored value changed with the caller's slice: %d, want %d", got.Value[0], want)
	}
}

// TestMemoryReadsWhileOverwritten: a Get racing with overwrites of the
// same record returns one whole value (run with -race).
func TestMemoryReadsWhileOverwritten(t *testing.T) {
	m, _ := store.NewMemory()
	ctx := context.Background()
	r, _ := m.CompareAndSwap(ctx, "k", 0, make([]byte, 512), time.Hour)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			r, _ = m.CompareAndSwap(ctx, "k", r.Version, bytes.Repeat([]byte{byte(i)}, 512), time.Hour)
		}
	}()
	for range 200 {
		got, err := m.Get(ctx, "k")
		if err != nil || len(bytes.Trim(got.Value, string(got.Value[:1]))) != 0 {
			t.Fatalf("Get = %v, %v: a torn value", got.Value[:8], err)
		}
	}
	<-done
}
