package vonage_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/vonage"
)

var sentinels = []error{
	provider.ErrInvalidRequest, provider.ErrNotFound, provider.ErrTooManyChecks, provider.ErrTooManySends,
	provider.ErrRateLimited, provider.ErrUndeliverable, provider.ErrUnauthorized, provider.ErrUnsupported,
	provider.ErrUnavailable, provider.ErrConflict, provider.ErrOutcomeUnknown,
}

// only asserts that err matches want and no other sentinel.
func only(t *testing.T, what string, err, want error) {
	t.Helper()
	for _, s := range sentinels {
		if got := errors.Is(err, s); got != (s == want) {
			t.Errorf("%s: errors.Is(%v, %v) = %v", what, err, s, got)
		}
	}
}

func problem(kind, title string) string {
	return `{"type":"https://www.developer.vonage.com/api-errors/verify#` + kind + `","title":"` + title + `","detail":"d","instance":"i"}`
}

// TestErrorMapping checks each documented answer against the sentinel it
// must match, for the operation that gets it.
func TestErrorMapping(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		op     string
		status int
		body   string
		want   error
	}{
		{"start", 409, `{"title":"Conflict","type":"https://developer.nexmo.com/api-errors/verify#conflict","detail":"Concurrent verifications to the same number are not allowed.","instance":"x","request_id":"` + reqID + `"}`, provider.ErrConflict},
		{"start", 422, problem("conflict", "Conflict"), provider.ErrConflict}, // the SDK tests' variant
		{"start", 422, problem("invalid-params", "Invalid params"), provider.ErrInvalidRequest},
		{"start", 429, problem("throttled", "Rate Limit Hit"), provider.ErrRateLimited},
		{"start", 401, problem("unauthorized", "Unauthorized"), provider.ErrUnauthorized},
		{"start", 401, problem("jwt-expired", "JWT expired"), provider.ErrUnauthorized},
		{"start", 403, problem("unprovisioned", "Forbidden"), provider.ErrUnauthorized},
		{"start", 402, problem("low-balance", "Low balance"), provider.ErrUnavailable},
		{"start", 500, problem("internal-error", "Internal"), provider.ErrOutcomeUnknown},
		{"start", 502, `<html>bad gateway</html>`, provider.ErrOutcomeUnknown},
		{"start", 400, `not json`, provider.ErrInvalidRequest},
		{"check", 410, problem("gone", "Invalid Code"), provider.ErrTooManyChecks},
		{"check", 404, problem("not-found", "Not Found"), provider.ErrNotFound},
		{"check", 409, problem("conflict", "Conflict"), provider.ErrInvalidRequest}, // step takes no code
		{"check", 429, problem("", "Rate Limit Hit"), provider.ErrRateLimited},
		{"check", 504, ``, provider.ErrOutcomeUnknown},
		{"cancel", 404, problem("not-found", "Not Found"), provider.ErrNotFound},
		{"cancel", 500, ``, provider.ErrOutcomeUnknown},
		{"next", 409, problem("conflict", "Conflict"), provider.ErrTooManySends},
		{"next", 409, `{"title":"Conflict","type":"https://developer.vonage.com/api-errors#conflict","detail":"There are no more events left to trigger.","instance":"x"}`, provider.ErrTooManySends},
		// SPEC 1.0.1's ErrorConflictTriggerNext: a transient refusal, not
		// the end of the workflow.
		{"next", 409, `{"title":"Conflict","type":"https://developer.vonage.com/api-errors#conflict","detail":"This action cannot be performed at this time due to a replication delay. Please try again later.","instance":"x"}`, provider.ErrUnavailable},
		// SPEC 1.0.1's ErrorResponse412: silent auth cannot serve this
		// number (network not supported); nothing was sent, and a router
		// may fail over.
		{"start", 412, problem("precondition-failed", "Precondition Failed"), provider.ErrUnsupported},
		{"start", 412, ``, provider.ErrUnsupported},
		{"next", 404, problem("not-found", "Not Found"), provider.ErrNotFound},
		// A 5xx keeps its unknown outcome whatever problem type it names.
		{"start", 500, problem("invalid-params", "Invalid params"), provider.ErrOutcomeUnknown},
		// A redirect is never followed: a redirected cancel cancelled
		// nothing, a redirected start may have been passed on.
		{"cancel", 302, ``, provider.ErrUnavailable},
		{"start", 307, ``, provider.ErrOutcomeUnknown},
	} {
		t.Run(fmt.Sprintf("%s_%d", tc.op, tc.status), func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, answer(tc.status, tc.body))
			c := jwtClient(t, rec.srv.URL, vonage.WithRetries(0))
			ctx := context.Background()
			var err error
			switch tc.op {
			case "start":
				_, err = c.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
			case "check":
				_, err = c.Check(ctx, provider.CheckRequest{ID: reqID, Code: "1234"})
			case "cancel":
				_, err = c.Cancel(ctx, reqID)
			case "next":
				err = c.NextWorkflow(ctx, reqID)
			}
			only(t, tc.body, err, tc.want)
			var ae *vonage.APIError
			if !errors.As(err, &ae) || ae.Status != tc.status {
				t.Fatalf("errors.As(*APIError) on %v", err)
			}
			if tc.want == provider.ErrConflict {
				if id, ok := provider.PendingID(err); ok != (tc.status == 409) || ok && id != reqID {
					t.Errorf("PendingID = %q, %v", id, ok)
				}
			}
		})
	}
}

// TestRefusedBeforeSending checks that bad input never reaches the server.
func TestRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	c := jwtClient(t, rec.srv.URL)
	ctx := context.Background()
	long := strings.Repeat("x", 19) // brand: 18 at most
	for _, tc := range []struct {
		req  provider.StartRequest
		want error
	}{
		{provider.StartRequest{To: "447700900001", Channel: provider.ChannelSMS}, provider.ErrInvalidRequest},
		{provider.StartRequest{To: mail, Channel: provider.ChannelSMS}, provider.ErrInvalidRequest},
		{provider.StartRequest{To: phone, Channel: provider.ChannelEmail}, provider.ErrInvalidRequest},
		{provider.StartRequest{To: phone, Channel: "pigeon"}, provider.ErrInvalidRequest},
		{provider.StartRequest{To: phone, Channel: provider.ChannelSMS, FriendlyName: long}, provider.ErrInvalidRequest},
		{provider.StartRequest{To: phone, Channel: provider.ChannelSMS, Locale: "xx-yy"}, provider.ErrInvalidRequest},
		{provider.StartRequest{To: phone, Channel: provider.ChannelSMS, Reference: strings.Repeat("x", 41)}, provider.ErrInvalidRequest},
		{provider.StartRequest{To: phone, Channel: provider.ChannelSMS, Reference: "order-42"}, provider.ErrInvalidRequest},
		{provider.StartRequest{To: phone, Channel: provider.ChannelWhatsApp}, provider.ErrInvalidRequest},
		// No longer a Verify v2 channel (API 1.0.1).
		{provider.StartRequest{To: phone, Channel: "whatsapp_interactive"}, provider.ErrInvalidRequest},
		{provider.StartRequest{To: phone, Channel: vonage.ChannelRCS}, provider.ErrInvalidRequest}, // rcs needs from
		{provider.StartRequest{To: phone, Channel: provider.ChannelSMS, Extensions: []provider.Extension{vonage.StartParams{From: strings.Repeat("1", 16)}}}, provider.ErrInvalidRequest},
		{provider.StartRequest{To: phone, Channel: provider.ChannelSMS, Extensions: []provider.Extension{vonage.StartParams{Workflow: []vonage.Step{
			{Channel: provider.ChannelSMS}, {Channel: provider.ChannelWhatsApp}}}}}, provider.ErrInvalidRequest},
		{provider.StartRequest{To: phone, Channel: provider.ChannelSMS, Extensions: []provider.Extension{vonage.StartParams{Workflow: []vonage.Step{
			{Channel: provider.ChannelSMS}, {Channel: provider.ChannelCall}, {Channel: provider.ChannelEmail, To: mail}, {Channel: provider.ChannelSMS}}}}}, provider.ErrInvalidRequest},
		{provider.StartRequest{To: phone, Channel: provider.ChannelSMS, CustomCode: "12"}, provider.ErrInvalidRequest},
		{provider.StartRequest{To: phone, Channel: provider.ChannelSMS, Extensions: []provider.Extension{vonage.StartParams{CodeLength: 11}}}, provider.ErrInvalidRequest},
		{provider.StartRequest{To: phone, Channel: provider.ChannelSMS, Extensions: []provider.Extension{vonage.StartParams{ChannelTimeout: 10 * time.Second}}}, provider.ErrInvalidRequest},
		{provider.StartRequest{To: phone, Channel: provider.ChannelSMS, Extensions: []provider.Extension{&vonage.StartParams{Workflow: []vonage.Step{{Channel: provider.ChannelSMS}, {Channel: provider.ChannelSNA}}}}}, provider.ErrInvalidRequest},
	} {
		_, err := c.Start(ctx, tc.req)
		only(t, tc.req.String(), err, tc.want)
	}
	for _, req := range []provider.CheckRequest{
		{ID: reqID, Code: "12"}, {ID: reqID, Code: `12"}`}, {ID: "../x", Code: "1234"}, {Code: "1234"},
	} {
		_, err := c.Check(ctx, req)
		only(t, req.String(), err, provider.ErrInvalidRequest)
	}
	_, err := c.Check(ctx, provider.CheckRequest{To: phone, Code: "1234"})
	only(t, "check by To", err, provider.ErrUnsupported)
	if _, err := c.Cancel(ctx, "a/b"); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("Cancel(a/b) = %v", err)
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// counting is a server that counts requests and answers with h.
func counting(t *testing.T, h func(n int32, w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(n.Add(1), w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func hangUp(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// TestRetries checks the retry rule: only what Vonage provably did not
// process is repeated; everything that may have been is ErrOutcomeUnknown.
func TestRetries(t *testing.T) {
	t.Parallel()
	ok := func(w http.ResponseWriter) { answer(202, `{"request_id":"`+reqID+`"}`)(w) }
	for _, tc := range []struct {
		name     string
		h        func(n int32, w http.ResponseWriter)
		want     error // nil: success
		requests int32
	}{
		{"503 then success", func(n int32, w http.ResponseWriter) {
			if n == 1 {
				answer(503, problem("unavailable", "Service Unavailable"))(w)
				return
			}
			ok(w)
		}, nil, 2},
		{"429 then success", func(n int32, w http.ResponseWriter) {
			if n == 1 {
				w.Header().Set("Retry-After", "0")
				answer(429, problem("throttled", "Rate Limit Hit"))(w)
				return
			}
			ok(w)
		}, nil, 2},
		{"429 asking too long a wait", func(n int32, w http.ResponseWriter) {
			w.Header().Set("Retry-After", "3600")
			answer(429, problem("throttled", "Rate Limit Hit"))(w)
		}, provider.ErrRateLimited, 1},
		{"Vonage's 503 every time", func(n int32, w http.ResponseWriter) {
			answer(503, problem("unavailable", "Service Unavailable"))(w)
		}, provider.ErrUnavailable, 4},
		{"a proxy's 503 (empty body) is not repeated", func(n int32, w http.ResponseWriter) {
			answer(503, ``)(w)
		}, provider.ErrOutcomeUnknown, 1},
		{"500 not repeated", func(n int32, w http.ResponseWriter) {
			answer(500, ``)(w)
		}, provider.ErrOutcomeUnknown, 1},
		{"answer lost", func(n int32, w http.ResponseWriter) {
			hangUp(w)
		}, provider.ErrOutcomeUnknown, 1},
		{"unreadable success", func(n int32, w http.ResponseWriter) {
			answer(202, `{"request_id":`)(w)
		}, provider.ErrOutcomeUnknown, 1},
		{"success without an ID", func(n int32, w http.ResponseWriter) {
			answer(202, `{}`)(w)
		}, provider.ErrOutcomeUnknown, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, n := counting(t, func(n int32, w http.ResponseWriter, _ *http.Request) { tc.h(n, w) })
			c := jwtClient(t, srv.URL)
			_, err := c.Start(context.Background(), provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
			if tc.want == nil && err != nil {
				t.Fatalf("Start: %v", err)
			}
			if tc.want != nil {
				only(t, tc.name, err, tc.want)
			}
			if got := n.Load(); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
		})
	}
}

// callerKey marks the caller's context, for the retry hook.
type callerKey struct{}

// TestNotSentIsRetried checks that a refused connection is retried and,
// when it never succeeds, reported as ErrUnavailable.
func TestNotSentIsRetried(t *testing.T) {
	t.Parallel()
	// Port 0: nothing can listen there, so every dial is refused. (A port
	// freed by closing a listener is not: another test can take it.)
	var retries atomic.Int32
	c := jwtClient(t, "http://127.0.0.1:0", vonage.WithRetryHook(func(ctx context.Context, _ vonage.RetryEvent) {
		if ctx.Value(callerKey{}) == "caller" { // the hook gets the caller's context
			retries.Add(1)
		}
	}))
	_, err := c.Check(context.WithValue(context.Background(), callerKey{}, "caller"), provider.CheckRequest{ID: reqID, Code: "1234"})
	only(t, "refused", err, provider.ErrUnavailable)
	if retries.Load() != 3 {
		t.Errorf("%d retries, want 3", retries.Load())
	}
	var re *vonage.RequestError
	if !errors.As(err, &re) || re.Sent {
		t.Errorf("RequestError = %+v", re)
	}
}

// TestContext checks that a done context returns its error and sends
// nothing.
func TestContext(t *testing.T) {
	t.Parallel()
	srv, n := counting(t, func(int32, http.ResponseWriter, *http.Request) {})
	c := jwtClient(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Start: %v", err)
	}
	if n.Load() != 0 {
		t.Error("a request was sent")
	}
}
