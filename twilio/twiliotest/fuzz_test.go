package twiliotest_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// FuzzEmulatorRequest sends arbitrary methods, paths, auth headers,
// content types and bodies to the emulator. It must never panic (other than
// the deliberate abort of a dropped connection); every answer under /v2/
// must be Twilio's JSON: a resource, or an error with a code and a matching
// status; the control endpoints must refuse a request without the
// credentials, and the fault endpoint anything but JSON; and every URL in an
// answer must point at the emulator.
func FuzzEmulatorRequest(f *testing.F) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(twiliotest.DefaultAccountSID+":"+twiliotest.DefaultAuthToken))
	const form = "application/x-www-form-urlencoded"
	f.Add("POST", "/v2/Services/"+svc+"/Verifications", basic, form, "To=%2B14155552671&Channel=sms")
	f.Add("POST", "/v2/Services/"+svc+"/Verifications", basic, form, "To=%2B14155552671&Channel=sna")
	f.Add("POST", "/v2/Services/"+svc+"/Verifications", basic, form, "To=a%40example.com&Channel=email&ChannelConfiguration=%7B%22from%22%3A1%7D&Locale=xx")
	f.Add("POST", "/v2/Services", basic, form, "FriendlyName=x&Psd2Enabled=true")
	f.Add("GET", "/v2/Services?PageSize=1&PageToken=PTMTpWQTAw&Page=3", basic, "", "")
	f.Add("GET", "/v2/Services/"+svc+"/RateLimits/RK00", basic, "", "")
	f.Add("POST", "/v2/SafeList/Numbers", basic, form, "PhoneNumber=%2B14155552671")
	f.Add("GET", "/v2/SafeList/Numbers/+14155552671", basic, "", "")
	f.Add("POST", "/v2/Services/"+svc+"/RateLimits", basic, form, "UniqueName=ip&Description=d")
	f.Add("POST", "/v2/Services/"+svc+"/RateLimits/RK00/Buckets", basic, form, "Max=1&Interval=60")
	f.Add("POST", "/v2/Services/"+svc+"/Verifications", basic, form, "To=%2B14155552671&Channel=sms&RateLimits=%7B%22ip%22%3A1%7D")
	f.Add("GET", "/v2/Attempts?Channel=sms&Country=us&DateCreatedAfter=2026-01-02T03%3A04%3A05Z&Status=converted&PageSize=1", basic, "", "")
	f.Add("GET", "/v2/Attempts/Summary?DestinationPrefix=%2B1&VerifyServiceSid=VA1", basic, "", "")
	f.Add("PUT", "/v2/Services/"+svc+"/VerificationCheck", basic, form, "")
	f.Add("POST", "/_emulator/faults", basic, "application/json", `{"op":"check","to":"+1","times":3}`)
	f.Add("POST", "/_emulator/faults", "", "text/plain", `{"op":"check"}`)
	f.Add("POST", "/_emulator/faults", basic, "text/plain", `{"op":"check"}`)
	f.Add("POST", "/_emulator/faults", basic, "application/json", `{"op":"nope"}`)
	f.Add("GET", "/_emulator/messages?to=x", "", "", "")
	f.Add("GET", "/_emulator/", basic, "", "")
	f.Add("POST", "/_emulator/clock?advance=1h", basic, "", "")
	f.Add("GET", "/_emulator/sna/00", "", "", "")
	f.Add("POST", "/v2/Services/"+svc+"/VerificationCheck", basic, form, "To=%2B14155552671&Code=123456")
	f.Add("POST", "/v2/Services/"+svc+"/VerificationCheck", basic, form, "VerificationSid=VE00&Code=%00%ff")
	f.Add("GET", "/v2/Services/"+svc+"/Verifications/VE0000000000000000000000000000000a", basic, "", "")
	f.Add("POST", "/v2/Services", basic, form, "FriendlyName=x&CodeLength=99999999999999999999")
	f.Add("GET", "/v2/Services?PageSize=-1&PageToken=%ZZ", basic, "", "")
	f.Add("POST", "/v2/Services/"+svc+"/Verifications", "Basic !!!", form, "To=x")
	f.Add("POST", "/v2/Services/"+svc+"/Verifications", "Bearer x", form, "")
	f.Add("DELETE", "/v2/Services/../../etc/passwd", basic, "", "")
	f.Add("POST", "/v2/Services/"+svc+"/Verifications", basic, form, strings.Repeat("a=", 40000))
	f.Add("PATCH", "/v2/Services/"+svc, basic, form, "Status=approved")
	f.Add("POST", "/v2/Services/"+svc+"/Webhooks", basic, form, "FriendlyName=a&EventTypes=*&EventTypes=factor.verified&WebhookUrl=https%3A%2F%2Fapp.example%2Fh&Status=disabled&Version=v1")
	f.Add("POST", "/v2/Services/"+svc+"/Webhooks/YW00", basic, form, "EventTypes=factor.bogus")
	f.Add("GET", "/v2/Services/"+svc+"/Webhooks?PageSize=1", basic, "", "")
	f.Add("POST", "/_emulator/webhooks/deliver", basic, "", "")
	device := "Basic " + base64.StdEncoding.EncodeToString([]byte("token:eyJhbGciOiJFUzI1NiJ9.e30.c2ln"))
	f.Add("POST", "/v2/Services/"+svc+"/Entities/user-0000-0001/Factors", device, form, "FriendlyName=p&FactorType=push&Binding.PublicKey=AAAA&Binding.Alg=ES256&Config.AppId=a&Config.NotificationPlatform=none")
	f.Add("GET", "/v2/Services/"+svc+"/Entities/user-0000-0001/Challenges/YC00000000000000000000000000000000", device, "", "")
	f.Add("POST", "/v2/Services/"+svc+"/Entities/user-0000-0001/Challenges", device, form, "FactorSid=YF00")
	f.Add("POST", "/v2/Services/"+svc+"/AccessTokens", basic, form, "Identity=user-0000-0001&FactorType=push&Ttl=300")
	f.Add("POST", "/v2/Services/"+svc+"/Entities/user-0000-0001/Challenges/YC00000000000000000000000000000000/Notifications", basic, form, "Ttl=0")
	f.Fuzz(func(t *testing.T, method, path, auth, contentType, body string) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\x00") ||
			strings.ContainsAny(auth, "\r\n\x00") || strings.ContainsAny(contentType, "\r\n\x00") {
			return // not an HTTP request a server can receive
		}
		e := twiliotest.MustNew()
		req, err := http.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		func() {
			defer func() {
				if p := recover(); p != nil && p != http.ErrAbortHandler {
					t.Fatalf("%s %s panicked: %v", method, path, p)
				}
			}()
			e.ServeHTTP(rec, req)
		}()
		p := req.URL.Path
		control := strings.HasPrefix(p, "/_emulator") && !strings.HasPrefix(p, "/_emulator/sna/")
		if control && auth != basic && rec.Code != http.StatusUnauthorized {
			t.Fatalf("%s %s with auth %q: %d, want 401", method, path, auth, rec.Code)
		}
		if p == "/_emulator/faults" && method == "POST" && rec.Code == http.StatusNoContent && !strings.HasPrefix(contentType, "application/json") {
			t.Fatalf("a fault with Content-Type %q was accepted", contentType)
		}
		// A webhook's URL is the application's, echoed.
		for _, u := range urlPattern.FindAllString(webhookURL.ReplaceAllString(rec.Body.String(), ""), -1) {
			if !strings.HasPrefix(u, "http://127.0.0.1/") && !strings.HasPrefix(u, "https://www.twilio.com/docs/errors/") {
				t.Fatalf("%s %s: the answer has a URL off the emulator: %s", method, path, u)
			}
		}
		if !strings.HasPrefix(p, "/v2/") || rec.Code == 200 && rec.Body.Len() == 0 {
			return
		}
		if rec.Code == http.StatusNoContent {
			return
		}
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("%s %s: %d with a non-JSON body %q", method, path, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 && (doc["status"] != float64(rec.Code) || doc["code"] == nil) {
			t.Fatalf("%s %s: %d with error body %v", method, path, rec.Code, doc)
		}
	})
}

// webhookURL finds the webhook_url fields of an answer.
var webhookURL = regexp.MustCompile(`"webhook_url":"(?:[^"\\]|\\.)*"`)

// urlPattern finds absolute URLs in an answer.
var urlPattern = regexp.MustCompile(`https?://[^"\s<>]*`)

func validMethod(m string) bool {
	switch m {
	case "GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS":
		return true
	}
	return false
}
