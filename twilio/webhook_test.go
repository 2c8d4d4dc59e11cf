package twilio_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

const hookToken = "f1e2d3c4b5a697887766554433221100"

// hmacB64 is the signature computed here by hand, apart from the package.
func hmacB64(token, s string) string {
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// TestSignature_SignedString: names sorted (a name before the names it
// prefixes), then each name's distinct values sorted, as twilio-python.
func TestSignature_SignedString(t *testing.T) {
	t.Parallel()
	const u = "https://app.example.com/hooks/verify?x=1"
	params := url.Values{"Z": {"2", "1", "1"}, "AB": {"c"}, "A": {"b"}, "Empty": {""}, "É": {"ü"}}
	want := hmacB64(hookToken, u+"Ab"+"ABc"+"Empty"+"Z1"+"Z2"+"Éü")
	if got := twilio.Signature(hookToken, u, params); got != want {
		t.Fatalf("Signature = %s, want %s", got, want)
	}
	if !twilio.ValidateSignature(hookToken, u, params, want) {
		t.Fatal("ValidateSignature refuses the signature")
	}
}

func TestValidateSignature(t *testing.T) {
	t.Parallel()
	params := url.Values{"type": {"factor.verified"}, "factor_sid": {"YF0123"}}
	sign := func(u string) string { return twilio.Signature(hookToken, u, params) }
	for _, tc := range []struct {
		name, signedURL, receivedURL string
		params                       url.Values
		token                        string
		want                         bool
	}{
		{"same", "https://a.example/h", "https://a.example/h", params, hookToken, true},
		{"signed with 443, received without", "https://a.example:443/h?q=1", "https://a.example/h?q=1", params, hookToken, true},
		{"signed without, received with 443", "https://a.example/h", "https://a.example:443/h", params, hookToken, true},
		{"http and 80", "http://a.example:80/h", "http://a.example/h", params, hookToken, true},
		{"own port kept", "https://a.example:8443/h", "https://a.example:8443/h", params, hookToken, true},
		{"own port dropped by the signer", "https://a.example/h", "https://a.example:8443/h", params, hookToken, true},
		{"443 on http is not the default", "http://a.example:443/h", "http://a.example/h", params, hookToken, false},
		{"other path", "https://a.example/h", "https://a.example/h2", params, hookToken, false},
		{"other query", "https://a.example/h?a=1", "https://a.example/h?a=2", params, hookToken, false},
		{"param changed", "https://a.example/h", "https://a.example/h", url.Values{"type": {"factor.deleted"}, "factor_sid": {"YF0123"}}, hookToken, false},
		{"param added", "https://a.example/h", "https://a.example/h", url.Values{"type": {"factor.verified"}, "factor_sid": {"YF0123"}, "x": {""}}, hookToken, false},
		{"other token", "https://a.example/h", "https://a.example/h", params, "00000000000000000000000000000000", false},
		{"IPv6 host", "https://[::1]:443/h", "https://[::1]/h", params, hookToken, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := twilio.ValidateSignature(tc.token, tc.receivedURL, tc.params, sign(tc.signedURL)); got != tc.want {
				t.Errorf("ValidateSignature = %v, want %v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "x", sign("https://a.example/h") + " "} {
		if twilio.ValidateSignature(hookToken, "https://a.example/h", params, bad) {
			t.Errorf("signature %q accepted", bad)
		}
	}
	if twilio.ValidateSignature("", "https://a.example/h", params, twilio.Signature("", "https://a.example/h", params)) {
		t.Error("an empty token validates")
	}
}

func bodyURL(base string, body []byte) string {
	sum := sha256.Sum256(body)
	return base + "?bodySHA256=" + hex.EncodeToString(sum[:])
}

func TestValidateBodySignature(t *testing.T) {
	t.Parallel()
	body := []byte(`[{"type":"com.twilio.accountsecurity.verify.verification.approved"}]`)
	u := bodyURL("https://a.example/sink", body)
	sig := twilio.Signature(hookToken, u, nil)
	if !twilio.ValidateBodySignature(hookToken, u, body, sig) {
		t.Fatal("refused")
	}
	if !twilio.ValidateBodySignature(hookToken, strings.Replace(u, "a.example", "a.example:443", 1), body, sig) {
		t.Fatal("refused with the default port")
	}
	if twilio.ValidateBodySignature(hookToken, u, append(body, ' '), sig) {
		t.Fatal("an altered body accepted")
	}
	if twilio.ValidateBodySignature(hookToken, "https://a.example/sink", body, twilio.Signature(hookToken, "https://a.example/sink", nil)) {
		t.Fatal("accepted without bodySHA256")
	}
}

type sink struct {
	mu     sync.Mutex
	events []provider.LifecycleEvent
	err    error
}

func (s *sink) on(_ context.Context, e provider.LifecycleEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
	return s.err
}

func (s *sink) got() []provider.LifecycleEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]provider.LifecycleEvent(nil), s.events...)
}

func newHook(t *testing.T, opts ...twilio.WebhookOption) (*httptest.Server, *sink) {
	t.Helper()
	s := &sink{}
	h, err := twilio.NewWebhookHandler(hookToken, s.on, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, s
}

func post(t *testing.T, srv *httptest.Server, path, contentType, body, sig string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if sig != "" {
		req.Header.Set(twilio.SignatureHeader, sig)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const formType = "application/x-www-form-urlencoded"

func TestWebhookHandler_Form(t *testing.T) {
	t.Parallel()
	srv, s := newHook(t)
	form := url.Values{
		"uuid": {"4a1f0e6c-5d0f-4c9b-9a55-000000000001"}, "type": {"challenge.approved"}, "account_sid": {"AC0123"},
		"service_sid": {"VA0123"}, "entity_identity": {"5f0c6b1e-user-0001"}, "factor_sid": {"YF0123"},
		"factor_type": {"push"}, "challenge_sid": {"YC0123"}, "status": {"approved"},
		"challenge_details": {`{"message":"Log in?"}`}, "date_created": {"2026-01-02T03:04:05Z"},
	}
	u := srv.URL + "/hooks/verify"
	code, body := post(t, srv, "/hooks/verify", formType, form.Encode(), twilio.Signature(hookToken, u, form))
	if code != http.StatusNoContent || body != "" {
		t.Fatalf("signed: %d %q, want 204", code, body)
	}
	want := []provider.LifecycleEvent{{
		Kind: provider.EventChallengeApproved, ID: "4a1f0e6c-5d0f-4c9b-9a55-000000000001", Provider: "twilio",
		Identity: "5f0c6b1e-user-0001", FactorID: "YF0123", FactorType: provider.FactorPush, ChallengeID: "YC0123",
		Status: "approved", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}}
	if diff := cmp.Diff(want, s.got()); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
}

// TestWebhookHandler_Refusals: a missing or bad signature gets 403 and
// nothing else, and the application hears nothing.
func TestWebhookHandler_Refusals(t *testing.T) {
	t.Parallel()
	srv, s := newHook(t, twilio.WithWebhookMaxBody(1<<10))
	form := url.Values{"type": {"factor.deleted"}, "factor_sid": {"YF0123"}}
	u := srv.URL + "/h"
	good := twilio.Signature(hookToken, u, form)
	for _, tc := range []struct{ name, path, ctype, body, sig string }{
		{"missing", "/h", formType, form.Encode(), ""},
		{"other token", "/h", formType, form.Encode(), twilio.Signature("other", u, form)},
		{"other URL", "/other", formType, form.Encode(), good},
		{"altered body", "/h", formType, form.Encode() + "&x=1", good},
		{"not a form", "/h", "application/json", form.Encode(), good},
		{"too large", "/h", formType, form.Encode() + "&pad=" + strings.Repeat("a", 2<<10), good},
		{"JSON without bodySHA256", "/h", "application/json", `{}`, twilio.Signature(hookToken, u, nil)},
	} {
		code, body := post(t, srv, tc.path, tc.ctype, tc.body, tc.sig)
		if code != http.StatusForbidden || body != "" {
			t.Errorf("%s: %d %q, want 403 and an empty body", tc.name, code, body)
		}
	}
	if got := s.got(); len(got) != 0 {
		t.Fatalf("the application heard %v", got)
	}
}

func TestWebhookHandler_EventStreamsAndErrors(t *testing.T) {
	t.Parallel()
	srv, s := newHook(t)
	body := `[{"specversion":"1.0","id":"EV01","type":"com.twilio.accountsecurity.verify.verification.expired","time":"2026-01-02T03:04:05Z","data":{"verification_sid":"VE0123","to":"+14155552671","channel":"sms"}},` +
		`{"id":"EV02","type":"com.twilio.accountsecurity.verify.verification.pending","data":{}}]`
	u := bodyURL(srv.URL+"/sink", []byte(body))
	path := strings.TrimPrefix(u, srv.URL)
	code, _ := post(t, srv, path, "application/json", body, twilio.Signature(hookToken, u, nil))
	if code != http.StatusNoContent {
		t.Fatalf("signed JSON: %d", code)
	}
	want := []provider.LifecycleEvent{
		{Kind: provider.EventVerificationExpired, ID: "EV01", Provider: "twilio", VerificationID: "VE0123", Channel: provider.ChannelSMS, Target: "+14*******71", Status: "expired", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{Kind: provider.EventUnknown, ID: "EV02", Provider: "twilio", Status: "pending"},
	}
	if diff := cmp.Diff(want, s.got()); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	// Signed but not an event: 400. The application failing: 500.
	u2 := bodyURL(srv.URL+"/sink", []byte(`{}`))
	if code, _ := post(t, srv, strings.TrimPrefix(u2, srv.URL), "application/json", `{}`, twilio.Signature(hookToken, u2, nil)); code != http.StatusBadRequest {
		t.Errorf("signed non-event: %d, want 400", code)
	}
	s.mu.Lock()
	s.err = errors.New("db down")
	s.mu.Unlock()
	if code, _ := post(t, srv, path, "application/json", body, twilio.Signature(hookToken, u, nil)); code != http.StatusInternalServerError {
		t.Errorf("onEvent failing: %d, want 500", code)
	}
}

func TestWebhookHandler_PublicURLAndRotation(t *testing.T) {
	t.Parallel()
	const public = "https://app.example.com/hooks/verify"
	srv, s := newHook(t, twilio.WithWebhookURL(func(r *http.Request) string { return public }), twilio.WithWebhookPreviousToken("old-token"))
	form := url.Values{"type": {"factor.created"}, "factor_sid": {"YF0123"}}
	if code, _ := post(t, srv, "/anything", formType, form.Encode(), twilio.Signature("old-token", public+"", form)); code != http.StatusNoContent {
		t.Fatalf("previous token over the public URL: %d", code)
	}
	if code, _ := post(t, srv, "/anything", formType, form.Encode(), twilio.Signature(hookToken, srv.URL+"/anything", form)); code != http.StatusForbidden {
		t.Fatalf("signed over the internal URL: %d, want 403", code)
	}
	if n := len(s.got()); n != 1 {
		t.Fatalf("%d events", n)
	}
	if _, err := twilio.NewWebhookHandler("", s.on); err == nil {
		t.Error("no token accepted")
	}
}

// BenchmarkValidateSignature: one Verify webhook's form (12 parameters)
// against both URL spellings.
func BenchmarkValidateSignature(b *testing.B) {
	form := url.Values{
		"uuid": {"4a1f0e6c-5d0f-4c9b-9a55-000000000001"}, "type": {"challenge.approved"}, "account_sid": {"AC0123456789abcdef0123456789abcdef"},
		"service_sid": {"VA0123456789abcdef0123456789abcdef"}, "entity_identity": {"5f0c6b1e-user-0001"}, "factor_sid": {"YF0123456789abcdef0123456789abcdef"},
		"factor_type": {"push"}, "challenge_sid": {"YC0123456789abcdef0123456789abcdef"}, "status": {"approved"},
		"challenge_details": {`{"message":"Log in?","fields":[{"label":"IP","value":"203.0.113.9"}]}`}, "date_created": {"2026-01-02T03:04:05Z"},
		"factor_friendly_name": {"Pixel"},
	}
	const u = "https://app.example.com/hooks/verify"
	sig := twilio.Signature(hookToken, u, form)
	b.ReportAllocs()
	for b.Loop() {
		if !twilio.ValidateSignature(hookToken, u, form, sig) {
			b.Fatal("refused")
		}
	}
}

// TestValidateSignatureAnyToken: ValidateSignature accepts what Signature
// (crypto/hmac) computes over either URL spelling, for Auth Tokens of
// every length (a key longer than SHA-1's 64-byte block is hashed first),
// with repeated parameters, and refuses a signature one bit off.
func TestValidateSignatureAnyToken(t *testing.T) {
	form := url.Values{"b": {"2", "1", "2"}, "a": {"x"}, "type": {"factor.verified"}}
	for _, n := range []int{1, 32, 63, 64, 65, 200} {
		token := strings.Repeat("k", n)
		for _, tc := range []struct{ called, signed string }{
			{"https://app.example.com/hook?x=1", "https://app.example.com/hook?x=1"},
			{"https://app.example.com/hook?x=1", "https://app.example.com:443/hook?x=1"},
			{"http://user@app.example.com:8080/hook", "http://user@app.example.com/hook"},
			{"http://[::1]/h", "http://[::1]:80/h"},
		} {
			sig := twilio.Signature(token, tc.signed, form)
			if !twilio.ValidateSignature(token, tc.called, form, sig) {
				t.Errorf("token of %d bytes, called %s, signed %s: refused", n, tc.called, tc.signed)
			}
			raw, _ := base64.StdEncoding.DecodeString(sig)
			raw[len(raw)-1] ^= 1
			if twilio.ValidateSignature(token, tc.called, form, base64.StdEncoding.EncodeToString(raw)) {
				t.Errorf("token of %d bytes, %s: a signature one bit off accepted", n, tc.called)
			}
		}
	}
}

// TestValidateSignatureAllocations: checking a webhook's signature
// allocates at most twice (the signed bytes and the sorted names), not
// once per parameter, URL spelling or hash.
func TestValidateSignatureAllocations(t *testing.T) {
	form := url.Values{
		"uuid": {"4a1f0e6c-5d0f-4c9b-9a55-000000000001"}, "type": {"challenge.approved"}, "account_sid": {"AC0123456789abcdef0123456789abcdef"},
		"service_sid": {"VA0123456789abcdef0123456789abcdef"}, "entity_identity": {"5f0c6b1e-user-0001"}, "factor_sid": {"YF0123456789abcdef0123456789abcdef"},
		"factor_type": {"push"}, "challenge_sid": {"YC0123456789abcdef0123456789abcdef"}, "status": {"approved"},
	}
	const u = "https://app.example.com/hooks/verify"
	sig := twilio.Signature(hookToken, u, form)
	if n := testing.AllocsPerRun(100, func() { twilio.ValidateSignature(hookToken, u, form, sig) }); n > 2 {
		t.Errorf("ValidateSignature allocates %v times, want at most 2", n)
	}
}
