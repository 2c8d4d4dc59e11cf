package vonagetest_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/verifykit/verifykit/provider"
)

// TestConcurrentChecksApproveOnce submits one right code from several
// goroutines at once: the emulator approves it once, and records one
// approval.
func TestConcurrentChecksApproveOnce(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	v := start(t, c, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
	m, _ := srv.LastMessage(phone)
	var approved atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := c.Check(context.Background(), provider.CheckRequest{ID: v.ID, Code: m.Code})
			if err == nil && got.Status == provider.StatusApproved {
				approved.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := approved.Load(); n != 1 {
		t.Errorf("%d checks approved one code, want 1", n)
	}
	if n := len(srv.Approvals()); n != 1 {
		t.Errorf("%d approvals recorded, want 1", n)
	}
}
