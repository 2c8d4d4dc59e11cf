package pushwire_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/internal/pushsig"
	"github.com/verifykit/verifykit/internal/pushwire"
	"github.com/verifykit/verifykit/provider"
)

const identity = "u-0123456789abcdef"

// phone is a device speaking the wire with raw HTTP, signing with pushsig
// as the SDKs do.
type phone struct {
	t          *testing.T
	base       string // .../Entities/{identity}
	key        *ecdsa.PrivateKey
	clock      func() time.Time
	sid, kid   string
	account    string
	lastHeader http.Header
}

func (p *phone) do(method, path, user, pass string, form url.Values) (int, map[string]any, []byte) {
	p.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, p.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	p.lastHeader = resp.Header
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, raw
}

func (p *phone) jwt() string {
	s, err := pushsig.SignRequest(p.key, p.kid, p.account, p.clock())
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

func setup(t *testing.T) (*fake.Fake, *fake.Clock, *phone) {
	t.Helper()
	clock := fake.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	f := fake.MustNew(fake.WithClock(clock.Now))
	srv := httptest.NewServer(pushwire.Handler(pushwire.Config{API: f.Device(), ServiceSID: "VA01", Now: clock.Now}))
	t.Cleanup(srv.Close)
	key, err := pushsig.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return f, clock, &phone{t: t, base: srv.URL + "/v2/Services/VA01/Entities/" + identity, key: key, clock: clock.Now}
}

// enrol creates and verifies the phone's factor over the wire.
func enrol(t *testing.T, f *fake.Fake, p *phone) {
	t.Helper()
	at, err := f.CreateAccessToken(context.Background(), provider.AccessTokenRequest{Identity: identity, FactorFriendlyName: "Ada's phone"})
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := pushsig.EncodePublicKey(&p.key.PublicKey)
	form := url.Values{
		"FactorType": {"push"}, "FriendlyName": {"Ada's phone"}, "Binding.PublicKey": {pub}, "Binding.Alg": {"ES256"},
		"Config.AppId": {"com.example.bank"}, "Config.NotificationPlatform": {"none"}, "Config.SdkVersion": {"1.0"},
		"Metadata": {`{"os":"Android"}`},
	}
	status, m, raw := p.do("POST", "/Factors", "token", at.Token, form)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, raw)
	}
	cfg, _ := m["config"].(map[string]any)
	p.sid, _ = m["sid"].(string)
	p.kid, _ = cfg["credential_sid"].(string)
	p.account, _ = m["account_sid"].(string)
	want := map[string]any{"status": "unverified", "factor_type": "push", "identity": identity, "friendly_name": "Ada's phone",
		"service_sid": "VA01", "binding": map[string]any{"public_key": pub, "alg": "ES256"}, "metadata": map[string]any{"os": "Android"}}
	for k, v := range want {
		if !cmp.Equal(m[k], v) {
			t.Errorf("create: %s = %v, want %v", k, m[k], v)
		}
	}
	if p.sid == "" || p.kid == "" || p.account == "" || cfg["app_id"] != "com.example.bank" || cfg["notification_platform"] != "none" {
		t.Fatalf("create: %s", raw)
	}
	sig, _ := pushsig.SignFactor(p.key, p.sid)
	status, m, raw = p.do("POST", "/Factors/"+p.sid, "token", p.jwt(), url.Values{"AuthPayload": {sig}})
	if status != http.StatusOK || m["status"] != "verified" || m["binding"] != nil {
		t.Fatalf("verify: %d %s", status, raw)
	}
}

func TestDeviceFlow(t *testing.T) {
	f, _, p := setup(t)
	enrol(t, f, p)
	ctx := context.Background()
	ch, err := f.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: identity, FactorID: p.sid,
		Details: provider.PushDetails{Message: "Log in?", Fields: []provider.PushField{{Label: "IP", Value: "192.0.2.1"}}}})
	if err != nil {
		t.Fatal(err)
	}

	// The phone polls, fetches with the signature fields, approves.
	status, m, raw := p.do("GET", "/Challenges?FactorSid="+p.sid+"&Status=pending", "token", p.jwt(), nil)
	list, _ := m["challenges"].([]any)
	if status != http.StatusOK || len(list) != 1 || list[0].(map[string]any)["sid"] != ch.ID {
		t.Fatalf("list: %d %s", status, raw)
	}
	status, _, body := p.do("GET", "/Challenges/"+ch.ID, "token", p.jwt(), nil)
	fields := p.lastHeader.Get("Twilio-Verify-Signature-Fields")
	if status != http.StatusOK || fields != strings.Join(pushsig.DefaultSignatureFields, ",") {
		t.Fatalf("fetch: %d, fields %q: %s", status, fields, body)
	}
	answer, err := pushsig.SignChallengeResponse(p.key, body, strings.Split(fields, ","), pushsig.StatusApproved)
	if err != nil {
		t.Fatal(err)
	}
	status, m, raw = p.do("POST", "/Challenges/"+ch.ID, "token", p.jwt(), url.Values{"AuthPayload": {answer}})
	if status != http.StatusOK || m["status"] != "approved" {
		t.Fatalf("answer: %d %s", status, raw)
	}
	got, err := f.FetchChallenge(ctx, identity, ch.ID)
	if err != nil || got.Status != provider.ChallengeApproved {
		t.Fatalf("backend sees %v, %v; want approved", got.Status, err)
	}

	// The same answer again is refused; the factor is deleted by the phone.
	status, _, raw = p.do("POST", "/Challenges/"+ch.ID, "token", p.jwt(), url.Values{"AuthPayload": {answer}})
	if status != http.StatusBadRequest {
		t.Errorf("replayed answer: %d %s, want 400", status, raw)
	}
	if status, _, raw = p.do("DELETE", "/Factors/"+p.sid, "token", p.jwt(), nil); status != http.StatusNoContent {
		t.Errorf("delete: %d %s", status, raw)
	}
	if _, err := f.FetchFactor(ctx, identity, p.sid); err == nil {
		t.Error("the factor outlived its deletion")
	}
}

func TestRefusals(t *testing.T) {
	f, clock, p := setup(t)
	enrol(t, f, p)
	jwt := p.jwt()
	for _, tc := range []struct {
		name, service, path, user, pass string
		want                            int
	}{
		{"no auth", "VA01", "/Challenges?FactorSid=" + p.sid, "", "", 401},
		{"wrong user", "VA01", "/Challenges?FactorSid=" + p.sid, "admin", jwt, 401},
		{"not a JWT", "VA01", "/Challenges?FactorSid=" + p.sid, "token", "nonsense", 401},
		{"unknown challenge", "VA01", "/Challenges/YC00000000000000000000000000000000", "token", jwt, 404},
		{"another service", "VA02", "/Challenges?FactorSid=" + p.sid, "token", jwt, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := *p
			q.base = strings.Replace(p.base, "/VA01/", "/"+tc.service+"/", 1)
			status, m, raw := q.do("GET", tc.path, tc.user, tc.pass, nil)
			if status != tc.want || m["code"] == nil {
				t.Fatalf("%d %s, want %d and Twilio's error shape", status, raw, tc.want)
			}
			if strings.Contains(string(raw), jwt) {
				t.Error("the error quotes the JWT")
			}
		})
	}

	// A JWT from a phone whose clock is 20 minutes slow is refused with
	// the server's time, by which the phone corrects its clock.
	slow, _ := pushsig.SignRequest(p.key, p.kid, p.account, clock.Now().Add(-20*time.Minute))
	status, _, raw := p.do("GET", "/Challenges?FactorSid="+p.sid, "token", slow, nil)
	if status != http.StatusUnauthorized {
		t.Fatalf("stale JWT: %d %s", status, raw)
	}
	date, err := http.ParseTime(p.lastHeader.Get("Date"))
	if err != nil || !date.Equal(clock.Now()) {
		t.Errorf("Date = %q, want the server's clock %v", p.lastHeader.Get("Date"), clock.Now())
	}

	// A create with a used access token, or without FactorType push.
	at, _ := f.CreateAccessToken(context.Background(), provider.AccessTokenRequest{Identity: identity})
	pub, _ := pushsig.EncodePublicKey(&p.key.PublicKey)
	form := url.Values{"FactorType": {"totp"}, "FriendlyName": {"phone"}, "Binding.PublicKey": {pub}, "Binding.Alg": {"ES256"}, "Config.AppId": {"com.example.bank"}, "Config.NotificationPlatform": {"none"}}
	if status, _, raw := p.do("POST", "/Factors", "token", at.Token, form); status != http.StatusBadRequest {
		t.Errorf("totp factor: %d %s, want 400", status, raw)
	}
}

// TestUpdateFactor: the SDKs' token rotation, UpdateFactor without
// AuthPayload and with the Config.* fields, changes the factor; a JWT
// signed by another key or a malformed token is refused.
func TestUpdateFactor(t *testing.T) {
	f, _, p := setup(t)
	enrol(t, f, p)
	token := strings.Repeat("r", 40)
	form := url.Values{"Config.NotificationToken": {token}, "Config.SdkVersion": {"0.12.0"}, "Config.NotificationPlatform": {"fcm"}, "FriendlyName": {"New phone"}}

	stranger := *p
	stranger.key, _ = pushsig.GenerateKey()
	if status, _, raw := stranger.do("POST", "/Factors/"+p.sid, "token", stranger.jwt(), form); status != http.StatusUnauthorized {
		t.Errorf("another key's JWT: %d %s, want 401", status, raw)
	}
	bad := url.Values{"Config.NotificationToken": {"short"}, "Config.NotificationPlatform": {"fcm"}}
	if status, _, raw := p.do("POST", "/Factors/"+p.sid, "token", p.jwt(), bad); status != http.StatusBadRequest {
		t.Errorf("a 5-byte token: %d %s, want 400", status, raw)
	}
	status, m, raw := p.do("POST", "/Factors/"+p.sid, "token", p.jwt(), form)
	cfg, _ := m["config"].(map[string]any)
	if status != http.StatusOK || m["friendly_name"] != "New phone" || cfg["notification_platform"] != "fcm" || cfg["sdk_version"] != "0.12.0" {
		t.Fatalf("update: %d %s", status, raw)
	}
	got, err := f.FetchFactor(context.Background(), identity, p.sid)
	if err != nil || got.Push == nil || got.Push.NotificationToken != token || got.Push.Platform != provider.PlatformFCM || got.Status != provider.FactorVerified {
		t.Fatalf("backend sees %v, %v", got, err)
	}
}
