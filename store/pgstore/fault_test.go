package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/pgstore"
	"github.com/verifykit/verifykit/store/pgstore/pgtest"
	"github.com/verifykit/verifykit/store/storetest/servertest"
)

// TestKillAndRestart increments a record and a counter while the server
// is killed and restarted: typed errors, nothing lost, nothing applied
// twice.
func TestKillAndRestart(t *testing.T) {
	srv := pgtest.Start(t)
	servertest.KillAndRestart(t, openStore(t, srv.URL()), srv)
}

// TestSelfhostedKillAndRestart runs verifications while the server is
// killed and restarted: typed errors, no approval twice or lost.
func TestSelfhostedKillAndRestart(t *testing.T) {
	srv := pgtest.Start(t)
	servertest.SelfhostedKillAndRestart(t, openStore(t, srv.URL()), srv)
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

// TestServerDown checks that every operation, the sweep too, against a
// server that is not there fails with ErrUnavailable.
func TestServerDown(t *testing.T) {
	srv := pgtest.Start(t)
	s := openStore(t, srv.URL())
	servertest.ServerDown(t, s, srv, map[string]servertest.Op{
		"Sweep": func(ctx context.Context) error { _, err := s.Sweep(ctx); return err },
	})
}

// TestSlowQuery makes a compare-and-swap wait past the caller's deadline
// behind a row lock: ErrOutcomeUnknown. Meanwhile a statement on other
// rows does not wait for the lock.
func TestSlowQuery(t *testing.T) {
	srv := sharedServer(t)
	pool := newPool(t, srv.URL())
	s, schema := newStore(t, pool)
	servertest.SlowWrite(t, s, func() func() {
		ctx := t.Context()
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM "`+schema+`".verifykit_records WHERE key = 'k' FOR UPDATE`); err != nil {
			_ = tx.Rollback(ctx)
			t.Fatal(err)
		}
		return func() {
			short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			_, err := s.Take(short, []store.Limit{{Key: "x", Max: 1, Window: time.Minute}})
			cancel()
			if err != nil {
				t.Errorf("Take on other rows waited for the lock: %v", err)
			}
			if err := tx.Rollback(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	})
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
			WHERE wait_event_type = 'Lock' AND query LIKE '%verifykit_records%' AND pid <> pg_backend_pid()`).Scan(&n)
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

// TestLostRaceAnswersNewest makes each write lose to a transaction that
// changes the record while the write waits for its row: the write fails
// with ErrConflict and answers the record as that transaction committed
// it, not as it was when the write began.
func TestLostRaceAnswersNewest(t *testing.T) {
	srv := sharedServer(t)
	pool := newPool(t, srv.URL())
	for _, tc := range []struct {
		name  string
		setup bool // the record exists before the transaction
		tx    string
		write func(ctx context.Context, s *pgstore.Store, old uint64) (store.Record, error)
	}{
		{"create", false, `INSERT INTO %s (key, version, value, expires) VALUES ('k', nextval(%s), 'theirs', now() + interval '1 hour') RETURNING version`,
			func(ctx context.Context, s *pgstore.Store, _ uint64) (store.Record, error) {
				return s.CompareAndSwap(ctx, "k", 0, []byte("mine"), time.Hour)
			}},
		{"swap", true, `UPDATE %s SET version = nextval(%s), value = 'theirs' WHERE key = 'k' RETURNING version`,
			func(ctx context.Context, s *pgstore.Store, old uint64) (store.Record, error) {
				return s.CompareAndSwap(ctx, "k", old, []byte("mine"), time.Hour)
			}},
		{"delete", true, `UPDATE %s SET version = nextval(%s), value = 'theirs' WHERE key = 'k' RETURNING version`,
			func(ctx context.Context, s *pgstore.Store, old uint64) (store.Record, error) {
				return s.CompareAndDelete(ctx, "k", old)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s, schema := newStore(t, pool)
			var old uint64
			if tc.setup {
				r, err := s.CompareAndSwap(ctx, "k", 0, []byte("first"), time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				old = r.Version
			}
			tx, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(context.Background()) }()
			var theirs uint64
			q := fmt.Sprintf(tc.tx, `"`+schema+`".verifykit_records`, `'"`+schema+`".verifykit_versions'`)
			if err := tx.QueryRow(ctx, q).Scan(&theirs); err != nil {
				t.Fatal(err)
			}
			type result struct {
				r   store.Record
				err error
			}
			res := make(chan result, 1)
			go func() {
				r, err := tc.write(ctx, s, old)
				res <- result{r, err}
			}()
			for waiting := 0; waiting == 0; {
				if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
					WHERE wait_event_type = 'Lock' AND query LIKE '%verifykit_records%' AND pid <> pg_backend_pid()`).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			got := <-res
			if !errors.Is(got.err, store.ErrConflict) || got.r.Version != theirs || string(got.r.Value) != "theirs" {
				t.Fatalf("write = %d %q, %v; want the committed record (version %d, theirs) and ErrConflict", got.r.Version, got.r.Value, got.err, theirs)
			}
		})
	}
}
