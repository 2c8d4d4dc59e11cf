package twiliotest_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

const factorBase = "/v2/Services/" + twiliotest.DefaultServiceSID + "/Entities/"

// FuzzEmulatorFactorRequest sends arbitrary methods, paths and bodies to
// the factor endpoints of an emulator holding one verified factor. It must
// never panic or fail (5xx), every answer must be Twilio's JSON, and the
// factor's secret must never appear in an answer after its creation.
func FuzzEmulatorFactorRequest(f *testing.F) {
	f.Add("POST", "user-0000-0001/Factors", "FactorType=totp&FriendlyName=x&Config.Skew=2&Config.Alg=sha512&Config.CodeLength=8&Config.TimeStep=20")
	f.Add("POST", "user-0000-0001/Factors", "FactorType=totp&FriendlyName=x&Binding.Secret=%ff%00&Metadata=%7B%7D")
	f.Add("POST", "user-0000-0001/Factors/{factor}", "AuthPayload=123456")
	f.Add("POST", "user-0000-0001/Factors/{factor}", "Config.TimeStep=99999999999999999999")
	f.Add("POST", "user-0000-0001/Challenges", "FactorSid={factor}&AuthPayload=000000&ExpirationDate=2099-01-01T00:00:00Z")
	f.Add("POST", "user-0000-0001/Challenges", "FactorSid={factor}&HiddenDetails=%5B1%5D")
	f.Add("GET", "user-0000-0001/Challenges?Status=approved&Order=desc&PageSize=1&PageToken=-5", "")
	f.Add("GET", "user-0000-0001/Factors?Page=999999999999", "")
	f.Add("DELETE", "user-0000-0001", "")
	f.Add("POST", "", "Identity=%00%00%00%00%00%00%00%00")
	f.Fuzz(func(t *testing.T, method, rest, body string) {
		if !validMethod(method) || strings.ContainsAny(rest, " \r\n\x00#") {
			return
		}
		clock := fake.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		e := twiliotest.MustNew(twiliotest.WithClock(clock.Now))
		secret, factor := enrollVerified(t, e)
		rest = strings.ReplaceAll(rest, "{factor}", factor)
		body = strings.ReplaceAll(body, "{factor}", factor)
		req, err := http.NewRequest(method, "http://127.0.0.1"+factorBase+rest, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken)
		rec := httptest.NewRecorder()
		func() {
			defer func() {
				if p := recover(); p != nil && p != http.ErrAbortHandler {
					t.Fatalf("%s %s panicked: %v", method, rest, p)
				}
			}()
			e.ServeHTTP(rec, req)
		}()
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", method, rest, rec.Code, rec.Body.String())
		}
		if strings.Contains(rec.Body.String(), secret) {
			t.Fatalf("%s %s: the answer carries an existing factor's secret", method, rest)
		}
		if rec.Code == http.StatusNoContent || (rec.Code < 300 && rec.Body.Len() == 0) {
			return
		}
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("%s %s: %d with a non-JSON body", method, rest, rec.Code)
		}
		if rec.Code >= 400 && (doc["status"] != float64(rec.Code) || doc["code"] == nil) {
			t.Fatalf("%s %s: %d with error body %v", method, rest, rec.Code, doc)
		}
	})
}

// enrollVerified creates a factor for user-0000-0001 through the emulator
// and verifies it, returning its secret and SID.
func enrollVerified(t *testing.T, e *twiliotest.Emulator) (secret, sid string) {
	t.Helper()
	post := func(path string, f url.Values) map[string]any {
		req := httptest.NewRequest("POST", factorBase+path, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(twiliotest.DefaultAccountSID+":"+twiliotest.DefaultAuthToken)))
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		var doc map[string]any
		json.Unmarshal(rec.Body.Bytes(), &doc)
		return doc
	}
	nf := post("user-0000-0001/Factors", url.Values{"FactorType": {"totp"}, "FriendlyName": {"Phone"}})
	b, _ := nf["binding"].(map[string]any)
	secret, _ = b["secret"].(string)
	sid, _ = nf["sid"].(string)
	if secret == "" || sid == "" {
		t.Fatalf("enrolment failed: %v", nf["code"])
	}
	return secret, sid
}
