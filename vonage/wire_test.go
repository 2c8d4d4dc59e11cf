package vonage_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

const (
	appID  = vonagetest.DefaultApplicationID
	reqID  = "c11236f4-00bf-4b89-84ba-88b25df97315"
	phone  = "+447700900001"
	mail   = "alice@example.com"
	myCode = "ab12CD"
)

func publicKey(t testing.TB) *rsa.PublicKey {
	t.Helper()
	k, err := jwt.ParseRSAPrivateKeyFromPEM(vonagetest.DefaultPrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}

// seen is one request as the test server received it.
type seen struct {
	Method, Path string
	Header       http.Header
	Body         map[string]any
}

// recorder is an httptest server that records every request and answers
// with the next canned answer.
type recorder struct {
	mu      sync.Mutex
	reqs    []seen
	answers []func(w http.ResponseWriter)
	srv     *httptest.Server
}

func newRecorder(t *testing.T, answers ...func(w http.ResponseWriter)) *recorder {
	rec := &recorder{answers: answers}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		s := seen{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
		if len(data) > 0 {
			if err := json.Unmarshal(data, &s.Body); err != nil {
				t.Errorf("request body is not JSON: %v", err)
			}
		}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, s)
		var a func(http.ResponseWriter)
		if len(rec.answers) > 0 {
			a, rec.answers = rec.answers[0], rec.answers[1:]
		}
		rec.mu.Unlock()
		if a == nil {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			w.WriteHeader(500)
			return
		}
		a(w)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (r *recorder) requests() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.reqs...)
}

func answer(status int, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if strings.HasPrefix(body, "{") {
			if status >= 400 {
				w.Header().Set("Content-Type", "application/problem+json")
			} else {
				w.Header().Set("Content-Type", "application/json")
			}
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func jwtClient(t testing.TB, url string, opts ...vonage.Option) *vonage.Client {
	t.Helper()
	c, err := vonage.New("Acme", vonage.Application(appID, vonagetest.DefaultPrivateKeyPEM()),
		append([]vonage.Option{vonage.WithBaseURL(url), vonage.WithRetryWait(0, 0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkJWT asserts that a bearer token is an RS256 application token with
// every claim Vonage reads.
func checkJWT(t *testing.T, h http.Header) {
	t.Helper()
	tok, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	if !ok {
		t.Fatalf("Authorization = %q, want a bearer token", h.Get("Authorization"))
	}
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return publicKey(t), nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	if parsed.Header["typ"] != "JWT" || parsed.Header["alg"] != "RS256" {
		t.Errorf("JWT header = %v", parsed.Header)
	}
	if claims["application_id"] != appID {
		t.Errorf("application_id = %v", claims["application_id"])
	}
	jti, _ := claims["jti"].(string)
	if len(jti) != 36 {
		t.Errorf("jti = %q, want a UUID", jti)
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	if iat == nil || exp == nil || exp.Sub(iat.Time) != 15*time.Minute {
		t.Errorf("iat %v, exp %v: want exp 15 minutes after iat", iat, exp)
	}
}

func checkHeaders(t *testing.T, s seen, body bool) {
	t.Helper()
	checkJWT(t, s.Header)
	if got := s.Header.Get("Accept"); got != "application/json" {
		t.Errorf("%s %s: Accept = %q", s.Method, s.Path, got)
	}
	ct := s.Header.Get("Content-Type")
	if body && ct != "application/json" || !body && ct != "" {
		t.Errorf("%s %s: Content-Type = %q (body %v)", s.Method, s.Path, ct, body)
	}
	if ua := s.Header.Get("User-Agent"); !strings.HasPrefix(ua, "verifykit/") || !strings.HasSuffix(ua, " myapp/1") {
		t.Errorf("User-Agent = %q", ua)
	}
}

// TestWire asserts every JSON field and header of every operation.
func TestWire(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t,
		answer(202, `{"request_id":"`+reqID+`"}`),
		answer(400, `{"type":"https://developer.nexmo.com/api-errors#bad-request","title":"Invalid Code","detail":"The code you provided does not match the expected value.","instance":"bf0ca0bf927b3b52e3cb03217e1a1ddf"}`),
		answer(200, `{"request_id":"`+reqID+`","status":"completed"}`),
		answer(200, `{"request_id":"`+reqID+`"}`),
		answer(204, ``),
		answer(202, `{"request_id":"`+reqID+`"}`),
		answer(202, `{"request_id":"`+reqID+`"}`),
	)
	c := jwtClient(t, rec.srv.URL, vonage.WithUserAgent("myapp/1"), vonage.WithCodeLength(6))
	ctx := context.Background()
	no := false
	v, err := c.Start(ctx, provider.StartRequest{
		To: phone, Channel: provider.ChannelSMS, Locale: "pt-BR", FriendlyName: "Shop", CustomCode: myCode, Reference: "order42",
		Extensions: []provider.Extension{vonage.StartParams{
			Workflow: []vonage.Step{
				{Channel: provider.ChannelSNA, RedirectURL: "https://app.example/after"},
				{Channel: provider.ChannelSMS, From: "Acme", AppHash: "FA+9qCX9VSu"},
				{Channel: provider.ChannelWhatsApp, From: "447700900999"},
			},
			EntityID: "1101", ContentID: "1107", Sandbox: true,
			CodeLength: 8, ChannelTimeout: 60 * time.Second, FraudCheck: &no,
			TemplateID: "8f35a1a7-eb2f-4552-8fdf-fffdaee41bc9",
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := provider.Verification{ID: reqID, To: phone, Channel: provider.ChannelSMS, Status: provider.StatusPending, RawStatus: "pending"}
	if diff := cmp.Diff(want, v, cmpVerification); diff != "" {
		t.Errorf("Start (-want +got):\n%s", diff)
	}
	got, err := c.Check(ctx, provider.CheckRequest{ID: reqID, Code: "0000"})
	if err != nil || got.Status != provider.StatusPending || got.ID != reqID {
		t.Errorf("Check(wrong) = %v, %v; want pending, nil", got, err)
	}
	got, err = c.Check(ctx, provider.CheckRequest{ID: reqID, Code: myCode})
	if err != nil || got.Status != provider.StatusApproved || got.RawStatus != "completed" {
		t.Errorf("Check(right) = %v, %v; want approved", got, err)
	}
	if err := c.NextWorkflow(ctx, reqID); err != nil {
		t.Errorf("NextWorkflow: %v", err)
	}
	got, err = c.Cancel(ctx, reqID)
	if err != nil || got.Status != provider.StatusCanceled || got.ID != reqID {
		t.Errorf("Cancel = %v, %v", got, err)
	}
	if _, err := c.Start(ctx, provider.StartRequest{To: mail, Channel: provider.ChannelAuto}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelCall, Extensions: []provider.Extension{vonage.StartParams{
		Workflow: []vonage.Step{
			{Channel: provider.ChannelCall},
			{Channel: vonage.ChannelRCS, From: "Acme"},
			{Channel: provider.ChannelEmail, To: mail, From: "noreply@example.com"},
		},
	}}}); err != nil {
		t.Fatal(err)
	}

	reqs := rec.requests()
	wantReqs := []seen{
		{Method: "POST", Path: "/v2/verify", Body: map[string]any{
			"brand": "Shop", "locale": "pt-br", "client_ref": "order42", "code": myCode, "code_length": 8.0,
			"channel_timeout": 60.0, "fraud_check": false, "template_id": "8f35a1a7-eb2f-4552-8fdf-fffdaee41bc9",
			"workflow": []any{
				map[string]any{"channel": "silent_auth", "to": "447700900001", "redirect_url": "https://app.example/after", "sandbox": true},
				map[string]any{"channel": "sms", "to": "447700900001", "from": "Acme", "app_hash": "FA+9qCX9VSu", "entity_id": "1101", "content_id": "1107"},
				map[string]any{"channel": "whatsapp", "to": "447700900001", "from": "447700900999"},
			},
		}},
		{Method: "POST", Path: "/v2/verify/" + reqID, Body: map[string]any{"code": "0000"}},
		{Method: "POST", Path: "/v2/verify/" + reqID, Body: map[string]any{"code": myCode}},
		{Method: "POST", Path: "/v2/verify/" + reqID + "/next_workflow"},
		{Method: "DELETE", Path: "/v2/verify/" + reqID},
		{Method: "POST", Path: "/v2/verify", Body: map[string]any{
			"brand": "Acme", "code_length": 6.0,
			"workflow": []any{map[string]any{"channel": "email", "to": mail}},
		}},
		{Method: "POST", Path: "/v2/verify", Body: map[string]any{
			"brand": "Acme", "code_length": 6.0,
			"workflow": []any{
				map[string]any{"channel": "voice", "to": "447700900001"},
				map[string]any{"channel": "rcs", "to": "447700900001", "from": "Acme"},
				map[string]any{"channel": "email", "to": mail, "from": "noreply@example.com"},
			},
		}},
	}
	if diff := cmp.Diff(wantReqs, reqs, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Header" }, cmp.Ignore())); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	for _, s := range reqs {
		checkHeaders(t, s, s.Body != nil)
	}
}

var cmpVerification = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Detail" }, cmp.Ignore())

// TestBasicAuth checks the key/secret form.
func TestBasicAuth(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, answer(202, `{"request_id":"`+reqID+`"}`))
	c, err := vonage.New("Acme", vonage.APIKey("abcd1234", "s3cr3tS3cr3t"), vonage.WithBaseURL(rec.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(context.Background(), provider.StartRequest{To: phone, Channel: provider.ChannelCall}); err != nil {
		t.Fatal(err)
	}
	r := &http.Request{Header: rec.requests()[0].Header}
	user, pass, ok := r.BasicAuth()
	if !ok || user != "abcd1234" || pass != "s3cr3tS3cr3t" {
		t.Errorf("Basic auth = %q, %q, %v", user, pass, ok)
	}
	// Silent authentication needs an application.
	_, err = c.Start(context.Background(), provider.StartRequest{To: phone, Channel: provider.ChannelSNA})
	if !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("sna with Basic auth: %v, want ErrUnsupported", err)
	}
}

// TestJWTReuse checks that the client reuses its token until shortly
// before it expires, then signs a new one.
func TestJWTReuse(t *testing.T) {
	t.Parallel()
	var answers []func(http.ResponseWriter)
	for range 3 {
		answers = append(answers, answer(200, `{"request_id":"`+reqID+`","status":"completed"}`))
	}
	rec := newRecorder(t, answers...)
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c := jwtClient(t, rec.srv.URL, vonage.WithClock(clock))
	check := func() {
		if _, err := c.Check(context.Background(), provider.CheckRequest{ID: reqID, Code: "1234"}); err != nil {
			t.Fatal(err)
		}
	}
	check()
	mu.Lock()
	now = now.Add(10 * time.Minute)
	mu.Unlock()
	check()
	mu.Lock()
	now = now.Add(4*time.Minute + 30*time.Second)
	mu.Unlock()
	check()
	r := rec.requests()
	a0, a1, a2 := r[0].Header.Get("Authorization"), r[1].Header.Get("Authorization"), r[2].Header.Get("Authorization")
	if a0 != a1 {
		t.Error("token not reused 10 minutes into its 15")
	}
	if a2 == a1 {
		t.Error("token reused 30 seconds before it expires")
	}
}
