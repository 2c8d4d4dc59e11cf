package twiliotest_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// TestServiceUpdateRace updates a service while verifications run on it.
// The race detector must stay quiet, and a verification started before a
// change of code length must still be checkable with its code.
func TestServiceUpdateRace(t *testing.T) {
	t.Parallel()
	c, srv := newClient(t)
	status, v, _ := c.call("POST", verifications, start(phone, "sms"))
	if status != 201 {
		t.Fatalf("start: %d %v", status, v)
	}
	code, _ := srv.LastCode(phone)

	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 10 {
				c.call("POST", "/v2/Services/"+svc, url.Values{"CodeLength": {fmt.Sprint(4 + (i+j)%6)}, "FriendlyName": {fmt.Sprint("name", j)}})
			}
		}()
		go func() {
			defer wg.Done()
			to := fmt.Sprintf("+1415555%04d", i)
			for range 10 {
				c.call("POST", verifications, start(to, "sms"))
				c.call("POST", checkPath, url.Values{"To": {to}, "Code": {"0000"}})
				c.call("GET", "/v2/Services/"+svc, nil)
			}
		}()
	}
	wg.Wait()

	// The first verification survived every change of code length.
	status, chk, _ := c.call("POST", checkPath, url.Values{"To": {phone}, "Code": {code}})
	if status != 200 || chk["status"] != "approved" || chk["sid"] != v["sid"] {
		t.Errorf("check after the updates: %d %v, want approved", status, chk)
	}
	// New verifications use the new length.
	c.call("POST", "/v2/Services/"+svc, url.Values{"CodeLength": {"9"}})
	c.call("POST", verifications, start("+14155550999", "sms"))
	if code, _ := srv.LastCode("+14155550999"); len(code) != 9 {
		t.Errorf("code %q after CodeLength=9", code)
	}
}

// TestStalledBody sends a request whose body never arrives. Other requests
// must not wait for it (even with a fault that reads To scheduled), and
// the stalled connection is closed once the body timeout passes.
func TestStalledBody(t *testing.T) {
	t.Parallel()
	c, srv := newClient(t, twiliotest.WithBodyTimeout(50*time.Millisecond))
	if err := srv.InjectFault(twiliotest.Fault{Op: "check", To: "+14155550000"}); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(c.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nTo=%%2B1",
		checkPath, basicAuth(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken))

	done := make(chan int, 1)
	go func() {
		status, _, _ := c.call("POST", verifications, start(phone, "sms"))
		done <- status
	}()
	select {
	case status := <-done:
		if status != 201 {
			t.Errorf("start beside a stalled body: %d", status)
		}
	case <-time.After(10 * time.Second): // a bound on a hang, not a timing assertion
		t.Fatal("a stalled body froze the emulator")
	}

	// The stalled request is answered 400 and its connection closed.
	conn.SetDeadline(time.Now().Add(10 * time.Second)) // a bound on a hang
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the stalled request: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !resp.Close {
		t.Errorf("stalled body: %d close=%v %s", resp.StatusCode, resp.Close, body)
	}
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Error("the stalled connection is still open")
	}
}

func basicAuth(user, pass string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func TestConfigureServer(t *testing.T) {
	t.Parallel()
	var s http.Server
	twiliotest.ConfigureServer(&s)
	if s.ReadHeaderTimeout == 0 || s.ReadTimeout == 0 || s.IdleTimeout == 0 {
		t.Errorf("timeouts %v %v %v", s.ReadHeaderTimeout, s.ReadTimeout, s.IdleTimeout)
	}
	s = http.Server{ReadTimeout: time.Second}
	twiliotest.ConfigureServer(&s)
	if s.ReadTimeout != time.Second {
		t.Error("ConfigureServer overrode a timeout already set")
	}
}

// TestBounds fills each bounded store and checks the answer when full.
func TestBounds(t *testing.T) {
	t.Parallel()
	t.Run("services", func(t *testing.T) {
		c, _ := newClient(t, twiliotest.WithMaxServices(2))
		if status, _, _ := c.call("POST", "/v2/Services", url.Values{"FriendlyName": {"one"}}); status != 201 {
			t.Fatalf("create: %d", status)
		}
		status, body, _ := c.call("POST", "/v2/Services", url.Values{"FriendlyName": {"two"}})
		wantError(t, "a service over the bound", status, body, 429, 20429)
	})
	t.Run("faults", func(t *testing.T) {
		c, srv := newClient(t)
		for range 99 {
			if err := srv.InjectFault(twiliotest.Fault{Op: "check"}); err != nil {
				t.Fatal(err)
			}
		}
		if resp, body := c.raw("POST", "/_emulator/faults", "application/json", `{"op":"check"}`); resp.StatusCode != 204 {
			t.Fatalf("the 100th fault: %d %s", resp.StatusCode, body)
		}
		resp, data := c.raw("POST", "/_emulator/faults", "application/json", `{"op":"check"}`)
		var body map[string]any
		json.Unmarshal(data, &body)
		wantError(t, "a fault over the bound", resp.StatusCode, body, 429, 20429)
		if err := srv.InjectFault(twiliotest.Fault{}); !errors.Is(err, twiliotest.ErrTooManyFaults) {
			t.Errorf("InjectFault over the bound: %v", err)
		}
		srv.ClearFaults()
		if err := srv.InjectFault(twiliotest.Fault{}); err != nil {
			t.Errorf("InjectFault after clearing: %v", err)
		}
	})
	t.Run("pending", func(t *testing.T) {
		c, srv := newClient(t, twiliotest.WithMaxPending(2), twiliotest.WithRetryAfter(time.Second))
		for _, to := range []string{"+14155550001", "+14155550002"} {
			if status, _, _ := c.call("POST", verifications, start(to, "sms")); status != 201 {
				t.Fatalf("start: %d", status)
			}
		}
		status, body, hdr := c.call("POST", verifications, start("+14155550003", "sms"))
		wantError(t, "a pending verification over the bound", status, body, 429, 20429)
		if hdr.Get("Retry-After") != "1" {
			t.Errorf("Retry-After = %q", hdr.Get("Retry-After"))
		}
		// A re-send creates nothing: allowed.
		if status, _, _ := c.call("POST", verifications, start("+14155550001", "call")); status != 201 {
			t.Errorf("re-send at the bound: %d", status)
		}
		// Ending one frees a place.
		code, _ := srv.LastCode("+14155550001")
		c.call("POST", checkPath, url.Values{"To": {"+14155550001"}, "Code": {code}})
		if status, _, _ := c.call("POST", verifications, start("+14155550003", "sms")); status != 201 {
			t.Errorf("start after one ended: %d", status)
		}
		// Expiry frees them all.
		srv.Advance(11 * time.Minute)
		if status, _, _ := c.call("POST", verifications, start("+14155550004", "sms")); status != 201 {
			t.Errorf("start after expiry: %d", status)
		}
		if n := srv.Pending(); n != 1 {
			t.Errorf("Pending = %d, want 1", n)
		}
	})
}

// TestFaultEndpointRefuses checks what POST /_emulator/faults refuses: a
// body a web page could send cross-origin without a preflight, unknown
// operations, and oversized or malformed faults.
func TestFaultEndpointRefuses(t *testing.T) {
	t.Parallel()
	c, srv := newClient(t)
	for _, tt := range []struct {
		name, ct, body string
		status         int
	}{
		{"text/plain", "text/plain", `{"op":"check"}`, 415},
		{"form", "application/x-www-form-urlencoded", `{"op":"check"}`, 415},
		{"no content type", "", `{"op":"check"}`, 415},
		{"unknown op", "application/json", `{"op":"chekc"}`, 400},
		{"huge message", "application/json", `{"message":"` + strings.Repeat("x", 2000) + `"}`, 400},
		{"huge body", "application/json", `{"message":"` + strings.Repeat("x", 60000) + `"}`, 400},
		{"two objects", "application/json", `{"op":"check"}{"op":"start"}`, 400},
		{"huge times", "application/json", `{"times":100000000}`, 400},
		{"ok with charset", "application/json; charset=utf-8", `{"op":"check"}`, 204},
	} {
		resp, body := c.raw("POST", "/_emulator/faults", tt.ct, tt.body)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, resp.StatusCode, body, tt.status)
		}
	}
	// Only the last was scheduled: the next check fails, the one after it not.
	c.call("POST", verifications, start(phone, "sms"))
	if status, _, _ := c.call("POST", checkPath, url.Values{"To": {phone}, "Code": {"000000"}}); status != 503 {
		t.Errorf("check after the one fault scheduled: %d, want 503", status)
	}
	if status, _, _ := c.call("POST", checkPath, url.Values{"To": {phone}, "Code": {"000000"}}); status != 200 {
		t.Errorf("second check: %d, want 200 (only one fault was scheduled)", status)
	}
	if _, body := c.raw("POST", "/_emulator/faults", "application/json", `{"op":"chekc"}`); !strings.Contains(string(body), `"message":"fault: unknown op`) {
		t.Errorf("unknown op: %s, want the message fault: unknown op …", body)
	}
	if err := srv.InjectFault(twiliotest.Fault{Op: "bogus"}); err == nil {
		t.Error("InjectFault took an unknown op")
	}
}

// TestURLsPointAtTheEmulator collects every URL in the emulator's answers
// and checks that each is on the emulator itself.
func TestURLsPointAtTheEmulator(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	var urls []string
	// URLs are the values of "url", of keys ending in "_url" and under
	// "links", and any string that looks like an absolute http(s) URL.
	var walk func(key string, v any, link bool)
	walk = func(key string, v any, link bool) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(k, x, link || k == "links")
			}
		case []any:
			for _, x := range v {
				walk(key, x, link)
			}
		case string:
			if link || key == "url" || strings.HasSuffix(key, "_url") || strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
				urls = append(urls, v)
			}
		}
	}
	collect := func(v any) { walk("", v, false) }
	for range 3 {
		_, s, _ := c.call("POST", "/v2/Services", url.Values{"FriendlyName": {"x"}})
		collect(s)
	}
	_, list, _ := c.call("GET", "/v2/Services", url.Values{"PageSize": {"2"}})
	collect(list)
	next, _ := list["meta"].(map[string]any)["next_page_url"].(string)
	u, _ := url.Parse(next)
	_, list2, _ := c.call("GET", u.Path, u.Query())
	collect(list2)
	_, v, _ := c.call("POST", verifications, start(phone, "sms"))
	collect(v)
	_, sna, _ := c.call("POST", verifications, start("+14155550123", "sna"))
	collect(sna)
	ent := "/v2/Services/" + svc + "/Entities/ff483d1ff591898a9942916050d2ca3f"
	for range 2 {
		status, fa, _ := c.call("POST", ent+"/Factors", url.Values{"FriendlyName": {"phone"}, "FactorType": {"totp"}})
		if status != 201 {
			t.Fatalf("create a factor: %d %v", status, fa)
		}
		collect(fa)
	}
	_, en, _ := c.call("GET", ent, nil)
	collect(en)
	_, fl, _ := c.call("GET", ent+"/Factors", url.Values{"PageSize": {"1"}})
	collect(fl)
	if len(urls) < 30 {
		t.Fatalf("only %d URLs found: %v", len(urls), urls)
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, c.base+"/") {
			t.Errorf("%s is not on the emulator %s", u, c.base)
		}
	}
}

// TestPendingIndexUnderConcurrency runs starts, checks, cancels, approvals
// and fetches on a small pool of numbers from several goroutines, then
// compares the emulator's count of pending verifications (which the
// WithMaxPending bound uses) with the truth: the SIDs that still fetch.
func TestPendingIndexUnderConcurrency(t *testing.T) {
	t.Parallel()
	c, srv := newClient(t, twiliotest.WithFixedCode("4242"))
	var mu sync.Mutex
	sids := map[string]bool{}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 120 {
				to := fmt.Sprintf("+1415555%04d", (g*7+i*3)%25)
				switch i % 6 {
				case 0, 3:
					if status, v, _ := c.call("POST", verifications, start(to, []string{"sms", "sna", "call"}[i%3])); status == 201 {
						mu.Lock()
						sids[v["sid"].(string)] = true
						mu.Unlock()
					}
				case 1:
					c.call("POST", checkPath, url.Values{"To": {to}, "Code": {"4242"}})
				case 2:
					c.call("POST", checkPath, url.Values{"To": {to}, "Code": {"0000"}})
				case 4:
					_, v, _ := c.call("POST", verifications, start(to, "sms"))
					if sid, ok := v["sid"].(string); ok {
						c.call("POST", verifications+"/"+sid, url.Values{"Status": {[]string{"canceled", "approved"}[i%2]}})
					}
				case 5:
					c.call("POST", checkPath, url.Values{"To": {to}})
				}
			}
		}()
	}
	wg.Wait()
	n := srv.Pending() // before the fetches, which tidy the index
	pending := 0
	for sid := range sids {
		if status, _, _ := c.call("GET", verifications+"/"+sid, nil); status == 200 {
			pending++
		}
	}
	if n != pending {
		t.Errorf("Pending = %d; %d verifications still fetch", n, pending)
	}
	srv.Advance(11 * time.Minute)
	if n := srv.Pending(); n != 0 {
		t.Errorf("%d pending after every code expired", n)
	}
}

// TestLastWrongCodeLeavesTheIndex: the wrong code that uses up a
// verification's checks ends it (a fetch answers 404), and Stats stops
// counting it as pending at once, not at its expiry.
func TestLastWrongCodeLeavesTheIndex(t *testing.T) {
	t.Parallel()
	c, srv := newClient(t, twiliotest.WithFixedCode("4242"))
	status, v, _ := c.call("POST", verifications, start(phone, "sms"))
	if status != 201 {
		t.Fatalf("start: %d %v", status, v)
	}
	for i := range 5 {
		if got := srv.Pending(); got != 1 {
			t.Fatalf("after %d wrong codes: Pending = %d, want 1", i, got)
		}
		c.call("POST", checkPath, url.Values{"To": {phone}, "Code": {"0000"}})
	}
	// Pending first: a fetch that answers 404 tidies the index itself.
	if got := srv.Pending(); got != 0 {
		t.Errorf("after the last wrong code: Pending = %d, want 0", got)
	}
	if status, _, _ := c.call("GET", verifications+"/"+v["sid"].(string), nil); status != 404 {
		t.Fatalf("fetch after the last wrong code: %d, want 404", status)
	}
}
