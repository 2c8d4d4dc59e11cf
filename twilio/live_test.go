package twilio_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/verify"
)

// TestLive runs against real Twilio when TWILIO_LIVE_TO (a phone number you
// own) and the NewFromEnv variables are set. It starts an SMS verification
// and cancels it; set TWILIO_LIVE_CODE to the code received to check it
// instead. It is skipped otherwise, so no credentials are ever needed to
// run the tests.
func TestLive(t *testing.T) {
	to := os.Getenv("TWILIO_LIVE_TO")
	if to == "" {
		t.Skip("set TWILIO_LIVE_TO and the TWILIO_* credentials to run against real Twilio")
	}
	p, err := twilio.NewFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	c, err := verify.New(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code := os.Getenv("TWILIO_LIVE_CODE"); code != "" {
		v, err := c.Check(ctx, to, code, nil)
		if err != nil || !v.Approved() {
			t.Fatalf("Check = %v, %v", v, err)
		}
		return
	}
	v, err := c.Start(ctx, to, verify.ChannelSMS, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started %s (%s)", v.ID, v.Status)
	if _, err := c.Cancel(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
}
