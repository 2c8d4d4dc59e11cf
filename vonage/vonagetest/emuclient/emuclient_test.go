package emuclient_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
	"github.com/verifykit/verifykit/vonage/vonagetest/emuclient"
)

// TestEmuclient drives a Vonage emulator on a loopback port only over
// HTTP: the code sent, a fault, the clock.
func TestEmuclient(t *testing.T) {
	srv := vonagetest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	emu, err := emuclient.New(srv.URL, emuclient.WithAPIKey(vonagetest.DefaultAPIKey, vonagetest.DefaultAPISecret))
	if err != nil {
		t.Fatal(err)
	}
	c, err := vonage.New("Acme", vonage.APIKey(vonagetest.DefaultAPIKey, vonagetest.DefaultAPISecret), vonage.WithBaseURL(srv.URL), vonage.WithRetryWait(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	const to = "+447700900001"
	v, err := c.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	code, err := emu.LastCode(ctx, to)
	if err != nil || code == "" {
		t.Fatalf("LastCode = %q, %v", code, err)
	}
	if m, err := emu.LastMessage(ctx, to); err != nil || m.RequestID != v.ID {
		t.Fatalf("LastMessage = %v, %v, want the request %s", m, err, v.ID)
	}
	if err := emu.InjectFault(ctx, vonagetest.Fault{Op: vonagetest.OpCheck, Status: 503, Times: -1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code}); !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("check under the fault: %v, want ErrUnavailable", err)
	}
	if err := emu.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := emu.Advance(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code}); err == nil && got.Status == provider.StatusApproved {
		t.Errorf("check an hour later approved: the clock did not move")
	}
	var ee *emuclient.Error
	anon, _ := emuclient.New(srv.URL)
	if _, err := anon.Messages(ctx, to); !errors.As(err, &ee) || ee.Status != http.StatusUnauthorized {
		t.Errorf("without credentials: %v, want a 401 *Error", err)
	}
}
