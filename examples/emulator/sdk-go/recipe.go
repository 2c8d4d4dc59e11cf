// Package sdkgo is the recipe for testing code that uses the official
// twilio-go SDK against the verifykit emulator. It lives in its own module
// so the library's go.mod does not depend on the SDK.
//
// twilio-go has no base-URL setting (its Verify host is fixed), so the
// recipe gives it an http.Client whose transport rewrites every request for
// a *.twilio.com host to the emulator. The URLs in the emulator's answers
// (next pages, for example) point at the emulator itself, so they need no
// rewriting.
package sdkgo

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
)

// NewRestClient returns a twilio-go client that sends every request to the
// emulator at emulatorURL (for example http://127.0.0.1:8025).
func NewRestClient(emulatorURL, accountSID, authToken string) (*twilio.RestClient, error) {
	target, err := url.Parse(emulatorURL)
	if err != nil {
		return nil, err
	}
	c := &client.Client{
		Credentials: client.NewCredentials(accountSID, authToken),
		HTTPClient:  &http.Client{Transport: &rewrite{target: target, next: http.DefaultTransport}},
	}
	c.SetAccountSid(accountSID)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: c}), nil
}

// rewrite sends requests for Twilio's hosts to the emulator instead.
type rewrite struct {
	target *url.URL
	next   http.RoundTripper
}

func (t *rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Hostname(), "twilio.com") {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = t.target.Scheme, t.target.Host
		r.Host = t.target.Host
	}
	return t.next.RoundTrip(r)
}
