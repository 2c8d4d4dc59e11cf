package emuclient_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
	"github.com/verifykit/verifykit/twilio/twiliotest/emuclient"
)

// TestEmuclient drives an emulator on a loopback port only over HTTP, as
// another process would: the code sent, a fault, the clock.
func TestEmuclient(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	emu, err := emuclient.New(srv.URL, emuclient.WithAuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken))
	if err != nil {
		t.Fatal(err)
	}
	c, err := twilio.New(twiliotest.DefaultServiceSID, twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL), twilio.WithRetryWait(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	const to = "+14155550100"
	if _, err := emu.LastCode(ctx, to); !errors.Is(err, emuclient.ErrNoMessage) {
		t.Fatalf("LastCode before a start: %v, want ErrNoMessage", err)
	}
	v, err := c.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	code, err := emu.LastCode(ctx, to)
	if want, _ := srv.LastCode(to); err != nil || code != want {
		t.Fatalf("LastCode = %q, %v; the emulator sent %q", code, err, want)
	}
	msgs, err := emu.Messages(ctx, "")
	if err != nil || len(msgs) != 1 || msgs[0].VerificationSID != v.ID {
		t.Fatalf("Messages = %v, %v", msgs, err)
	}

	if err := emu.InjectFault(ctx, twiliotest.Fault{Op: "check", Status: 503, Code: 20503, Times: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code}); !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("check under the fault: %v, want ErrUnavailable", err)
	}
	if err := emu.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	var ee *emuclient.Error
	if err := emu.InjectFault(ctx, twiliotest.Fault{Op: "nonsense"}); !errors.As(err, &ee) || ee.Status != http.StatusBadRequest {
		t.Errorf("a bad fault: %v, want a 400 *Error", err)
	}

	before := time.Now()
	now, err := emu.Advance(ctx, 11*time.Minute)
	if err != nil || now.Before(before.Add(10*time.Minute)) {
		t.Fatalf("Advance = %v, %v", now, err)
	}
	if _, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code}); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("check after the clock moved past the validity: %v, want ErrNotFound", err)
	}

	anon, _ := emuclient.New(srv.URL)
	if _, err := anon.Messages(ctx, ""); !errors.As(err, &ee) || ee.Status != http.StatusUnauthorized {
		t.Errorf("without credentials: %v, want a 401 *Error", err)
	}
	if _, err := emuclient.New("ftp://x"); err == nil {
		t.Error("New took a non-HTTP base URL")
	}
}
