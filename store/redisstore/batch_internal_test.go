package redisstore

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
)

// gate is a hook that holds the first command, and the first pipeline,
// in flight until released, and records what the client sends: the size
// of each round trip (1 for a command, n for a pipeline of n).
type gate struct {
	mu       sync.Mutex
	trips    []int
	cmd      chan struct{} // closed to let the first command go
	pipe     chan struct{} // closed to let the first pipeline go
	inCmd    chan struct{} // closed when the first command is held
	inPipe   chan struct{} // closed when the first pipeline is held
	cmdHeld  atomic.Bool
	pipeHeld atomic.Bool
}

func newGate() *gate {
	return &gate{cmd: make(chan struct{}), pipe: make(chan struct{}), inCmd: make(chan struct{}), inPipe: make(chan struct{})}
}

func (g *gate) DialHook(next redis.DialHook) redis.DialHook { return next }

func (g *gate) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		g.record(1)
		if g.cmdHeld.CompareAndSwap(false, true) {
			close(g.inCmd)
			<-g.cmd
		}
		return next(ctx, cmd)
	}
}

func (g *gate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		g.record(len(cmds))
		if g.pipeHeld.CompareAndSwap(false, true) {
			close(g.inPipe)
			<-g.pipe
		}
		return next(ctx, cmds)
	}
}

func (g *gate) record(n int) {
	g.mu.Lock()
	g.trips = append(g.trips, n)
	g.mu.Unlock()
}

func (g *gate) got() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.trips...)
}

// gated returns a store whose client's first command and first pipeline
// wait for g, and whose first command is in flight, held, when it returns.
func gated(t *testing.T) (*Store, *gate, chan error) {
	t.Helper()
	srv := redistest.Start(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true, DisableIdentity: true})
	t.Cleanup(func() { _ = c.Close() })
	s, err := New(c, WithEvictionAllowed())
	if err != nil {
		t.Fatal(err)
	}
	// One round trip in flight: the held command's.
	s.b.b.Max = 1
	if _, err := s.Get(t.Context(), "warm"); err != nil { // reads the eviction policy
		t.Fatal(err)
	}
	g := newGate()
	c.AddHook(g)
	first := make(chan error, 1)
	go func() {
		_, err := s.CompareAndSwap(context.Background(), "first", 0, []byte("v"), time.Hour)
		first <- err
	}()
	<-g.inCmd
	return s, g, first
}

// waitQueued waits until n calls wait behind the command in flight.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		if s.b.b.Queued() >= n {
			return
		}
		runtime.Gosched()
	}
	t.Fatalf("%d calls do not wait behind the command in flight", n)
}

// TestConcurrentCallsShareARoundTrip checks that the commands of calls
// made while one is in flight go out together, as one pipeline, and each
// gets its own answer.
func TestConcurrentCallsShareARoundTrip(t *testing.T) {
	s, g, first := gated(t)
	const n = 5
	errs := queueCreates(t, s, 0, n)
	close(g.cmd)
	close(g.pipe)
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if got := g.got(); len(got) != 2 || got[0] != 1 || got[1] != n {
		t.Fatalf("round trips (commands in each) = %v; want [1 %d]", got, n)
	}
	for i := range n {
		r, err := s.Get(t.Context(), "k"+strconv.Itoa(i))
		if err != nil || string(r.Value) != "v"+strconv.Itoa(i) {
			t.Fatalf("k%d = %q, %v", i, r.Value, err)
		}
	}
}

// TestQueuedCallContextEnds checks that a call whose context ends while
// its command waits for its turn fails with ErrUnavailable, and that its
// command is never sent.
func TestQueuedCallContextEnds(t *testing.T) {
	s, g, first := gated(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.CompareAndSwap(ctx, "dropped", 0, []byte("v"), time.Hour)
		errc <- err
	}()
	waitQueued(t, s, 1)
	cancel()
	err := <-errc
	if !errors.Is(err, provider.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want ErrUnavailable and context.Canceled", err)
	}
	close(g.cmd)
	close(g.pipe)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if r, err := s.Get(t.Context(), "dropped"); err != nil || r.Version != 0 {
		t.Fatalf("the dropped command was sent: %+v, %v", r, err)
	}
	if got := g.got(); len(got) != 2 || got[0] != 1 || got[1] != 1 {
		t.Fatalf("round trips (commands in each) = %v; want [1 1] (the first, then the Get)", got)
	}
}

// TestInFlightCallContextEnds checks that a call whose context ends while
// its command is in a pipeline in flight returns at once with
// ErrOutcomeUnknown (the command may run, and does), and that the record
// it sends is not reused by a later call before it is written.
func TestInFlightCallContextEnds(t *testing.T) {
	s, g, first := gated(t)
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	go func() { // first in the queue: it sends the pipeline
		_, err := s.CompareAndSwap(context.Background(), "sender", 0, []byte("s"), time.Hour)
		errs <- err
	}()
	waitQueued(t, s, 1)
	go func() {
		_, err := s.CompareAndSwap(ctx, "member", 0, []byte("member's value"), time.Hour)
		if err == nil {
			err = errors.New("no error")
		}
		errs <- err
		// A later call, on the same goroutine, while the pipeline is held.
		_, err = s.CompareAndSwap(context.Background(), "later", 0, []byte("later's value!"), time.Hour)
		errs <- err
	}()
	waitQueued(t, s, 2)
	close(g.cmd)
	<-g.inPipe
	cancel()
	var err error
	select {
	case err = <-errs:
	case <-time.After(10 * time.Second):
		t.Fatal("the call whose context ended waits for the pipeline in flight")
	}
	if !errors.Is(err, provider.ErrOutcomeUnknown) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want ErrOutcomeUnknown and context.Canceled", err)
	}
	waitQueued(t, s, 1) // the later call
	close(g.pipe)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"sender": "s", "member": "member's value", "later": "later's value!"} {
		r, err := s.Get(t.Context(), k)
		if err != nil || string(r.Value) != want {
			t.Fatalf("%s = %q, %v; want %q", k, r.Value, err, want)
		}
	}
}

// TestEarlierContextDoesNotWaitForThePipeline checks that a call whose
// context ends before another's in the same pipeline returns when it ends,
// even when it came first: the pipeline runs under the latest deadline, so
// the call with that deadline is the one that sends it and waits.
func TestEarlierContextDoesNotWaitForThePipeline(t *testing.T) {
	s, g, first := gated(t)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Hour))
	early := make(chan error, 1)
	go func() { // first in the queue
		_, err := s.CompareAndSwap(ctx, "early", 0, []byte("e"), time.Hour)
		early <- err
	}()
	waitQueued(t, s, 1)
	late := make(chan error, 1)
	go func() { // no deadline
		_, err := s.CompareAndSwap(context.Background(), "late", 0, []byte("l"), time.Hour)
		late <- err
	}()
	waitQueued(t, s, 2)
	close(g.cmd)
	<-g.inPipe
	cancel()
	select {
	case err := <-early:
		if !errors.Is(err, provider.ErrOutcomeUnknown) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v; want ErrOutcomeUnknown and context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call whose context ended first waits for the pipeline in flight")
	}
	close(g.pipe)
	if err := <-late; err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"early": "e", "late": "l"} {
		if r, err := s.Get(t.Context(), k); err != nil || string(r.Value) != want {
			t.Fatalf("%s = %q, %v; want %q", k, r.Value, err, want)
		}
	}
}

// TestErrorAnswerFailsItsCommandOnly checks that a command the server
// answers with an error, first in a pipeline (its sender's), fails alone:
// the others in the pipeline get their own answers.
func TestErrorAnswerFailsItsCommandOnly(t *testing.T) {
	s, g, first := gated(t)
	if err := s.c.LPush(t.Context(), "list", "x").Err(); err != nil {
		t.Fatal(err)
	}
	bad := make(chan error, 1)
	go func() { // first in the queue: it sends the pipeline
		_, err := s.CompareAndSwap(context.Background(), "list", 0, []byte("v"), time.Hour)
		bad <- err
	}()
	waitQueued(t, s, 1)
	const n = 3
	errs := queueCreates(t, s, 1, n)
	close(g.cmd)
	close(g.pipe)
	if err := <-bad; !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("CompareAndSwap on a list: %v; want ErrUnavailable (WRONGTYPE: nothing ran)", err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("a command after the refused one: %v", err)
		}
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if got := g.got(); len(got) != 3 || got[2] != 1+n {
		t.Errorf("round trips (commands in each) = %v; want [1 1 %d] (the first, LPUSH, the pipeline)", got, 1+n)
	}
}

// panicky is a hook whose first pipeline (or, with cmd, command) panics.
type panicky struct {
	cmd  bool
	done atomic.Bool
}

func (h *panicky) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *panicky) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.cmd && h.done.CompareAndSwap(false, true) {
			panic("hook")
		}
		return next(ctx, cmd)
	}
}

func (h *panicky) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !h.cmd && h.done.CompareAndSwap(false, true) {
			panic("hook")
		}
		return next(ctx, cmds)
	}
}

// TestPanicWhileSending checks that a panic while a pipeline is sent (in
// a hook) reaches its sender only: the other calls in it fail with
// ErrOutcomeUnknown, not a nil error, and later calls are not held.
func TestPanicWhileSending(t *testing.T) {
	s, g, first := gated(t)
	s.c.AddHook(&panicky{})
	sender := make(chan any, 1)
	go func() {
		defer func() { sender <- recover() }()
		_, _ = s.CompareAndSwap(context.Background(), "sender", 0, []byte("s"), time.Hour)
	}()
	waitQueued(t, s, 1)
	member := make(chan error, 1)
	go func() {
		_, err := s.CompareAndSwap(context.Background(), "member", 0, []byte("m"), time.Hour)
		member <- err
	}()
	waitQueued(t, s, 2)
	close(g.cmd)
	close(g.pipe)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if r := <-sender; r != "hook" {
		t.Errorf("the sender recovered %v; want the hook's panic", r)
	}
	select {
	case err := <-member:
		if !errors.Is(err, provider.ErrOutcomeUnknown) {
			t.Errorf("the other call: %v; want ErrOutcomeUnknown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the other call in the pipeline waits forever")
	}
	laterCallGoesOn(t, s)
}

// TestPanicWhileSendingAlone checks that a panic while a call's command
// is sent alone (in a hook) does not hold later calls.
func TestPanicWhileSendingAlone(t *testing.T) {
	s, g, first := gated(t)
	close(g.cmd)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	s.c.AddHook(&panicky{cmd: true})
	func() {
		defer func() {
			if r := recover(); r != "hook" {
				t.Errorf("recovered %v; want the hook's panic", r)
			}
		}()
		_, _ = s.CompareAndSwap(context.Background(), "k", 0, []byte("v"), time.Hour)
	}()
	laterCallGoesOn(t, s)
}

// laterCallGoesOn checks that a call made now gets its answer.
func laterCallGoesOn(t *testing.T, s *Store) {
	t.Helper()
	got := make(chan error, 1)
	go func() { _, err := s.Get(context.Background(), "first"); got <- err }()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a later call waits forever")
	}
}

// TestCloseWithCallsQueued checks that calls waiting behind a command in
// flight when the client is closed fail with ErrUnavailable (nothing was
// sent), and do not wait forever.
func TestCloseWithCallsQueued(t *testing.T) {
	s, g, first := gated(t)
	const n = 3
	errs := queueCreates(t, s, 0, n)
	if err := s.c.Close(); err != nil {
		t.Fatal(err)
	}
	close(g.cmd)
	close(g.pipe)
	for range n {
		if err := <-errs; !errors.Is(err, provider.ErrUnavailable) {
			t.Errorf("a queued call after Close: %v; want ErrUnavailable", err)
		}
	}
	if err := <-first; !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("the call in flight at Close, before it was written: %v; want ErrUnavailable", err)
	}
}

// queueCreates makes n calls that create k0, k1, … with the values v0,
// v1, …, waits until they wait behind the command in flight (after before
// others), and returns the channel of their errors.
func queueCreates(t *testing.T, s *Store, before, n int) chan error {
	t.Helper()
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.CompareAndSwap(context.Background(), "k"+strconv.Itoa(i), 0, []byte("v"+strconv.Itoa(i)), time.Hour)
			errs <- err
		}()
	}
	waitQueued(t, s, before+n)
	return errs
}
