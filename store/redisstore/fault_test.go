package redisstore_test

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/redisstore"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
)

// TestKillAndRestart increments a record by read-modify-write from many
// goroutines while the server is killed (SIGKILL) and restarted. Every
// failure is typed; every increment reported done is in the final value,
// and only increments whose outcome was reported unknown may be missing
// or present: nothing is lost, nothing is applied twice.
func TestKillAndRestart(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	s, err := redisstore.Open(t.Context(), srv.URL(), redisstore.WithPrefix("kr:"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CompareAndSwap(ctx, "n", 0, binary.BigEndian.AppendUint64(nil, 0), time.Hour); err != nil {
		t.Fatal(err)
	}

	var done, unknown, unavailable, incrDone, incrUnknown, timedOut atomic.Int64
	killAt := make(chan struct{})
	restartAt := make(chan struct{})
	recovered := make(chan struct{})
	var target atomic.Int64 // increments done after which the test stops
	var killOnce, restartOnce, recoveredOnce sync.Once
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bad atomic.Value
	var fail func(error)
	failed := make(chan struct{})
	var failOnce sync.Once
	fail = func(err error) {
		bad.Store(err)
		failOnce.Do(func() { close(failed) })
	}
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				// Each operation has a deadline, as a caller's would; on a
				// loaded machine it can pass mid-increment, and then the
				// store rightly returns the context's error, with the CAS it
				// was waiting on applied or not: an unknown outcome. Only
				// the context's own error, once it has expired, counts so.
				opctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				err := increment(opctx, s)
				switch {
				case err != nil && expired(opctx, err):
					unknown.Add(1)
					timedOut.Add(1)
				case err == nil:
					d := done.Add(1)
					if d == 200 {
						killOnce.Do(func() { close(killAt) })
					}
					if t := target.Load(); t > 0 && d >= t {
						recoveredOnce.Do(func() { close(recovered) })
					}
				case errors.Is(err, provider.ErrOutcomeUnknown):
					unknown.Add(1)
				case errors.Is(err, provider.ErrUnavailable):
					if unavailable.Add(1) == 20 {
						restartOnce.Do(func() { close(restartAt) })
					}
				default:
					cancel()
					fail(err)
					return
				}
				n, _, err := s.Incr(opctx, "c", time.Hour)
				cancel()
				switch {
				case err != nil && expired(opctx, err):
					incrUnknown.Add(1)
					timedOut.Add(1)
				case err == nil:
					incrDone.Add(1)
					_ = n
				case errors.Is(err, provider.ErrOutcomeUnknown):
					incrUnknown.Add(1)
				case errors.Is(err, provider.ErrUnavailable):
				default:
					fail(err)
					return
				}
			}
		})
	}
	wait := func(ch chan struct{}) {
		select {
		case <-ch:
		case <-failed:
			close(stop)
			wg.Wait()
			t.Fatalf("untyped failure: %v", bad.Load())
		}
	}
	wait(killAt)
	srv.Kill()
	wait(restartAt)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// Let the workers succeed again after the restart, then stop.
	target.Store(done.Load() + 200)
	wait(recovered)
	close(stop)
	wg.Wait()
	if err, _ := bad.Load().(error); err != nil {
		t.Fatalf("untyped failure: %v", err)
	}
	r, err := s.Get(ctx, "n")
	if err != nil {
		t.Fatal(err)
	}
	got := int64(binary.BigEndian.Uint64(r.Value))
	if got < done.Load() || got > done.Load()+unknown.Load() {
		t.Errorf("value %d after %d increments done and %d with unknown outcome", got, done.Load(), unknown.Load())
	}
	c, _, err := s.Incr(ctx, "c", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c-- // this Incr
	if c < incrDone.Load() || c > incrDone.Load()+incrUnknown.Load() {
		t.Errorf("counter %d after %d increments done and %d with unknown outcome", c, incrDone.Load(), incrUnknown.Load())
	}
	t.Logf("done %d, unknown %d (deadline passed %d), unavailable %d; value %d; counter %d (done %d, unknown %d)",
		done.Load(), unknown.Load(), timedOut.Load(), unavailable.Load(), got, c, incrDone.Load(), incrUnknown.Load())
}

// expired reports whether err is ctx's own error after ctx's deadline
// passed: the caller's timeout, not a failure of the store.
func expired(ctx context.Context, err error) bool {
	return ctx.Err() != nil && errors.Is(err, ctx.Err())
}

// increment adds one to the record "n" by read-modify-write.
func increment(ctx context.Context, s store.Store) error {
	r, err := s.Get(ctx, "n")
	if err != nil {
		return err
	}
	for {
		if !r.Found() {
			return errors.New("the record was lost")
		}
		next := binary.BigEndian.AppendUint64(nil, binary.BigEndian.Uint64(r.Value)+1)
		r, err = s.CompareAndSwap(ctx, "n", r.Version, next, time.Hour)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
}
