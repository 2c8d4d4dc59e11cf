package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/verifykit/verifykit/store"
)

// Take implements store.Limiter: one call of the schema's take function,
// whatever the number of limits, so one round trip. The function locks the
// limits' counters in key order, creating absent ones, decides, and counts
// the hit (its Cost, for a budget) on every one or on none, reporting each
// counter's new value in Count.
func (s *Store) Take(ctx context.Context, limits []store.Limit) (store.Taken, error) {
	if err := ctx.Err(); err != nil {
		return store.Taken{}, err
	}
	if err := store.CheckLimits(limits); err != nil {
		return store.Taken{}, err
	}
	keys := make([][]byte, len(limits))
	maxes := make([]int64, len(limits))
	costs := make([]int64, len(limits))
	windows := make([]int64, len(limits))
	nwaits := make([]int32, len(limits))
	var waits []int64
	for i := range limits {
		l := &limits[i]
		keys[i] = []byte(l.Key)
		maxes[i] = l.Max
		costs[i] = 1
		if len(l.Waits) == 0 {
			costs[i] = l.Weight()
		}
		windows[i] = us(l.Window)
		nwaits[i] = int32(len(l.Waits))
		for _, w := range l.Waits {
			waits = append(waits, us(w))
		}
	}
	if waits == nil {
		waits = []int64{}
	}
	var refused int32
	var wait, hit int64
	var counts []int64
	if err := s.row(ctx, s.qTake, []any{keys, maxes, costs, windows, nwaits, waits}, &refused, &wait, &hit, &counts); err != nil {
		return store.Taken{}, fail(ctx, "take", err, true)
	}
	if refused < 0 {
		if hit <= 0 || len(counts) != len(limits) {
			return store.Taken{}, store.OutcomeUnknown("take", fmt.Errorf("unexpected answer: hit %d, %d counts", hit, len(counts)))
		}
		for i, n := range counts {
			limits[i].Count = n
		}
		return store.Taken{OK: true, Refused: -1, Hit: uint64(hit)}, nil
	}
	if int(refused) >= len(limits) {
		return store.Taken{}, store.OutcomeUnknown("take", fmt.Errorf("unexpected answer: limit %d of %d", refused, len(limits)))
	}
	return store.Taken{Refused: int(refused), RetryAfter: time.Duration(wait) * time.Microsecond}, nil
}

// Release implements store.Limiter: one call of the schema's release
// function, which gives back only the hits the limits' Hit name.
func (s *Store) Release(ctx context.Context, limits []store.Limit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := store.CheckLimits(limits); err != nil {
		return err
	}
	keys := make([][]byte, len(limits))
	cooldown := make([]bool, len(limits))
	windows := make([]int64, len(limits))
	hits := make([]int64, len(limits))
	costs := make([]int64, len(limits))
	for i := range limits {
		keys[i] = []byte(limits[i].Key)
		cooldown[i] = len(limits[i].Waits) > 0
		windows[i] = us(limits[i].Window)
		hits[i] = int64(min(limits[i].Hit, 1<<63-1))
		costs[i] = limits[i].Weight()
	}
	var none any
	if err := s.row(ctx, s.qRelease, []any{keys, cooldown, windows, hits, costs}, &none); err != nil {
		return fail(ctx, "release", err, true)
	}
	return nil
}

var _ store.CountReader = (*Store)(nil)

// Counts implements store.CountReader: one query, which reads the live
// counters of the keys and locks nothing.
func (s *Store) Counts(ctx context.Context, limits []store.Limit) error {
	if err := store.CheckKeys(ctx, limits); err != nil {
		return err
	}
	keys := make([][]byte, len(limits))
	for i := range limits {
		keys[i] = []byte(limits[i].Key)
	}
	var counts []int64
	q := "SELECT array_agg(coalesce(c.n, 0) ORDER BY k.i) FROM unnest($1::bytea[]) WITH ORDINALITY AS k(key, i) LEFT JOIN " +
		s.n.Counters + " c ON c.key = k.key AND c.reset > now()"
	if err := s.row(ctx, q, []any{keys}, &counts); err != nil {
		return fail(ctx, "counts", err, false)
	}
	if len(counts) != len(limits) {
		return store.OutcomeUnknown("counts", fmt.Errorf("unexpected answer: %d counts for %d keys", len(counts), len(limits)))
	}
	for i, n := range counts {
		limits[i].Count = n
	}
	return nil
}
