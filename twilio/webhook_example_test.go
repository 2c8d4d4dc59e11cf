package twilio_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

// Receive a Verify webhook: a signed request reaches the application as a
// provider.LifecycleEvent; an unsigned one gets 403.
func ExampleNewWebhookHandler() {
	const authToken = "0123456789abcdef0123456789abcdef"
	h, _ := twilio.NewWebhookHandler(authToken, func(_ context.Context, e provider.LifecycleEvent) error {
		fmt.Println("event:", e.Kind, e.FactorID, e.ChallengeID)
		return nil
	}, twilio.WithWebhookURL(func(r *http.Request) string {
		return "https://app.example.com" + r.URL.RequestURI()
	}))

	form := url.Values{"type": {"challenge.approved"}, "factor_sid": {"YF01"}, "challenge_sid": {"YC01"}}
	req := httptest.NewRequest("POST", "/hooks/twilio", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// What Twilio sends: the signature over the public URL and the form.
	req.Header.Set(twilio.SignatureHeader, twilio.Signature(authToken, "https://app.example.com/hooks/twilio", form))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println("signed:", rec.Code)

	req = httptest.NewRequest("POST", "/hooks/twilio", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println("unsigned:", rec.Code, rec.Body.Len())
	// Output:
	// event: challenge.approved YF01 YC01
	// signed: 204
	// unsigned: 403 0
}
