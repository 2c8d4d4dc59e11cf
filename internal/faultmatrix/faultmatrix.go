// Package faultmatrix is the fault matrix the hosted providers' tests
// share (twilio and vonage): every fault a server, a proxy or the network
// can cause, and what each class of call must give for it — the sentinel,
// the number of attempts the server saw, and whether the vendor may have
// acted. A provider's test describes its own answers (a [Vendor]), runs
// [Common] with [Run], and adds the rows only it has.
//
// It is test support: nothing outside _test.go files imports it.
package faultmatrix

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/internal/httpopt"
	"github.com/verifykit/verifykit/internal/httpretry"
	"github.com/verifykit/verifykit/provider"
)

// Class is what a call does, as far as retries go.
type Class string

// The classes.
const (
	// Change is a call that changes state and is never repeated once it
	// may have reached the vendor (a POST; Vonage's DELETE too).
	Change Class = "POST"
	// Read is an idempotent read (GET).
	Read Class = "GET"
	// Delete is an idempotent delete (DELETE), repeated like a read.
	Delete Class = "DELETE"
)

// Outcome is what a cell of the matrix expects.
type Outcome struct {
	Err      error // the sentinel (or context error) the error matches; nil: success
	Attempts int   // requests (or connections) the server saw
	Acted    string
}

// The values of Outcome.Acted: whether the vendor may have done the work.
const (
	ActedNo    = "no"    // provably not processed, or a read
	ActedMaybe = "maybe" // ErrOutcomeUnknown: may have been processed
	ActedYes   = "yes"   // success
)

func (o Outcome) String() string {
	name := "success"
	if o.Err != nil {
		name = errName(o.Err)
	}
	s := "s"
	if o.Attempts == 1 {
		s = ""
	}
	return fmt.Sprintf("%s, %d attempt%s, acted: %s", name, o.Attempts, s, o.Acted)
}

// sentinels are the provider sentinels; every error a call gives must match
// one (or be the context's).
var sentinels = []error{
	provider.ErrInvalidRequest, provider.ErrNotFound, provider.ErrTooManyChecks, provider.ErrTooManySends,
	provider.ErrRateLimited, provider.ErrUndeliverable, provider.ErrUnauthorized, provider.ErrUnsupported,
	provider.ErrUnavailable, provider.ErrOutcomeUnknown,
}

// errName names a sentinel or context error.
func errName(err error) string {
	for _, s := range []struct {
		err  error
		name string
	}{
		{provider.ErrInvalidRequest, "ErrInvalidRequest"}, {provider.ErrNotFound, "ErrNotFound"},
		{provider.ErrTooManyChecks, "ErrTooManyChecks"}, {provider.ErrTooManySends, "ErrTooManySends"},
		{provider.ErrRateLimited, "ErrRateLimited"}, {provider.ErrUndeliverable, "ErrUndeliverable"},
		{provider.ErrUnauthorized, "ErrUnauthorized"}, {provider.ErrUnsupported, "ErrUnsupported"},
		{provider.ErrUnavailable, "ErrUnavailable"}, {provider.ErrOutcomeUnknown, "ErrOutcomeUnknown"},
		{context.DeadlineExceeded, "context.DeadlineExceeded"},
	} {
		if err == s.err {
			return s.name
		}
	}
	return err.Error()
}

// Op is one client operation, with its class.
type Op struct {
	Name  string
	Class Class
}

// Fault is one row of the matrix.
type Fault struct {
	Name string
	// Handler serves every request. Nil for connection-level faults,
	// which use Listen instead.
	Handler http.HandlerFunc
	// Listen starts a connection-level fault and returns the base URL,
	// the counter of connections and a stop function.
	Listen func(t *testing.T) (string, *atomic.Int32, func())
	// InMemory serves the handler without a network, in a synctest
	// bubble, for rows whose retries wait seconds.
	InMemory bool
	// Deadline bounds each call; zero means 10 s.
	Deadline time.Duration
	// Want gives the outcome per class of call.
	Want func(Class) Outcome
	// WantOp overrides Want for the operations it names.
	WantOp map[string]Outcome
	// Policy, when SetPolicy, is the POST-retry policy the client uses.
	Policy    httpretry.POSTPolicy
	SetPolicy bool
}

// OutcomeFor is what the fault gives for o.
func (f Fault) OutcomeFor(o Op) Outcome {
	if w, ok := f.WantOp[o.Name]; ok {
		return w
	}
	return f.Want(o.Class)
}

// Retries is the client's retry count in the matrix: the clients' default
// (they run without WithRetries), so that the table in docs/providers.md
// shows what an application gets out of the box. A retried fault is seen
// Retries+1 times.
const Retries = httpopt.DefaultRetries

// ByClass is a Want for faults whose outcome depends only on the class.
func ByClass(change, read, del Outcome) func(Class) Outcome {
	return func(c Class) Outcome {
		switch c {
		case Change:
			return change
		case Read:
			return read
		}
		return del
	}
}

// Same is a Want with one outcome for every class.
func Same(o Outcome) func(Class) Outcome { return ByClass(o, o, o) }

// The common outcomes.
var (
	Unknown1   = Outcome{provider.ErrOutcomeUnknown, 1, ActedMaybe}
	Unavail3   = Outcome{provider.ErrUnavailable, Retries + 1, ActedNo}
	Unavail1   = Outcome{provider.ErrUnavailable, 1, ActedNo}
	RateLim3   = Outcome{provider.ErrRateLimited, Retries + 1, ActedNo}
	RateLim1   = Outcome{provider.ErrRateLimited, 1, ActedNo}
	SuccessDel = Outcome{nil, 1, ActedYes}
)

// Vendor is what a provider's test says about its vendor's answers.
type Vendor struct {
	// Own answers status (429, 500 or 503) as the vendor itself does when
	// it did not process a request (for 429 and 503), with the headers
	// given as name, value pairs.
	Own func(status int, header ...string) http.HandlerFunc
	// Own429 and Own503 describe those answers in row names, such as
	// "429, code 20429 (account concurrency)".
	Own429, Own503 string
	// Approved is a success body approving the call's verification, served
	// where a followed redirect would lead.
	Approved []byte
}

// reply writes a JSON body with status.
func reply(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// Body answers every request with status and b (as JSON).
func Body(status int, b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { reply(w, status, b) }
}

// HTML answers every request with status and an HTML page, as a proxy or
// load balancer does.
func HTML(status int, b string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		io.WriteString(w, b)
	}
}

// redirectTo answers every request with a redirect to /elsewhere/, where an
// approval waits: following it would send the credentials and the code
// there, and take its answer.
func redirectTo(status int, approved []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/elsewhere/") {
			// counted as a second attempt: the cell fails.
			reply(w, 200, approved)
			return
		}
		http.Redirect(w, r, "/elsewhere"+r.URL.Path, status)
	}
}

// FollowingClient is a caller's client that follows redirects.
func FollowingClient() *http.Client {
	return &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
}

// Common is the vendor-neutral part of the matrix for v. Rows a vendor
// answers otherwise (a redirect followed by a caller's client, say) are
// named by RowFollowingClient and friends, so a test can find them.
func Common(v Vendor) []Fault {
	proxy503 := HTML(503, "<html><body>Service Unavailable</body></html>")
	return []Fault{
		{Name: v.Own429, Handler: v.Own(429), Want: Same(RateLim3)},
		{Name: v.Own429 + ", Retry-After: 1", Handler: v.Own(429, "Retry-After", "1"), InMemory: true, Want: Same(RateLim3)},
		{Name: v.Own429 + ", Retry-After as an HTTP date", InMemory: true, Want: Same(RateLim3),
			Handler: func(w http.ResponseWriter, r *http.Request) {
				v.Own(429, "Retry-After", time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat))(w, r)
			}},
		{Name: "500", Handler: v.Own(500), Want: ByClass(Unknown1, Unavail3, Unavail3)},
		{Name: "502", Handler: HTML(502, "<html>Bad Gateway</html>"), Want: ByClass(Unknown1, Unavail3, Unavail3)},
		{Name: v.Own503, Handler: v.Own(503), Want: Same(Unavail3)},
		{Name: "503 with an HTML body (not the vendor's answer: a proxy's)", Handler: proxy503, Want: ByClass(Unknown1, Unavail3, Unavail3)},
		{Name: "503 with an empty body", Handler: Body(503, nil), Want: ByClass(Unknown1, Unavail3, Unavail3)},
		{Name: "503 with a JSON body that is not the vendor's", Handler: Body(503, []byte(`{"message":"no healthy upstream"}`)), Want: ByClass(Unknown1, Unavail3, Unavail3)},
		{Name: v.Own503 + ", WithPOSTRetry(POSTRetryOff)", Handler: v.Own(503), Policy: httpretry.POSTOff, SetPolicy: true,
			Want: ByClass(Unknown1, Unavail3, Unavail3)},
		{Name: v.Own429 + ", WithPOSTRetry(POSTRetryOff)", Handler: v.Own(429), Policy: httpretry.POSTOff, SetPolicy: true,
			Want: ByClass(RateLim1, RateLim3, RateLim3)},
		{Name: "503 with an HTML body, WithPOSTRetry(POSTRetryAny503)", Handler: proxy503, Policy: httpretry.POSTAny503, SetPolicy: true,
			Want: Same(Unavail3)},
		{Name: "504", Handler: Body(504, nil), Want: ByClass(Unknown1, Unavail3, Unavail3)},
		{Name: "200 with an empty body", Handler: Body(200, nil), Want: ByClass(Unknown1, Unavail1, SuccessDel)},
		{Name: "200 with truncated JSON", Handler: Body(200, []byte(`{"sid":"VE`)), Want: ByClass(Unknown1, Unavail1, SuccessDel)},
		{Name: "200 with {}", Handler: Body(200, []byte(`{}`)), Want: ByClass(Unknown1, Unavail1, SuccessDel)},
		{Name: "200 with null", Handler: Body(200, []byte(`null`)), Want: ByClass(Unknown1, Unavail1, SuccessDel)},
		{Name: RowRedirect302, Handler: redirectTo(http.StatusFound, v.Approved), Want: ByClass(Unknown1, Unavail1, Unavail1)},
		{Name: RowRedirect307, Handler: redirectTo(http.StatusTemporaryRedirect, v.Approved), Want: ByClass(Unknown1, Unavail1, Unavail1)},
		{Name: RowFollowingClient, Handler: redirectTo(http.StatusPermanentRedirect, v.Approved), Want: ByClass(Unknown1, Unavail1, Unavail1)},
		{Name: "200 with a 2 MiB body", Handler: Body(200, []byte(`{"sid":"`+strings.Repeat("x", 2<<20)+`"}`)), Want: ByClass(Unknown1, Unavail1, Unavail1)},
		{Name: "a body slower than the context", Deadline: time.Second, // long enough for the request to arrive on a loaded machine
			Handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "100")
				w.WriteHeader(200)
				w.Write([]byte(`{"sid":`))
				w.(http.Flusher).Flush()
				<-r.Context().Done() // until the client gives up
			},
			Want: ByClass(Unknown1, Outcome{context.DeadlineExceeded, 1, ActedNo}, Outcome{context.DeadlineExceeded, 1, ActedNo})},
		{Name: "connection refused", Listen: Refused, Want: Same(Outcome{provider.ErrUnavailable, 0, ActedNo})},
		{Name: "connection reset before the request is written (in the TLS handshake)", Listen: resetOnAccept, Want: Same(Unavail3)},
		{Name: "connection reset after the request is written", Listen: resetAfterRequest, Want: ByClass(Unknown1, Unavail3, Unavail3)},
		{Name: "TLS failure (untrusted certificate)", Listen: untrustedTLS, Want: Same(Unavail1)},
	}
}

// The names of the redirect rows.
const (
	RowRedirect302     = "302 redirect (not followed)"
	RowRedirect307     = "307 redirect (not followed)"
	RowFollowingClient = "308 redirect, with a caller's client that follows redirects"
)

// Refused returns an address where every dial is refused: port 0, where
// nothing can listen.
func Refused(*testing.T) (string, *atomic.Int32, func()) {
	return "http://127.0.0.1:0", new(atomic.Int32), func() {}
}

// acceptAndDo accepts connections, counts them, and hands each to fn.
func acceptAndDo(t *testing.T, scheme string, fn func(net.Conn)) (string, *atomic.Int32, func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			go fn(c)
		}
	}()
	return scheme + "://" + l.Addr().String(), &n, func() { l.Close() }
}

func rst(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// resetOnAccept resets every connection at once: over https the client is
// still in the TLS handshake, so nothing of the request was written.
func resetOnAccept(t *testing.T) (string, *atomic.Int32, func()) {
	return acceptAndDo(t, "https", rst)
}

// resetAfterRequest reads the request, then resets the connection.
func resetAfterRequest(*testing.T) (string, *atomic.Int32, func()) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			rst(conn)
		}
	}))
	return srv.URL, &n, srv.Close
}

// untrustedTLS is an https server whose certificate the client does not
// trust.
func untrustedTLS(*testing.T) (string, *atomic.Int32, func()) {
	var n atomic.Int32
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	srv.Config.TLSConfig = &tls.Config{}
	srv.StartTLS()
	return srv.URL, &n, srv.Close
}

// handlerTransport serves requests with a handler, without a network.
type handlerTransport struct{ H http.Handler }

// RoundTrip serves r with the handler.
func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.H.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// counted counts the requests h serves in n.
func counted(h http.HandlerFunc, n *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}
}

// Target is where a cell sends its calls: the base URL, and the HTTP
// client to use when not nil (for in-memory rows).
type Target struct {
	BaseURL string
	HTTP    *http.Client
}

// Setup starts f's server (or network fault) and returns its target, the
// counter of attempts and a stop function.
func Setup(t *testing.T, f Fault) (Target, *atomic.Int32, func()) {
	switch {
	case f.Listen != nil:
		base, n, stop := f.Listen(t)
		return Target{BaseURL: base}, n, stop
	case f.InMemory:
		n := new(atomic.Int32)
		return Target{BaseURL: "http://127.0.0.1:1", HTTP: &http.Client{Transport: handlerTransport{counted(f.Handler, n)}}}, n, func() {}
	}
	n := new(atomic.Int32)
	srv := httptest.NewServer(counted(f.Handler, n))
	return Target{BaseURL: srv.URL}, n, srv.Close
}

// Check runs call (with f's deadline) and checks its outcome against f's
// want for o. sent reports whether err, when it is the provider's
// request-level error, says the request may have reached the vendor (ok
// false when err is not one).
func Check(t *testing.T, f Fault, o Op, attempts *atomic.Int32, call func(context.Context) error, sent func(error) (bool, bool)) {
	t.Helper()
	deadline := f.Deadline
	if deadline == 0 {
		deadline = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	begin := time.Now()
	err := call(ctx)
	want := f.OutcomeFor(o)
	got := Outcome{Attempts: int(attempts.Load()), Acted: ActedNo}
	switch {
	case err == nil:
		got.Acted = ActedYes
	case errors.Is(err, provider.ErrOutcomeUnknown):
		got.Acted = ActedMaybe
	}
	if want.Err == nil && err != nil || want.Err != nil && !errors.Is(err, want.Err) {
		t.Errorf("error %v, want %s", err, want)
	}
	if got.Attempts != want.Attempts || got.Acted != want.Acted {
		t.Errorf("%d attempts, acted %s; want %s (error %v)", got.Attempts, got.Acted, want, err)
	}
	if s, ok := sent(err); ok && s != (got.Acted == ActedMaybe) && o.Class == Change {
		t.Errorf("RequestError.Sent = %v, but acted = %s", s, got.Acted)
	}
	if err != nil && !matchesSentinel(err) {
		t.Errorf("error %v matches no sentinel", err)
	}
	if f.InMemory && want.Attempts > 1 && time.Since(begin) < time.Duration(want.Attempts-1)*time.Second {
		t.Errorf("retried after %v in all: Retry-After was not honoured", time.Since(begin))
	}
}

func matchesSentinel(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
