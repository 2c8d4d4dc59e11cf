// Package storetest is the conformance suite every [store.Store]
// implementation runs: one named subtest per rule of the store contract,
// each failure naming the rule it enforces.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Harness {
//			clock := ... // a clock the store reads
//			s := newStore(t, clock)
//			return storetest.Harness{Store: s, Advance: clock.Advance}
//		})
//	}
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

// Harness gives the suite a fresh, empty store and the means to move its
// time.
type Harness struct {
	// Store is the store under test. It must be empty: no records, no
	// counters.
	Store store.Store
	// Advance moves the store's time forward by d: what was stored with a
	// time to live of at most d (since it was stored) must be gone
	// afterwards, and counters' windows move on likewise.
	Advance func(d time.Duration)
	// Tolerance is how far a counter's resetAt may be from what the
	// harness's clock predicts: 0 (exact to the millisecond) for a store
	// that reads the harness's clock, some real time for a store whose
	// server keeps its own clock.
	Tolerance time.Duration
}

type rule struct {
	name, text string
	check      func(ctx context.Context, h Harness) error
}

var rules = []rule{
	{"GetAbsent", "Get of a key never stored returns the zero Record and no error", checkGetAbsent},
	{"CreateAndGet", "CompareAndSwap with version 0 creates an absent record with a nonzero version that Get returns", checkCreateAndGet},
	{"CreateExisting", "CompareAndSwap with version 0 on an existing record fails with ErrConflict and returns the current record", checkCreateExisting},
	{"SwapCurrent", "CompareAndSwap with the current version replaces the value and gives a new version", checkSwapCurrent},
	{"SwapStale", "CompareAndSwap with a stale version fails with ErrConflict, changes nothing and returns the current record", checkSwapStale},
	{"Delete", "CompareAndDelete with the current version deletes; with a stale version or on an absent key it fails with ErrConflict", checkDelete},
	{"NoVersionReuse", "a record deleted and created again does not match the version it had before", checkNoVersionReuse},
	{"Expiry", "a record is there until its ttl has passed and gone afterwards; a swap sets a new ttl", checkExpiry},
	{"NoExpiry", "a record stored with store.NoExpiry is there years later, until deleted; a swap with a ttl gives it one", checkNoExpiry},
	{"ValuesAreCopied", "the store keeps no slice it was given or returned; binary and empty values round-trip", checkValuesAreCopied},
	{"Incr", "Incr counts 1, 2, 3 inside one window, keeping resetAt, and starts again at 1 when the window ends", checkIncr},
	{"IncrKeysIndependent", "counters under different keys do not affect each other, nor records", checkIncrIndependent},
	{"InvalidArguments", "an empty key, a non-positive ttl or window, a zero version to delete fail with ErrInvalid (matching provider.ErrInvalidRequest)", checkInvalid},
	{"CanceledContext", "a canceled context fails every operation with the context's error and changes nothing", checkCanceled},
	{"NoLostUpdate", "concurrent read-modify-writes of one record through Get and CompareAndSwap lose no update", checkNoLostUpdate},
	{"OneWinner", "of concurrent CompareAndDelete calls with the same version, exactly one succeeds", checkOneWinner},
	{"ConcurrentIncr", "concurrent increments of one counter return each value from 1 to n exactly once", checkConcurrentIncr},
}

// Run runs the conformance suite: one subtest per rule, each with a fresh
// harness from newHarness.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			h := newHarness(t)
			if err := r.check(t.Context(), h); err != nil {
				t.Errorf("rule %q: %s\n%v", r.name, r.text, err)
			}
		})
	}
}

const ttl = 10 * time.Minute

func checkGetAbsent(ctx context.Context, h Harness) error {
	r, err := h.Store.Get(ctx, "absent")
	if err != nil {
		return fmt.Errorf("call Get: %w", err)
	}
	if r.Found() || r.Value != nil {
		return fmt.Errorf("call Get = %v, want the zero Record", r)
	}
	return nil
}

func checkCreateAndGet(ctx context.Context, h Harness) error {
	r, err := h.Store.CompareAndSwap(ctx, "k", 0, []byte("v1"), ttl)
	if err != nil {
		return fmt.Errorf("call CompareAndSwap(0): %w", err)
	}
	if !r.Found() || string(r.Value) != "v1" {
		return fmt.Errorf("call CompareAndSwap(0) = %v %q, want a nonzero version and v1", r, r.Value)
	}
	got, err := h.Store.Get(ctx, "k")
	if err != nil {
		return fmt.Errorf("call Get: %w", err)
	}
	if got.Version != r.Version || string(got.Value) != "v1" {
		return fmt.Errorf("call Get = %v %q, want version %d and v1", got, got.Value, r.Version)
	}
	return nil
}

func checkCreateExisting(ctx context.Context, h Harness) error {
	r, err := h.Store.CompareAndSwap(ctx, "k", 0, []byte("first"), ttl)
	if err != nil {
		return fmt.Errorf("call CompareAndSwap(0): %w", err)
	}
	cur, err := h.Store.CompareAndSwap(ctx, "k", 0, []byte("second"), ttl)
	if !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("second CompareAndSwap(0) error = %v, want ErrConflict", err)
	}
	if cur.Version != r.Version || string(cur.Value) != "first" {
		return fmt.Errorf("second CompareAndSwap(0) returned %v %q, want the current record (version %d, first)", cur, cur.Value, r.Version)
	}
	return wantValue(ctx, h, "k", r.Version, "first")
}

func checkSwapCurrent(ctx context.Context, h Harness) error {
	r1, err := h.Store.CompareAndSwap(ctx, "k", 0, []byte("v1"), ttl)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	r2, err := h.Store.CompareAndSwap(ctx, "k", r1.Version, []byte("v2"), ttl)
	if err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	if r2.Version == 0 || r2.Version == r1.Version {
		return fmt.Errorf("swap gave version %d after %d, want a new nonzero version", r2.Version, r1.Version)
	}
	return wantValue(ctx, h, "k", r2.Version, "v2")
}

func checkSwapStale(ctx context.Context, h Harness) error {
	r1, err := h.Store.CompareAndSwap(ctx, "k", 0, []byte("v1"), ttl)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	r2, err := h.Store.CompareAndSwap(ctx, "k", r1.Version, []byte("v2"), ttl)
	if err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	cur, err := h.Store.CompareAndSwap(ctx, "k", r1.Version, []byte("stale"), ttl)
	if !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("swap with stale version: error = %v, want ErrConflict", err)
	}
	if cur.Version != r2.Version || string(cur.Value) != "v2" {
		return fmt.Errorf("swap with stale version returned %v %q, want version %d, v2", cur, cur.Value, r2.Version)
	}
	if _, err := h.Store.CompareAndSwap(ctx, "absent", 12345, []byte("x"), ttl); !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("swap of an absent key with version 12345: error = %v, want ErrConflict", err)
	}
	if r, err := h.Store.Get(ctx, "absent"); err != nil || r.Found() {
		return fmt.Errorf("after a failed swap, Get(absent) = %v, %v; want absent", r, err)
	}
	return wantValue(ctx, h, "k", r2.Version, "v2")
}

func checkDelete(ctx context.Context, h Harness) error {
	r1, err := h.Store.CompareAndSwap(ctx, "k", 0, []byte("v1"), ttl)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	r2, err := h.Store.CompareAndSwap(ctx, "k", r1.Version, []byte("v2"), ttl)
	if err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	cur, err := h.Store.CompareAndDelete(ctx, "k", r1.Version)
	if !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("delete with stale version: error = %v, want ErrConflict", err)
	}
	if cur.Version != r2.Version || string(cur.Value) != "v2" {
		return fmt.Errorf("delete with stale version returned %v, want version %d", cur, r2.Version)
	}
	if _, err := h.Store.CompareAndDelete(ctx, "k", r2.Version); err != nil {
		return fmt.Errorf("delete with current version: %w", err)
	}
	if r, err := h.Store.Get(ctx, "k"); err != nil || r.Found() {
		return fmt.Errorf("after delete, Get = %v, %v; want absent", r, err)
	}
	cur, err = h.Store.CompareAndDelete(ctx, "k", r2.Version)
	if !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("second delete: error = %v, want ErrConflict", err)
	}
	if cur.Found() {
		return fmt.Errorf("second delete returned %v, want the zero Record", cur)
	}
	return nil
}

func checkNoVersionReuse(ctx context.Context, h Harness) error {
	seen := map[uint64]bool{}
	var last uint64
	for i := range 50 {
		r, err := h.Store.CompareAndSwap(ctx, "k", 0, []byte{byte(i)}, ttl)
		if err != nil {
			return fmt.Errorf("create %d: %w", i, err)
		}
		if seen[r.Version] {
			return fmt.Errorf("create %d reused version %d", i, r.Version)
		}
		seen[r.Version] = true
		if last != 0 {
			if _, err := h.Store.CompareAndSwap(ctx, "k", last, []byte("stale"), ttl); !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("swap with the version of the deleted record: error = %v, want ErrConflict", err)
			}
		}
		if _, err := h.Store.CompareAndDelete(ctx, "k", r.Version); err != nil {
			return fmt.Errorf("delete %d: %w", i, err)
		}
		last = r.Version
	}
	return nil
}

func checkExpiry(ctx context.Context, h Harness) error {
	r1, err := h.Store.CompareAndSwap(ctx, "k", 0, []byte("v1"), ttl)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	h.Advance(ttl / 2)
	if err := wantValue(ctx, h, "k", r1.Version, "v1"); err != nil {
		return fmt.Errorf("half-way through its ttl: %w", err)
	}
	// A swap sets a new ttl from now.
	r2, err := h.Store.CompareAndSwap(ctx, "k", r1.Version, []byte("v2"), ttl)
	if err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	h.Advance(ttl - time.Second)
	if err := wantValue(ctx, h, "k", r2.Version, "v2"); err != nil {
		return fmt.Errorf("a second before the new ttl ends: %w", err)
	}
	h.Advance(time.Second)
	if r, err := h.Store.Get(ctx, "k"); err != nil || r.Found() {
		return fmt.Errorf("after the ttl: Get = %v, %v; want absent", r, err)
	}
	if _, err := h.Store.CompareAndSwap(ctx, "k", r2.Version, []byte("late"), ttl); !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("swap of an expired record: error = %v, want ErrConflict", err)
	}
	if _, err := h.Store.CompareAndDelete(ctx, "k", r2.Version); !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("delete of an expired record: error = %v, want ErrConflict", err)
	}
	r3, err := h.Store.CompareAndSwap(ctx, "k", 0, []byte("v3"), time.Second)
	if err != nil {
		return fmt.Errorf("create after expiry: %w", err)
	}
	if r3.Version == r2.Version || r3.Version == r1.Version {
		return fmt.Errorf("create after expiry reused version %d", r3.Version)
	}
	h.Advance(time.Second)
	if r, err := h.Store.Get(ctx, "k"); err != nil || r.Found() {
		return fmt.Errorf("after a 1s ttl: Get = %v, %v; want absent", r, err)
	}
	return nil
}

func checkNoExpiry(ctx context.Context, h Harness) error {
	r1, err := h.Store.CompareAndSwap(ctx, "k", 0, []byte("v1"), store.NoExpiry)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	h.Advance(10 * 365 * 24 * time.Hour)
	if err := wantValue(ctx, h, "k", r1.Version, "v1"); err != nil {
		return fmt.Errorf("10 years later: %w", err)
	}
	r2, err := h.Store.CompareAndSwap(ctx, "k", r1.Version, []byte("v2"), ttl)
	if err != nil {
		return fmt.Errorf("swap with a ttl: %w", err)
	}
	h.Advance(ttl)
	if r, err := h.Store.Get(ctx, "k"); err != nil || r.Found() {
		return fmt.Errorf("after the ttl of the swap (version %d): Get = %v, %v; want absent", r2.Version, r, err)
	}
	return nil
}

func checkValuesAreCopied(ctx context.Context, h Harness) error {
	val := []byte{0, 1, 2, 0xff, 0, 'x'}
	big := bytes.Repeat([]byte{0, 0xfe, 'a'}, 3000)
	r, err := h.Store.CompareAndSwap(ctx, "k", 0, val, ttl)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	val[0] = 99
	got, err := h.Store.Get(ctx, "k")
	if err != nil {
		return fmt.Errorf("call Get: %w", err)
	}
	if !bytes.Equal(got.Value, []byte{0, 1, 2, 0xff, 0, 'x'}) {
		return fmt.Errorf("call Get = %q after the caller changed its slice, want the value as stored", got.Value)
	}
	got.Value[1] = 99
	if err := wantValue(ctx, h, "k", r.Version, "\x00\x01\x02\xff\x00x"); err != nil {
		return fmt.Errorf("after the caller changed a returned slice: %w", err)
	}
	if _, err := h.Store.CompareAndSwap(ctx, "big", 0, big, ttl); err != nil {
		return fmt.Errorf("create big: %w", err)
	}
	if g, err := h.Store.Get(ctx, "big"); err != nil || !bytes.Equal(g.Value, big) {
		return fmt.Errorf("call Get(big): %d bytes, %v; want the 9000 bytes stored", len(g.Value), err)
	}
	e, err := h.Store.CompareAndSwap(ctx, "empty", 0, []byte{}, ttl)
	if err != nil {
		return fmt.Errorf("create empty: %w", err)
	}
	if g, err := h.Store.Get(ctx, "empty"); err != nil || g.Version != e.Version || len(g.Value) != 0 {
		return fmt.Errorf("call Get(empty) = %v, %v; want version %d, empty value", g, err, e.Version)
	}
	return nil
}

func checkIncr(ctx context.Context, h Harness) error {
	const window = time.Minute
	tol := h.Tolerance + time.Millisecond
	var reset time.Time
	for want := int64(1); want <= 3; want++ {
		n, r, err := h.Store.Incr(ctx, "c", window)
		if err != nil {
			return fmt.Errorf("call Incr #%d: %w", want, err)
		}
		if n != want {
			return fmt.Errorf("call Incr #%d = %d", want, n)
		}
		if want == 1 {
			reset = r
		} else if d := r.Sub(reset); d < -tol || d > tol {
			return fmt.Errorf("call Incr #%d resetAt moved by %v", want, d)
		}
		h.Advance(window / 4)
	}
	h.Advance(window/4 - time.Second)
	if n, _, err := h.Store.Incr(ctx, "c", window); err != nil || n != 4 {
		return fmt.Errorf("a second before the window ends: Incr = %d, %v; want 4", n, err)
	}
	h.Advance(time.Second)
	n, r, err := h.Store.Incr(ctx, "c", window)
	if err != nil || n != 1 {
		return fmt.Errorf("after the window: Incr = %d, %v; want 1", n, err)
	}
	if d := r.Sub(reset); d < window-tol || d > window+tol {
		return fmt.Errorf("after the window: resetAt is %v after the first one, want %v", d, window)
	}
	return nil
}

func checkIncrIndependent(ctx context.Context, h Harness) error {
	for i := range 3 {
		if n, _, err := h.Store.Incr(ctx, "a", time.Minute); err != nil || n != int64(i+1) {
			return fmt.Errorf("call Incr(a) #%d = %d, %v", i+1, n, err)
		}
	}
	if n, _, err := h.Store.Incr(ctx, "b", time.Hour); err != nil || n != 1 {
		return fmt.Errorf("call Incr(b) = %d, %v; want 1", n, err)
	}
	if r, err := h.Store.Get(ctx, "x"); err != nil || r.Found() {
		return fmt.Errorf("call Get(x) = %v, %v; want absent", r, err)
	}
	if _, err := h.Store.CompareAndSwap(ctx, "x", 0, []byte("v"), ttl); err != nil {
		return fmt.Errorf("create x: %w", err)
	}
	if n, _, err := h.Store.Incr(ctx, "y", time.Minute); err != nil || n != 1 {
		return fmt.Errorf("call Incr(y) = %d, %v; want 1", n, err)
	}
	return nil
}

func checkInvalid(ctx context.Context, h Harness) error {
	s := h.Store
	tests := []struct {
		name string
		err  error
	}{
		{"Get empty key", second(s.Get(ctx, ""))},
		{"CompareAndSwap empty key", second(s.CompareAndSwap(ctx, "", 0, []byte("v"), ttl))},
		{"CompareAndSwap zero ttl", second(s.CompareAndSwap(ctx, "k", 0, []byte("v"), 0))},
		{"CompareAndSwap negative ttl", second(s.CompareAndSwap(ctx, "k", 0, []byte("v"), -time.Second))},
		{"CompareAndDelete empty key", second(s.CompareAndDelete(ctx, "", 1))},
		{"CompareAndDelete version 0", second(s.CompareAndDelete(ctx, "k", 0))},
		{"Incr empty key", third(s.Incr(ctx, "", time.Minute))},
		{"Incr zero window", third(s.Incr(ctx, "c", 0))},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, store.ErrInvalid) || !errors.Is(tt.err, provider.ErrInvalidRequest) {
			return fmt.Errorf("%s: error = %v, want ErrInvalid", tt.name, tt.err)
		}
	}
	if r, err := s.Get(ctx, "k"); err != nil || r.Found() {
		return fmt.Errorf("after invalid calls, Get(k) = %v, %v; want absent", r, err)
	}
	if n, _, err := s.Incr(ctx, "c", time.Minute); err != nil || n != 1 {
		return fmt.Errorf("after invalid calls, Incr(c) = %d, %v; want 1", n, err)
	}
	return nil
}

func checkCanceled(ctx context.Context, h Harness) error {
	r, err := h.Store.CompareAndSwap(ctx, "k", 0, []byte("v1"), ttl)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	s := h.Store
	tests := []struct {
		name string
		err  error
	}{
		{"Get", second(s.Get(cctx, "k"))},
		{"CompareAndSwap", second(s.CompareAndSwap(cctx, "k", r.Version, []byte("v2"), ttl))},
		{"CompareAndSwap create", second(s.CompareAndSwap(cctx, "new", 0, []byte("v2"), ttl))},
		{"CompareAndDelete", second(s.CompareAndDelete(cctx, "k", r.Version))},
		{"Incr", third(s.Incr(cctx, "c", time.Minute))},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, context.Canceled) {
			return fmt.Errorf("%s with a canceled context: error = %v, want context.Canceled", tt.name, tt.err)
		}
	}
	if err := wantValue(ctx, h, "k", r.Version, "v1"); err != nil {
		return fmt.Errorf("after canceled calls: %w", err)
	}
	if g, err := s.Get(ctx, "new"); err != nil || g.Found() {
		return fmt.Errorf("after a canceled create, Get(new) = %v, %v; want absent", g, err)
	}
	if n, _, err := s.Incr(ctx, "c", time.Minute); err != nil || n != 1 {
		return fmt.Errorf("after a canceled Incr, Incr = %d, %v; want 1", n, err)
	}
	return nil
}

func checkNoLostUpdate(ctx context.Context, h Harness) error {
	const workers, each = 8, 25
	if _, err := h.Store.CompareAndSwap(ctx, "n", 0, []byte{0, 0}, ttl); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				r, err := h.Store.Get(ctx, "n")
				if err != nil {
					errs <- err
					return
				}
				for {
					n := int(r.Value[0])<<8 | int(r.Value[1])
					n++
					r2, err := h.Store.CompareAndSwap(ctx, "n", r.Version, []byte{byte(n >> 8), byte(n)}, ttl)
					if err == nil {
						break
					}
					if !errors.Is(err, store.ErrConflict) {
						errs <- err
						return
					}
					if !r2.Found() {
						errs <- errors.New("conflict returned an absent record")
						return
					}
					r = r2
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	r, err := h.Store.Get(ctx, "n")
	if err != nil {
		return err
	}
	if n := int(r.Value[0])<<8 | int(r.Value[1]); n != workers*each {
		return fmt.Errorf("after %d increments by read-modify-write, value = %d", workers*each, n)
	}
	return nil
}

func checkOneWinner(ctx context.Context, h Harness) error {
	for round := range 10 {
		key := fmt.Sprint("k", round)
		r, err := h.Store.CompareAndSwap(ctx, key, 0, []byte("pending"), ttl)
		if err != nil {
			return fmt.Errorf("create: %w", err)
		}
		const workers = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, conflicts := 0, 0
		var other error
		for range workers {
			wg.Go(func() {
				_, err := h.Store.CompareAndDelete(ctx, key, r.Version)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, store.ErrConflict):
					conflicts++
				default:
					other = err
				}
			})
		}
		wg.Wait()
		if other != nil {
			return other
		}
		if wins != 1 || conflicts != workers-1 {
			return fmt.Errorf("round %d: %d deletes succeeded and %d conflicted, want 1 and %d", round, wins, conflicts, workers-1)
		}
	}
	return nil
}

func checkConcurrentIncr(ctx context.Context, h Harness) error {
	const workers, each = 8, 25
	var mu sync.Mutex
	var got []int64
	var wg sync.WaitGroup
	var failed error
	for range workers {
		wg.Go(func() {
			for range each {
				n, _, err := h.Store.Incr(ctx, "c", time.Hour)
				mu.Lock()
				if err != nil {
					failed = err
				}
				got = append(got, n)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failed != nil {
		return failed
	}
	slices.Sort(got)
	for i, n := range got {
		if n != int64(i+1) {
			return fmt.Errorf("sorted results of %d concurrent increments: position %d holds %d", workers*each, i, n)
		}
	}
	return nil
}

func wantValue(ctx context.Context, h Harness, key string, version uint64, value string) error {
	r, err := h.Store.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("call Get(%s): %w", key, err)
	}
	if r.Version != version || string(r.Value) != value {
		return fmt.Errorf("call Get(%s) = version %d %q, want version %d %q", key, r.Version, r.Value, version, value)
	}
	return nil
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }
