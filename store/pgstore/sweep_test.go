package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/pgstore"
)

// TestSweep checks that Sweep deletes expired rows in bounded batches,
// keeps live ones, and skips a row that a request holds locked instead of
// waiting for it.
func TestSweep(t *testing.T) {
	srv := sharedServer(t)
	ctx := t.Context()
	pool := newPool(t, srv.URL())
	s, schema := newStore(t, pool, pgstore.WithSweep(0, 7))
	for i := range 30 {
		if _, err := s.CompareAndSwap(ctx, fmt.Sprint("r", i), 0, []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Incr(ctx, fmt.Sprint("c", i), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	advance(t, pool, schema, 2*time.Minute)
	if _, err := s.CompareAndSwap(ctx, "live", 0, []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Take(ctx, []store.Limit{{Key: "live-c", Max: 1, Window: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	// A request holds an expired record locked.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, `SELECT 1 FROM "`+schema+`".verifykit_records WHERE key = 'r0' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := s.Sweep(short)
	if err != nil {
		t.Fatalf("Sweep with a row locked: %v", err)
	}
	if n != 59 {
		t.Errorf("Sweep deleted %d rows, want 59 (60 expired, one locked)", n)
	}
	rows := func(table string) (n int) {
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM "`+schema+`".verifykit_`+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if r, c := rows("records"), rows("counters"); r != 2 || c != 1 {
		t.Errorf("after the sweep: %d records, %d counters; want 2 (the live one and the locked one) and 1", r, c)
	}
	if r, err := s.Get(ctx, "live"); err != nil || !r.Found() {
		t.Errorf("the live record: %v, %v", r, err)
	}
	_ = tx.Rollback(ctx)
	if n, err := s.Sweep(ctx); err != nil || n != 1 {
		t.Errorf("second Sweep = %d, %v; want the row no longer locked", n, err)
	}
}

// TestBackgroundSweep checks that a Store sweeps by itself.
func TestBackgroundSweep(t *testing.T) {
	srv := sharedServer(t)
	ctx := t.Context()
	pool := newPool(t, srv.URL())
	s, schema := newStore(t, pool, pgstore.WithSweep(0, 100))
	if _, err := s.CompareAndSwap(ctx, "k", 0, []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	advance(t, pool, schema, 2*time.Minute)
	// A second store over the same tables sweeps every millisecond.
	s2, err := pgstore.New(pool, pgstore.WithSchema(schema), pgstore.WithSweep(time.Millisecond, 100))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	// Wait for the sweep, by watching the table (a lock on the table's
	// rows would show the sweep skipping; nothing is locked here).
	for {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM "`+schema+`".verifykit_records`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the background sweep never deleted the expired record")
		default:
		}
	}
	s2.Close()
	s2.Close() // Close twice is fine
}
