package pgstore_test

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
	"github.com/verifykit/verifykit/store/pgstore"
	"github.com/verifykit/verifykit/store/pgstore/pgtest"
)

// TestKillAndRestart increments a record by read-modify-write from many
// goroutines while the server is killed (SIGKILL) and restarted. Every
// failure is typed; every increment reported done is in the final value,
// and only increments whose outcome was reported unknown may be missing
// or present: nothing is lost, nothing is applied twice.
func TestKillAndRestart(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := t.Context()
	s := openStore(t, srv.URL())
	if _, err := s.CompareAndSwap(ctx, "n", 0, binary.BigEndian.AppendUint64(nil, 0), time.Hour); err != nil {
		t.Fatal(err)
	}

	var done, unknown, unavailable, incrDone, incrUnknown atomic.Int64
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
				opctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				err := increment(opctx, s)
				switch {
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
	t.Logf("done %d, unknown %d, unavailable %d; value %d; counter %d (done %d, unknown %d)",
		done.Load(), unknown.Load(), unavailable.Load(), got, c, incrDone.Load(), incrUnknown.Load())
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

// openStore opens a store over url (its own pool, closed when t ends) in
// a schema of its own, and migrates it.
func openStore(t testing.TB, url string, opts ...pgstore.Option) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(t.Context(), url, append([]pgstore.Option{pgstore.WithSchema(uniqueSchema())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestServerDown checks that every operation against a server that is not
// there fails with ErrUnavailable: nothing can have happened. The pool's
// connections, closed by the killed server, are not used (a statement
// written to one would look like a write with an unknown outcome).
func TestServerDown(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := t.Context()
	s := openStore(t, srv.URL())
	// Fill the pool with connections, which the kill leaves dead.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { _, _, _ = s.Incr(ctx, "warm", time.Minute) })
	}
	wg.Wait()
	srv.Kill()
	limits := []store.Limit{{Key: "b", Max: 1, Window: time.Minute}}
	ops := map[string]error{
		"Get":              second(s.Get(ctx, "k")),
		"CompareAndSwap":   second(s.CompareAndSwap(ctx, "k", 0, []byte("v"), time.Minute)),
		"CompareAndDelete": second(s.CompareAndDelete(ctx, "k", 7)),
		"Incr":             third(s.Incr(ctx, "c", time.Minute)),
		"Take":             second(s.Take(ctx, limits)),
		"Release":          s.Release(ctx, limits),
		"Sweep":            second(s.Sweep(ctx)),
	}
	for op, err := range ops {
		if !errors.Is(err, provider.ErrUnavailable) || errors.Is(err, provider.ErrOutcomeUnknown) {
			t.Errorf("%s with the server down: error = %v, want ErrUnavailable only", op, err)
		}
		var se *store.Error
		if !errors.As(err, &se) {
			t.Errorf("%s: errors.As(*store.Error) failed on %v", op, err)
		}
	}
	// Back up: the store works again without being reopened, and the
	// connections the restart closed are not used.
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompareAndSwap(ctx, "k", 0, []byte("v"), time.Minute); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	for range 8 {
		wg.Go(func() {
			if _, _, err := s.Incr(ctx, "warm", time.Minute); err != nil {
				t.Errorf("after restart: %v", err)
			}
		})
	}
	wg.Wait()
}

// TestSlowQuery makes a compare-and-swap wait past the caller's deadline
// behind a row lock: the statement is on the server and lands after the
// caller gave up, which is exactly why the store must answer
// ErrOutcomeUnknown, not ErrUnavailable.
func TestSlowQuery(t *testing.T) {
	srv := sharedServer(t)
	ctx := t.Context()
	pool := newPool(t, srv.URL())
	s, schema := newStore(t, pool)
	r, err := s.CompareAndSwap(ctx, "k", 0, []byte("v1"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, `SELECT 1 FROM "`+schema+`".verifykit_records WHERE key = 'k' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err = s.CompareAndSwap(short, "k", r.Version, []byte("v2"), time.Minute)
	cancel()
	if !errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Fatalf("CompareAndSwap past its deadline: error = %v, want ErrOutcomeUnknown", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not match context.DeadlineExceeded", err)
	}
	// A read past its deadline did nothing.
	short, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = s.Take(short, []store.Limit{{Key: "x", Max: 1, Window: time.Minute}})
	cancel()
	if err != nil {
		t.Fatalf("Take on other rows waited for the lock: %v", err)
	}
	// The waiting statement goes on once the lock is released: whether it
	// lands depends on whether the server noticed the closed connection.
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Value) != "v2" && string(got.Value) != "v1" {
		t.Fatalf("Get = %q", got.Value)
	}
	t.Logf("the write that timed out landed: %v", string(got.Value) == "v2")
	if _, err := s.CompareAndSwap(ctx, "k", got.Version, []byte("v3"), time.Minute); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

// TestConnectionCut terminates the server process of a connection while
// its compare-and-swap waits for a row lock: the store answers
// ErrOutcomeUnknown (the server may have committed before the cut), never
// ErrUnavailable, and the store goes on over other connections.
func TestConnectionCut(t *testing.T) {
	srv := sharedServer(t)
	ctx := t.Context()
	pool := newPool(t, srv.URL())
	s, schema := newStore(t, pool)
	r, err := s.CompareAndSwap(ctx, "k", 0, []byte("v1"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, `SELECT 1 FROM "`+schema+`".verifykit_records WHERE key = 'k' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() {
		_, err := s.CompareAndSwap(ctx, "k", r.Version, []byte("v2"), time.Minute)
		res <- err
	}()
	// Find the waiting statement's server process and terminate it.
	for {
		var n int
		// Not in tx: a transaction sees one snapshot of pg_stat_activity.
		err := pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE '%verifykit_cas%' AND pid <> pg_backend_pid()`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		select {
		case err := <-res:
			t.Fatalf("the compare-and-swap returned before its connection was cut: %v", err)
		default:
		}
	}
	err = <-res
	if !errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Fatalf("CompareAndSwap whose connection was cut: error = %v, want ErrOutcomeUnknown", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "k")
	if err != nil || got.Version != r.Version {
		t.Fatalf("after the cut: Get = %v, %v; want the record unchanged (the statement was terminated)", got, err)
	}
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }
