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

// FuzzEmulatorPasskeys posts arbitrary JSON bodies to the four Passkeys
// endpoints of an emulator holding one registration and one
// authentication in progress: it must never panic or answer 5xx, and a
// body that is not JSON must not register or approve anything.
func FuzzEmulatorPasskeys(f *testing.F) {
	cd := func(typ string) string {
		b, _ := json.Marshal(map[string]string{"type": typ, "challenge": "{nonce}", "origin": "https://example.com"})
		return base64.RawURLEncoding.EncodeToString(b)
	}
	f.Add("Factors", `{"friendly_name":"x","identity":"user-0001","config":{"relying_party":{"id":"a","origins":["https://example.com"]},"user_verification":"bogus"}}`)
	f.Add("VerifyFactor", `{"id":"c1","response":{"attestationObject":"AA","clientDataJSON":"`+cd("webauthn.create")+`"}}`)
	f.Add("Challenges", `{"identity":"user-0001","factor_sid":"YF00000000000000000000000000000000"}`)
	f.Add("Challenges", `{}`)
	f.Add("ApproveChallenge", `{"id":"c1","rawId":"c1","authenticatorAttachment":"platform","response":{"authenticatorData":"AA","clientDataJSON":"`+cd("webauthn.get")+`","signature":"AA","userHandle":"%%%"}}`)
	f.Add("ApproveChallenge", `{"response":null}`)
	f.Add("VerifyFactor", `[1,2]`)
	f.Fuzz(func(t *testing.T, res, body string) {
		if strings.ContainsAny(res, " \r\n\x00#?/") {
			return
		}
		e := twiliotest.MustNew()
		post := func(res, body string) *httptest.ResponseRecorder {
			req, err := http.NewRequest("POST", "http://127.0.0.1/v2/Services/"+twiliotest.DefaultServiceSID+"/Passkeys/"+res, strings.NewReader(body))
			if err != nil {
				t.Skip()
			}
			req.Header.Set("Content-Type", "application/json")
			req.SetBasicAuth(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken)
			rec := httptest.NewRecorder()
			func() {
				defer func() {
					if p := recover(); p != nil && p != http.ErrAbortHandler {
						t.Fatalf("POST %s panicked: %v", res, p)
					}
				}()
				e.ServeHTTP(rec, req)
			}()
			if rec.Code >= 500 {
				t.Fatalf("POST %s: %d %s", res, rec.Code, rec.Body.String())
			}
			return rec
		}
		created := post("Factors", `{"friendly_name":"laptop","identity":"user-0001"}`)
		var fa struct {
			Options struct {
				PublicKey struct{ Challenge string } `json:"publicKey"`
			}
		}
		json.Unmarshal(created.Body.Bytes(), &fa)
		body = strings.ReplaceAll(body, "{nonce}", fa.Options.PublicKey.Challenge)
		rec := post(res, body)
		if !json.Valid([]byte(body)) && rec.Code < 300 {
			t.Fatalf("POST %s with a body that is not JSON: %d", res, rec.Code)
		}
	})
}
