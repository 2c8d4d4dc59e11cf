package httpretry

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
)

// vendor trusts 429/503 answers when ok is set.
type vendor struct{ ok bool }

func (v vendor) Unprocessed(*http.Response, bool) (string, bool) { return "own", v.ok }
func (vendor) LogFailure(error, *http.Response)                  {}
func (vendor) LogResponse(*http.Response)                        {}

func TestCheck(t *testing.T) {
	t.Parallel()
	dial := &net.OpError{Op: "dial", Err: errors.New("refused")}
	read := &net.OpError{Op: "read", Err: errors.New("reset")}
	cert := &tls.CertificateVerificationError{Err: errors.New("bad")}
	now := func() time.Time { return time.Unix(1e9, 0) }
	status := func(s int, retryAfter string) *http.Response {
		r := &http.Response{StatusCode: s, Header: http.Header{}}
		if retryAfter != "" {
			r.Header.Set("Retry-After", retryAfter)
		}
		return r
	}
	type result struct {
		Retry     bool
		Reason    string
		InFlight  bool
		MaybeSent bool
	}
	tests := []struct {
		name       string
		traced     bool // the transport reported GetConn
		wrote      bool // headers were written
		resp       *http.Response
		err        error
		idempotent bool
		vendorOK   bool
		want       result
	}{
		{"dial failure", false, false, nil, dial, false, false, result{true, "not sent: dial error", false, false}},
		{"traced, nothing written", true, false, nil, read, false, false, result{true, "not sent: read error", false, false}},
		{"untraced read failure is maybe sent", false, false, nil, read, false, false, result{false, "", true, true}},
		{"written, then reset", true, true, nil, read, false, false, result{false, "", true, true}},
		{"written, then reset, idempotent", true, true, nil, read, true, false, result{true, "read error", false, false}},
		{"certificate error", false, false, nil, cert, true, false, result{false, "", true, true}},
		{"body too large", true, true, nil, errBodyTooLarge, true, false, result{false, "", true, true}},
		{"503, vendor's own", true, true, status(503, ""), nil, false, true, result{true, "status 503, own", false, false}},
		{"503, not the vendor's", true, true, status(503, ""), nil, false, false, result{false, "", true, true}},
		{"429, Retry-After too long", true, true, status(429, "3600"), nil, false, true, result{false, "status 429, own", true, true}},
		{"429, Retry-After fits", true, true, status(429, "1"), nil, false, true, result{true, "status 429, own", false, false}},
		{"500 POST", true, true, status(500, ""), nil, false, true, result{false, "", true, true}},
		{"502 GET", true, true, status(502, ""), nil, true, true, result{true, "status 502", false, false}},
		{"400", true, true, status(400, ""), nil, true, true, result{false, "", true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var a Attempt
			var ct httptrace.ClientTrace
			a.Trace(&ct)
			a.Begin(0)
			if tt.traced {
				ct.GetConn("example:443")
			}
			if tt.wrote {
				ct.WroteHeaders()
			}
			retry, err := a.Check(context.Background(), vendor{tt.vendorOK}, tt.resp, tt.err, tt.idempotent, now, time.Minute)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			got := result{retry, a.Reason, a.InFlight, a.MaybeSent(tt.err)}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestCheckCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var a Attempt
	a.Begin(0)
	retry, err := a.Check(ctx, vendor{true}, nil, &net.OpError{Op: "dial", Err: errors.New("x")}, true, time.Now, time.Minute)
	if retry || !errors.Is(err, context.Canceled) {
		t.Fatalf("Check = %v, %v; want false, context.Canceled", retry, err)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{"-1", 0, false},
		{"86401", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{now.Add(25 * time.Hour).Format(http.TimeFormat), 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		resp := &http.Response{Header: http.Header{"Retry-After": {tt.v}}}
		if d, ok := RetryAfter(resp, now); d != tt.want || ok != tt.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tt.v, d, ok, tt.want, tt.ok)
		}
	}
	if _, ok := RetryAfter(nil, now); ok {
		t.Error("RetryAfter(nil) ok")
	}
}

func TestReadBody(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		body    string
		wantErr error
	}{
		{"12345", nil},
		{"123456", errBodyTooLarge},
	} {
		var lr io.LimitedReader
		var b bytes.Buffer
		resp := &http.Response{Body: io.NopCloser(strings.NewReader(tt.body))}
		got, err := ReadBody(&b, &lr, resp, 5)
		if !errors.Is(err, tt.wantErr) || !strings.HasPrefix(tt.body, string(got)) {
			t.Errorf("ReadBody(%q) = %q, %v; want error %v", tt.body, got, err, tt.wantErr)
		}
	}
}

func TestFailureKind(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	refused := &net.OpError{Op: "dial", Err: errors.New("refused")}
	for _, tt := range []struct {
		name   string
		ctx    context.Context
		effect bool
		err    error
		want   error
	}{
		{"may have taken effect", context.Background(), true, refused, provider.ErrOutcomeUnknown},
		{"may have taken effect, canceled", canceled, true, context.Canceled, provider.ErrOutcomeUnknown},
		{"canceled before sending", canceled, false, context.Canceled, nil},
		{"canceled, other error", canceled, false, refused, provider.ErrUnavailable},
		{"not sent", context.Background(), false, refused, provider.ErrUnavailable},
	} {
		if got := FailureKind(tt.ctx, tt.effect, tt.err); got != tt.want {
			t.Errorf("%s: FailureKind = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestCanWaitDeadline checks that a Retry-After is honoured only when it
// fits both waitMax and the context's deadline: a wait that would outlive
// the caller ends the call with the answer instead.
func TestCanWaitDeadline(t *testing.T) {
	t.Parallel()
	now := time.Now()
	resp := &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"30"}}}
	if !canWait(context.Background(), resp, now, time.Minute) {
		t.Error("Retry-After 30 s within waitMax 1 min and no deadline: refused")
	}
	if canWait(context.Background(), resp, now, 10*time.Second) {
		t.Error("Retry-After 30 s beyond waitMax 10 s: accepted")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if canWait(ctx, resp, now, time.Minute) {
		t.Error("Retry-After 30 s beyond the context's 5 s deadline: accepted")
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Hour)
	defer cancel2()
	if !canWait(ctx2, resp, now, time.Minute) {
		t.Error("Retry-After 30 s within a 1 h deadline: refused")
	}
	if !canWait(ctx, &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{}}, now, time.Minute) {
		t.Error("no Retry-After: refused")
	}
}
