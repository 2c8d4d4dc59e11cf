package vonage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
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

	v, err := c.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS, Reference: "order42"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "2468"}); err != nil {
		t.Fatal(err)
	}
	ev, sum := next(t, got, bad), next(t, got, bad)
	if ev.Type != vonage.CallbackEvent || ev.RequestID != v.ID || ev.Channel != "sms" || ev.ProviderStatus() != provider.StatusApproved || ev.ClientRef != "order42" {
		t.Errorf("event = %+v", ev)
	}
	if vonage.ParseTimestamp(ev.FinalizedAt).IsZero() {
		t.Errorf("finalized_at %q does not parse", ev.FinalizedAt)
	}
	want := []vonage.CallbackStep{{Channel: "sms", Status: "completed"}}
	if sum.Type != vonage.CallbackSummary || sum.Status != "completed" || sum.ChannelTimeout != 180 ||
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
	want = []vonage.CallbackStep{{Channel: "sms", Status: "expired"}, {Channel: "voice", Status: "expired"}}
	if s.ProviderStatus() != provider.StatusExpired || s.RequestID != v.ID ||
		!cmp.Equal(want, s.Workflow, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".InitiatedAt" }, cmp.Ignore())) {
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

// TestCodelessStep plays a silent-auth step the handset answers without a
// code (Respond): a "no" arrives as a user_rejected event (status denied),
// a "yes" as an approval.
func TestCodelessStep(t *testing.T) {
	t.Parallel()
	url, got, bad := receiver(t)
	srv := vonagetest.NewServer(vonagetest.WithCallbacks(url, secret))
	t.Cleanup(srv.Close)
	c := jwtClient(t, srv.URL)
	ctx := context.Background()
	start := func() string {
		v, err := c.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSNA})
		if err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	id := start()
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

// signClaims signs claims as Vonage's webhook tokens are signed (HS256
// with the signature secret), for tokens SignCallback does not make.
func signClaims(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + s
}

// TestParseCallbackNeedsBindingAndFreshness is the regression test for a
// forged silent-auth approval: a correctly signed token that carries no
// payload_hash (so it is not bound to the body) or no iat, or whose iat is
// older than the allowed age or further in the future than the skew, must
// be refused even when it has no exp — a year-old token once approved any
// body put beside it.
func TestParseCallbackNeedsBindingAndFreshness(t *testing.T) {
	t.Parallel()
	body := `{"type":"event","request_id":"` + reqID + `","status":"completed","channel":"silent_auth"}`
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	for name, tc := range map[string]struct {
		claims jwt.MapClaims
		ok     bool
	}{
		"fresh, bound":                        {jwt.MapClaims{"iat": at(0), "payload_hash": hash}, true},
		"4 minutes old, no exp":               {jwt.MapClaims{"iat": at(-4 * time.Minute), "payload_hash": hash}, true},
		"iat 30s ahead (within the skew)":     {jwt.MapClaims{"iat": at(30 * time.Second), "payload_hash": hash}, true},
		"a year old, no exp, no payload_hash": {jwt.MapClaims{"iat": at(-365 * 24 * time.Hour)}, false},
		"a year old, no exp, bound":           {jwt.MapClaims{"iat": at(-365 * 24 * time.Hour), "payload_hash": hash}, false},
		"a year old, exp far ahead":           {jwt.MapClaims{"iat": at(-365 * 24 * time.Hour), "exp": at(time.Hour), "payload_hash": hash}, false},
		"fresh, no payload_hash":              {jwt.MapClaims{"iat": at(0)}, false},
		"fresh, payload_hash not a string":    {jwt.MapClaims{"iat": at(0), "payload_hash": 42}, false},
		"no iat":                              {jwt.MapClaims{"payload_hash": hash}, false},
		"no iat, exp ahead":                   {jwt.MapClaims{"exp": at(time.Minute), "payload_hash": hash}, false},
		"iat 10 minutes old":                  {jwt.MapClaims{"iat": at(-10 * time.Minute), "payload_hash": hash}, false},
		"iat 2 minutes ahead (past the skew)": {jwt.MapClaims{"iat": at(2 * time.Minute), "payload_hash": hash}, false},
		"no claims at all":                    {jwt.MapClaims{}, false},
	} {
		r := httptest.NewRequest("POST", "/webhook", strings.NewReader(body))
		r.Header.Set("Authorization", signClaims(t, tc.claims))
		_, err := vonage.ParseCallback(r, secret, vonage.WithCallbackClock(func() time.Time { return now }))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok %v", name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, vonage.ErrBadCallback) {
			t.Errorf("%s: err = %v, not ErrBadCallback", name, err)
		}
	}
}

// TestParseCallbackMaxAge checks that WithCallbackMaxAge widens and
// narrows the age a token may have.
func TestParseCallbackMaxAge(t *testing.T) {
	t.Parallel()
	body := []byte(`{"type":"summary","request_id":"` + reqID + `","status":"completed"}`)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	sum := sha256.Sum256(body)
	tok := signClaims(t, jwt.MapClaims{"iat": now.Add(-20 * time.Minute).Unix(), "payload_hash": hex.EncodeToString(sum[:])})
	clock := vonage.WithCallbackClock(func() time.Time { return now })
	for _, tc := range []struct {
		opts []vonage.CallbackOption
		ok   bool
	}{
		{[]vonage.CallbackOption{clock}, false},
		{[]vonage.CallbackOption{clock, vonage.WithCallbackMaxAge(30 * time.Minute)}, true},
		{[]vonage.CallbackOption{clock, vonage.WithCallbackMaxAge(10 * time.Minute)}, false},
	} {
		r := httptest.NewRequest("POST", "/webhook", bytes.NewReader(body))
		r.Header.Set("Authorization", tok)
		if _, err := vonage.ParseCallback(r, secret, tc.opts...); (err == nil) != tc.ok {
			t.Errorf("%d options: err = %v, want ok %v", len(tc.opts), err, tc.ok)
		}
	}
}
