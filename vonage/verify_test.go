package vonage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/verifykit/verifykit/verify"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// TestThroughVerify runs the application's view: the verify client over
// the vonage provider and its emulator.
func TestThroughVerify(t *testing.T) {
	t.Parallel()
	srv := vonagetest.NewServer()
	t.Cleanup(srv.Close)
	c, err := verify.New(jwtClient(t, srv.URL), verify.WithDefaultRegion("GB"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v, err := c.Start(ctx, "07400 123456", verify.ChannelSMS, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := srv.LastCode("+447400123456")
	if _, err := c.Start(ctx, "07400 123456", verify.ChannelSMS, nil); !errors.Is(err, verify.ErrConflict) {
		t.Errorf("second start: %v, want ErrConflict", err)
	}
	if _, err := c.Check(ctx, "07400 123456", code, nil); !errors.Is(err, verify.ErrUnsupported) {
		t.Errorf("check by number: %v, want ErrUnsupported", err)
	}
	got, err := c.CheckID(ctx, v.ID, code, nil)
	if err != nil || !got.Approved() {
		t.Fatalf("CheckID = %v, %v", got, err)
	}
}
