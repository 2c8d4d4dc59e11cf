package batch

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

type key struct{}

// fake records the calls One and Many get and blocks each round trip until
// the test sends on gate (true: the round trip panics).
type fake struct {
	mu        sync.Mutex
	trips     [][]int
	ctxs      []context.Context
	abandoned []int
	gate      chan bool
	b         Batcher[int]
}

func newFake(max int) *fake {
	f := &fake{gate: make(chan bool)}
	f.b = Batcher[int]{Max: max,
		One:       func(ctx context.Context, c int) { f.trip(ctx, []int{c}) },
		Many:      func(ctx context.Context, cs []int) { f.trip(ctx, cs) },
		Abandoned: func(c int) { f.mu.Lock(); f.abandoned = append(f.abandoned, c); f.mu.Unlock() },
	}
	return f
}

func (f *fake) trip(ctx context.Context, cs []int) {
	f.mu.Lock()
	f.trips = append(f.trips, append([]int(nil), cs...))
	f.ctxs = append(f.ctxs, ctx)
	f.mu.Unlock()
	if <-f.gate {
		panic("round trip")
	}
}

// do calls Do in a goroutine, waits for it to block, and returns where
// its error (or "panic") will be sent.
func (f *fake) do(ctx context.Context, c int) chan error {
	errc := make(chan error, 1)
	go func() {
		defer func() {
			if recover() != nil {
				errc <- errors.New("panic")
			}
		}()
		errc <- f.b.Do(context.WithValue(ctx, key{}, c), c)
	}()
	synctest.Wait()
	return errc
}

func (f *fake) check(t *testing.T, want [][]int) {
	t.Helper()
	synctest.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if d := cmp.Diff(want, f.trips); d != "" {
		t.Errorf("round trips (-want +got):\n%s", d)
	}
}

func TestAloneThenTogetherInOrder(t *testing.T) {
	for _, m := range []int{0, 1, 2} {
		synctest.Test(t, func(t *testing.T) {
			f := newFake(m)
			var first [][]int
			var errs []chan error
			for i := range max(m, 1) {
				errs = append(errs, f.do(t.Context(), i+1))
				first = append(first, []int{i + 1})
			}
			f.check(t, first)
			for i := range 3 {
				errs = append(errs, f.do(t.Context(), 10+i))
			}
			if n := f.b.Queued(); n != 3 {
				t.Errorf("Queued() = %d, want 3", n)
			}
			f.check(t, first)
			f.gate <- false
			f.check(t, append(first, []int{10, 11, 12}))
			for range max(m, 1) {
				f.gate <- false
			}
			for _, e := range errs {
				if err := <-e; err != nil {
					t.Errorf("Do: %v", err)
				}
			}
			errs = append(errs[:0], f.do(t.Context(), 20)) // nothing in flight: alone
			f.check(t, append(first, []int{10, 11, 12}, []int{20}))
			f.gate <- false
			if err := <-errs[0]; err != nil {
				t.Errorf("Do: %v", err)
			}
		})
	}
}

func TestLatestDeadlineSends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now()
		for _, tc := range []struct {
			name     string
			after    []time.Duration // 0: no deadline
			want     []int
			deadline time.Duration
		}{
			{"latest deadline", []time.Duration{time.Hour, 3 * time.Hour, 2 * time.Hour}, []int{2, 1, 3}, 3 * time.Hour},
			{"none is latest", []time.Duration{time.Hour, 0, 2 * time.Hour}, []int{2, 1, 3}, 0},
		} {
			f := newFake(1)
			e0 := f.do(t.Context(), 0)
			var errs []chan error
			for i, d := range tc.after {
				ctx := t.Context()
				if d > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithDeadline(ctx, now.Add(d))
					defer cancel()
				}
				errs = append(errs, f.do(ctx, i+1))
			}
			f.gate <- false
			f.check(t, [][]int{{0}, tc.want})
			ctx := f.ctxs[1]
			if v := ctx.Value(key{}); v != tc.want[0] {
				t.Errorf("%s: batch sent under the context of %v, want %d", tc.name, v, tc.want[0])
			}
			d, ok := ctx.Deadline()
			if want := tc.deadline > 0; ok != want || ok && !d.Equal(now.Add(tc.deadline)) {
				t.Errorf("%s: batch deadline %v %v, want %v", tc.name, d, ok, tc.deadline)
			}
			f.gate <- false
			for _, e := range append(errs, e0) {
				if err := <-e; err != nil {
					t.Errorf("%s: Do: %v", tc.name, err)
				}
			}
		}
	})
}

func TestContextEndsWhileQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(1)
		e1 := f.do(t.Context(), 1)
		ctx, cancel := context.WithCancel(t.Context())
		e2 := f.do(ctx, 2)
		e3 := f.do(t.Context(), 3)
		cancel()
		synctest.Wait()
		select {
		case err := <-e2:
			if !errors.Is(err, ErrQueued) || !errors.Is(err, context.Canceled) || errors.Is(err, ErrInFlight) {
				t.Errorf("Do = %v, want ErrQueued and context.Canceled", err)
			}
		default:
			t.Fatal("Do did not return when its context ended while queued")
		}
		f.gate <- false
		f.check(t, [][]int{{1}, {3}})
		f.gate <- false
		for _, e := range []chan error{e1, e3} {
			if err := <-e; err != nil {
				t.Errorf("Do: %v", err)
			}
		}
	})
}

func TestContextEndsWhileInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(1)
		e1 := f.do(t.Context(), 1)
		ctx2, cancel2 := context.WithCancel(t.Context()) // 2 sends the batch
		e2 := f.do(ctx2, 2)
		ctx, cancel := context.WithCancel(t.Context())
		e3 := f.do(ctx, 3)
		f.gate <- false
		f.check(t, [][]int{{1}, {2, 3}})
		cancel()
		cancel2()
		synctest.Wait()
		select {
		case err := <-e3:
			if !errors.Is(err, ErrInFlight) || !errors.Is(err, context.Canceled) || errors.Is(err, ErrQueued) {
				t.Errorf("Do = %v, want ErrInFlight and context.Canceled", err)
			}
		default:
			t.Fatal("Do did not return at once when its context ended in flight")
		}
		if err := f.ctxs[1].Err(); err != nil {
			t.Errorf("the batch's context ended: %v", err)
		}
		f.gate <- false // the batch goes on
		for _, e := range []chan error{e1, e2} {
			if err := <-e; err != nil {
				t.Errorf("Do: %v", err)
			}
		}
	})
}

func TestPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(1)
		e1 := f.do(t.Context(), 1)
		f.gate <- true // One panics
		if err := <-e1; err == nil || err.Error() != "panic" {
			t.Errorf("Do = %v, want a panic", err)
		}
		e2 := f.do(t.Context(), 2) // not busy: alone
		e3 := f.do(t.Context(), 3)
		e4 := f.do(t.Context(), 4)
		f.gate <- false
		f.check(t, [][]int{{1}, {2}, {3, 4}})
		f.gate <- true // Many panics in 3's goroutine
		if err := <-e3; err == nil || err.Error() != "panic" {
			t.Errorf("Do = %v, want a panic", err)
		}
		for _, e := range []chan error{e2, e4} {
			if err := <-e; err != nil {
				t.Errorf("Do: %v", err)
			}
		}
		f.mu.Lock()
		if d := cmp.Diff([]int{4}, f.abandoned); d != "" {
			t.Errorf("abandoned (-want +got):\n%s", d)
		}
		f.mu.Unlock()
		e5 := f.do(t.Context(), 5) // not busy: alone
		f.check(t, [][]int{{1}, {2}, {3, 4}, {5}})
		f.gate <- false
		if err := <-e5; err != nil {
			t.Errorf("Do: %v", err)
		}
	})
}
