package pgstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store/pgstore/pgtest"
)

// hold is a query tracer that holds the first statement sent alone until
// released, and counts the statements sent alone.
type hold struct {
	in, release chan struct{}
	alone       chan string
	panics      bool // the held statement panics once released
	// prepIn and prepRelease, when set, hold the first statement prepared
	// under a context carrying holdPrepare, as pipeline does, until released.
	prepIn, prepRelease chan struct{}
}

// holdPrepare is the key of a context value that makes hold hold a
// statement's preparation.
type holdPrepare struct{}

func (h *hold) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	if in := h.prepIn; in != nil && ctx.Value(holdPrepare{}) != nil {
		h.prepIn = nil
		close(in)
		<-h.prepRelease
	}
	return ctx
}

func (h *hold) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

func (h *hold) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	select {
	case h.alone <- d.SQL:
	default:
	}
	if in := h.in; in != nil {
		h.in = nil // before close, so that whoever waits on in sees it
		close(in)
		<-h.release
		if h.panics {
			panic("tracer")
		}
	}
	return ctx
}

func (h *hold) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// held returns a migrated store that sends one statement at a time alone,
// with a first statement in flight, held, and the tracer holding it.
func held(t *testing.T) (*Store, *hold, chan error) {
	t.Helper()
	srv := pgtest.Start(t)
	cfg, err := pgxpool.ParseConfig(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	h := &hold{alone: make(chan string, 100)}
	cfg.ConnConfig.Tracer = h
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s, err := New(pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.b.Max = 1
	h.in, h.release = make(chan struct{}), make(chan struct{})
	in := h.in
	first := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				first <- fmt.Errorf("panic: %v", r)
			}
		}()
		_, err := s.CompareAndSwap(context.Background(), "first", 0, []byte("v"), time.Hour)
		first <- err
	}()
	<-in
	for len(h.alone) > 0 {
		<-h.alone
	}
	return s, h, first
}

func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		if s.b.Queued() >= n {
			return
		}
		runtime.Gosched()
	}
	t.Fatalf("%d calls do not wait behind the statement in flight", n)
}

// TestPipeline checks that the statements of calls made while one is in
// flight go out together in a pipeline, each its own transaction: each
// gets its own answer, and a statement that fails fails alone, as one
// that did nothing.
func TestPipeline(t *testing.T) {
	s, h, first := held(t)
	const n = 4
	errs := make(chan error, n+1)
	for i := range n {
		go func() {
			_, err := s.CompareAndSwap(context.Background(), "k"+strconv.Itoa(i), 0, []byte("v"+strconv.Itoa(i)), time.Hour)
			errs <- err
		}()
	}
	go func() {
		var x int64
		errs <- fail(context.Background(), "test", s.row(context.Background(), "SELECT 1/0", nil, &x), true)
	}()
	waitQueued(t, s, n+1)
	close(h.release)
	failed := 0
	for range n + 1 {
		if err := <-errs; err != nil {
			if !errors.Is(err, provider.ErrUnavailable) {
				t.Fatalf("err = %v; want nil, or ErrUnavailable for the division by zero", err)
			}
			failed++
		}
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if failed != 1 {
		t.Fatalf("%d statements failed; want 1", failed)
	}
	if len(h.alone) > 0 {
		t.Fatalf("a queued statement was sent alone: %s", <-h.alone)
	}
	for i := range n {
		r, err := s.Get(t.Context(), "k"+strconv.Itoa(i))
		if err != nil || string(r.Value) != "v"+strconv.Itoa(i) {
			t.Fatalf("k%d = %q, %v", i, r.Value, err)
		}
	}
}

// TestQueuedStatementContextEnds checks that a call whose context ends
// while its statement waits for its turn fails with ErrUnavailable, and
// that its statement is never sent.
func TestQueuedStatementContextEnds(t *testing.T) {
	s, h, first := held(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.CompareAndSwap(ctx, "dropped", 0, []byte("v"), time.Hour)
		errc <- err
	}()
	waitQueued(t, s, 1)
	cancel()
	if err := <-errc; !errors.Is(err, provider.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want ErrUnavailable and context.Canceled", err)
	}
	close(h.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if r, err := s.Get(t.Context(), "dropped"); err != nil || r.Version != 0 {
		t.Fatalf("the dropped statement ran: %+v, %v", r, err)
	}
}

// TestPanickingSender checks that a statement sent alone whose tracer
// panics does not hold the statements queued behind it: they go out.
func TestPanickingSender(t *testing.T) {
	s, h, first := held(t)
	errs := make(chan error, 2)
	for i := range 2 {
		go func() {
			_, err := s.CompareAndSwap(context.Background(), "q"+strconv.Itoa(i), 0, []byte("v"), time.Hour)
			errs <- err
		}()
	}
	waitQueued(t, s, 2)
	h.panics = true
	close(h.release)
	if err := <-first; err == nil || !strings.Contains(err.Error(), "panic") {
		t.Fatalf("first: %v; want the tracer's panic", err)
	}
	for range 2 {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the statements queued behind a panicking one are held")
		}
	}
}

// TestInFlightStatementContextEnds checks that a caller whose context ends
// while its statement's pipeline is in flight, sent by a caller without a
// deadline and held, returns at once with ErrOutcomeUnknown, and that the
// statement, which still runs, writes the value it was given even though
// its caller reuses the value's buffer once it has returned.
func TestInFlightStatementContextEnds(t *testing.T) {
	ctx, cancelTest := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancelTest()
	s, h, first := held(t)
	// The caller without a deadline leads the pipeline, whose preparation
	// is then held.
	lead := make(chan error, 1)
	go func() {
		_, err := s.CompareAndSwap(context.WithValue(context.Background(), holdPrepare{}, true), "lead", 0, []byte("v"), time.Hour)
		lead <- err
	}()
	waitQueued(t, s, 1)
	bctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	val := []byte("given")
	errc := make(chan error, 1)
	go func() {
		_, err := s.CompareAndSwap(bctx, "b", 0, val, time.Hour)
		errc <- err
	}()
	waitQueued(t, s, 2)
	h.prepIn, h.prepRelease = make(chan struct{}), make(chan struct{})
	prepIn := h.prepIn
	close(h.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	select {
	case <-prepIn:
	case <-ctx.Done():
		t.Fatal("the pipeline is not prepared")
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, provider.ErrOutcomeUnknown) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v; want ErrOutcomeUnknown and context.Canceled", err)
		}
	case <-ctx.Done():
		close(h.prepRelease)
		t.Fatal("a caller is held past its context's end while its pipeline is in flight")
	}
	copy(val, "reuse") // the caller's buffer, reused
	close(h.prepRelease)
	if err := <-lead; err != nil {
		t.Fatal(err)
	}
	if r, err := s.Get(t.Context(), "b"); err != nil || string(r.Value) != "given" {
		t.Fatalf("b = %q, %v; want \"given\"", r.Value, err)
	}
}

// TestInFlightStatementRowLocked checks that a call whose context ends
// while its statement is in a pipeline in flight, sent by a call with a
// later deadline (none), returns when its context ends, as a statement
// sent alone does (pgx cancels it): ErrOutcomeUnknown, the statement may
// run. The pipeline is held by a row lock: another transaction has
// inserted the member's key and not committed.

func TestInFlightStatementRowLocked(t *testing.T) {
	s, h, first := held(t)
	tx, err := s.pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(t.Context(), "INSERT INTO "+s.n.Records+" (key, version, value, expires) VALUES ('member', 1, '\\x00', now() + interval '1 hour')"); err != nil {
		t.Fatal(err)
	}
	sender := make(chan error, 1)
	go func() {
		_, err := s.CompareAndSwap(context.Background(), "sender", 0, []byte("s"), time.Hour)
		sender <- err
	}()
	waitQueued(t, s, 1)
	ctx, cancel := context.WithCancel(context.Background())
	member := make(chan error, 1)
	go func() {
		_, err := s.CompareAndSwap(ctx, "member", 0, []byte("m"), time.Hour)
		member <- err
	}()
	waitQueued(t, s, 2)
	close(h.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for s.b.Queued() > 0 {
		runtime.Gosched()
	}
	cancel()
	select {
	case err := <-member:
		if !errors.Is(err, provider.ErrOutcomeUnknown) || !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v; want ErrOutcomeUnknown and context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the call whose context ended waits for the pipeline in flight, held by another transaction")
	}
	_ = tx.Rollback(t.Context())
	if err := <-sender; err != nil {
		t.Fatal(err)
	}
}
