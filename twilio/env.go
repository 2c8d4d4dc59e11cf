package twilio

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/verifykit/verifykit/internal/httpopt"
)

// The environment variables NewFromEnv reads.
const (
	EnvAccountSID = "TWILIO_ACCOUNT_SID"
	EnvAuthToken  = "TWILIO_AUTH_TOKEN"
	EnvAPIKey     = "TWILIO_API_KEY"
	EnvAPISecret  = "TWILIO_API_SECRET"
	EnvServiceSID = "TWILIO_VERIFY_SERVICE_SID"
	EnvBaseURL    = "TWILIO_VERIFY_BASE_URL"
)

// NewFromEnv returns a client configured from the conventional environment
// variables: TWILIO_VERIFY_SERVICE_SID, and either TWILIO_API_KEY and
// TWILIO_API_SECRET or TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (API keys
// win when both are set). TWILIO_VERIFY_BASE_URL, when set, is passed to
// WithBaseURL, for example to use the emulator. opts apply after those, so
// they take precedence. Errors name missing variables, never values.
func NewFromEnv(opts ...Option) (*Client, error) {
	return NewFromEnvFunc(os.Getenv, opts...)
}

// NewFromEnvFunc is like NewFromEnv, but reads the variables through
// getenv, so a program can take them from elsewhere and a test can supply
// them.
func NewFromEnvFunc(getenv func(string) string, opts ...Option) (*Client, error) {
	var creds Credentials
	var missing []string
	switch {
	case getenv(EnvAPIKey) != "" || getenv(EnvAPISecret) != "":
		creds = APIKey(getenv(EnvAPIKey), getenv(EnvAPISecret))
		for _, k := range []string{EnvAPIKey, EnvAPISecret} {
			if getenv(k) == "" {
				missing = append(missing, k)
			}
		}
	default:
		creds = AuthToken(getenv(EnvAccountSID), getenv(EnvAuthToken))
		for _, k := range []string{EnvAccountSID, EnvAuthToken} {
			if getenv(k) == "" {
				missing = append(missing, k)
			}
		}
	}
	service := getenv(EnvServiceSID)
	if service == "" {
		missing = append(missing, EnvServiceSID)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("twilio: environment: %s not set", strings.Join(missing, ", "))
	}
	if b := getenv(EnvBaseURL); b != "" {
		opts = append([]Option{WithBaseURL(b)}, opts...)
	}
	return New(service, creds, opts...)
}

// parseBaseURL checks a base URL: https, or http to a loopback host.
func parseBaseURL(s string) (*url.URL, error) { return httpopt.ParseBaseURL("twilio", s) }

// regionalURL returns the Verify host for an edge and a region.
func regionalURL(edge, region string) string {
	if edge != "" && region == "" {
		region = "us1"
	}
	host := "verify"
	if edge != "" {
		host += "." + edge
	}
	if region != "" {
		host += "." + region
	}
	return "https://" + host + ".twilio.com"
}

func validLabel(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return s[0] != '-' && s[len(s)-1] != '-'
}
