package vonagetest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// post sends body to the emulator's start with auth and returns the status
// and the problem's first invalid parameter.
func post(t *testing.T, srv *vonagetest.Server, auth, body string) (int, string, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/v2/verify", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	} else {
		req.SetBasicAuth(vonagetest.DefaultAPIKey, vonagetest.DefaultAPISecret)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p map[string]any
	data, _ := io.ReadAll(resp.Body)
	json.Unmarshal(data, &p)
	param := ""
	if ip, ok := p["invalid_parameters"].([]any); ok && len(ip) > 0 {
		param, _ = ip[0].(map[string]any)["name"].(string)
	}
	return resp.StatusCode, param, p
}

// TestSpecLimits checks the start limits of Vonage's Verify API 1.0.1:
// brand up to 18 characters, client_ref up to 40 letters and digits, at
// most 3 workflow steps, WhatsApp with from, rcs a channel and
// whatsapp_interactive no longer one.
func TestSpecLimits(t *testing.T) {
	t.Parallel()
	srv := vonagetest.NewServer()
	t.Cleanup(srv.Close)
	n := 0
	to := func() string { n++; return "4477009001" + string(rune('0'+n/10)) + string(rune('0'+n%10)) }
	for _, tc := range []struct {
		name   string
		body   string
		status int
		param  string
	}{
		{"brand of 18", `{"brand":"` + strings.Repeat("b", 18) + `","workflow":[{"channel":"sms","to":"` + to() + `"}]}`, 202, ""},
		{"brand of 19", `{"brand":"` + strings.Repeat("b", 19) + `","workflow":[{"channel":"sms","to":"` + to() + `"}]}`, 422, "brand"},
		{"client_ref of 40", `{"brand":"Acme","client_ref":"` + strings.Repeat("r", 40) + `","workflow":[{"channel":"sms","to":"` + to() + `"}]}`, 202, ""},
		{"client_ref of 41", `{"brand":"Acme","client_ref":"` + strings.Repeat("r", 41) + `","workflow":[{"channel":"sms","to":"` + to() + `"}]}`, 422, "client_ref"},
		{"client_ref with a dash", `{"brand":"Acme","client_ref":"order-42","workflow":[{"channel":"sms","to":"` + to() + `"}]}`, 422, "client_ref"},
		{"client_ref not ASCII", `{"brand":"Acme","client_ref":"café","workflow":[{"channel":"sms","to":"` + to() + `"}]}`, 422, "client_ref"},
		{"template_id", `{"brand":"Acme","template_id":"0A1b2C3d-4E5f-6a7B-8c9D-0e1F2a3B4c5D","workflow":[{"channel":"sms","to":"` + to() + `"}]}`, 202, ""},
		{"template_id not hex", `{"brand":"Acme","template_id":"0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5g","workflow":[{"channel":"sms","to":"` + to() + `"}]}`, 422, "template_id"},
		{"template_id dash moved", `{"brand":"Acme","template_id":"0a1b2c3d4-e5f-6a7b-8c9d-0e1f2a3b4c5d","workflow":[{"channel":"sms","to":"` + to() + `"}]}`, 422, "template_id"},
		{"4 steps", `{"brand":"Acme","workflow":[{"channel":"sms","to":"` + to() + `"},{"channel":"voice","to":"` + to() + `"},{"channel":"sms","to":"` + to() + `"},{"channel":"voice","to":"` + to() + `"}]}`, 422, "workflow"},
		{"whatsapp without from", `{"brand":"Acme","workflow":[{"channel":"whatsapp","to":"` + to() + `"}]}`, 422, "workflow[0].from"},
		{"whatsapp with from", `{"brand":"Acme","workflow":[{"channel":"whatsapp","to":"` + to() + `","from":"447700900999"}]}`, 202, ""},
		{"rcs", `{"brand":"Acme","workflow":[{"channel":"rcs","to":"` + to() + `","from":"acme"}]}`, 202, ""},
		{"rcs without from", `{"brand":"Acme","workflow":[{"channel":"rcs","to":"` + to() + `"}]}`, 422, "workflow[0].from"},
		{"sms from of 16", `{"brand":"Acme","workflow":[{"channel":"sms","to":"` + to() + `","from":"` + strings.Repeat("1", 16) + `"}]}`, 422, "workflow[0].from"},
		{"sms from of 15", `{"brand":"Acme","workflow":[{"channel":"sms","to":"` + to() + `","from":"` + strings.Repeat("1", 15) + `"}]}`, 202, ""},
		{"rcs from of 16", `{"brand":"Acme","workflow":[{"channel":"rcs","to":"` + to() + `","from":"` + strings.Repeat("a", 16) + `"}]}`, 422, "workflow[0].from"},
		{"whatsapp_interactive (no longer listed)", `{"brand":"Acme","workflow":[{"channel":"whatsapp_interactive","to":"` + to() + `"}]}`, 422, "workflow[0].channel"},
	} {
		status, param, p := post(t, srv, "", tc.body)
		if status != tc.status || param != tc.param {
			t.Errorf("%s: %d naming %q, want %d naming %q (%v)", tc.name, status, param, tc.status, tc.param, p)
		}
	}
}

// TestDefaultChannelTimeout checks Vonage's default wait between steps:
// 180 seconds.
func TestDefaultChannelTimeout(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	start(t, c, provider.StartRequest{To: phone, Channel: provider.ChannelSMS, Extensions: []provider.Extension{
		vonage.StartParams{Workflow: []vonage.Step{{Channel: provider.ChannelSMS}, {Channel: provider.ChannelCall}}}}})
	srv.Advance(179 * time.Second)
	if m, _ := srv.LastMessage(phone); m.Channel != "sms" {
		t.Fatalf("after 179 s: %+v, want still the sms step", m)
	}
	srv.Advance(time.Second)
	if m, _ := srv.LastMessage(phone); m.Channel != "voice" {
		t.Errorf("after 180 s: %+v, want the voice step", m)
	}
}

// TestNewCodePerChannel checks that each step of a workflow sends a new
// code (Vonage's reuse_code defaults to false), the earlier one no longer
// approving, and that a custom code is the same on every step.
func TestNewCodePerChannel(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	ctx := context.Background()
	wf := []provider.Extension{vonage.StartParams{Workflow: []vonage.Step{{Channel: provider.ChannelSMS}, {Channel: provider.ChannelCall}}}}
	different := false
	for range 5 { // a new random code may equal the old one by chance
		v := start(t, c, provider.StartRequest{To: phone, Channel: provider.ChannelSMS, Extensions: wf})
		first, _ := srv.LastCode(phone)
		if err := c.NextWorkflow(ctx, v.ID); err != nil {
			t.Fatal(err)
		}
		second, _ := srv.LastCode(phone)
		if second == first {
			c.Cancel(ctx, v.ID)
			continue
		}
		different = true
		if got, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: first}); err != nil || got.Approved() {
			t.Errorf("the sms code after the voice step: %v, %v; want pending", got, err)
		}
		if got, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: second}); err != nil || !got.Approved() {
			t.Errorf("the voice code: %v, %v; want approved", got, err)
		}
		break
	}
	if !different {
		t.Error("every step repeated the first step's code")
	}
	v := start(t, c, provider.StartRequest{To: phone, Channel: provider.ChannelSMS, CustomCode: "ab12cd", Extensions: wf})
	if err := c.NextWorkflow(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	if code, _ := srv.LastCode(phone); code != "ab12cd" {
		t.Errorf("custom code on the second step: %q", code)
	}
}

// TestSilentAuthAsVonage checks the silent-auth redirect (the request ID
// and the code in the URL's fragment, as Vonage sends them) and its single
// attempt: a wrong code ends the request.
func TestSilentAuthAsVonage(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	ctx := context.Background()
	v := start(t, c, provider.StartRequest{To: phone, Channel: provider.ChannelSNA, Extensions: []provider.Extension{
		vonage.StartParams{RedirectURL: "https://app.example/done"}}})
	noFollow := &http.Client{Transport: hc.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(v.Detail.(*vonage.Response).CheckURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.RawQuery != "" || loc.Fragment == "" {
		t.Fatalf("redirect to %q: want the request ID and code in the fragment", resp.Header.Get("Location"))
	}
	frag, _ := url.ParseQuery(loc.Fragment)
	if frag.Get("request_id") != v.ID || frag.Get("code") == "" {
		t.Fatalf("fragment %q", loc.Fragment)
	}
	wrong := "0000"
	if frag.Get("code") == wrong {
		wrong = "1111"
	}
	if got, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: wrong}); err != nil || got.Approved() {
		t.Errorf("a wrong silent-auth code: %v, %v; want pending (not approved)", got, err)
	}
	if got, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: frag.Get("code")}); err == nil || got.Approved() {
		t.Errorf("the right code after a wrong one: %v, %v; want refused (one attempt)", got, err)
	}
}

// TestJWTAsVonage checks that a token without exp is valid for 15 minutes
// after iat (and not longer), and that moving the emulator's clock does
// not lock freshly signed tokens out.
func TestJWTAsVonage(t *testing.T) {
	t.Parallel()
	srv := vonagetest.NewServer()
	t.Cleanup(srv.Close)
	key, _ := jwt.ParseRSAPrivateKeyFromPEM(vonagetest.DefaultPrivateKeyPEM())
	var n atomic.Int32
	sign := func(claims jwt.MapClaims) string {
		claims["application_id"] = vonagetest.DefaultApplicationID
		claims["jti"] = "j" + string(rune('a'+n.Add(1)))
		s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + s
	}
	body := func(i int) string {
		return `{"brand":"Acme","workflow":[{"channel":"email","to":"jwt` + string(rune('a'+i)) + `@example.com"}]}`
	}
	now := time.Now()
	for i, tc := range []struct {
		name   string
		claims jwt.MapClaims
		want   int
	}{
		{"no exp, fresh", jwt.MapClaims{"iat": now.Unix()}, 202},
		{"no exp, 14 minutes old", jwt.MapClaims{"iat": now.Add(-14 * time.Minute).Unix()}, 202},
		{"no exp, 16 minutes old", jwt.MapClaims{"iat": now.Add(-16 * time.Minute).Unix()}, 401},
		{"exp 48 hours after iat", jwt.MapClaims{"iat": now.Add(-25 * time.Hour).Unix(), "exp": now.Add(23 * time.Hour).Unix()}, 401},
	} {
		if status, _, p := post(t, srv, sign(tc.claims), body(i)); status != tc.want {
			t.Errorf("%s: %d, want %d (%v)", tc.name, status, tc.want, p)
		}
	}
	srv.Advance(20 * time.Minute)
	c, err := vonage.New("Acme", vonage.Application(vonagetest.DefaultApplicationID, vonagetest.DefaultPrivateKeyPEM()), vonage.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(context.Background(), provider.StartRequest{To: "+447700900777", Channel: provider.ChannelSMS}); err != nil {
		t.Errorf("a fresh token after the clock moved 20 minutes: %v", err)
	}
}

// TestNoCallbacksForAPIKey checks that a request authenticated with an API
// key gets no callbacks, as with Vonage, while one with a JWT does.
func TestNoCallbacksForAPIKey(t *testing.T) {
	t.Parallel()
	got := make(chan string, 8)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := vonage.ParseCallback(r, []byte("sig"))
		if err == nil {
			got <- c.RequestID
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	srv := vonagetest.NewServer(vonagetest.WithCallbacks(hook.URL, []byte("sig")), vonagetest.WithFixedCode("2468"))
	t.Cleanup(srv.Close)
	basic, err := vonage.New("Acme", vonage.APIKey(vonagetest.DefaultAPIKey, vonagetest.DefaultAPISecret), vonage.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	bearer, err := vonage.New("Acme", vonage.Application(vonagetest.DefaultApplicationID, vonagetest.DefaultPrivateKeyPEM()), vonage.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	vb := start(t, basic, provider.StartRequest{To: "+447700900101", Channel: provider.ChannelSMS})
	if _, err := basic.Check(ctx, provider.CheckRequest{ID: vb.ID, Code: "2468"}); err != nil {
		t.Fatal(err)
	}
	vj := start(t, bearer, provider.StartRequest{To: "+447700900102", Channel: provider.ChannelSMS})
	if _, err := bearer.Check(ctx, provider.CheckRequest{ID: vj.ID, Code: "2468"}); err != nil {
		t.Fatal(err)
	}
	// The JWT request's callbacks (event, summary) arrive in order after
	// the Basic one's would have: whatever came first is checked.
	for range 2 {
		select {
		case id := <-got:
			if id != vj.ID {
				t.Errorf("a callback for %s, the API-key request", id)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no callback for the JWT request")
		}
	}
	select {
	case id := <-got:
		t.Errorf("an extra callback for %s", id)
	default:
	}
}

// TestSilentAuthTimeout checks that a workflow starting with silent auth
// moves on after 60 seconds, whatever channel_timeout says (Verify API
// 1.0.1: "if you are using Silent Authentication, the channel_timeout is
// always fixed at 60 seconds").
func TestSilentAuthTimeout(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	start(t, c, provider.StartRequest{To: phone, Channel: provider.ChannelSNA, Extensions: []provider.Extension{
		vonage.StartParams{ChannelTimeout: 5 * time.Minute, Workflow: []vonage.Step{{Channel: provider.ChannelSNA}, {Channel: provider.ChannelSMS}}}}})
	srv.Advance(59 * time.Second)
	if m, _ := srv.LastMessage(phone); m.Channel != "silent_auth" {
		t.Fatalf("after 59 s: %+v", m)
	}
	srv.Advance(time.Second)
	if m, _ := srv.LastMessage(phone); m.Channel != "sms" {
		t.Errorf("after 60 s: %+v, want the sms step", m)
	}
}
