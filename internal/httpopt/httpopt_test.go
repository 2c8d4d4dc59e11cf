package httpopt

import (
	"context"
	"log/slog"
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
		{"timeout 1ns", checkTimeout("acme", 1), true},
		{"timeout 0", checkTimeout("acme", 0), false},
		{"retries 0", checkRetries("acme", 0), true},
		{"retries 20", checkRetries("acme", 20), true},
		{"retries 21", checkRetries("acme", 21), false},
		{"retries -1", checkRetries("acme", -1), false},
		{"wait 0..0", checkRetryWait("acme", 0, 0), true},
		{"wait 2..1", checkRetryWait("acme", 2, 1), false},
		{"wait -1..1", checkRetryWait("acme", -1, 1), false},
		{"ua", checkUserAgent("acme", "app/1.0"), true},
		{"ua newline", checkUserAgent("acme", "app\r\nX: y"), false},
		{"ua long", checkUserAgent("acme", strings.Repeat("a", 257)), false},
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

// TestSetters checks that each Set function stores a good argument and
// leaves its destination as it was on a bad one, with the option's error.
func TestSetters(t *testing.T) {
	t.Parallel()
	var (
		hc      *http.Client
		base    = "https://old.example.com"
		timeout = time.Second
		retries = 1
		wMin    = time.Millisecond
		wMax    = time.Second
		ua      = "old/1"
		logger  *slog.Logger
		hook    func(context.Context, int)
		clock   func() time.Time
	)
	bad := []struct {
		name, want string
		err        error
	}{
		{"client", "acme: WithHTTPClient: nil client", SetHTTPClient("acme", nil, &hc)},
		{"base", "acme: base URL", SetBaseURL("acme", "http://api.example.com", &base)},
		{"timeout", "acme: WithTimeout: 0s is not positive", SetTimeout("acme", 0, &timeout)},
		{"retries", "acme: WithRetries: 21 is outside 0 to 20", SetRetries("acme", 21, &retries)},
		{"wait", "acme: WithRetryWait: 2s to 1s is not a range", SetRetryWait("acme", 2*time.Second, time.Second, &wMin, &wMax)},
		{"ua", "acme: WithUserAgent: suffix must be one line", SetUserAgent("acme", "a\nb", &ua)},
		{"logger", "acme: WithLogger: nil logger", SetLogger("acme", nil, &logger)},
		{"hook", "acme: WithRetryHook: nil function", SetRetryHook[int, func(context.Context, int)]("acme", nil, &hook)},
		{"clock", "acme: WithClock: nil clock", SetClock("acme", nil, &clock)},
	}
	for _, tt := range bad {
		if tt.err == nil || !strings.HasPrefix(tt.err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one starting %q", tt.name, tt.err, tt.want)
		}
	}
	if hc != nil || base != "https://old.example.com" || timeout != time.Second || retries != 1 ||
		wMin != time.Millisecond || wMax != time.Second || ua != "old/1" || logger != nil || hook != nil || clock != nil {
		t.Fatal("a rejected argument was stored")
	}

	orig := &http.Client{Timeout: time.Minute}
	l := slog.New(slog.DiscardHandler)
	for _, err := range []error{
		SetHTTPClient("acme", orig, &hc),
		SetBaseURL("acme", "http://localhost:9/x/", &base),
		SetTimeout("acme", 3*time.Second, &timeout),
		SetRetries("acme", 0, &retries),
		SetRetryWait("acme", 0, 0, &wMin, &wMax),
		SetUserAgent("acme", "app/2", &ua),
		SetLogger("acme", l, &logger),
		SetRetryHook("acme", func(context.Context, int) {}, &hook),
		SetClock("acme", time.Now, &clock),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if hc == orig || hc.Timeout != time.Minute {
		t.Error("SetHTTPClient did not store a copy of the client")
	}
	if base != "http://localhost:9/x/" || timeout != 3*time.Second || retries != 0 || wMin != 0 || wMax != 0 ||
		ua != "app/2" || logger != l || hook == nil || clock == nil {
		t.Error("a good argument was not stored")
	}
}
