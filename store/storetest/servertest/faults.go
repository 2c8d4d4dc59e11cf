package servertest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
)

// opTimeout is the deadline of each operation in the fault tests, as a
// caller's would be; on a loaded machine it can pass, and then only the
// context's own error counts as an unknown outcome.
const opTimeout = 5 * time.Second

// expired reports whether err is ctx's own error after ctx ended: the
// caller's timeout, after which a write may or may not have landed.
func expired(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err())
}

// phases drives a fault test: workers report progress, the test kills
// the server after some progress, restarts it after enough answers of
// ErrUnavailable, and stops once the workers have made progress again.
type phases struct {
	killAt, restartAt, recovered chan struct{}
	kill, restart, recover       sync.Once
	target                       atomic.Int64 // progress after which the test stops
	stop                         chan struct{}
	failed                       chan error
	unavailable                  atomic.Int64
	done                         atomic.Int64
}

func newPhases() *phases {
	return &phases{killAt: make(chan struct{}), restartAt: make(chan struct{}), recovered: make(chan struct{}),
		stop: make(chan struct{}), failed: make(chan error, 64)}
}

// progress counts one unit of work done; the kill comes after killAfter.
func (p *phases) progress(killAfter int64) {
	d := p.done.Add(1)
	if d == killAfter {
		p.kill.Do(func() { close(p.killAt) })
	}
	if t := p.target.Load(); t > 0 && d >= t {
		p.recover.Do(func() { close(p.recovered) })
	}
}

// unavailableSeen counts an answer of ErrUnavailable; the restart comes
// after 20.
func (p *phases) unavailableSeen() {
	if p.unavailable.Add(1) == 20 {
		p.restart.Do(func() { close(p.restartAt) })
	}
}

// run kills and restarts srv while the workers of wg work, and stops them
// once they have made again after the restart as much progress as again.
func (p *phases) run(t *testing.T, srv Server, wg *sync.WaitGroup, again int64) {
	t.Helper()
	wait := func(ch chan struct{}) {
		select {
		case <-ch:
		case err := <-p.failed:
			close(p.stop)
			wg.Wait()
			t.Fatal(err)
		}
	}
	wait(p.killAt)
	srv.Kill()
	wait(p.restartAt)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	p.target.Store(p.done.Load() + again)
	wait(p.recovered)
	close(p.stop)
	wg.Wait()
	select {
	case err := <-p.failed:
		t.Fatal(err)
	default:
	}
}

func (p *phases) stopped() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// KillAndRestart increments a record of s by read-modify-write, and a
// counter by Incr, from many goroutines while srv is killed (SIGKILL) and
// restarted. Every failure is typed; every increment reported done is in
// the final values, and only increments whose outcome was reported
// unknown may be missing or present: nothing is lost, nothing is applied
// twice.
func KillAndRestart(t *testing.T, s store.Store, srv Server) {
	ctx := t.Context()
	if _, err := s.CompareAndSwap(ctx, "n", 0, binary.BigEndian.AppendUint64(nil, 0), time.Hour); err != nil {
		t.Fatal(err)
	}
	p := newPhases()
	var unknown, incrDone, incrUnknown, timedOut atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for !p.stopped() {
				opctx, cancel := context.WithTimeout(ctx, opTimeout)
				err := increment(opctx, s)
				switch {
				case expired(opctx, err):
					unknown.Add(1)
					timedOut.Add(1)
				case err == nil:
					p.progress(200)
				case errors.Is(err, provider.ErrOutcomeUnknown):
					unknown.Add(1)
				case errors.Is(err, provider.ErrUnavailable):
					p.unavailableSeen()
				default:
					cancel()
					p.failed <- fmt.Errorf("untyped failure: %w", err)
					return
				}
				_, _, err = s.Incr(opctx, "c", time.Hour)
				cancel()
				switch {
				case expired(opctx, err):
					incrUnknown.Add(1)
					timedOut.Add(1)
				case err == nil:
					incrDone.Add(1)
				case errors.Is(err, provider.ErrOutcomeUnknown):
					incrUnknown.Add(1)
				case errors.Is(err, provider.ErrUnavailable):
				default:
					p.failed <- fmt.Errorf("untyped failure: %w", err)
					return
				}
			}
		})
	}
	p.run(t, srv, &wg, 200)
	r, err := s.Get(ctx, "n")
	if err != nil {
		t.Fatal(err)
	}
	done := p.done.Load()
	got := int64(binary.BigEndian.Uint64(r.Value))
	if got < done || got > done+unknown.Load() {
		t.Errorf("value %d after %d increments done and %d with unknown outcome", got, done, unknown.Load())
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
		done, unknown.Load(), timedOut.Load(), p.unavailable.Load(), got, c, incrDone.Load(), incrUnknown.Load())
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

// SelfhostedKillAndRestart runs verifications of the self-hosted provider
// over s (Start, then Check with the right code until it answers
// definitely) from many goroutines while srv is killed and restarted.
// Every failure is typed; no verification is approved twice; and one is
// never lost: a Check that ends in ErrNotFound must follow a Check whose
// outcome was unknown (the approval may have landed then).
func SelfhostedKillAndRestart(t *testing.T, s store.Store, srv Server) {
	ctx := t.Context()
	out := new(selfhosted.Outbox)
	sp, err := selfhosted.New(s, testKey, selfhosted.WithSender(out, provider.ChannelSMS))
	if err != nil {
		t.Fatal(err)
	}
	code := func(to string) string {
		c, _ := out.LastCode(to)
		return c
	}
	p := newPhases()
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := 0; !p.stopped(); i++ {
				to := fmt.Sprintf("+1415555%02d%02d", g, i%100)
				if err := oneVerification(ctx, sp, to, code, p); err != nil {
					p.failed <- fmt.Errorf("%s: %w", to, err)
					return
				}
				p.progress(30)
			}
		})
	}
	p.run(t, srv, &wg, 30)
	t.Logf("%d verifications approved, none lost; %d answers of ErrUnavailable", p.done.Load(), p.unavailable.Load())
}

// oneVerification starts a verification to `to` and checks its code until
// the answer is definite, checking the guarantees on the way.
func oneVerification(ctx context.Context, sp *selfhosted.Provider, to string, code func(string) string, p *phases) error {
	typed := func(err error) error {
		if errors.Is(err, provider.ErrUnavailable) {
			p.unavailableSeen()
			return nil
		}
		if errors.Is(err, provider.ErrOutcomeUnknown) {
			return nil
		}
		return fmt.Errorf("untyped failure: %w", err)
	}
	var v provider.Verification
	for {
		var err error
		v, err = sp.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
		if err == nil {
			break
		}
		if errors.Is(err, provider.ErrTooManySends) {
			return errors.New("too many sends for a target whose starts failed")
		}
		if err := typed(err); err != nil {
			return err
		}
	}
	c := code(to)
	maybeApproved := false
	for {
		cctx, cancel := context.WithTimeout(ctx, opTimeout)
		got, err := sp.Check(cctx, provider.CheckRequest{ID: v.ID, Code: c})
		// A check whose own deadline passed (a loaded machine) returns
		// the context's error, having approved or not: an unknown outcome.
		timedOut := expired(cctx, err)
		cancel()
		switch {
		case timedOut:
			maybeApproved = true
			continue
		case err == nil && got.Approved():
			return nil
		case err == nil:
			return fmt.Errorf("the right code gave status %q", got.Status)
		case errors.Is(err, provider.ErrNotFound):
			if !maybeApproved {
				return errors.New("approval lost: not found after no check could have approved it")
			}
			return nil
		case errors.Is(err, provider.ErrOutcomeUnknown):
			maybeApproved = true
		}
		if err := typed(err); err != nil {
			return err
		}
	}
}

// Op is an operation of a store, for ServerDown.
type Op func(ctx context.Context) error

// ServerDown fills the connection pool of s, kills srv, and checks that
// every operation (those of store.Store and store.Limiter, and more)
// fails with ErrUnavailable only, as a *store.Error: nothing can have
// happened. The connections the kill closed are not used (a statement
// written to one would look like a write with an unknown outcome). Then
// srv is restarted and s works again without being reopened.
func ServerDown(t *testing.T, s store.Store, srv Server, more map[string]Op) {
	ctx := t.Context()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { _, _, _ = s.Incr(ctx, "warm", time.Minute) })
	}
	wg.Wait()
	srv.Kill()
	ops := map[string]Op{
		"Get": func(ctx context.Context) error { _, err := s.Get(ctx, "k"); return err },
		"CompareAndSwap": func(ctx context.Context) error {
			_, err := s.CompareAndSwap(ctx, "k", 0, []byte("v"), time.Minute)
			return err
		},
		"CompareAndDelete": func(ctx context.Context) error { _, err := s.CompareAndDelete(ctx, "k", 7); return err },
		"Incr":             func(ctx context.Context) error { _, _, err := s.Incr(ctx, "c", time.Minute); return err },
	}
	if l, ok := s.(store.Limiter); ok {
		limits := []store.Limit{{Key: "b", Max: 1, Window: time.Minute}}
		ops["Take"] = func(ctx context.Context) error { _, err := l.Take(ctx, limits); return err }
		ops["Release"] = func(ctx context.Context) error { return l.Release(ctx, limits) }
	}
	for name, op := range more {
		ops[name] = op
	}
	for name, op := range ops {
		err := op(ctx)
		if !errors.Is(err, provider.ErrUnavailable) || errors.Is(err, provider.ErrOutcomeUnknown) {
			t.Errorf("%s with the server down: error = %v, want ErrUnavailable only", name, err)
		}
		var se *store.Error
		if !errors.As(err, &se) {
			t.Errorf("%s: errors.As(*store.Error) failed on %v", name, err)
		}
	}
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

// SlowWrite makes the server hold a compare-and-swap of s past the
// caller's deadline: stall makes the server hold writes to the record
// "k" (a row lock, a paused client) and returns resume, which lets them
// go on. The write is on the server and may land after the caller gave
// up, which is exactly why the store must answer ErrOutcomeUnknown (and
// the context's error), not ErrUnavailable. Afterwards the record holds
// the old or the new value, and s goes on.
func SlowWrite(t *testing.T, s store.Store, stall func() (resume func())) {
	ctx := t.Context()
	r, err := s.CompareAndSwap(ctx, "k", 0, []byte("v1"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resume := stall()
	resumed := false
	defer func() {
		if !resumed {
			resume()
		}
	}()
	// Long enough to send the statement even on a loaded machine; the
	// server holds the answer well past it.
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err = s.CompareAndSwap(short, "k", r.Version, []byte("v2"), time.Minute)
	cancel()
	if !errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Fatalf("CompareAndSwap past its deadline: error = %v, want ErrOutcomeUnknown", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not match context.DeadlineExceeded", err)
	}
	resumed = true
	resume()
	got, err := s.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Value) != "v2" && string(got.Value) != "v1" {
		t.Fatalf("Get = %q, want v1 or v2", got.Value)
	}
	t.Logf("the write that timed out landed: %v", string(got.Value) == "v2")
	if _, err := s.CompareAndSwap(ctx, "k", got.Version, []byte("v3"), time.Minute); err != nil {
		t.Fatalf("after the stall: %v", err)
	}
}
