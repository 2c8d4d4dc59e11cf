package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

func TestNewValidates(t *testing.T) {
	good := twilio.AuthToken(accountSID, authToken)
	tests := []struct {
		name    string
		service string
		creds   twilio.Credentials
		opts    []twilio.Option
	}{
		{"bad service SID", "VA123", good, nil},
		{"service SID with wrong prefix", veSID, good, nil},
		{"bad account SID", serviceSID, twilio.AuthToken("AC123", authToken), nil},
		{"empty token", serviceSID, twilio.AuthToken(accountSID, ""), nil},
		{"token with newline", serviceSID, twilio.AuthToken(accountSID, "a\nb"), nil},
		{"bad API key SID", serviceSID, twilio.APIKey("SK1", "secret"), nil},
		{"nil option", serviceSID, good, []twilio.Option{nil}},
		{"plain http to a public host", serviceSID, good, []twilio.Option{twilio.WithBaseURL("http://verify.twilio.com")}},
		{"plain http to a private address", serviceSID, good, []twilio.Option{twilio.WithBaseURL("http://10.0.0.1:8025")}},
		{"ftp", serviceSID, good, []twilio.Option{twilio.WithBaseURL("ftp://127.0.0.1")}},
		{"relative URL", serviceSID, good, []twilio.Option{twilio.WithBaseURL("/v2")}},
		{"URL with query", serviceSID, good, []twilio.Option{twilio.WithBaseURL("https://x.example?a=1")}},
		{"URL with user", serviceSID, good, []twilio.Option{twilio.WithBaseURL("https://u:p@x.example")}},
		{"nil HTTP client", serviceSID, good, []twilio.Option{twilio.WithHTTPClient(nil)}},
		{"bad edge", serviceSID, good, []twilio.Option{twilio.WithEdge("a.b")}},
		{"bad region", serviceSID, good, []twilio.Option{twilio.WithRegion("")}},
		{"zero timeout", serviceSID, good, []twilio.Option{twilio.WithTimeout(0)}},
		{"negative retries", serviceSID, good, []twilio.Option{twilio.WithRetries(-1)}},
		{"too many retries", serviceSID, good, []twilio.Option{twilio.WithRetries(21)}},
		{"inverted wait", serviceSID, good, []twilio.Option{twilio.WithRetryWait(2*time.Second, time.Second)}},
		{"user agent with newline", serviceSID, good, []twilio.Option{twilio.WithUserAgent("a\r\nX: y")}},
		{"nil logger", serviceSID, good, []twilio.Option{twilio.WithLogger(nil)}},
		{"nil retry hook", serviceSID, good, []twilio.Option{twilio.WithRetryHook(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := twilio.New(tt.service, tt.creds, tt.opts...)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), authToken) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
	for _, base := range []string{"http://127.0.0.1:8025", "http://localhost:8025/", "http://[::1]:8025", "https://verify.example"} {
		if _, err := twilio.New(serviceSID, twilio.APIKey("SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "s"), twilio.WithBaseURL(base)); err != nil {
			t.Errorf("WithBaseURL(%q): %v", base, err)
		}
	}
}

// TestRegionalHosts checks the host each edge and region give, by reading
// the URL the transport is asked for.
func TestRegionalHosts(t *testing.T) {
	tests := []struct {
		opts []twilio.Option
		want string
	}{
		{nil, "verify.twilio.com"},
		{[]twilio.Option{twilio.WithRegion("ie1")}, "verify.ie1.twilio.com"},
		{[]twilio.Option{twilio.WithEdge("dublin")}, "verify.dublin.us1.twilio.com"},
		{[]twilio.Option{twilio.WithEdge("sydney"), twilio.WithRegion("au1")}, "verify.sydney.au1.twilio.com"},
		{[]twilio.Option{twilio.WithEdge("sydney"), twilio.WithBaseURL("http://127.0.0.1:9")}, "127.0.0.1:9"},
	}
	for _, tt := range tests {
		var host, scheme string
		tr := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			host, scheme = r.URL.Host, r.URL.Scheme
			return nil, errors.New("stop")
		})
		opts := append([]twilio.Option{twilio.WithHTTPClient(&http.Client{Transport: tr}), twilio.WithRetries(0)}, tt.opts...)
		c, err := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken), opts...)
		if err != nil {
			t.Fatal(err)
		}
		fetch(c)
		if host != tt.want || (scheme != "https" && !strings.HasPrefix(host, "127.")) {
			t.Errorf("host = %s://%s, want %s", scheme, host, tt.want)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestWithHTTPClientCopies(t *testing.T) {
	hc := &http.Client{Timeout: time.Minute}
	if _, err := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken), twilio.WithHTTPClient(hc), twilio.WithTimeout(time.Second)); err != nil {
		t.Fatal(err)
	}
	if hc.Timeout != time.Minute || hc.CheckRedirect != nil || hc.Transport != nil {
		t.Errorf("the caller's client was modified: %+v", hc)
	}
}

func TestNewFromEnv(t *testing.T) {
	const skSID = "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // "" means success
		user    string
	}{
		{"auth token", map[string]string{"TWILIO_ACCOUNT_SID": accountSID, "TWILIO_AUTH_TOKEN": authToken, "TWILIO_VERIFY_SERVICE_SID": serviceSID}, "", accountSID},
		{"API key wins", map[string]string{"TWILIO_ACCOUNT_SID": accountSID, "TWILIO_AUTH_TOKEN": authToken, "TWILIO_API_KEY": skSID, "TWILIO_API_SECRET": "s3", "TWILIO_VERIFY_SERVICE_SID": serviceSID}, "", skSID},
		{"nothing", map[string]string{}, "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_VERIFY_SERVICE_SID not set", ""},
		{"API key without secret", map[string]string{"TWILIO_API_KEY": skSID, "TWILIO_VERIFY_SERVICE_SID": serviceSID}, "TWILIO_API_SECRET not set", ""},
		{"bad base URL", map[string]string{"TWILIO_ACCOUNT_SID": accountSID, "TWILIO_AUTH_TOKEN": authToken, "TWILIO_VERIFY_SERVICE_SID": serviceSID, "TWILIO_VERIFY_BASE_URL": "http://example.com"}, "plain http", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_VERIFY_SERVICE_SID", "TWILIO_VERIFY_BASE_URL"} {
				t.Setenv(k, tt.env[k])
			}
			c, err := twilio.NewFromEnv()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), authToken) {
					t.Errorf("error %q contains a secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ServiceSID() != serviceSID || c.Name() != "twilio" {
				t.Errorf("client for %s named %s", c.ServiceSID(), c.Name())
			}
		})
	}
}

func TestNewFromEnvSendsAuth(t *testing.T) {
	mux := http.NewServeMux()
	var user, pass string
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ = r.BasicAuth()
		reply(w, 200, []byte(`{"sid":"`+veSID+`","status":"pending"}`))
	})
	srv := newServer(t, mux)
	t.Setenv("TWILIO_API_KEY", "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
	t.Setenv("TWILIO_API_SECRET", "apisecret")
	t.Setenv("TWILIO_VERIFY_SERVICE_SID", serviceSID)
	t.Setenv("TWILIO_VERIFY_BASE_URL", srv)
	c, err := twilio.NewFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if err := fetch(c); err != nil {
		t.Fatal(err)
	}
	if user != "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" || pass != "apisecret" {
		t.Errorf("Basic auth %q:%q", user, pass)
	}
}

// TestSecretsNeverShow formats every value that holds a secret, and every
// error a failing call returns, and looks for the secret.
func TestSecretsNeverShow(t *testing.T) {
	const code = "864209"
	creds := twilio.AuthToken(accountSID, authToken)
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logs, &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux, c := setup(t, twilio.WithLogger(logger), twilio.WithRetries(1))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 503, []byte(`{"code":20503,"message":"code `+code+` for +14155552671 failed","status":503}`))
	})
	_, err := c.Check(context.Background(), provider.CheckRequest{To: "+14155552671", Code: code})
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []string{
		fmt.Sprint(creds), fmt.Sprintf("%+v", creds), fmt.Sprintf("%#v", creds),
		fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c),
		err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err),
		logs.String(),
	} {
		for _, secret := range []string{authToken, code, "4155552671"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q shows %q", s, secret)
			}
		}
	}
	if !strings.Contains(logs.String(), "twilio retry") || !strings.Contains(logs.String(), "status=503") {
		t.Errorf("logs lack the retry and the status:\n%s", logs.String())
	}
	if creds.Username() != accountSID {
		t.Errorf("Username() = %q", creds.Username())
	}
}

type lockedWriter struct {
	b  *strings.Builder
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
