package twiliotest_test

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// The tests of this file each pin a behaviour in which the emulator once
// differed from Twilio.

func TestPSD2(t *testing.T) {
	t.Parallel()
	c, srv := newClient(t)
	_, s, _ := c.call("POST", "/v2/Services", url.Values{"FriendlyName": {"bank"}, "Psd2Enabled": {"true"}})
	base := "/v2/Services/" + s["sid"].(string)
	form := url.Values{"To": {phone}, "Channel": {"sms"}, "Amount": {"€39.99"}, "Payee": {"Acme Inc."}}
	status, v, _ := c.call("POST", base+"/Verifications", form)
	if status != 201 || v["amount"] != "€39.99" || v["payee"] != "Acme Inc." {
		t.Fatalf("start: %d amount %v payee %v, want them echoed", status, v["amount"], v["payee"])
	}
	_, f, _ := c.call("GET", base+"/Verifications/"+v["sid"].(string), nil)
	if f["amount"] != "€39.99" || f["payee"] != "Acme Inc." {
		t.Errorf("fetch: amount %v payee %v", f["amount"], f["payee"])
	}
	code, _ := srv.LastCode(phone)
	for _, bad := range []url.Values{
		{"To": {phone}, "Code": {code}, "Amount": {"€1000.00"}, "Payee": {"Acme Inc."}},
		{"To": {phone}, "Code": {code}, "Amount": {"€39.99"}, "Payee": {"Mallory"}},
		{"To": {phone}, "Code": {code}},
	} {
		status, chk, _ := c.call("POST", base+"/VerificationCheck", bad)
		if status != 200 || chk["status"] != "pending" || chk["valid"] != false {
			t.Errorf("check with Amount %q Payee %q: %d %v, want pending", bad.Get("Amount"), bad.Get("Payee"), status, chk)
		}
	}
	status, chk, _ := c.call("POST", base+"/VerificationCheck", url.Values{"To": {phone}, "Code": {code}, "Amount": {"€39.99"}, "Payee": {"Acme Inc."}})
	if status != 200 || chk["status"] != "approved" || chk["amount"] != "€39.99" || chk["payee"] != "Acme Inc." {
		t.Errorf("matching check: %d %v", status, chk)
	}
	// Without psd2_enabled, they are not kept.
	_, v2, _ := c.call("POST", verifications, form)
	if v2["amount"] != nil || v2["payee"] != nil {
		t.Errorf("amount %v payee %v on a service without PSD2", v2["amount"], v2["payee"])
	}
}

func TestSIDsAndCodesPerService(t *testing.T) {
	t.Parallel()
	c, srv := newClient(t)
	seen := map[string]bool{}
	codes := map[string]bool{}
	for _, name := range []string{"a", "b", "c"} {
		_, s, _ := c.call("POST", "/v2/Services", url.Values{"FriendlyName": {name}})
		for _, path := range []string{"/v2/Services/" + s["sid"].(string), "/v2/Services/" + svc} {
			to := "+1415555" + map[string]string{"a": "1001", "b": "1002", "c": "1003"}[name]
			if path == "/v2/Services/"+svc {
				to = "+1415556" + to[8:]
			}
			_, v, _ := c.call("POST", path+"/Verifications", start(to, "sms"))
			sid := v["sid"].(string)
			if seen[sid] {
				t.Errorf("SID %s issued twice", sid)
			}
			seen[sid] = true
			code, _ := srv.LastCode(to)
			codes[code] = true
		}
	}
	if len(codes) < 5 {
		t.Errorf("6 verifications in 4 services got only %d distinct codes", len(codes))
	}
	if _, err := twiliotest.New(twiliotest.WithSeed(7), twiliotest.WithFixedCode("1234")); err != nil {
		t.Errorf("New(WithSeed, WithFixedCode): %v", err)
	}
}

func TestSilentNetworkAuth(t *testing.T) {
	t.Parallel()
	c, srv := newClient(t)
	const to = "+14155550188"
	status, v, _ := c.call("POST", verifications, start(to, "sna"))
	if status != 201 || v["channel"] != "sna" {
		t.Fatalf("start: %d %v", status, v)
	}
	snaURL, _ := v["sna"].(map[string]any)["url"].(string)
	if !strings.HasPrefix(snaURL, c.base+"/") {
		t.Fatalf("sna.url %q is not on the emulator", snaURL)
	}
	if _, ok := srv.LastMessage(to); ok {
		t.Error("an sna start put a code in the outbox")
	}
	// A check before the device step: pending, with 60519.
	status, chk, _ := c.call("POST", checkPath, url.Values{"To": {to}})
	codes, _ := chk["sna_attempts_error_codes"].([]any)
	if status != 200 || chk["status"] != "pending" || len(codes) != 1 || codes[0].(map[string]any)["code"] != float64(60519) ||
		!strings.HasPrefix(codes[0].(map[string]any)["attempt_sid"].(string), "VL") {
		t.Fatalf("check before the device step: %d %v", status, chk)
	}
	// The device opens the URL, with no credentials.
	resp, err := c.hc.Get(snaURL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET sna.url: %v %v", resp, err)
	}
	resp.Body.Close()
	status, chk, _ = c.call("POST", checkPath, url.Values{"VerificationSid": {v["sid"].(string)}})
	if status != 200 || chk["status"] != "approved" || chk["valid"] != true {
		t.Fatalf("check after the device step: %d %v", status, chk)
	}
	if got := srv.Approvals(); len(got) != 1 || got[0] != v["sid"] {
		t.Errorf("Approvals() = %v", got)
	}
	// The URL has done its work.
	if resp, _ := c.hc.Get(snaURL); resp.StatusCode != 404 {
		t.Errorf("sna.url after approval: %d", resp.StatusCode)
	}
	if resp, _ := c.hc.Get(c.base + "/_emulator/sna/nope"); resp.StatusCode != 404 {
		t.Errorf("unknown sna token: %d", resp.StatusCode)
	}
	// A check without a code is for sna only.
	c.call("POST", verifications, start(phone, "sms"))
	status, body, _ := c.call("POST", checkPath, url.Values{"To": {phone}})
	wantError(t, "sms check without a code", status, body, 400, 60200)
	status, body, _ = c.call("POST", checkPath, url.Values{"To": {"+14155550199"}})
	wantError(t, "check without a code or a verification", status, body, 404, 20404)
}

// TestSNAURLExpires checks that the device step of silent network auth
// is refused once the verification has expired: an old sna.url approves
// nothing.
func TestSNAURLExpires(t *testing.T) {
	t.Parallel()
	c, srv := newClient(t)
	const to = "+14155550187"
	status, v, _ := c.call("POST", verifications, start(to, "sna"))
	if status != 201 {
		t.Fatalf("start: %d %v", status, v)
	}
	snaURL, _ := v["sna"].(map[string]any)["url"].(string)
	srv.Advance(11 * time.Minute)
	resp, err := c.hc.Get(snaURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("sna.url after expiry: %d, want 404", resp.StatusCode)
	}
}

func TestChannelConfiguration(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	for _, tt := range []struct {
		name, to, ch, cfg string
		status            int
	}{
		{"not JSON", "a@example.com", "email", "{from:", 400},
		{"not an object", "a@example.com", "email", `["x"]`, 400},
		{"bad from", "a@example.com", "email", `{"from":"not an address"}`, 400},
		{"from not a string", "a@example.com", "email", `{"from":7}`, 400},
		{"substitutions not an object", "a@example.com", "email", `{"substitutions":"x"}`, 400},
		{"on sms", phone, "sms", `{"from":"team@example.com"}`, 400},
		{"good", "b@example.com", "email", `{"from":"team@example.com","from_name":"Team","template_id":"d-1","substitutions":{"x":"y"}}`, 201},
		{"auto to an address", "c@example.com", "auto", `{"from":"team@example.com"}`, 201},
	} {
		status, body, _ := c.call("POST", verifications, url.Values{"To": {tt.to}, "Channel": {tt.ch}, "ChannelConfiguration": {tt.cfg}})
		if status != tt.status {
			t.Errorf("%s: %d %v, want %d", tt.name, status, body, tt.status)
		} else if status == 400 {
			wantError(t, tt.name, status, body, 400, 60200)
		}
	}
}

func TestLocale(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	for i, l := range []string{"en", "pt-BR", "zh-hk", "en-GB"} {
		if status, body, _ := c.call("POST", verifications, url.Values{"To": {"+1415555010" + string(rune('0'+i))}, "Channel": {"sms"}, "Locale": {l}}); status != 201 {
			t.Errorf("Locale %q: %d %v", l, status, body)
		}
	}
	for _, l := range []string{"xx", "", "en-XX", "klingon"} {
		status, body, _ := c.call("POST", verifications, url.Values{"To": {phone}, "Channel": {"sms"}, "Locale": {l}})
		wantError(t, "Locale "+l, status, body, 404, 20404)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	for _, tt := range []struct{ method, path, allow string }{
		{"GET", checkPath, "POST"},
		{"DELETE", verifications, "POST"},
		{"PUT", "/v2/Services", "GET, POST"},
		{"PATCH", "/v2/Services/" + svc, "GET, POST, DELETE"},
		{"DELETE", verifications + "/VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "GET, POST"},
	} {
		status, body, hdr := c.call(tt.method, tt.path, nil)
		wantError(t, tt.method+" "+tt.path, status, body, 405, 20004)
		if hdr.Get("Allow") != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, hdr.Get("Allow"), tt.allow)
		}
	}
	status, body, _ := c.call("GET", "/v2/Nothing/Here", nil)
	wantError(t, "no such path", status, body, 404, 20404)
}

func TestPaging(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	want := []string{svc}
	for _, name := range []string{"a", "b", "c", "d"} {
		_, s, _ := c.call("POST", "/v2/Services", url.Values{"FriendlyName": {name}})
		want = append(want, s["sid"].(string))
	}
	sids := func(page map[string]any) []string {
		var out []string
		for _, s := range page["services"].([]any) {
			out = append(out, s.(map[string]any)["sid"].(string))
		}
		return out
	}
	// Page picks the page.
	_, p1, _ := c.call("GET", "/v2/Services", url.Values{"PageSize": {"2"}, "Page": {"1"}})
	if diff := cmp.Diff(want[2:4], sids(p1)); diff != "" || p1["meta"].(map[string]any)["page"] != float64(1) {
		t.Errorf("Page=1 (-want +got):\n%s meta %v", diff, p1["meta"])
	}
	// Following next_page_url visits every service once.
	var got []string
	q := url.Values{"PageSize": {"2"}}
	for range 10 {
		_, p, _ := c.call("GET", "/v2/Services", q)
		got = append(got, sids(p)...)
		next, _ := p["meta"].(map[string]any)["next_page_url"].(string)
		if next == "" {
			break
		}
		u, _ := url.Parse(next)
		q = u.Query()
		if tok := q.Get("PageToken"); tok == "" || tok == "2" || tok == "4" {
			t.Errorf("PageToken %q is not opaque", tok)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paging (-want +got):\n%s", diff)
	}
	// A services token names its page's first service: a deletion before
	// it does not make the next page skip one.
	_, p0, _ := c.call("GET", "/v2/Services", url.Values{"PageSize": {"2"}})
	next, _ := url.Parse(p0["meta"].(map[string]any)["next_page_url"].(string))
	c.call("DELETE", "/v2/Services/"+want[1], nil)
	_, p2, _ := c.call("GET", "/v2/Services", next.Query())
	if diff := cmp.Diff(want[2:4], sids(p2)); diff != "" {
		t.Errorf("next page after a deletion (-want +got):\n%s", diff)
	}
	// The factor lists page the same way.
	ent := "/v2/Services/" + svc + "/Entities/ff483d1ff591898a9942916050d2ca3f"
	for range 3 {
		c.call("POST", ent+"/Factors", url.Values{"FriendlyName": {"phone"}, "FactorType": {"totp"}})
	}
	n := 0
	q = url.Values{"PageSize": {"2"}}
	for range 10 {
		_, p, _ := c.call("GET", ent+"/Factors", q)
		n += len(p["factors"].([]any))
		next, _ := p["meta"].(map[string]any)["next_page_url"].(string)
		if next == "" {
			break
		}
		u, _ := url.Parse(next)
		q = u.Query()
		if tok := q.Get("PageToken"); tok == "" || tok == "2" {
			t.Errorf("factors: PageToken %q is not opaque", tok)
		}
	}
	if n != 3 {
		t.Errorf("paged through %d factors, want 3", n)
	}
	// A bare index is not a token.
	status, body, _ := c.call("GET", "/v2/Services", url.Values{"PageSize": {"2"}, "PageToken": {"2"}})
	wantError(t, "a bare index as PageToken", status, body, 400, 60200)
	// A token naming no page's first item (index 0 has no token; a
	// negative index is none) is refused, not served.
	for _, idx := range []string{"0", "-1", "-100"} {
		tok := "PT" + base64.RawURLEncoding.EncodeToString([]byte(idx+":"))
		status, body, _ = c.call("GET", "/v2/Services", url.Values{"PageSize": {"2"}, "PageToken": {tok}})
		wantError(t, "PageToken for index "+idx, status, body, 400, 60200)
		status, body, _ = c.call("GET", "/v2/Services/"+svc+"/Entities", url.Values{"PageSize": {"2"}, "PageToken": {tok}})
		wantError(t, "entities: PageToken for index "+idx, status, body, 400, 60306)
	}
	// A forged token past the end serves an empty page with no next
	// page, even at the largest index.
	for _, idx := range []string{"100", "9223372036854775807"} {
		tok := "PT" + base64.RawURLEncoding.EncodeToString([]byte(idx+":"))
		_, p, _ := c.call("GET", "/v2/Services", url.Values{"PageSize": {"2"}, "PageToken": {tok}})
		if n, next := len(p["services"].([]any)), p["meta"].(map[string]any)["next_page_url"]; n != 0 || next != nil {
			t.Errorf("PageToken for index %s: %d services, next_page_url %v; want none", idx, n, next)
		}
	}
	status, body, _ = c.call("GET", "/v2/Services", url.Values{"Page": {"-1"}})
	wantError(t, "negative Page", status, body, 400, 60200)
}

func TestSendAttemptTimesKeepSubSeconds(t *testing.T) {
	t.Parallel()
	clock := fake.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC))
	c, _ := newClient(t, twiliotest.WithClock(clock.Now))
	_, v, _ := c.call("POST", verifications, start(phone, "sms"))
	a := v["send_code_attempts"].([]any)[0].(map[string]any)
	if a["time"] != "2026-01-02T03:04:05.678Z" {
		t.Errorf("attempt time %v, want 2026-01-02T03:04:05.678Z", a["time"])
	}
}

func TestServiceLinks(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	_, s, _ := c.call("GET", "/v2/Services/"+svc, nil)
	links := s["links"].(map[string]any)
	if len(links) != 7 {
		t.Errorf("links = %v, want Twilio's 7", links)
	}
	for name, l := range links {
		u, _ := url.Parse(l.(string))
		switch name {
		case "verifications", "verification_checks", "entities", "rate_limits", "messaging_configurations", "webhooks", "access_tokens":
			continue // served: see the other tests
		}
		if !slices.Contains([]string{"access_tokens"}, name) {
			t.Errorf("unexpected link %s", name)
			continue
		}
		for _, method := range []string{"GET", "POST"} {
			status, body, _ := c.call(method, u.Path, nil)
			wantError(t, method+" "+name, status, body, 403, 60204)
			if msg, _ := body["message"].(string); !strings.Contains(msg, "emulator does not serve") {
				t.Errorf("%s: message %q does not say the emulator lacks it", name, msg)
			}
		}
		status, body, _ := c.call("GET", u.Path+"/XX00000000000000000000000000000000", nil)
		wantError(t, "GET "+name+"/XX…", status, body, 403, 60204)
	}
	status, body, _ := c.call("GET", "/v2/Services/VAffffffffffffffffffffffffffffffff/RateLimits", nil)
	wantError(t, "RateLimits of an unknown service", status, body, 404, 20404)
}
