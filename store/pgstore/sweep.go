package pgstore

import (
	"context"
	"time"
)

// sweepBatches bounds the batches of one sweep run, per table.
const sweepBatches = 10

// sweepLoop runs Sweep every sweepEvery until Close.
func (s *Store) sweepLoop() {
	defer close(s.done)
	t := time.NewTicker(s.sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.sweepEvery)
		go func() {
			select {
			case <-s.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		_, _ = s.Sweep(ctx) // a failed sweep is tried again at the next tick
		cancel()
	}
}

// Sweep deletes expired records and counters: in each table, batches of at
// most the sweep's batch size (WithSweep), skipping rows locked by a
// request, until a batch comes back short or 10 batches have run. It
// returns how many rows it deleted. The background sweep calls it; an
// application that turns that off (WithSweep(0, n)) may call it from a
// job of its own. Expired rows are invisible whether or not they have been
// swept.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	var total int64
	for _, q := range []string{s.qSweepRecords, s.qSweepCounters} {
		for range sweepBatches {
			var n int64
			if err := s.row(ctx, q, []any{s.sweepBatch}, &n); err != nil {
				return total, fail(ctx, "sweep", err, true)
			}
			total += n
			if n < int64(s.sweepBatch) {
				break
			}
		}
	}
	return total, nil
}
