package verify_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
)

// slowFirst is a provider whose first Start waits for release and then
// fails with ErrUnavailable, having sent nothing; later Starts go to the
// fake.
type slowFirst struct {
	*fake.Fake
	release chan struct{}
	first   bool
}

func (s *slowFirst) Start(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
	if !s.first {
		s.first = true
		<-s.release
		return provider.Verification{}, provider.ErrUnavailable
	}
	return s.Fake.Start(ctx, req)
}

func (s *slowFirst) Capabilities() provider.Capabilities { return provider.CapabilitiesOf(s.Fake) }

// giveBackRun starts A, whose provider call hangs; after gap, B starts and
// sends; a second later A fails without sending, giving its hit back; a
// second after that C starts. It returns the outcomes of B and C.
func giveBackRun(t *testing.T, gap time.Duration, opts ...verify.Option) []string {
	t.Helper()
	f := fake.MustNew(fake.WithMaxSends(1000), fake.WithValidity(time.Minute))
	p := &slowFirst{Fake: f, release: make(chan struct{})}
	c := newClient(t, p, opts...)
	ctx := context.Background()
	const to = "+14155552671"
	done := make(chan error)
	go func() {
		_, err := c.Start(ctx, to, verify.ChannelSMS, nil)
		done <- err
	}()
	synctest.Wait()
	time.Sleep(gap)
	_, errB := c.Start(ctx, to, verify.ChannelSMS, nil)
	time.Sleep(time.Second)
	close(p.release)
	if err := <-done; !errors.Is(err, verify.ErrUnavailable) {
		t.Fatalf("A: %v, want ErrUnavailable", err)
	}
	time.Sleep(time.Second)
	_, errC := c.Start(ctx, to, verify.ChannelSMS, nil)
	return []string{outcome(errB), outcome(errC)}
}

// TestGiveBackNeverShortensALaterWait is the regression test for a
// give-back that lifted the wait a real send had left: a Start that
// failed without sending gave its cooldown hit back after another Start
// had sent, and a third code went out a second after the second one under
// a one-minute cooldown.
func TestGiveBackNeverShortensALaterWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		got := giveBackRun(t, time.Minute, verify.WithResendCooldown(time.Minute, 10*time.Minute))
		// B is the second hit in a row: it waits 2 minutes, of which 2 s
		// have passed when C comes.
		want := []string{"ok", "too_many_sends cooldown/destination 1m58s"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("outcomes of B and C (-want +got):\n%s", diff)
		}
	})
}

// TestGiveBackStaysInItsWindow: a hit taken in one window of a budget and
// given back after that window ended must not return budget to the next
// window, which it was not taken in.
func TestGiveBackStaysInItsWindow(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		got := giveBackRun(t, time.Hour, verify.WithSendBudget(verify.PerDestination, 1, time.Hour))
		want := []string{"ok", "too_many_sends send_budget/destination 59m58s"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("outcomes of B and C (-want +got):\n%s", diff)
		}
	})
}

// TestGiveBackOwnHit: the give-back still works for the hit it took: a
// Start that fails without sending leaves no wait and no spent budget.
func TestGiveBackOwnHit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newPolicyEnv(t,
			verify.WithResendCooldown(time.Minute, 10*time.Minute),
			verify.WithSendBudget(verify.PerDestination, 3, time.Hour))
		ctx := context.Background()
		const to = "+14155552671"
		var got []string
		start := func() {
			_, err := e.c.Start(ctx, to, verify.ChannelSMS, nil)
			got = append(got, outcome(err))
		}
		start() // sends: a 1-minute wait
		time.Sleep(time.Minute)
		e.f.InjectFault(fake.Fault{Op: fake.OpStart, Err: provider.ErrUnavailable})
		start() // fails, gives its hit back: no 2-minute wait, budget 1 of 3
		start() // sends at once: its wait is 2 minutes (second in a row)
		start() // refused by the cooldown
		time.Sleep(2 * time.Minute)
		start() // sends: budget 3 of 3
		start() // the budget is spent (its wait is longer than the cooldown's)
		want := []string{"ok", "unavailable", "ok", "too_many_sends cooldown/destination 2m0s", "ok", "too_many_sends send_budget/destination 57m0s"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
	})
}

// noHits is a policy store that cannot tell hits apart (Taken.Hit 0), and
// counts the Releases it gets.
type noHits struct {
	limiterOnly
	releases int
}

func (n *noHits) Take(ctx context.Context, limits []store.Limit) (store.Taken, error) {
	res, err := n.limiterOnly.Take(ctx, limits)
	res.Hit = 0
	return res, err
}

func (n *noHits) Release(ctx context.Context, limits []store.Limit) error {
	n.releases++
	return n.limiterOnly.Release(ctx, limits)
}

// TestNoGiveBackWithoutHits: with a store that cannot name the hit to give
// back, a Start that fails without sending keeps its hit (the safe side).
func TestNoGiveBackWithoutHits(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := &noHits{limiterOnly: limiterOnly{mustMemoryStore(t)}}
		e := newPolicyEnv(t, verify.WithPolicyStore(l), verify.WithResendCooldown(time.Minute, time.Hour))
		ctx := context.Background()
		e.f.InjectFault(fake.Fault{Op: fake.OpStart, Err: provider.ErrUnavailable})
		var got []string
		for range 2 {
			_, err := e.c.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
			got = append(got, outcome(err))
		}
		if diff := cmp.Diff([]string{"unavailable", "too_many_sends cooldown/destination 1m0s"}, got); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		if l.releases != 0 {
			t.Errorf("%d Releases without a hit to name", l.releases)
		}
	})
}
