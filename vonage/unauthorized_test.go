package vonage_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// TestUnauthorizedSaysWhatToCheck checks that refused credentials name
// the environment variables (and kind of credentials) to check, and never
// a secret.
func TestUnauthorizedSaysWhatToCheck(t *testing.T) {
	t.Parallel()
	const secret = "sEcReT0123456789"
	for _, tc := range []struct {
		name   string
		creds  vonage.Credentials
		status int
		body   string
		want   string
	}{
		{"application 401", vonage.Application(appID, vonagetest.DefaultPrivateKeyPEM()), 401,
			`{"type":"https://developer.vonage.com/api-errors#unauthorized","title":"Invalid credentials supplied"}`,
			"vonage: start: 401 unauthorized: Invalid credentials supplied (check the application ID and private key: VONAGE_APPLICATION_ID, VONAGE_PRIVATE_KEY or VONAGE_PRIVATE_KEY_PATH)"},
		{"api key 401", vonage.APIKey("abcd1234", secret), 401,
			`{"type":"https://developer.vonage.com/api-errors#unauthorized","title":"Invalid credentials supplied"}`,
			"vonage: start: 401 unauthorized: Invalid credentials supplied (check the API key and secret: VONAGE_API_KEY, VONAGE_API_SECRET)"},
		{"not about credentials", vonage.APIKey("abcd1234", secret), 404,
			`{"type":"https://developer.vonage.com/api-errors#not-found","title":"Not Found"}`,
			"vonage: start: 404 not-found: Not Found"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(tc.status)
			fmt.Fprint(w, tc.body)
		}))
		c, err := vonage.New("Acme", tc.creds, vonage.WithBaseURL(srv.URL), vonage.WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Start(context.Background(), provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
		srv.Close()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
		if tc.status == 401 && !errors.Is(err, provider.ErrUnauthorized) {
			t.Errorf("%s: %v does not match ErrUnauthorized", tc.name, err)
		}
		if err != nil && strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), secret) {
			t.Errorf("%s: the error shows the secret", tc.name)
		}
	}
}
