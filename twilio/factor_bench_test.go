package twilio_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

const benchChallenge = `{"sid":"YC0123456789abcdef0123456789abcdef","account_sid":"AC00000000000000000000000000000000",
"service_sid":"VA00000000000000000000000000000000","entity_sid":"YE0123456789abcdef0123456789abcdef","identity":"user-0000-0001",
"factor_sid":"YF0123456789abcdef0123456789abcdef","date_created":"2026-03-01T12:00:00Z","date_updated":"2026-03-01T12:00:00Z",
"date_responded":"2026-03-01T12:00:00Z","expiration_date":"2026-03-01T12:05:00Z","status":"approved","responded_reason":"none",
"details":null,"hidden_details":null,"metadata":null,"factor_type":"totp",
"url":"https://verify.twilio.com/v2/Services/VA00000000000000000000000000000000/Entities/user-0000-0001/Challenges/YC0123456789abcdef0123456789abcdef",
"links":{"notifications":"https://verify.twilio.com/v2/Services/VA00000000000000000000000000000000/Entities/user-0000-0001/Challenges/YC0123456789abcdef0123456789abcdef/Notifications"}}`

func challengeServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		io.WriteString(w, benchChallenge)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkChallengeCreate is one TOTP check (a Challenge's creation with
// AuthPayload) through the twilio client against a loopback server.
func BenchmarkChallengeCreate(b *testing.B) {
	srv := challengeServer(b)
	c, err := twilio.New(twiliotest.DefaultServiceSID, twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken), twilio.WithBaseURL(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	req := provider.ChallengeRequest{Identity: "user-0000-0001", FactorID: "YF0123456789abcdef0123456789abcdef", Code: "123456"}
	b.ReportAllocs()
	for b.Loop() {
		if ch, err := c.ChallengeFactor(ctx, req); err != nil || !ch.Approved() {
			b.Fatal(ch, err)
		}
	}
}

// BenchmarkChallengeCreateBaseline makes the same request with bare
// net/http (a form post with Basic auth) and decodes the body into
// twilio.Challenge: the floor the client is measured against.
func BenchmarkChallengeCreateBaseline(b *testing.B) {
	srv := challengeServer(b)
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	u := srv.URL + "/v2/Services/" + twiliotest.DefaultServiceSID + "/Entities/user-0000-0001/Challenges"
	b.ReportAllocs()
	for b.Loop() {
		form := url.Values{"FactorSid": {"YF0123456789abcdef0123456789abcdef"}, "AuthPayload": {"123456"}}
		req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
		req.SetBasicAuth(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var ch twilio.Challenge
		if err := json.NewDecoder(resp.Body).Decode(&ch); err != nil || ch.Status != "approved" {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
