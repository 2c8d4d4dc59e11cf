package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/store"
)

var limitRules = []rule{
	{"TakeBudget", "a budget of Max per window allows Max hits, refuses the next until the window ends, and allows again afterwards", checkTakeBudget},
	{"TakeAllOrNothing", "a Take that one limit refuses counts on none of them", checkTakeAllOrNothing},
	{"TakeLongestWait", "a refused Take names the refusing limit with the longest wait", checkTakeLongestWait},
	{"TakeCooldown", "a cooldown refuses hits until its wait has passed, the waits grow per hit and the last one repeats, and a quiet counter starts again", checkTakeCooldown},
	{"Release", "Release gives back the hit Limit.Hit names: one hit of a budget, and a cooldown's wait lifted, going back one step", checkRelease},
	{"ReleaseAbsent", "Release of counters never taken or already expired does nothing and does not fail", checkReleaseAbsent},
	{"ReleaseKeepsLaterWait", "Release of a cooldown hit that is no longer the counter's last leaves the later hit's wait and the count as they are", checkReleaseKeepsLaterWait},
	{"ReleaseInItsWindow", "Release of a budget hit taken in a window that has ended gives nothing back to the next window; in its own window it does, whoever took the hits after it", checkReleaseInItsWindow},
	{"TakeHit", "Takes that count report distinct, growing, non-zero hits; Release of hit 0 gives nothing back", checkTakeHit},
	{"TakeInvalid", "no limits, too many, an empty or repeated key, a budget without Max, a non-positive window or wait fail with ErrInvalid", checkTakeInvalid},
	{"TakeCanceled", "a canceled context fails Take with the context's error and counts nothing", checkTakeCanceled},
	{"TakeWeighted", "a budget's hit counts its Cost (0 meaning 1): hits are taken while the window's total cost fits Max, a hit that costs more than Max is always refused, and Take reports each counter's total in Count", checkTakeWeighted},
	{"ReleaseWeighted", "Release of a weighted hit gives its whole Cost back, in its own window only", checkReleaseWeighted},
	{"TakeWeightedConcurrent", "concurrent weighted Takes on one budget never exceed its Max, and their Counts are the distinct running totals", checkTakeWeightedConcurrent},
	{"Counts", "a store.CountReader reads each counter's live value, weighted totals included, 0 for absent and expired ones, without counting", checkCounts},
	{"TakeConcurrent", "concurrent Takes over shared and own keys, in any key order, together never exceed a budget", checkTakeConcurrent},
}

// RunLimiter runs the conformance rules of the optional [store.Limiter]
// capability: one subtest per rule, each with a fresh harness from
// newHarness, whose Store must implement store.Limiter (the subtests skip
// otherwise). Run does not include them.
func RunLimiter(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	for _, r := range limitRules {
		t.Run(r.name, func(t *testing.T) {
			h := newHarness(t)
			if _, ok := h.Store.(store.Limiter); !ok {
				t.Skipf("%T does not implement store.Limiter", h.Store)
			}
			if err := r.check(t.Context(), h); err != nil {
				t.Errorf("rule %q: %s\n%v", r.name, r.text, err)
			}
		})
	}
}

// slack is how far a RetryAfter may fall short of the exact wait: a store
// on a real clock (Redis) loses some time between the steps of a rule.
const slack = 2 * time.Second

// take takes limits and checks the answer: ok, or refused by limit
// refused with a wait within slack below wait.
func take(ctx context.Context, h Harness, limits []store.Limit, ok bool, refused int, wait time.Duration) error {
	_, err := takeHit(ctx, h, limits, ok, refused, wait)
	return err
}

// takeHit is take, and returns the Taken's Hit.
func takeHit(ctx context.Context, h Harness, limits []store.Limit, ok bool, refused int, wait time.Duration) (uint64, error) {
	res, err := h.Store.(store.Limiter).Take(ctx, limits)
	if err != nil {
		return 0, fmt.Errorf("take: %w", err)
	}
	if ok {
		if !res.OK || res.Refused != -1 {
			return 0, fmt.Errorf("take = %+v, want OK", res)
		}
		if res.Hit == 0 {
			return 0, fmt.Errorf("take = %+v: Hit 0, so its hits cannot be given back", res)
		}
		return res.Hit, nil
	}
	if res.OK || res.Refused != refused || res.RetryAfter > wait || res.RetryAfter <= wait-slack {
		return 0, fmt.Errorf("take = %+v, want refused by limit %d with RetryAfter %v", res, refused, wait)
	}
	return 0, nil
}

// release gives back the hit hit on limits.
func release(ctx context.Context, h Harness, limits []store.Limit, hit uint64) error {
	l := slices.Clone(limits)
	for i := range l {
		l[i].Hit = hit
	}
	if err := h.Store.(store.Limiter).Release(ctx, l); err != nil {
		return fmt.Errorf("release: %w", err)
	}
	return nil
}

func budget(key string, max int64, window time.Duration) store.Limit {
	return store.Limit{Key: key, Max: max, Window: window}
}

func checkTakeBudget(ctx context.Context, h Harness) error {
	l := []store.Limit{budget("lim:b", 3, time.Minute)}
	for i := range 3 {
		if err := take(ctx, h, l, true, 0, 0); err != nil {
			return fmt.Errorf("hit %d: %w", i+1, err)
		}
	}
	if err := take(ctx, h, l, false, 0, time.Minute); err != nil {
		return fmt.Errorf("hit 4: %w", err)
	}
	h.Advance(20 * time.Second)
	if err := take(ctx, h, l, false, 0, 40*time.Second); err != nil {
		return fmt.Errorf("20 s later: %w", err)
	}
	h.Advance(40 * time.Second)
	for i := range 3 {
		if err := take(ctx, h, l, true, 0, 0); err != nil {
			return fmt.Errorf("next window, hit %d: %w", i+1, err)
		}
	}
	return take(ctx, h, l, false, 0, time.Minute)
}

func checkTakeAllOrNothing(ctx context.Context, h Harness) error {
	a, b := budget("lim:a", 1, time.Hour), budget("lim:b", 2, time.Hour)
	if err := take(ctx, h, []store.Limit{a, b}, true, 0, 0); err != nil {
		return err
	}
	if err := take(ctx, h, []store.Limit{a, b}, false, 0, time.Hour); err != nil {
		return fmt.Errorf("a spent: %w", err)
	}
	if err := take(ctx, h, []store.Limit{b}, true, 0, 0); err != nil {
		return fmt.Errorf("b alone (the refused Take must not have counted on it): %w", err)
	}
	return take(ctx, h, []store.Limit{b}, false, 0, time.Hour)
}

func checkTakeLongestWait(ctx context.Context, h Harness) error {
	l := []store.Limit{budget("lim:short", 1, time.Minute), budget("lim:long", 1, time.Hour), budget("lim:free", 9, time.Hour)}
	if err := take(ctx, h, l, true, 0, 0); err != nil {
		return err
	}
	return take(ctx, h, l, false, 1, time.Hour)
}

func checkTakeCooldown(ctx context.Context, h Harness) error {
	l := []store.Limit{{Key: "lim:cd", Window: time.Hour, Waits: []time.Duration{30 * time.Second, time.Minute}}}
	steps := []struct {
		advance time.Duration
		ok      bool
		wait    time.Duration
	}{
		{0, true, 0},
		{0, false, 30 * time.Second},
		{10 * time.Second, false, 20 * time.Second},
		{20 * time.Second, true, 0},
		{0, false, time.Minute},
		{time.Minute, true, 0},
		{0, false, time.Minute}, // the last wait repeats
		{time.Minute + time.Hour, true, 0},
		{0, false, 30 * time.Second}, // quiet for the window: from the start
	}
	for i, s := range steps {
		h.Advance(s.advance)
		if err := take(ctx, h, l, s.ok, 0, s.wait); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	return nil
}

func checkRelease(ctx context.Context, h Harness) error {
	b := []store.Limit{budget("lim:b", 1, time.Hour)}
	hit, err := takeHit(ctx, h, b, true, 0, 0)
	if err != nil {
		return err
	}
	if err := release(ctx, h, b, hit); err != nil {
		return err
	}
	if err := take(ctx, h, b, true, 0, 0); err != nil {
		return fmt.Errorf("budget after Release: %w", err)
	}
	if err := take(ctx, h, b, false, 0, time.Hour); err != nil {
		return fmt.Errorf("budget after Release: %w", err)
	}

	c := []store.Limit{{Key: "lim:cd", Window: time.Hour, Waits: []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute}}}
	if err := take(ctx, h, c, true, 0, 0); err != nil {
		return err
	}
	h.Advance(30 * time.Second)
	hit, err = takeHit(ctx, h, c, true, 0, 0)
	if err != nil {
		return err
	}
	if err := release(ctx, h, c, hit); err != nil {
		return err
	}
	if err := release(ctx, h, c, hit); err != nil {
		return err
	}
	hit, err = takeHit(ctx, h, c, true, 0, 0)
	if err != nil {
		return fmt.Errorf("cooldown after Release (the wait is lifted; a second Release of the same hit does nothing): %w", err)
	}
	if err := take(ctx, h, c, false, 0, time.Minute); err != nil {
		return fmt.Errorf("cooldown after Release (one step back, then forward again): %w", err)
	}
	if err := release(ctx, h, c, hit); err != nil {
		return err
	}
	return take(ctx, h, c, true, 0, 0)
}

func checkReleaseKeepsLaterWait(ctx context.Context, h Harness) error {
	c := []store.Limit{{Key: "lim:cd", Window: time.Hour, Waits: []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute}}}
	first, err := takeHit(ctx, h, c, true, 0, 0) // a request whose outcome comes late
	if err != nil {
		return err
	}
	h.Advance(time.Minute)
	if err := take(ctx, h, c, true, 0, 0); err != nil { // a real send: 2 minutes
		return err
	}
	h.Advance(time.Second)
	if err := release(ctx, h, c, first); err != nil { // the first sent nothing
		return err
	}
	if err := take(ctx, h, c, false, 0, 2*time.Minute-time.Second); err != nil {
		return fmt.Errorf("after the give-back of an earlier hit, the later hit's wait: %w", err)
	}
	h.Advance(2*time.Minute - time.Second)
	if err := take(ctx, h, c, true, 0, 0); err != nil {
		return fmt.Errorf("once the later wait passed: %w", err)
	}
	// The earlier hit stayed counted: this is the third in a row.
	if err := take(ctx, h, c, false, 0, 4*time.Minute); err != nil {
		return fmt.Errorf("the step after: %w", err)
	}
	return nil
}

func checkReleaseInItsWindow(ctx context.Context, h Harness) error {
	b := []store.Limit{budget("lim:w", 2, time.Hour)}
	old, err := takeHit(ctx, h, b, true, 0, 0)
	if err != nil {
		return err
	}
	h.Advance(time.Hour) // the window ends
	if err := take(ctx, h, b, true, 0, 0); err != nil {
		return err
	}
	if err := take(ctx, h, b, true, 0, 0); err != nil {
		return err
	}
	if err := release(ctx, h, b, old); err != nil {
		return err
	}
	if err := take(ctx, h, b, false, 0, time.Hour); err != nil {
		return fmt.Errorf("after the give-back of a hit of the previous window: %w", err)
	}
	// In its own window, a hit is given back even after later hits.
	h.Advance(time.Hour)
	mine, err := takeHit(ctx, h, b, true, 0, 0)
	if err != nil {
		return err
	}
	if err := take(ctx, h, b, true, 0, 0); err != nil {
		return err
	}
	if err := release(ctx, h, b, mine); err != nil {
		return err
	}
	if err := take(ctx, h, b, true, 0, 0); err != nil {
		return fmt.Errorf("after the give-back of a hit of this window: %w", err)
	}
	return take(ctx, h, b, false, 0, time.Hour)
}

func checkTakeHit(ctx context.Context, h Harness) error {
	a, b := []store.Limit{budget("lim:a", 9, time.Hour)}, []store.Limit{budget("lim:b", 9, time.Hour)}
	var last uint64
	for i := range 4 {
		l := a
		if i%2 == 1 {
			l = b
		}
		hit, err := takeHit(ctx, h, l, true, 0, 0)
		if err != nil {
			return err
		}
		if hit <= last {
			return fmt.Errorf("take %d: Hit %d after %d, want growing", i+1, hit, last)
		}
		last = hit
	}
	for range 7 {
		if err := release(ctx, h, a, 0); err != nil {
			return err
		}
	}
	for range 7 {
		if err := take(ctx, h, a, true, 0, 0); err != nil {
			return fmt.Errorf("after Release of hit 0: %w", err)
		}
	}
	return take(ctx, h, a, false, 0, time.Hour)
}

func checkReleaseAbsent(ctx context.Context, h Harness) error {
	b := []store.Limit{budget("lim:b", 2, time.Minute)}
	if err := release(ctx, h, b, 1<<62); err != nil {
		return fmt.Errorf("release of an absent counter: %w", err)
	}
	hit, err := takeHit(ctx, h, b, true, 0, 0)
	if err != nil {
		return err
	}
	h.Advance(time.Minute)
	if err := release(ctx, h, b, hit); err != nil {
		return fmt.Errorf("release of an expired counter: %w", err)
	}
	for range 2 {
		if err := take(ctx, h, b, true, 0, 0); err != nil {
			return fmt.Errorf("after releasing an expired counter: %w", err)
		}
	}
	return take(ctx, h, b, false, 0, time.Minute)
}

func checkTakeInvalid(ctx context.Context, h Harness) error {
	lim := h.Store.(store.Limiter)
	many := make([]store.Limit, store.MaxLimits+1)
	for i := range many {
		many[i] = budget("lim:"+strconv.Itoa(i), 1, time.Minute)
	}
	cases := map[string][]store.Limit{
		"no limits":       nil,
		"too many":        many,
		"empty key":       {budget("", 1, time.Minute)},
		"Max 0":           {budget("lim:x", 0, time.Minute)},
		"zero window":     {budget("lim:x", 1, 0)},
		"negative wait":   {{Key: "lim:x", Window: time.Minute, Waits: []time.Duration{-time.Second}}},
		"cooldown window": {{Key: "lim:x", Waits: []time.Duration{time.Second}}},
		"repeated key":    {budget("lim:x", 1, time.Minute), budget("lim:x", 2, time.Minute)},
		"negative cost":   {{Key: "lim:x", Max: 5, Window: time.Minute, Cost: -1}},
		"cooldown cost":   {{Key: "lim:x", Window: time.Minute, Waits: []time.Duration{time.Second}, Cost: 2}},
	}
	for name, l := range cases {
		if _, err := lim.Take(ctx, l); !errors.Is(err, store.ErrInvalid) {
			return fmt.Errorf("take with %s: %v, want ErrInvalid", name, err)
		}
		if err := lim.Release(ctx, l); !errors.Is(err, store.ErrInvalid) {
			return fmt.Errorf("release with %s: %v, want ErrInvalid", name, err)
		}
	}
	return take(ctx, h, []store.Limit{budget("lim:x", 1, time.Minute)}, true, 0, 0)
}

func checkTakeCanceled(ctx context.Context, h Harness) error {
	lim := h.Store.(store.Limiter)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	b := []store.Limit{budget("lim:b", 1, time.Minute)}
	if _, err := lim.Take(canceled, b); !errors.Is(err, context.Canceled) {
		return fmt.Errorf("take: %v, want context.Canceled", err)
	}
	return take(ctx, h, b, true, 0, 0)
}

func checkTakeConcurrent(ctx context.Context, h Harness) error {
	lim := h.Store.(store.Limiter)
	const workers, max = 40, 10
	var ok atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := range workers {
		wg.Go(func() {
			l := []store.Limit{budget("lim:own:"+strconv.Itoa(i), 1, time.Minute), budget("lim:shared", max, time.Minute), budget("lim:other", workers, time.Minute)}
			if i%2 == 1 {
				l[0], l[2] = l[2], l[0]
			}
			res, err := lim.Take(ctx, l)
			if err != nil {
				errs <- err
				return
			}
			if res.OK {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return fmt.Errorf("take: %w", err)
	}
	if ok.Load() != max {
		return fmt.Errorf("%d concurrent Takes succeeded, want %d", ok.Load(), max)
	}
	return nil
}

func weighted(key string, max, cost int64, window time.Duration) store.Limit {
	return store.Limit{Key: key, Max: max, Window: window, Cost: cost}
}

// takeCount takes limits, wants them taken, and checks each limit's Count.
func takeCount(ctx context.Context, h Harness, limits []store.Limit, counts ...int64) (uint64, error) {
	hit, err := takeHit(ctx, h, limits, true, 0, 0)
	if err != nil {
		return 0, err
	}
	for i, want := range counts {
		if limits[i].Count != want {
			return 0, fmt.Errorf("take: limit %d Count = %d, want %d", i, limits[i].Count, want)
		}
	}
	return hit, nil
}

func checkTakeWeighted(ctx context.Context, h Harness) error {
	// Micro-units: a budget of 1.000000 with sends of 0.300000.
	const max, cost = 1_000_000, 300_000
	l := []store.Limit{weighted("lim:w", max, cost, time.Hour), budget("lim:n", 100, time.Hour)}
	for i := range 3 {
		if _, err := takeCount(ctx, h, l, int64(i+1)*cost, int64(i+1)); err != nil {
			return fmt.Errorf("hit %d: %w", i+1, err)
		}
	}
	if err := take(ctx, h, l, false, 0, time.Hour); err != nil {
		return fmt.Errorf("a 4th hit of 0.3 past 0.9 of 1: %w", err)
	}
	fill := []store.Limit{weighted("lim:w", max, max-3*cost, time.Hour)}
	if _, err := takeCount(ctx, h, fill, max); err != nil {
		return fmt.Errorf("a hit that fills the budget exactly: %w", err)
	}
	if err := take(ctx, h, []store.Limit{weighted("lim:w", max, 0, time.Hour)}, false, 0, time.Hour); err != nil {
		return fmt.Errorf("cost 0 (1) on a full budget: %w", err)
	}
	if err := take(ctx, h, []store.Limit{weighted("lim:big", max, max+1, time.Hour)}, false, 0, time.Hour); err != nil {
		return fmt.Errorf("a hit that costs more than Max: %w", err)
	}
	h.Advance(time.Hour)
	if _, err := takeCount(ctx, h, []store.Limit{weighted("lim:w", max, max, time.Hour)}, max); err != nil {
		return fmt.Errorf("next window: %w", err)
	}
	return nil
}

func checkReleaseWeighted(ctx context.Context, h Harness) error {
	const max, cost = 1_000, 400
	l := []store.Limit{weighted("lim:w", max, cost, time.Hour)}
	if _, err := takeCount(ctx, h, l, cost); err != nil {
		return err
	}
	hit, err := takeCount(ctx, h, l, 2*cost)
	if err != nil {
		return err
	}
	if err := take(ctx, h, l, false, 0, time.Hour); err != nil {
		return fmt.Errorf("third hit: %w", err)
	}
	if err := release(ctx, h, l, hit); err != nil {
		return err
	}
	if _, err := takeCount(ctx, h, l, 2*cost); err != nil {
		return fmt.Errorf("after giving 400 back: %w", err)
	}
	h.Advance(time.Hour)
	if _, err := takeCount(ctx, h, l, cost); err != nil {
		return fmt.Errorf("next window: %w", err)
	}
	if err := release(ctx, h, l, hit); err != nil {
		return err
	}
	if _, err := takeCount(ctx, h, l, 2*cost); err != nil {
		return fmt.Errorf("after giving back a hit of the window before: %w", err)
	}
	return nil
}

func checkTakeWeightedConcurrent(ctx context.Context, h Harness) error {
	lim := h.Store.(store.Limiter)
	const workers, max, cost = 30, 1000, 70 // 14 fit
	var mu sync.Mutex
	var counts []int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			l := []store.Limit{weighted("lim:w", max, cost, time.Minute)}
			res, err := lim.Take(ctx, l)
			if err != nil {
				errs <- err
				return
			}
			if res.OK {
				mu.Lock()
				counts = append(counts, l[0].Count)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return fmt.Errorf("take: %w", err)
	}
	slices.Sort(counts)
	var want []int64
	for n := int64(cost); n <= max; n += cost {
		want = append(want, n)
	}
	if !slices.Equal(counts, want) {
		return fmt.Errorf("the Counts of the Takes that succeeded = %v, want %v", counts, want)
	}
	return nil
}

func checkCounts(ctx context.Context, h Harness) error {
	r, ok := h.Store.(store.CountReader)
	if !ok {
		return nil // an optional capability
	}
	w := []store.Limit{weighted("lim:w", 1000, 300, time.Hour), budget("lim:n", 9, time.Minute)}
	for range 2 {
		if err := take(ctx, h, w, true, 0, 0); err != nil {
			return err
		}
	}
	if _, _, err := h.Store.Incr(ctx, "lim:incr", time.Hour); err != nil {
		return err
	}
	read := func(want ...int64) error {
		l := []store.Limit{{Key: "lim:w"}, {Key: "lim:n"}, {Key: "lim:absent"}, {Key: "lim:incr"}}
		for i := range l {
			l[i].Count = -1
		}
		if err := r.Counts(ctx, l); err != nil {
			return fmt.Errorf("counts: %w", err)
		}
		for i := range l {
			if l[i].Count != want[i] {
				return fmt.Errorf("counts: %s = %d, want %d", l[i].Key, l[i].Count, want[i])
			}
		}
		return nil
	}
	if err := read(600, 2, 0, 1); err != nil {
		return err
	}
	if err := read(600, 2, 0, 1); err != nil {
		return fmt.Errorf("read again (reading must not count): %w", err)
	}
	h.Advance(time.Minute)
	if err := read(600, 0, 0, 1); err != nil {
		return fmt.Errorf("after lim:n expired: %w", err)
	}
	for name, l := range map[string][]store.Limit{"no keys": nil, "empty key": {{}}, "repeated key": {{Key: "a"}, {Key: "a"}}} {
		if err := r.Counts(ctx, l); !errors.Is(err, store.ErrInvalid) {
			return fmt.Errorf("counts with %s: %v, want ErrInvalid", name, err)
		}
	}
	return nil
}
