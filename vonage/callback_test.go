package vonage_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

var secret = []byte("signature-secret-of-the-account")

// receiver is an application's status webhook: it checks each callback
// with ParseCallback and hands the good ones over.
func receiver(t *testing.T) (string, <-chan vonage.Callback, <-chan error) {
	got := make(chan vonage.Callback, 16)
	bad := make(chan error, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := vonage.ParseCallback(r, secret)
		if err != nil {
			bad <- err
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		got <- c
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, got, bad
}

func next(t *testing.T, got <-chan vonage.Callback, bad <-chan error) vonage.Callback {
	t.Helper()
	select {
	case c := <-got:
		return c
	case err := <-bad:
		t.Fatalf("a callback was refused: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no callback")
	}
	return vonage.Callback{}
}

// TestCallbacks runs the emulator's callbacks through ParseCallback: an
// approval, a request ended by wrong codes, and an expiry.
func TestCallbacks(t *testing.T) {
	t.Parallel()
	url, got, bad := receiver(t)
	srv := vonagetest.NewServer(vonagetest.WithCallbacks(url, secret), vonagetest.WithFixedCode("2468"))
	t.Cleanup(srv.Close)
	c := jwtClient(t, srv.URL)
	ctx := context.Background()

	v, err := c.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS, Reference: "order-42"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "2468"}); err != nil {
		t.Fatal(err)
	}
	ev, sum := next(t, got, bad), next(t, got, bad)
	if ev.Type != vonage.CallbackEvent || ev.RequestID != v.ID || ev.Channel != "sms" || ev.ProviderStatus() != provider.StatusApproved || ev.ClientRef != "order-42" {
		t.Errorf("event = %+v", ev)
	}
	if vonage.ParseTimestamp(ev.FinalizedAt).IsZero() {
		t.Errorf("finalized_at %q does not parse", ev.FinalizedAt)
	}
	want := []vonage.CallbackStep{{Channel: "sms", Status: "completed"}}
	if sum.Type != vonage.CallbackSummary || sum.Status != "completed" || sum.ChannelTimeout != 300 ||
		!cmp.Equal(want, sum.Workflow, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".InitiatedAt" }, cmp.Ignore())) {
		t.Errorf("summary = %+v", sum)
	}

	v, _ = c.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
	for range vonagetest.DefaultMaxChecks {
		c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "1111"})
	}
	if s := next(t, got, bad); s.Type != vonage.CallbackSummary || s.ProviderStatus() != provider.StatusFailed || s.RequestID != v.ID {
		t.Errorf("after the wrong codes: %+v", s)
	}

	v, _ = c.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS, Extensions: []provider.Extension{
		vonage.StartParams{Workflow: []vonage.Step{{Channel: provider.ChannelSMS}, {Channel: provider.ChannelCall}}, ChannelTimeout: time.Minute}}})
	srv.Advance(2 * time.Minute)
	s := next(t, got, bad)
	if s.ProviderStatus() != provider.StatusExpired || len(s.Workflow) != 2 || s.Workflow[1].Status != "expired" || s.RequestID != v.ID {
		t.Errorf("after expiry: %+v", s)
	}
}

// TestParseCallbackRefuses checks the refusals: no token, another
// secret, another algorithm, an altered body, an expired token.
func TestParseCallbackRefuses(t *testing.T) {
	t.Parallel()
	body := []byte(`{"type":"summary","request_id":"` + reqID + `","status":"completed"}`)
	now := time.Now()
	good, _ := vonage.SignCallback(body, secret, now)
	other, _ := vonage.SignCallback(body, []byte("another secret"), now)
	old, _ := vonage.SignCallback(body, secret, now.Add(-time.Hour))
	for name, tc := range map[string]struct {
		auth string
		body string
		ok   bool
	}{
		"good":           {good, string(body), true},
		"no token":       {"", string(body), false},
		"other secret":   {other, string(body), false},
		"altered body":   {good, strings.Replace(string(body), "completed", "failed", 1), false},
		"expired":        {old, string(body), false},
		"basic":          {"Basic dXNlcjpwYXNz", string(body), false},
		"not a callback": {good, `{"type":"x"}`, false},
	} {
		r := httptest.NewRequest("POST", "/webhook", strings.NewReader(tc.body))
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		_, err := vonage.ParseCallback(r, secret)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// TestCodelessStep plays a WhatsApp yes/no step: a "no" arrives as a
// user_rejected event (status denied), a "yes" as an approval.
func TestCodelessStep(t *testing.T) {
	t.Parallel()
	url, got, bad := receiver(t)
	srv := vonagetest.NewServer(vonagetest.WithCallbacks(url, secret))
	t.Cleanup(srv.Close)
	c := jwtClient(t, srv.URL)
	ctx := context.Background()
	start := func() string {
		v, err := c.Start(ctx, provider.StartRequest{To: phone, Channel: vonage.ChannelWhatsAppInteractive})
		if err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	id := start()
	if _, err := c.Check(ctx, provider.CheckRequest{ID: id, Code: "1234"}); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("a code for a yes/no step: %v", err)
	}
	if err := srv.Respond(id, false); err != nil {
		t.Fatal(err)
	}
	ev, sum := next(t, got, bad), next(t, got, bad)
	if ev.ProviderStatus() != provider.StatusDenied || sum.Status != "failed" || sum.Workflow[0].Status != "user_rejected" {
		t.Errorf("after no: %+v, %+v", ev, sum)
	}
	id = start()
	if err := srv.Respond(id, true); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, got, bad); ev.ProviderStatus() != provider.StatusApproved || ev.RequestID != id {
		t.Errorf("after yes: %+v", ev)
	}
	next(t, got, bad) // the summary
	if err := srv.Respond(id, true); !errors.Is(err, vonagetest.ErrNoSuchRequest) {
		t.Errorf("Respond after the end: %v", err)
	}
}
