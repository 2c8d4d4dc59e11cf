package vonagetest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

const (
	phone = "+447700900001"
	mail  = "alice@example.com"
)

// hc is the tests' client for raw requests. It has a transport of its
// own: http.DefaultTransport is shared, and another parallel test's
// server Close closes its idle connections under a request that is about
// to use one ("http: CloseIdleConnections called").
var hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

func setup(t *testing.T, opts ...vonagetest.Option) (*vonagetest.Server, *vonage.Client) {
	t.Helper()
	// A stopped clock for the emulator and the client (its JWTs): the
	// server's Advance is the only time that passes, so a slow machine
	// cannot cross a step's timeout or an expiry between two lines.
	now := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	srv := vonagetest.NewServer(append([]vonagetest.Option{vonagetest.WithClock(now)}, opts...)...)
	t.Cleanup(srv.Close)
	c, err := vonage.New("Acme", vonage.Application(vonagetest.DefaultApplicationID, vonagetest.DefaultPrivateKeyPEM()),
		vonage.WithBaseURL(srv.URL), vonage.WithRetryWait(0, 0), vonage.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func start(t *testing.T, c *vonage.Client, req provider.StartRequest) provider.Verification {
	t.Helper()
	v, err := c.Start(context.Background(), req)
	if err != nil {
		t.Fatalf("Start(%v): %v", req, err)
	}
	return v
}

// TestFlow runs start, a wrong code, the right code, and what follows.
func TestFlow(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	ctx := context.Background()
	v := start(t, c, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
	m, ok := srv.LastMessage(phone)
	if !ok || len(m.Code) != 4 || m.RequestID != v.ID || m.Channel != "sms" || m.Brand != "Acme" || m.Locale != "en-us" {
		t.Fatalf("message = %+v, %v", m, ok)
	}
	// A second start to the same number is a conflict naming the first.
	_, err := c.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelCall})
	if id, _ := provider.PendingID(err); !errors.Is(err, provider.ErrConflict) || id != v.ID {
		t.Fatalf("second Start = %v (pending %q), want ErrConflict naming %s", err, id, v.ID)
	}
	wrong := "0000"
	if m.Code == wrong {
		wrong = "1111"
	}
	got, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: wrong})
	if err != nil || got.Status != provider.StatusPending {
		t.Fatalf("wrong code: %v, %v", got, err)
	}
	got, err = c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: m.Code})
	if err != nil || got.Status != provider.StatusApproved {
		t.Fatalf("right code: %v, %v", got, err)
	}
	if diff := cmp.Diff([]string{v.ID}, srv.Approvals()); diff != "" {
		t.Errorf("approvals (-want +got):\n%s", diff)
	}
	// Gone afterwards.
	if _, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: m.Code}); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("check after approval: %v", err)
	}
	if _, err := c.Cancel(ctx, v.ID); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("cancel after approval: %v", err)
	}
	// And the number is free again.
	v2 := start(t, c, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
	if v2.ID == v.ID {
		t.Error("new start reused the request ID")
	}
}

// TestTooManyWrongCodes checks the 410 and the end of the request.
func TestTooManyWrongCodes(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, vonagetest.WithFixedCode("4321"))
	ctx := context.Background()
	v := start(t, c, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
	for range vonagetest.DefaultMaxChecks {
		if got, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "1234"}); err != nil || got.Status != provider.StatusPending {
			t.Fatalf("wrong code: %v, %v", got, err)
		}
	}
	if _, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "4321"}); !errors.Is(err, provider.ErrTooManyChecks) {
		t.Fatalf("check after max: %v", err)
	}
	if _, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "4321"}); !errors.Is(err, provider.ErrNotFound) {
		t.Fatalf("check after 410: %v", err)
	}
	if srv.Pending() != 0 {
		t.Errorf("%d requests live", srv.Pending())
	}
}

// TestWorkflow checks next_workflow, channel timeouts and expiry.
func TestWorkflow(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	ctx := context.Background()
	v := start(t, c, provider.StartRequest{To: phone, Channel: provider.ChannelSMS, Extensions: []provider.Extension{
		vonage.StartParams{ChannelTimeout: 60 * time.Second, Workflow: []vonage.Step{
			{Channel: provider.ChannelSMS}, {Channel: provider.ChannelCall}, {Channel: provider.ChannelEmail, To: mail},
		}},
	}})
	if err := c.NextWorkflow(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	m, _ := srv.LastMessage(phone)
	if m.Channel != "voice" || len(m.Code) != 4 {
		t.Errorf("after next_workflow: %+v, want a voice call with a code", m)
	}
	srv.Advance(60 * time.Second) // the voice step's timeout: on to email
	m, ok := srv.LastMessage(mail)
	if !ok || m.Channel != "email" || len(m.Code) != 4 {
		t.Errorf("after the timeout: %+v, %v", m, ok)
	}
	last := m.Code
	if err := c.NextWorkflow(ctx, v.ID); !errors.Is(err, provider.ErrTooManySends) {
		t.Errorf("next_workflow at the last step: %v", err)
	}
	srv.Advance(59 * time.Second)
	if got, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "99999"}); err != nil || got.Status != provider.StatusPending {
		t.Errorf("check before expiry: %v, %v", got, err)
	}
	srv.Advance(time.Second)
	if _, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: last}); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("check after expiry: %v", err)
	}
	if got := len(srv.Messages()); got != 3 {
		t.Errorf("%d messages, want 3", got)
	}
}

// TestCancel checks DELETE.
func TestCancel(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	ctx := context.Background()
	v := start(t, c, provider.StartRequest{To: mail, Channel: provider.ChannelEmail})
	got, err := c.Cancel(ctx, v.ID)
	if err != nil || got.Status != provider.StatusCanceled {
		t.Fatalf("Cancel: %v, %v", got, err)
	}
	if _, err := c.Cancel(ctx, v.ID); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("second Cancel: %v", err)
	}
	start(t, c, provider.StartRequest{To: mail, Channel: provider.ChannelEmail})
}

// TestAuth checks that only Vonage's authentication gets in.
func TestAuth(t *testing.T) {
	t.Parallel()
	srv := vonagetest.NewServer()
	t.Cleanup(srv.Close)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(key *rsa.PrivateKey, method jwt.SigningMethod, claims jwt.MapClaims) string {
		var k any = key
		if method == jwt.SigningMethodHS256 {
			k = []byte("secret")
		}
		s, err := jwt.NewWithClaims(method, claims).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + s
	}
	def, _ := jwt.ParseRSAPrivateKeyFromPEM(vonagetest.DefaultPrivateKeyPEM())
	now := time.Now().Unix()
	good := jwt.MapClaims{"application_id": vonagetest.DefaultApplicationID, "iat": now, "jti": "x1", "exp": now + 900}
	expired := jwt.MapClaims{"application_id": vonagetest.DefaultApplicationID, "iat": now - 2000, "jti": "x2", "exp": now - 1000}
	noJTI := jwt.MapClaims{"application_id": vonagetest.DefaultApplicationID, "iat": now, "exp": now + 900}
	unknownApp := jwt.MapClaims{"application_id": "11111111-1111-4111-8111-111111111111", "iat": now, "jti": "x3", "exp": now + 900}
	for name, tc := range map[string]struct {
		auth string
		want int
	}{
		"good JWT":         {sign(def, jwt.SigningMethodRS256, good), 202},
		"basic":            {"Basic ZW11bGF0b3JrZXk6ZW11bGF0b3JzZWNyZXQwMA==", 202}, // emulatorkey:emulatorsecret00
		"none":             {"", 401},
		"wrong key":        {sign(other, jwt.SigningMethodRS256, good), 401},
		"expired":          {sign(def, jwt.SigningMethodRS256, expired), 401},
		"no jti":           {sign(def, jwt.SigningMethodRS256, noJTI), 401},
		"unknown app":      {sign(def, jwt.SigningMethodRS256, unknownApp), 401},
		"HS256":            {sign(nil, jwt.SigningMethodHS256, good), 401},
		"wrong secret":     {"Basic ZW11bGF0b3JrZXk6d3Jvbmc=", 401},
		"bearer not a jwt": {"Bearer abc", 401},
	} {
		body := `{"brand":"Acme","workflow":[{"channel":"sms","to":"44770090` + string(rune('0'+len(name)%10)) + `` + "123" + `"}]}`
		req, _ := http.NewRequest("POST", srv.URL+"/v2/verify", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d (%s)", name, resp.StatusCode, tc.want, data)
			continue
		}
		if tc.want == 401 {
			var p map[string]any
			if resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(data, &p) != nil || p["title"] != "Unauthorized" {
				t.Errorf("%s: 401 answer %q %s", name, resp.Header.Get("Content-Type"), data)
			}
		}
	}
}

// TestProblems checks the emulator's refusals of bad starts.
func TestProblems(t *testing.T) {
	t.Parallel()
	srv := vonagetest.NewServer()
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		body  string
		param string
	}{
		{`{"workflow":[{"channel":"sms","to":"447700900001"}]}`, "brand"},
		{`{"brand":"Acme","workflow":[]}`, "workflow"},
		{`{"brand":"Acme","workflow":[{"channel":"sms","to":"+447700900001"}]}`, "workflow[0].to"},
		{`{"brand":"Acme","workflow":[{"channel":"fax","to":"447700900001"}]}`, "workflow[0].channel"},
		{`{"brand":"Acme","workflow":[{"channel":"sms","to":"447700900001"},{"channel":"silent_auth","to":"447700900001"}]}`, "workflow[1].channel"},
		{`{"brand":"Acme","locale":"xx-xx","workflow":[{"channel":"sms","to":"447700900001"}]}`, "locale"},
		{`{"brand":"Acme","code_length":3,"workflow":[{"channel":"sms","to":"447700900001"}]}`, "code_length"},
		{`{"brand":"Acme","channel_timeout":5,"workflow":[{"channel":"sms","to":"447700900001"}]}`, "channel_timeout"},
	} {
		req, _ := http.NewRequest("POST", srv.URL+"/v2/verify", strings.NewReader(tc.body))
		req.SetBasicAuth(vonagetest.DefaultAPIKey, vonagetest.DefaultAPISecret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Type              string
			InvalidParameters []struct{ Name string } `json:"invalid_parameters"`
		}
		json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if resp.StatusCode != 422 || !strings.HasSuffix(p.Type, "#invalid-params") || len(p.InvalidParameters) != 1 || p.InvalidParameters[0].Name != tc.param {
			t.Errorf("%s: %d %+v, want 422 naming %s", tc.body, resp.StatusCode, p, tc.param)
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages sent", n)
	}
}

// TestFaults checks injected faults as the client sees them.
func TestFaults(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	ctx := context.Background()
	srv.InjectFault(vonagetest.Fault{Op: vonagetest.OpStart, Processed: true})
	_, err := c.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
	if !errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Fatalf("lost start: %v", err)
	}
	if _, ok := srv.LastCode(phone); !ok {
		t.Fatal("the lost start sent nothing")
	}
	// The start took effect: a new one is a conflict that names it.
	_, err = c.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
	id, ok := provider.PendingID(err)
	if !errors.Is(err, provider.ErrConflict) || !ok {
		t.Fatalf("start after a lost one: %v", err)
	}
	srv.InjectFault(vonagetest.Fault{Op: vonagetest.OpCheck, Status: 503, Times: 2})
	code, _ := srv.LastCode(phone)
	got, err := c.Check(ctx, provider.CheckRequest{ID: id, Code: code})
	if err != nil || !got.Approved() {
		t.Fatalf("check through two 503s: %v, %v", got, err)
	}
}

// TestControlNeedsCredentials checks that the outbox is closed without
// the API's credentials, unless WithOpenControl.
func TestControlNeedsCredentials(t *testing.T) {
	t.Parallel()
	for _, open := range []bool{false, true} {
		var opts []vonagetest.Option
		if open {
			opts = append(opts, vonagetest.WithOpenControl())
		}
		srv := vonagetest.NewServer(opts...)
		defer srv.Close()
		for _, path := range []string{"/_emulator/messages", "/_emulator/"} {
			resp, err := hc.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if want := map[bool]int{false: 401, true: 200}[open]; resp.StatusCode != want {
				t.Errorf("open %v: GET %s = %d, want %d", open, path, resp.StatusCode, want)
			}
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.SetBasicAuth(vonagetest.DefaultAPIKey, vonagetest.DefaultAPISecret)
			resp, err = hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("GET %s with credentials = %d", path, resp.StatusCode)
			}
		}
	}
}

// TestMaxPending checks the bound on live requests.
func TestMaxPending(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, vonagetest.WithMaxPending(2))
	ctx := context.Background()
	start(t, c, provider.StartRequest{To: "+447700900001", Channel: provider.ChannelSMS})
	start(t, c, provider.StartRequest{To: "+447700900002", Channel: provider.ChannelSMS})
	_, err := c.Start(ctx, provider.StartRequest{To: "+447700900003", Channel: provider.ChannelSMS})
	if !errors.Is(err, provider.ErrRateLimited) {
		t.Fatalf("third start: %v", err)
	}
	srv.Advance(301 * time.Second) // both expire
	start(t, c, provider.StartRequest{To: "+447700900003", Channel: provider.ChannelSMS})
}

// TestSilentAuth follows a check_url without credentials, as a handset
// would, and checks the code it carries.
func TestSilentAuth(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	ctx := context.Background()
	v := start(t, c, provider.StartRequest{To: phone, Channel: provider.ChannelSNA})
	u := v.Detail.(*vonage.Response).CheckURL
	if u == "" {
		t.Fatal("no check_url")
	}
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Code string }
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	got, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: body.Code})
	if err != nil || !got.Approved() {
		t.Fatalf("check with the silent-auth code: %v, %v", got, err)
	}
}

// TestControlEndpoints injects a fault and moves the clock over HTTP.
func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	ctx := context.Background()
	do := func(method, path, ct, body string) int {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.SetBasicAuth(vonagetest.DefaultAPIKey, vonagetest.DefaultAPISecret)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		ct, body string
		want     int
	}{
		{"text/plain", `{"op":"start","status":422}`, 415},
		{"application/json", `{"op":"fax"}`, 422},
		{"application/json", `{"op":"start","status":200}`, 422},
		{"application/json", `{"op":"start","bogus":1}`, 422},
		{"application/json", `{"op":"start","status":422}`, 204},
	} {
		if got := do("POST", "/_emulator/faults", tc.ct, tc.body); got != tc.want {
			t.Errorf("POST fault %s %s = %d, want %d", tc.ct, tc.body, got, tc.want)
		}
	}
	if _, err := c.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS}); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Fatalf("start with the injected 422: %v", err)
	}
	do("POST", "/_emulator/faults", "application/json", `{"status":503,"times":-1}`)
	if got := do("DELETE", "/_emulator/faults", "", ""); got != 204 {
		t.Errorf("DELETE faults = %d", got)
	}
	v := start(t, c, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
	if got := do("POST", "/_emulator/clock?advance=5m", "", ""); got != 200 {
		t.Errorf("POST clock = %d", got)
	}
	if _, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "1234"}); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("check after 5 minutes: %v", err)
	}
	if got := do("POST", "/_emulator/clock?advance=-1s", "", ""); got != 422 {
		t.Errorf("negative advance = %d", got)
	}
}
