package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store/redisstore"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
)

// TestSelfhostedKillAndRestart runs verifications (Start, then Check with
// the right code until it answers definitely) from many goroutines while
// redis-server is killed and restarted. Every failure is typed; no
// verification is approved twice; and one is never lost: a Check that ends
// in ErrNotFound must follow a Check whose outcome was unknown (the
// approval may have landed then).
func TestSelfhostedKillAndRestart(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	st, err := redisstore.Open(t.Context(), srv.URL(), redisstore.WithPrefix("shkr:"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mu sync.Mutex
	codes := map[string]string{}
	sender := selfhosted.SenderFunc(func(_ context.Context, m selfhosted.Message) error {
		mu.Lock()
		codes[m.To] = m.Code
		mu.Unlock()
		return nil
	})
	p, err := selfhosted.New(st, testKey, selfhosted.WithSender(sender, provider.ChannelSMS))
	if err != nil {
		t.Fatal(err)
	}

	var done, unavailable atomic.Int64
	killAt, restartAt, recovered := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var killOnce, restartOnce, recoveredOnce sync.Once
	var target atomic.Int64
	stop := make(chan struct{})
	failed := make(chan error, 16)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				to := fmt.Sprintf("+1415555%02d%02d", g, i%100)
				if err := oneVerification(ctx, p, to, codes, &mu, &unavailable, restartAt, &restartOnce); err != nil {
					failed <- fmt.Errorf("%s: %w", to, err)
					return
				}
				d := done.Add(1)
				if d == 30 {
					killOnce.Do(func() { close(killAt) })
				}
				if t := target.Load(); t > 0 && d >= t {
					recoveredOnce.Do(func() { close(recovered) })
				}
			}
		})
	}
	wait := func(ch chan struct{}) {
		select {
		case <-ch:
		case err := <-failed:
			close(stop)
			wg.Wait()
			t.Fatal(err)
		}
	}
	wait(killAt)
	srv.Kill()
	wait(restartAt)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	target.Store(done.Load() + 30)
	wait(recovered)
	close(stop)
	wg.Wait()
	select {
	case err := <-failed:
		t.Fatal(err)
	default:
	}
	t.Logf("%d verifications approved, none lost; %d answers of ErrUnavailable", done.Load(), unavailable.Load())
}

// oneVerification starts a verification to `to` and checks its code until
// the answer is definite, checking the guarantees on the way.
func oneVerification(ctx context.Context, p *selfhosted.Provider, to string, codes map[string]string, mu *sync.Mutex,
	unavailable *atomic.Int64, restartAt chan struct{}, restartOnce *sync.Once) error {
	typed := func(err error) error {
		if errors.Is(err, provider.ErrUnavailable) {
			if unavailable.Add(1) == 20 {
				restartOnce.Do(func() { close(restartAt) })
			}
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
		v, err = p.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
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
	mu.Lock()
	code := codes[to]
	mu.Unlock()
	maybeApproved := false
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		got, err := p.Check(cctx, provider.CheckRequest{ID: v.ID, Code: code})
		// A check whose own deadline passed (a loaded machine) returns
		// the context's error, having approved or not: an unknown outcome.
		expired := err != nil && cctx.Err() != nil && errors.Is(err, cctx.Err())
		cancel()
		if expired {
			maybeApproved = true
			continue
		}
		switch {
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
