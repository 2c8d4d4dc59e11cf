package twiliotest_test

import (
	"encoding/json"

	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

const svc = twiliotest.DefaultServiceSID

// client speaks to an emulator with plain net/http, as any language would.
type client struct {
	t          *testing.T
	base       string
	user, pass string
	// hc is the server's own client: http.DefaultClient's transport is
	// shared, and another parallel test's server Close cuts it.
	hc *http.Client
}

func newClient(t *testing.T, opts ...twiliotest.Option) (*client, *twiliotest.Server) {
	t.Helper()
	srv := twiliotest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return &client{t: t, base: srv.URL, user: twiliotest.DefaultAccountSID, pass: twiliotest.DefaultAuthToken, hc: srv.Client()}, srv
}

// call sends a request and decodes the JSON answer. A dropped connection
// gives status -1.
func (c *client) call(method, path string, form url.Values) (int, map[string]any, http.Header) {
	c.t.Helper()
	var body io.Reader
	u := c.base + path
	if method == "POST" {
		body = strings.NewReader(form.Encode())
	} else if form != nil {
		u += "?" + form.Encode()
	}
	req, _ := http.NewRequest(method, u, body)
	if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return -1, nil, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(resp.Body)
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			c.t.Fatalf("%s %s: %d with non-JSON body %q", method, path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode, out, resp.Header
}

// raw sends a request with the client's credentials and returns the
// answer with its body read.
func (c *client) raw(method, path, contentType, body string) (*http.Response, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

// wantError checks a Twilio error answer.
func wantError(t *testing.T, what string, status int, body map[string]any, wantStatus, wantCode int) {
	t.Helper()
	if status != wantStatus || body["code"] != float64(wantCode) || body["status"] != float64(wantStatus) ||
		body["more_info"] != "https://www.twilio.com/docs/errors/"+itoa(wantCode) || body["message"] == "" {
		t.Errorf("%s: %d %v, want %d with code %d", what, status, body, wantStatus, wantCode)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

const (
	verifications = "/v2/Services/" + svc + "/Verifications"
	checkPath     = "/v2/Services/" + svc + "/VerificationCheck"
	phone         = "+14155552671"
)

func start(to, ch string) url.Values { return url.Values{"To": {to}, "Channel": {ch}} }

func TestLifecycle(t *testing.T) {
	c, srv := newClient(t)
	status, v, _ := c.call("POST", verifications, start(phone, "sms"))
	if status != 201 {
		t.Fatalf("create: %d %v", status, v)
	}
	sid := v["sid"].(string)
	for k, want := range map[string]any{
		"service_sid": svc, "account_sid": twiliotest.DefaultAccountSID, "to": phone, "channel": "sms",
		"status": "pending", "valid": false, "amount": nil, "payee": nil, "sna": nil,
		"url": c.base + "/v2/Services/" + svc + "/Verifications/" + sid,
	} {
		if !cmp.Equal(v[k], want) {
			t.Errorf("create: %s = %v, want %v", k, v[k], want)
		}
	}
	if !strings.HasPrefix(sid, "VE") || len(sid) != 34 {
		t.Errorf("sid %q", sid)
	}
	for _, k := range []string{"date_created", "date_updated"} {
		if _, err := time.Parse(time.RFC3339, v[k].(string)); err != nil {
			t.Errorf("%s = %v is not RFC 3339", k, v[k])
		}
	}
	if lookup, ok := v["lookup"].(map[string]any); !ok || len(lookup) != 0 {
		t.Errorf("lookup = %v, want {}", v["lookup"])
	}

	// A second start re-sends on the same verification.
	status, v2, _ := c.call("POST", verifications, start(phone, "call"))
	attempts, _ := v2["send_code_attempts"].([]any)
	if status != 201 || v2["sid"] != sid || len(attempts) != 2 || v2["channel"] != "call" {
		t.Fatalf("resend: %d %v", status, v2)
	}
	a := attempts[1].(map[string]any)
	if a["channel"] != "call" || !strings.HasPrefix(a["attempt_sid"].(string), "VL") {
		t.Errorf("attempt %v", a)
	}

	status, f, _ := c.call("GET", verifications+"/"+sid, nil)
	if status != 200 || f["status"] != "pending" {
		t.Errorf("fetch: %d %v", status, f)
	}

	code, _ := srv.LastCode(phone)
	status, chk, _ := c.call("POST", checkPath, url.Values{"To": {phone}, "Code": {wrongCode(code)}})
	if status != 200 || chk["status"] != "pending" || chk["valid"] != false || chk["sid"] != sid {
		t.Errorf("wrong code: %d %v", status, chk)
	}
	if _, ok := chk["url"]; ok {
		t.Error("a check has no url field")
	}
	status, chk, _ = c.call("POST", checkPath, url.Values{"VerificationSid": {sid}, "Code": {code}})
	if status != 200 || chk["status"] != "approved" || chk["valid"] != true {
		t.Errorf("right code: %d %v", status, chk)
	}
	if l, ok := chk["sna_attempts_error_codes"].([]any); !ok || len(l) != 0 {
		t.Errorf("sna_attempts_error_codes = %v", chk["sna_attempts_error_codes"])
	}
	// Approved: gone for check, fetch and update.
	status, body, _ := c.call("POST", checkPath, url.Values{"To": {phone}, "Code": {code}})
	wantError(t, "check after approval", status, body, 404, 20404)
	if !strings.Contains(body["message"].(string), "/Services/"+svc+"/VerificationCheck") {
		t.Errorf("404 message %q does not name the resource", body["message"])
	}
	status, body, _ = c.call("GET", verifications+"/"+sid, nil)
	wantError(t, "fetch after approval", status, body, 404, 20404)
	status, body, _ = c.call("POST", verifications+"/"+sid, url.Values{"Status": {"canceled"}})
	wantError(t, "cancel after approval", status, body, 404, 20404)

	// Cancel, then a new start is a new verification.
	_, v3, _ := c.call("POST", verifications, start(phone, "sms"))
	if v3["sid"] == sid {
		t.Error("a start after approval reused the verification")
	}
	status, cv, _ := c.call("POST", verifications+"/"+v3["sid"].(string), url.Values{"Status": {"canceled"}})
	if status != 200 || cv["status"] != "canceled" || cv["valid"] != false {
		t.Errorf("cancel: %d %v", status, cv)
	}
	// Approve by update.
	_, v4, _ := c.call("POST", verifications, start(phone, "sms"))
	status, av, _ := c.call("POST", verifications+"/"+v4["sid"].(string), url.Values{"Status": {"approved"}})
	if status != 200 || av["status"] != "approved" || av["valid"] != true {
		t.Errorf("approve: %d %v", status, av)
	}
	status, body, _ = c.call("POST", verifications+"/"+v4["sid"].(string), url.Values{"Status": {"pending"}})
	wantError(t, "update to pending", status, body, 400, 60200)

	// Expiry, through the clock endpoint.
	_, v5, _ := c.call("POST", verifications, start(phone, "sms"))
	if resp, _ := c.raw("POST", "/_emulator/clock?advance=10m", "", ""); resp.StatusCode != 200 {
		t.Fatalf("advance the clock: %v", resp)
	}
	status, body, _ = c.call("GET", verifications+"/"+v5["sid"].(string), nil)
	wantError(t, "fetch after expiry", status, body, 404, 20404)
	if n := srv.Pending(); n != 0 {
		t.Errorf("%d verifications still held after all ended", n)
	}
}

func wrongCode(code string) string {
	if code[0] == '9' {
		return "1" + code[1:]
	}
	return "9" + code[1:]
}

func TestAuth(t *testing.T) {
	const keySID = "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	c, _ := newClient(t, twiliotest.WithAPIKey(keySID, "keysecret"))
	for _, creds := range [][2]string{{"", ""}, {twiliotest.DefaultAccountSID, "wrong"}, {"ACffffffffffffffffffffffffffffffff", twiliotest.DefaultAuthToken}, {keySID, twiliotest.DefaultAuthToken}} {
		c.user, c.pass = creds[0], creds[1]
		status, body, hdr := c.call("GET", verifications+"/VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", nil)
		wantError(t, "auth "+creds[0], status, body, 401, 20003)
		if body["message"] != "Authenticate" || hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("401 body %v, WWW-Authenticate %q", body, hdr.Get("WWW-Authenticate"))
		}
	}
	c.user, c.pass = keySID, "keysecret"
	if status, _, _ := c.call("POST", verifications, start(phone, "sms")); status != 201 {
		t.Errorf("API key: %d", status)
	}
	// The emulator's own endpoints need the same auth.
	for _, creds := range [][2]string{{"", ""}, {twiliotest.DefaultAccountSID, "wrong"}} {
		c.user, c.pass = creds[0], creds[1]
		for _, ep := range []struct{ method, path, ct, body string }{
			{"GET", "/_emulator/messages", "", ""}, {"GET", "/_emulator/", "", ""},
			{"POST", "/_emulator/faults", "application/json", `{"op":"check"}`}, {"DELETE", "/_emulator/faults", "", ""},
			{"POST", "/_emulator/clock?advance=1h", "", ""},
		} {
			if resp, _ := c.raw(ep.method, ep.path, ep.ct, ep.body); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s with credentials %q: %d, want 401", ep.method, ep.path, creds[0], resp.StatusCode)
			}
		}
	}
	c.user, c.pass = keySID, "keysecret"
	if resp, _ := c.raw("GET", "/_emulator/messages", "", ""); resp.StatusCode != 200 {
		t.Errorf("outbox with an API key: %d", resp.StatusCode)
	}
	// Unless the emulator is told to open them.
	open, _ := newClient(t, twiliotest.WithOpenControl())
	open.user = ""
	if resp, _ := open.raw("GET", "/_emulator/messages", "", ""); resp.StatusCode != 200 {
		t.Errorf("outbox without auth, WithOpenControl: %d", resp.StatusCode)
	}
	if status, _, _ := open.call("POST", verifications, start(phone, "sms")); status != 401 {
		t.Errorf("the API without auth, WithOpenControl: %d", status)
	}
}

// TestErrorCodes produces every error code the emulator claims.
func TestErrorCodes(t *testing.T) {
	tests := []struct {
		name   string
		opts   []twiliotest.Option
		setup  func(c *client, srv *twiliotest.Server)
		method string
		path   string
		form   url.Values
		status int
		code   int
		header string // a Retry-After the answer must carry
	}{
		{name: "unknown service", method: "POST", path: "/v2/Services/VAffffffffffffffffffffffffffffffff/Verifications", form: start(phone, "sms"), status: 404, code: 20404},
		{name: "unknown path", method: "GET", path: "/v2/Nothing", status: 404, code: 20404},
		{name: "To without +", method: "POST", path: verifications, form: start("14155552671", "sms"), status: 400, code: 60200},
		{name: "missing To", method: "POST", path: verifications, form: url.Values{"Channel": {"sms"}}, status: 400, code: 60200},
		{name: "unknown channel", method: "POST", path: verifications, form: start(phone, "pigeon"), status: 400, code: 60200},
		{name: "email channel with a phone", method: "POST", path: verifications, form: start(phone, "email"), status: 400, code: 60200},
		{name: "long friendly name", method: "POST", path: verifications, form: url.Values{"To": {phone}, "Channel": {"sms"}, "CustomFriendlyName": {strings.Repeat("n", 31)}}, status: 400, code: 60200},
		{name: "code too short", method: "POST", path: checkPath, form: url.Values{"To": {phone}, "Code": {"123"}}, status: 400, code: 60200},
		{name: "code too long", method: "POST", path: checkPath, form: url.Values{"To": {phone}, "Code": {"12345678901"}}, status: 400, code: 60200},
		{name: "bad verification SID", method: "POST", path: checkPath, form: url.Values{"VerificationSid": {"VE1"}, "Code": {"1234"}}, status: 400, code: 60200},
		// The spec gives the form field VerificationSid a pattern (so a
		// malformed one is an invalid parameter) but not the path's Sid (so
		// a malformed one there is an unknown resource).
		{name: "foreign verification SID", method: "POST", path: checkPath, form: url.Values{"VerificationSid": {"YF00000000000000000000000000000000"}, "Code": {"1234"}}, status: 400, code: 60200},
		{name: "malformed SID on fetch", method: "GET", path: verifications + "/VE1", status: 404, code: 20404},
		{name: "malformed SID on update", method: "POST", path: verifications + "/xyz", form: url.Values{"Status": {"canceled"}}, status: 404, code: 20404},
		{name: "neither To nor SID", method: "POST", path: checkPath, form: url.Values{"Code": {"123456"}}, status: 400, code: 60221},
		{name: "check with no start", method: "POST", path: checkPath, form: url.Values{"To": {phone}, "Code": {"123456"}}, status: 404, code: 20404},
		{name: "custom code not enabled", method: "POST", path: verifications, form: url.Values{"To": {phone}, "Channel": {"sms"}, "CustomCode": {"4321"}}, status: 403, code: 60204},
		{name: "landline", method: "POST", path: verifications, form: start(fake.NumberLandline, "sms"), status: 403, code: 60205},
		{name: "blocked", method: "POST", path: verifications, form: start(fake.NumberBlocked, "sms"), status: 403, code: 60605},
		{name: "rate limited", method: "POST", path: verifications, form: start(fake.NumberRateLimited, "sms"), status: 429, code: 20429, header: "30"},
		{name: "unavailable", method: "POST", path: verifications, form: start(fake.NumberUnavailable, "sms"), status: 503, code: 20503},
		{name: "max sends", opts: []twiliotest.Option{twiliotest.WithRetryAfter(90 * time.Second)},
			setup: func(c *client, _ *twiliotest.Server) {
				for range 5 {
					c.call("POST", verifications, start(phone, "sms"))
				}
			}, method: "POST", path: verifications, form: start(phone, "sms"), status: 429, code: 60203, header: "90"},
		{name: "max checks",
			setup: func(c *client, srv *twiliotest.Server) {
				c.call("POST", verifications, start(phone, "sms"))
				code, _ := srv.LastCode(phone)
				for range 5 {
					c.call("POST", checkPath, url.Values{"To": {phone}, "Code": {wrongCode(code)}})
				}
			}, method: "POST", path: checkPath, form: url.Values{"To": {phone}, "Code": {"123456"}}, status: 429, code: 60202},
		{name: "concurrent starts (injected)",
			setup: func(_ *client, srv *twiliotest.Server) {
				srv.InjectFault(twiliotest.Fault{Op: "start", To: phone, Status: 429, Code: 60212})
			}, method: "POST", path: verifications, form: start(phone, "sms"), status: 429, code: 60212},
		{name: "service name required", method: "POST", path: "/v2/Services", form: url.Values{}, status: 400, code: 60200},
		{name: "service code length", method: "POST", path: "/v2/Services", form: url.Values{"FriendlyName": {"x"}, "CodeLength": {"11"}}, status: 400, code: 60200},
		{name: "service boolean", method: "POST", path: "/v2/Services/" + svc, form: url.Values{"LookupEnabled": {"yes"}}, status: 400, code: 60200},
		{name: "page size", method: "GET", path: "/v2/Services", form: url.Values{"PageSize": {"0"}}, status: 400, code: 60200},
		{name: "page token", method: "GET", path: "/v2/Services", form: url.Values{"PageToken": {"x"}}, status: 400, code: 60200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newClient(t, tt.opts...)
			if tt.setup != nil {
				tt.setup(c, srv)
			}
			status, body, hdr := c.call(tt.method, tt.path, tt.form)
			wantError(t, tt.name, status, body, tt.status, tt.code)
			if got := hdr.Get("Retry-After"); got != tt.header {
				t.Errorf("Retry-After = %q, want %q", got, tt.header)
			}
		})
	}
}

func TestCustomCodeAfterEnabling(t *testing.T) {
	c, srv := newClient(t)
	status, body, _ := c.call("POST", "/v2/Services/"+svc, url.Values{"CustomCodeEnabled": {"true"}})
	if status != 200 || body["custom_code_enabled"] != true {
		t.Fatalf("update: %d %v", status, body)
	}
	if status, _, _ := c.call("POST", verifications, url.Values{"To": {phone}, "Channel": {"sms"}, "CustomCode": {"A1B2"}}); status != 201 {
		t.Fatalf("start with custom code: %d", status)
	}
	if code, _ := srv.LastCode(phone); code != "A1B2" {
		t.Errorf("code sent %q", code)
	}
	status, body, _ = c.call("POST", verifications, url.Values{"To": {"+14155550100"}, "Channel": {"sms"}, "CustomCode": {"A1"}})
	wantError(t, "short custom code", status, body, 400, 60200)
}

func TestMagicLostResponse(t *testing.T) {
	c, srv := newClient(t)
	_, v, _ := c.call("POST", verifications, start(fake.NumberCheckOutcomeUnknown, "sms"))
	code, _ := srv.LastCode(fake.NumberCheckOutcomeUnknown)
	status, _, _ := c.call("POST", checkPath, url.Values{"To": {fake.NumberCheckOutcomeUnknown}, "Code": {code}})
	if status != -1 {
		t.Fatalf("check on the lost-response number answered %d; want the connection dropped", status)
	}
	// An approval whose answer is lost still counts.
	if got := srv.Approvals(); len(got) != 1 || got[0] != v["sid"] {
		t.Errorf("Approvals() = %v, want [%v]", got, v["sid"])
	}
	// It was processed: the verification is approved, hence gone.
	status, body, _ := c.call("POST", checkPath, url.Values{"To": {fake.NumberCheckOutcomeUnknown}, "Code": {code}})
	wantError(t, "check after the lost approval", status, body, 404, 20404)
}

func TestFaultEndpoint(t *testing.T) {
	c, srv := newClient(t)
	post := func(body string) int {
		resp, _ := c.raw("POST", "/_emulator/faults", "application/json", body)
		return resp.StatusCode
	}
	if s := post(`{"op":"check","status":503,"code":20503,"retry_after":2,"times":2}`); s != 204 {
		t.Fatalf("POST fault: %d", s)
	}
	for _, bad := range []string{`{"status":200}`, `{"times":-1}`, `{"nope":1}`, `not json`} {
		if s := post(bad); s != 400 {
			t.Errorf("POST fault %s: %d, want 400", bad, s)
		}
	}
	c.call("POST", verifications, start(phone, "sms")) // a start is not a check: unaffected
	code, _ := srv.LastCode(phone)
	for range 2 {
		status, body, hdr := c.call("POST", checkPath, url.Values{"To": {phone}, "Code": {code}})
		wantError(t, "injected 503", status, body, 503, 20503)
		if hdr.Get("Retry-After") != "2" {
			t.Errorf("Retry-After = %q", hdr.Get("Retry-After"))
		}
	}
	// The faults did not reach the fake: the code still works.
	if status, body, _ := c.call("POST", checkPath, url.Values{"To": {phone}, "Code": {code}}); status != 200 || body["status"] != "approved" {
		t.Errorf("check after the faults: %d %v", status, body)
	}

	// A dropped connection, and a processed-then-dropped one.
	post(`{"op":"start","drop":true}`)
	if status, _, _ := c.call("POST", verifications, start(phone, "sms")); status != -1 {
		t.Errorf("drop: answered %d", status)
	}
	if _, ok := srv.LastCode(phone); !ok {
		t.Fatal("no code at all")
	}
	before := len(srv.Messages())
	post(`{"op":"start","drop":true,"processed":true}`)
	if status, _, _ := c.call("POST", verifications, start(phone, "sms")); status != -1 {
		t.Errorf("processed drop: answered %d", status)
	}
	if after := len(srv.Messages()); after != before+1 {
		t.Errorf("processed fault: %d messages, want %d (it was sent)", after, before+1)
	}
	// Clearing.
	post(`{"op":"fetch"}`)
	if resp, _ := c.raw("DELETE", "/_emulator/faults", "", ""); resp.StatusCode != 204 {
		t.Fatalf("DELETE faults: %v", resp)
	}
	status, _, _ := c.call("GET", verifications+"/VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", nil)
	if status != 404 {
		t.Errorf("after clearing, fetch answered %d, want 404", status)
	}
	if resp, _ := c.raw("POST", "/_emulator/clock?advance=-1m", "", ""); resp.StatusCode != 400 {
		t.Errorf("negative clock advance: %d", resp.StatusCode)
	}
}

func TestOutbox(t *testing.T) {
	c, srv := newClient(t, twiliotest.WithFixedCode("246810"), twiliotest.WithOutboxLimit(3))
	c.call("POST", verifications, start(phone, "sms"))
	c.call("POST", verifications, start("alice@example.com", "email"))
	get := func(q string) []twiliotest.Message {
		_, data := c.raw("GET", "/_emulator/messages"+q, "", "")
		var out []twiliotest.Message
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	all := get("")
	if len(all) != 2 || all[0].To != phone || all[1].To != "alice@example.com" || all[0].Code != "246810" ||
		all[0].ServiceSID != svc || !strings.HasPrefix(all[0].VerificationSID, "VE") || all[0].SentAt.IsZero() ||
		all[0].Body != "Your verifykit emulator verification code is: 246810" || all[1].Channel != "email" {
		t.Errorf("messages = %+v", all)
	}
	if got := get("?to=" + url.QueryEscape(phone)); len(got) != 1 || got[0].To != phone {
		t.Errorf("?to= gave %+v", got)
	}
	if got := get("?to=nobody"); got == nil || len(got) != 0 {
		t.Errorf("?to=nobody gave %#v, want []", got)
	}
	resp, page := c.raw("GET", "/_emulator/", "", "")
	if !strings.Contains(string(page), "246810") || !strings.Contains(string(page), `http-equiv="refresh"`) ||
		resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("page:\n%s", page)
	}
	for range 3 {
		c.call("POST", verifications, start("+14155550100", "sms"))
	}
	if n := len(srv.Messages()); n != 3 {
		t.Errorf("outbox holds %d with limit 3", n)
	}
	m, _ := srv.LastMessage("+14155550100")
	if s := m.String(); strings.Contains(s, "246810") {
		t.Errorf("Message.String() = %q shows the code", s)
	}
}

func TestServices(t *testing.T) {
	c, _ := newClient(t)
	var sids []string
	for _, name := range []string{"One", "Two", "Three"} {
		status, s, _ := c.call("POST", "/v2/Services", url.Values{"FriendlyName": {name}, "CodeLength": {"8"}, "LookupEnabled": {"true"}})
		if status != 201 || s["friendly_name"] != name || s["code_length"] != float64(8) || s["lookup_enabled"] != true {
			t.Fatalf("create: %d %v", status, s)
		}
		sids = append(sids, s["sid"].(string))
	}
	// Four services with the default one; pages of 3.
	status, page, _ := c.call("GET", "/v2/Services", url.Values{"PageSize": {"3"}})
	meta := page["meta"].(map[string]any)
	if status != 200 || len(page["services"].([]any)) != 3 || meta["key"] != "services" || meta["page_size"] != float64(3) ||
		meta["previous_page_url"] != nil || meta["next_page_url"] == nil {
		t.Fatalf("page 1: %d %v", status, page)
	}
	next, _ := url.Parse(meta["next_page_url"].(string))
	if "http://"+next.Host != c.base {
		t.Errorf("next_page_url %v is not on the emulator %s", next, c.base)
	}
	_, page2, _ := c.call("GET", next.Path, next.Query())
	meta2 := page2["meta"].(map[string]any)
	if s := page2["services"].([]any); len(s) != 1 || s[0].(map[string]any)["sid"] != sids[2] || meta2["next_page_url"] != nil || meta2["previous_page_url"] == nil {
		t.Errorf("page 2: %v", page2)
	}
	// Verifications on a new service use its code length.
	status, _, _ = c.call("POST", "/v2/Services/"+sids[0]+"/Verifications", start(phone, "sms"))
	if status != 201 {
		t.Fatalf("start on a new service: %d", status)
	}
	status, body, _ := c.call("DELETE", "/v2/Services/"+sids[1], nil)
	if status != 204 || body != nil {
		t.Errorf("delete: %d %v", status, body)
	}
	status, body, _ = c.call("GET", "/v2/Services/"+sids[1], nil)
	wantError(t, "fetch deleted", status, body, 404, 20404)
	status, body, _ = c.call("DELETE", "/v2/Services/"+sids[1], nil)
	wantError(t, "delete again", status, body, 404, 20404)
	status, s, _ := c.call("POST", "/v2/Services/"+sids[0], url.Values{"FriendlyName": {"Renamed"}, "CodeLength": {"4"}})
	if status != 200 || s["friendly_name"] != "Renamed" || s["code_length"] != float64(4) {
		t.Errorf("update: %d %v", status, s)
	}
}

func TestCodeLengthOfService(t *testing.T) {
	c, srv := newClient(t)
	_, s, _ := c.call("POST", "/v2/Services", url.Values{"FriendlyName": {"Eight"}, "CodeLength": {"8"}})
	c.call("POST", "/v2/Services/"+s["sid"].(string)+"/Verifications", start(phone, "sms"))
	if code, _ := srv.LastCode(phone); len(code) != 8 {
		t.Errorf("code %q, want 8 digits", code)
	}
}

func TestOptionsValidate(t *testing.T) {
	for name, opt := range map[string]twiliotest.Option{
		"nil":            nil,
		"bad account":    twiliotest.WithCredentials("AC1", "t"),
		"empty token":    twiliotest.WithCredentials(twiliotest.DefaultAccountSID, ""),
		"bad key":        twiliotest.WithAPIKey("SK1", "s"),
		"bad base":       twiliotest.WithPublicBaseURL("ftp://x"),
		"bad service":    twiliotest.WithDefaultService("VA1"),
		"zero sends":     twiliotest.WithMaxSends(0),
		"zero checks":    twiliotest.WithMaxChecks(0),
		"zero validity":  twiliotest.WithValidity(0),
		"bad fixed code": twiliotest.WithFixedCode("1"),
		"negative wait":  twiliotest.WithRetryAfter(-1),
		"nil clock":      twiliotest.WithClock(nil),
		"zero outbox":    twiliotest.WithOutboxLimit(0),
	} {
		if _, err := twiliotest.New(opt); err == nil {
			t.Errorf("New(%s): no error", name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustNew with a bad option did not panic")
		}
	}()
	twiliotest.MustNew(twiliotest.WithOutboxLimit(-1))
}

func TestNoDefaultServiceAndPublicBase(t *testing.T) {
	c, _ := newClient(t, twiliotest.WithDefaultService(""), twiliotest.WithPublicBaseURL("http://127.0.0.1:9/"),
		twiliotest.WithCredentials("ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "tok"))
	c.user, c.pass = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "tok"
	status, body, _ := c.call("POST", verifications, start(phone, "sms"))
	wantError(t, "no default service", status, body, 404, 20404)
	_, s, _ := c.call("POST", "/v2/Services", url.Values{"FriendlyName": {"x"}})
	if !strings.HasPrefix(s["url"].(string), "http://127.0.0.1:9/v2/Services/VA") {
		t.Errorf("url = %v", s["url"])
	}
}

func TestApprovals(t *testing.T) {
	c, srv := newClient(t, twiliotest.WithOutboxLimit(2))
	var sids []string
	for _, to := range []string{"+14155550001", "+14155550002", "+14155550003"} {
		_, v, _ := c.call("POST", verifications, start(to, "sms"))
		sid := v["sid"].(string)
		code, _ := srv.LastCode(to)
		c.call("POST", checkPath, url.Values{"To": {to}, "Code": {wrongCode(code)}})
		if len(srv.Approvals()) != len(sids) && len(sids) < 2 {
			t.Fatal("a wrong code was recorded as an approval")
		}
		if to == "+14155550003" {
			c.call("POST", verifications+"/"+sid, url.Values{"Status": {"approved"}})
		} else {
			c.call("POST", checkPath, url.Values{"To": {to}, "Code": {code}})
		}
		sids = append(sids, sid)
	}
	// The limit keeps the newest two.
	if got := srv.Approvals(); len(got) != 2 || got[0] != sids[1] || got[1] != sids[2] {
		t.Errorf("Approvals() = %v, want %v", got, sids[1:])
	}
}
