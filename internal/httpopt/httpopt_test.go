package httpopt

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, wantErr string
	}{
		{"https://api.example.com/", "https://api.example.com", ""},
		{"https://api.example.com/v1//", "https://api.example.com/v1", ""},
		{"http://localhost:8080", "http://localhost:8080", ""},
		{"http://127.0.0.1:9", "http://127.0.0.1:9", ""},
		{"http://[::1]:9/x", "http://[::1]:9/x", ""},
		{"http://api.example.com", "", "acme: base URL: plain http is allowed only to a loopback host"},
		{"http://10.0.0.1", "", "plain http"},
		{"ftp://localhost", "", "acme: base URL: scheme must be https"},
		{"https://u:p@api.example.com", "", "acme: base URL must be an absolute"},
		{"https://api.example.com/?q=1", "", "no user, query or fragment"},
		{"https://api.example.com/#f", "", "no user, query or fragment"},
		{"/relative", "", "absolute"},
		{"%zz", "", "absolute"},
	}
	for _, tt := range tests {
		u, err := ParseBaseURL("acme", tt.in)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ParseBaseURL(%q): %v", tt.in, err)
		case tt.wantErr == "" && u.String() != tt.want:
			t.Errorf("ParseBaseURL(%q) = %q, want %q", tt.in, u, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseBaseURL(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestChecks(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		err  error
		ok   bool
	}{
		{"timeout 1ns", CheckTimeout("acme", 1), true},
		{"timeout 0", CheckTimeout("acme", 0), false},
		{"retries 0", CheckRetries("acme", 0), true},
		{"retries 20", CheckRetries("acme", 20), true},
		{"retries 21", CheckRetries("acme", 21), false},
		{"retries -1", CheckRetries("acme", -1), false},
		{"wait 0..0", CheckRetryWait("acme", 0, 0), true},
		{"wait 2..1", CheckRetryWait("acme", 2, 1), false},
		{"wait -1..1", CheckRetryWait("acme", -1, 1), false},
		{"ua", CheckUserAgent("acme", "app/1.0"), true},
		{"ua newline", CheckUserAgent("acme", "app\r\nX: y"), false},
		{"ua long", CheckUserAgent("acme", strings.Repeat("a", 257)), false},
	} {
		if (tt.err == nil) != tt.ok {
			t.Errorf("%s: error %v, want ok=%v", tt.name, tt.err, tt.ok)
		}
		if tt.err != nil && !strings.HasPrefix(tt.err.Error(), "acme: With") {
			t.Errorf("%s: error %q does not name the vendor and option", tt.name, tt.err)
		}
	}
}

func TestClient(t *testing.T) {
	t.Parallel()
	hc := Client(nil, time.Second)
	if hc.Timeout != time.Second || hc.Transport == nil || hc.CheckRedirect == nil {
		t.Fatalf("Client(nil) = %+v", hc)
	}
	if err := hc.CheckRedirect(nil, nil); err != http.ErrUseLastResponse {
		t.Errorf("CheckRedirect = %v, want http.ErrUseLastResponse", err)
	}
	own := func(*http.Request, []*http.Request) error { return nil }
	if got := Client(&http.Client{CheckRedirect: own}, time.Second); got.CheckRedirect(nil, nil) != http.ErrUseLastResponse {
		t.Error("a caller's CheckRedirect that follows redirects was kept")
	}
	if ua := UserAgent("1.2", "app/3"); !strings.HasPrefix(ua, "verifykit/1.2 (") || !strings.HasSuffix(ua, " app/3") {
		t.Errorf("UserAgent = %q", ua)
	}
}
