package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

// TestUnauthorizedSaysWhatToCheck checks that a refused credential names
// the environment variables (and kind of credentials) to check, and never
// the secret.
func TestUnauthorizedSaysWhatToCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		creds  twilio.Credentials
		status int
		body   string
		want   string
	}{
		{"auth token 401", twilio.AuthToken(accountSID, authToken), 401, `{"code":20003,"message":"Authenticate"}`,
			"twilio: start: 401 20003: Authenticate (check the account SID and auth token: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)"},
		{"api key 401", twilio.APIKey("SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", authToken), 401, `{"code":20003,"message":"Authenticate"}`,
			"twilio: start: 401 20003: Authenticate (check the API key SID and secret: TWILIO_API_KEY, TWILIO_API_SECRET)"},
		{"403", twilio.AuthToken(accountSID, authToken), 403, `{"code":20403,"message":"Forbidden"}`,
			"twilio: start: 403 20403: Forbidden (check that the service TWILIO_VERIFY_SERVICE_SID belongs to the account of TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)"},
		{"not about credentials", twilio.AuthToken(accountSID, authToken), 404, `{"code":20404,"message":"Not found"}`,
			"twilio: start: 404 20404: Not found"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			fmt.Fprint(w, tc.body)
		}))
		c, err := twilio.New(serviceSID, tc.creds, twilio.WithBaseURL(srv.URL), twilio.WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Start(context.Background(), provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
		srv.Close()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
		if tc.status != 404 && !errors.Is(err, provider.ErrUnauthorized) {
			t.Errorf("%s: %v does not match ErrUnauthorized", tc.name, err)
		}
		if err != nil && strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), authToken) {
			t.Errorf("%s: the error shows the secret", tc.name)
		}
	}
}
