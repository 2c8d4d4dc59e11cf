package twilio

import (
	"net/url"
	"testing"
)

// FuzzWebhook feeds the webhook's URL splitting, form parsing, signature
// check and event decoding arbitrary requests: nothing panics, an unsigned
// request is never accepted, and a request signed with Signature over what
// was parsed always is.
func FuzzWebhook(f *testing.F) {
	f.Add("https://a.example/h", "application/x-www-form-urlencoded", "type=factor.verified&factor_sid=YF01&Z=2&Z=1", "")
	f.Add("https://a.example:443/h?bodySHA256=00", "application/json", `[{"id":"EV1","type":"com.twilio.accountsecurity.verify.verification.approved","data":{"to":"+14155552671"}}]`, "")
	f.Add("http://[::1]:80/h?x=%zz", "application/x-www-form-urlencoded; charset=utf-8", "a=%ff&&b", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Add("https://u:p@a.example/h#frag", "", "", "")
	f.Fuzz(func(t *testing.T, rawURL, ctype, body, sig string) {
		const token = "fuzz-token"
		if _, ok, _ := verifyWebhook([]string{token}, rawURL, ctype, []byte(body), sig); ok && sig != "" {
			// Accepting a guessed signature would be an HMAC forgery.
			if form, err := url.ParseQuery(body); err == nil && Signature(token, rawURL, form) != sig && !ValidateBodySignature(token, rawURL, []byte(body), sig) {
				if w, wp, ok := urlVariants(rawURL); !ok || (Signature(token, w, form) != sig && Signature(token, wp, form) != sig) {
					t.Fatalf("accepted a signature that was not computed: %q %q", rawURL, sig)
				}
			}
		}
		if _, ok, _ := verifyWebhook([]string{token}, rawURL, ctype, []byte(body), ""); ok {
			t.Fatal("accepted without a signature")
		}
		without, _, ok := urlVariants(rawURL)
		if !ok {
			return
		}
		u, err := url.Parse(rawURL)
		if err != nil || u.Query().Has("bodySHA256") {
			return
		}
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		good := Signature(token, without, form)
		if !ValidateSignature(token, rawURL, form, good) {
			t.Fatalf("refused its own signature over %q", without)
		}
		if _, ok, _ := verifyWebhook([]string{token}, rawURL, "application/x-www-form-urlencoded", []byte(body), good); !ok {
			t.Fatalf("the webhook refused its own signature over %q", without)
		}
	})
}
