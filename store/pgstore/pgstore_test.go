package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/pgstore"
	"github.com/verifykit/verifykit/store/pgstore/pgtest"
	"github.com/verifykit/verifykit/store/storetest/servertest"
)

// shared is one server for the tests that do not stop it; each test uses
// a schema of its own.
var shared *pgtest.Server

// backend opens the store, migrated, for the shared server tests.
var backend = servertest.Backend{Name: "PostgreSQL", Open: func(ctx context.Context, url, ns string) (store.Store, func(), error) {
	s, err := pgstore.Open(ctx, url, pgstore.WithSchema(ns))
	if err != nil {
		return nil, nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, s.Close, nil
}}

func TestMain(m *testing.M) {
	servertest.Main(backend) // a replica process of TestScaleOut, TestReplicasShareTheBudget
	var err error
	shared, err = pgtest.StartMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	pgtest.Cleanup()
	os.Exit(code)
}

// sharedServer returns the shared server, or skips (fails when
// PG_REQUIRED=1) when PostgreSQL is not installed.
func sharedServer(t testing.TB) *pgtest.Server {
	t.Helper()
	pgtest.Require(t)
	if shared == nil {
		t.Fatal("PostgreSQL is installed but the shared server did not start")
	}
	return shared
}

var schemas atomic.Int64

// uniqueSchema returns a schema name no other test in this run uses.
func uniqueSchema() string {
	return fmt.Sprintf("t%d_%d", os.Getpid(), schemas.Add(1))
}

// newPool returns a pool over url, closed when t ends.
func newPool(t testing.TB, url string, edit ...func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edit {
		e(cfg)
	}
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// newStore returns a migrated store in a schema of its own over pool,
// closed when t ends.
func newStore(t testing.TB, pool *pgxpool.Pool, opts ...pgstore.Option) (*pgstore.Store, string) {
	t.Helper()
	schema := uniqueSchema()
	s, err := pgstore.New(pool, append([]pgstore.Option{pgstore.WithSchema(schema)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, schema
}

// advance moves the server's time forward by d for the store in schema,
// by moving its rows' expiry back (the server's clock cannot be moved).
func advance(t testing.TB, pool *pgxpool.Pool, schema string, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	iv := fmt.Sprintf("%d microseconds", d.Microseconds())
	for _, q := range []string{
		`UPDATE "` + schema + `".verifykit_records SET expires = expires - $1::interval`,
		`UPDATE "` + schema + `".verifykit_counters SET reset = reset - $1::interval`,
	} {
		if _, err := pool.Exec(ctx, q, iv); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConformance runs storetest's suites and the self-hosted provider's
// conformance suite over the store.
func TestConformance(t *testing.T) {
	srv := sharedServer(t)
	pool := newPool(t, srv.URL())
	servertest.Conformance(t, func(t *testing.T, now func() time.Time) servertest.Fixture {
		s, schema := newStore(t, pool, pgstore.WithClock(now))
		return servertest.Fixture{Store: s, Advance: func(d time.Duration) { advance(t, pool, schema, d) }}
	})
}

// countingPool returns a pool of one connection whose round trips n counts.
func countingPool(t testing.TB, url string, n *atomic.Int64) *pgxpool.Pool {
	return newPool(t, url, func(cfg *pgxpool.Config) {
		cfg.MaxConns = 1
		pgtest.CountRoundTrips(cfg, n)
	})
}

// TestOneRoundTrip counts the round trips each operation makes once its
// connection has prepared the statement: one each.
func TestOneRoundTrip(t *testing.T) {
	var n atomic.Int64
	s, _ := newStore(t, countingPool(t, sharedServer(t).URL(), &n), pgstore.WithSweep(0, 1))
	servertest.OneRoundTrip(t, s, n.Load)
}

// TestRoundTripsPerRequest counts the round trips of verify's requests
// under the sign-up policy.
func TestRoundTripsPerRequest(t *testing.T) {
	var n atomic.Int64
	s, _ := newStore(t, countingPool(t, sharedServer(t).URL(), &n), pgstore.WithSweep(0, 1))
	servertest.RoundTripsPerRequest(t, s, n.Load)
}

// TestScaleOut runs three processes of the self-hosted provider over one
// server: one approval per verification and per TOTP step, exact limits.
func TestScaleOut(t *testing.T) {
	servertest.ScaleOut(t, backend, sharedServer(t).URL())
}

// TestReplicasShareTheBudget runs four processes of verify over one
// server: a cooldown set on one holds on the others, a global budget is
// exact.
func TestReplicasShareTheBudget(t *testing.T) {
	servertest.SharedBudget(t, backend, sharedServer(t).URL())
}

func TestMigrate(t *testing.T) {
	srv := sharedServer(t)
	ctx := t.Context()
	pool := newPool(t, srv.URL())
	schema := uniqueSchema()
	// Replicas starting at once all migrate: each migration applies once.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := pgstore.New(pool, pgstore.WithSchema(schema), pgstore.WithTablePrefix("app1_"))
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			errs <- s.Migrate(ctx)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	var versions int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM "`+schema+`".app1_migrations`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != pgstore.SchemaVersion {
		t.Errorf("%d migrations recorded, want %d", versions, pgstore.SchemaVersion)
	}
	// The printed SQL is what Migrate runs: applied by hand under another
	// prefix, it gives a schema that Migrate then finds up to date.
	ms, err := pgstore.Migrations(pgstore.WithSchema(schema), pgstore.WithTablePrefix("app2_"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if strings.Contains(m.SQL, "{{") || strings.Contains(m.SQL, "app1_") {
			t.Fatalf("migration %s is not rendered for its prefix:\n%s", m.Name, m.SQL)
		}
		if _, err := pool.Exec(ctx, m.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("applying %s by hand: %v", m.Name, err)
		}
	}
	s2, err := pgstore.New(pool, pgstore.WithSchema(schema), pgstore.WithTablePrefix("app2_"))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Migrate(ctx); err != nil {
		t.Fatalf("Migrate after the printed SQL: %v", err)
	}
	if _, err := s2.CompareAndSwap(ctx, "k", 0, []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	// The two prefixes are two stores.
	s1, err := pgstore.New(pool, pgstore.WithSchema(schema), pgstore.WithTablePrefix("app1_"))
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	if r, err := s1.Get(ctx, "k"); err != nil || r.Found() {
		t.Fatalf("another prefix's record is visible: %v %v", r, err)
	}
}

func TestOptionsInvalid(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]pgstore.Option{
		"upper-case schema": {pgstore.WithSchema("Auth")},
		"quote in schema":   {pgstore.WithSchema(`a"b`)},
		"empty schema":      {pgstore.WithSchema("")},
		"prefix with dash":  {pgstore.WithTablePrefix("my-app_")},
		"prefix too long":   {pgstore.WithTablePrefix(strings.Repeat("a", 60))},
		"nil option":        {nil},
		"nil clock":         {pgstore.WithClock(nil)},
		"negative sweep":    {pgstore.WithSweep(-time.Second, 10)},
		"zero batch":        {pgstore.WithSweep(time.Second, 0)},
	} {
		if _, err := pgstore.Migrations(opts...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := pgstore.New(nil); err == nil {
		t.Error("New accepted a nil pool")
	}
}

func TestOpenHidesPassword(t *testing.T) {
	t.Parallel()
	for _, conn := range []string{
		"postgres://user:hunter2@127.0.0.1:1/db?sslmode=bogus",
		"postgres://user@127.0.0.1:1/db?password=hunter2&sslmode=bogus",
		"host=127.0.0.1 password=hunter2 sslmode=bogus",
	} {
		_, err := pgstore.Open(t.Context(), conn)
		if err == nil {
			t.Fatalf("Open(%s) accepted an invalid sslmode", "…")
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open's error reveals the password: %v", err)
		}
	}
	// No server there: the ping fails, without the password.
	_, err := pgstore.Open(t.Context(), "postgres://user:hunter2@127.0.0.1:1/db?connect_timeout=5")
	if !errors.Is(err, provider.ErrUnavailable) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open with no server: %v, want ErrUnavailable without the password", err)
	}
	s, err := pgstore.New(newPool(t, "postgres://user:hunter2@127.0.0.1:1/db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, s); strings.Contains(out, "hunter2") {
			t.Errorf("Sprintf(%q) = %q reveals the password", verb, out)
		}
	}
}
