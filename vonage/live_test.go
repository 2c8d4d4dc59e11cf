package vonage_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/vonage"
)

// TestLive runs against real Vonage when VONAGE_LIVE_TO (a phone number
// you own, in E.164) and the NewFromEnv variables are set. It starts an
// SMS verification and cancels it; set VONAGE_LIVE_ID and VONAGE_LIVE_CODE
// to a pending request's ID and the code received to check it instead. It
// is skipped otherwise, so no credentials are ever needed to run the
// tests.
func TestLive(t *testing.T) {
	to := os.Getenv("VONAGE_LIVE_TO")
	if to == "" {
		t.Skip("set VONAGE_LIVE_TO and the VONAGE_* credentials to run against real Vonage")
	}
	c, err := vonage.NewFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code := os.Getenv("VONAGE_LIVE_CODE"); code != "" {
		v, err := c.Check(ctx, provider.CheckRequest{ID: os.Getenv("VONAGE_LIVE_ID"), Code: code})
		if err != nil || !v.Approved() {
			t.Fatalf("Check = %v, %v", v, err)
		}
		return
	}
	v, err := c.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started %s (%s)", v.ID, v.Status)
	if _, err := c.Cancel(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
}
