package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/examples/internal/examplestest"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// syncBuffer is the examples' shared concurrent-safe buffer.
type syncBuffer = examplestest.SyncBuffer

func TestRunServesAndStops(t *testing.T) {
	srv := examplestest.Start(t, func(ctx context.Context, stdout, stderr io.Writer, ready chan<- string) int {
		return run(ctx, []string{"-addr", "127.0.0.1:0", "-code", "777777"}, stdout, stderr, ready)
	})
	base, out, errOut := srv.Base, srv.Out, srv.Err
	for _, want := range []string{"TWILIO_VERIFY_BASE_URL=" + base, "TWILIO_ACCOUNT_SID=" + twiliotest.DefaultAccountSID,
		"TWILIO_VERIFY_SERVICE_SID=" + twiliotest.DefaultServiceSID, base + "/_emulator/"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	form := url.Values{"To": {"+14155552671"}, "Channel": {"sms"}}
	req, _ := http.NewRequest("POST", base+"/v2/Services/"+twiliotest.DefaultServiceSID+"/Verifications", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("start: %v %v", resp, err)
	}
	resp.Body.Close()
	req, _ = http.NewRequest("GET", base+"/_emulator/messages", nil)
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("outbox without credentials: %v %v, want 401", resp, err)
	}
	resp.Body.Close()
	req.SetBasicAuth(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken)
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	var msgs []twiliotest.Message
	json.NewDecoder(resp.Body).Decode(&msgs)
	resp.Body.Close()
	if len(msgs) != 1 || msgs[0].Code != "777777" {
		t.Errorf("outbox = %+v", msgs)
	}
	if code := srv.Stop(); code != 0 {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "stopped") {
		t.Errorf("no clean stop:\n%s", out.String())
	}
}

func TestRunRefuses(t *testing.T) {
	for _, args := range [][]string{
		{"-addr", "0.0.0.0:0"},
		{"-addr", "192.0.2.1:0"},
		{"-addr", "nonsense"},
		{"-code", "12"},
		{"-max-sends", "0"},
		{"-max-pending", "0"},
		{"-max-services", "0"},
		{"-service-sid", "VA1"},
		{"-bogus"},
	} {
		var out, errOut syncBuffer
		if code := run(context.Background(), args, &out, &errOut, nil); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
		if len(args) > 1 && args[1] == "0.0.0.0:0" && !strings.Contains(errOut.String(), "-allow-remote") {
			t.Errorf("refusal does not say how to override: %q", errOut.String())
		}
	}
}
