package selfhosted_test

import (
	"errors"
	"testing"

	"github.com/verifykit/verifykit/provider"
)

// TestStaleIDDoesNotReachTheNewVerification: a verification's ID names the
// target's record, which the next verification to the same target reuses.
// The old ID must not check, fetch or cancel the new verification.
func TestStaleIDDoesNotReachTheNewVerification(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, out, _, _ := newRecorded(t)
	old, err := p.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	code, _ := out.LastCode(to)
	if v, err := p.Check(ctx, provider.CheckRequest{ID: old.ID, Code: code}); err != nil || !v.Approved() {
		t.Fatalf("Check = %v, %v", v, err)
	}
	cur, err := p.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	if cur.ID == old.ID {
		t.Fatalf("the new verification has the old ID %s", old.ID)
	}
	code, _ = out.LastCode(to)
	if v, err := p.Check(ctx, provider.CheckRequest{ID: old.ID, Code: code}); !errors.Is(err, provider.ErrNotFound) || v.Approved() {
		t.Errorf("Check with the old ID and the new code = %v, %v; want ErrNotFound", v, err)
	}
	if v, err := p.Fetch(ctx, old.ID); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("Fetch of the old ID = %v, %v; want ErrNotFound", v, err)
	}
	if v, err := p.Cancel(ctx, old.ID); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("Cancel of the old ID = %v, %v; want ErrNotFound", v, err)
	}
	if v, err := p.Check(ctx, provider.CheckRequest{ID: cur.ID, Code: code}); err != nil || !v.Approved() {
		t.Errorf("Check of the new verification after the old ID's attempts = %v, %v; want approved", v, err)
	}
}
