package twiliotest_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// FuzzEmulatorRequest sends arbitrary methods, paths, auth headers and
// bodies to the emulator. It must never panic (other than the deliberate
// abort of a dropped connection), and every answer under /v2/ must be
// Twilio's JSON: a resource, or an error with a code and a matching status.
func FuzzEmulatorRequest(f *testing.F) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(twiliotest.DefaultAccountSID+":"+twiliotest.DefaultAuthToken))
	f.Add("POST", "/v2/Services/"+svc+"/Verifications", basic, "To=%2B14155552671&Channel=sms")
	f.Add("POST", "/v2/Services/"+svc+"/VerificationCheck", basic, "To=%2B14155552671&Code=123456")
	f.Add("POST", "/v2/Services/"+svc+"/VerificationCheck", basic, "VerificationSid=VE00&Code=%00%ff")
	f.Add("GET", "/v2/Services/"+svc+"/Verifications/VE0000000000000000000000000000000a", basic, "")
	f.Add("POST", "/v2/Services", basic, "FriendlyName=x&CodeLength=99999999999999999999")
	f.Add("GET", "/v2/Services?PageSize=-1&PageToken=%ZZ", basic, "")
	f.Add("POST", "/v2/Services/"+svc+"/Verifications", "Basic !!!", "To=x")
	f.Add("POST", "/v2/Services/"+svc+"/Verifications", "Bearer x", "")
	f.Add("DELETE", "/v2/Services/../../etc/passwd", basic, "")
	f.Add("POST", "/v2/Services/"+svc+"/Verifications", basic, strings.Repeat("a=", 40000))
	f.Add("PATCH", "/v2/Services/"+svc, basic, "Status=approved")
	f.Fuzz(func(t *testing.T, method, path, auth, body string) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\x00") || strings.ContainsAny(auth, "\r\n\x00") {
			return // not an HTTP request a server can receive
		}
		e := twiliotest.MustNew()
		req, err := http.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
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
		if !strings.HasPrefix(req.URL.Path, "/v2/") || rec.Code == 200 && rec.Body.Len() == 0 {
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

func validMethod(m string) bool {
	switch m {
	case "GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS":
		return true
	}
	return false
}
