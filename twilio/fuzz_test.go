package twilio_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

// fuzzClient returns a client whose every request is answered with status
// and body, in memory, without retries.
func fuzzClient(t testing.TB, status int, body []byte, header string) *twilio.Client {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if header != "" {
			w.Header().Set("Retry-After", header)
		}
		w.WriteHeader(status)
		w.Write(body)
	})
	c, err := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken), twilio.WithBaseURL("http://127.0.0.1:1"),
		twilio.WithHTTPClient(&http.Client{Transport: handlerTransport{h}}), twilio.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FuzzDecodeVerification feeds arbitrary success bodies to Check and Fetch:
// the client must never panic, and must either decode a verification or
// say the outcome is unknown (Check) or the answer unavailable (Fetch),
// never invent an approval.
func FuzzDecodeVerification(f *testing.F) {
	for _, name := range []string{"verification_created.json", "verification_sna.json", "check_approved.json", "check_pending.json"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"status":"approved","valid":false,"send_code_attempts":[{"time":"not a time"}]}`))
	f.Add([]byte(`{"sid":null,"lookup":{"carrier":{"error_code":"x"}}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		c := fuzzClient(t, 200, body, "")
		v, err := c.Check(context.Background(), provider.CheckRequest{ID: veSID, Code: "123456"})
		if err != nil {
			if !errors.Is(err, provider.ErrOutcomeUnknown) {
				t.Fatalf("Check error %v does not match ErrOutcomeUnknown", err)
			}
			if v.ID != "" || v.Status != "" {
				t.Fatalf("Check returned %v with error %v", v, err)
			}
		} else {
			// Any outcome must be about the verification checked; an
			// approval must be what the body says, read independently.
			var doc struct {
				SID, Status string
				Valid       bool
			}
			if v.ID != veSID || v.Status == "" {
				t.Fatalf("Check gave %v for another verification, or no status", v)
			}
			if v.Approved() && (json.Unmarshal(body, &doc) != nil || doc.Status != "approved" || doc.SID != veSID || !doc.Valid) {
				t.Fatalf("Check approved, but the body %q does not say so", body)
			}
		}
		if _, err := c.Fetch(context.Background(), veSID); err != nil && !errors.Is(err, provider.ErrUnavailable) {
			t.Fatalf("Fetch error %v does not match ErrUnavailable", err)
		}
	})
}

// FuzzDecodeError feeds arbitrary error responses: every one must become an
// error that matches exactly one sentinel, never panic, and never show a
// code the request carried.
func FuzzDecodeError(f *testing.F) {
	f.Add(429, []byte(`{"code":60203,"message":"Max send attempts reached","status":429}`), "")
	f.Add(503, []byte(`<html>Service Unavailable</html>`), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(400, []byte(`{"code":60200,"message":"Invalid parameter: Code 123456","status":400}`), "5")
	f.Add(404, []byte(`{"code":"20404"}`), "-1")
	f.Add(500, []byte(`{"code":1e400}`), "99999999999999999999")
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		if status < 400 || status > 599 {
			return
		}
		if strings.ContainsAny(retryAfter, "\r\n\x00") || !validHeader(retryAfter) {
			retryAfter = ""
		}
		c := fuzzClient(t, status, body, retryAfter)
		_, err := c.Check(context.Background(), provider.CheckRequest{To: "+14155552671", Code: "123456"})
		if err == nil {
			t.Fatalf("status %d gave no error", status)
		}
		matched := 0
		for _, s := range allSentinels {
			if errors.Is(err, s) {
				matched++
			}
		}
		if matched != 1 {
			t.Fatalf("status %d body %q: error %v matches %d sentinels", status, body, err, matched)
		}
		if strings.Contains(err.Error(), "123456") {
			t.Fatalf("error %q shows the code", err)
		}
		if d, ok := provider.RetryAfter(err); ok && d < 0 {
			t.Fatalf("negative Retry-After %v", d)
		}
	})
}

func validHeader(s string) bool {
	for i := range len(s) {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}
