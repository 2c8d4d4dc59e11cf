package twilio_test

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

// op is one client operation, with the class of request it makes.
type op struct {
	name  string
	class string // "POST", "GET" or "DELETE"
	call  func(context.Context, *twilio.Client) error
}

var ops = []op{
	{"Start", "POST", func(ctx context.Context, c *twilio.Client) error {
		_, err := c.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
		return err
	}},
	{"Check", "POST", func(ctx context.Context, c *twilio.Client) error {
		_, err := c.Check(ctx, provider.CheckRequest{To: "+14155552671", Code: "123456"})
		return err
	}},
	{"CheckID", "POST", func(ctx context.Context, c *twilio.Client) error {
		_, err := c.Check(ctx, provider.CheckRequest{ID: veSID, Code: "123456"})
		return err
	}},
	{"CheckSNA", "POST", func(ctx context.Context, c *twilio.Client) error {
		_, err := c.CheckSNA(ctx, provider.CheckRequest{ID: veSID})
		return err
	}},
	{"Cancel", "POST", func(ctx context.Context, c *twilio.Client) error { _, err := c.Cancel(ctx, veSID); return err }},
	{"Approve", "POST", func(ctx context.Context, c *twilio.Client) error { _, err := c.Approve(ctx, veSID); return err }},
	{"CreateService", "POST", func(ctx context.Context, c *twilio.Client) error {
		_, err := c.CreateService(ctx, twilio.ServiceParams{FriendlyName: "x"})
		return err
	}},
	{"UpdateService", "POST", func(ctx context.Context, c *twilio.Client) error {
		_, err := c.UpdateService(ctx, serviceSID, twilio.ServiceParams{CodeLength: 6})
		return err
	}},
	{"Fetch", "GET", func(ctx context.Context, c *twilio.Client) error { _, err := c.Fetch(ctx, veSID); return err }},
	{"FetchService", "GET", func(ctx context.Context, c *twilio.Client) error {
		_, err := c.FetchService(ctx, serviceSID)
		return err
	}},
	{"ListServices", "GET", func(ctx context.Context, c *twilio.Client) error {
		_, err := c.ListServices(ctx, twilio.ListOptions{})
		return err
	}},
	{"DeleteService", "DELETE", func(ctx context.Context, c *twilio.Client) error { return c.DeleteService(ctx, serviceSID) }},
}

// outcome is what a cell of the matrix expects.
type outcome struct {
	err      error // the sentinel (or context error) the error matches; nil: success
	attempts int   // requests (or connections) the server saw
	acted    string
}

// The values of outcome.acted: whether Twilio may have done the work.
const (
	actedNo    = "no"    // provably not processed, or a read
	actedMaybe = "maybe" // ErrOutcomeUnknown: may have been processed
	actedYes   = "yes"   // success
)

func (o outcome) String() string {
	name := "success"
	if o.err != nil {
		name = errName(o.err)
	}
	s := "s"
	if o.attempts == 1 {
		s = ""
	}
	return fmt.Sprintf("%s, %d attempt%s, acted: %s", name, o.attempts, s, o.acted)
}

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

// fault is one row of the matrix.
type fault struct {
	name string
	// handler serves every request (attempt counts from 0). Nil for
	// connection-level faults, which use listen instead.
	handler func(w http.ResponseWriter, r *http.Request)
	// listen starts a connection-level fault and returns the base URL, the
	// counter of connections and a stop function.
	listen func(t *testing.T) (string, *atomic.Int32, func())
	// inMemory serves the handler without a network, in a synctest
	// bubble, for rows whose retries wait seconds.
	inMemory bool
	// deadline bounds each call; zero means 10 s.
	deadline time.Duration
	// want gives the outcome per class of request (and, rarely, per
	// operation).
	want func(o op) outcome
	// wantOp overrides want for the operations it names.
	wantOp map[string]outcome
	// opts are client options for the row, such as a retry policy.
	opts []twilio.Option
}

// outcomeFor is what the fault gives for o.
func (f fault) outcomeFor(o op) outcome {
	if w, ok := f.wantOp[o.name]; ok {
		return w
	}
	return f.want(o)
}

const retries = 2 // so a retried fault is seen retries+1 = 3 times

// byClass is a want for faults whose outcome depends only on the class.
func byClass(post, get, del outcome) func(op) outcome {
	return func(o op) outcome {
		switch o.class {
		case "POST":
			return post
		case "GET":
			return get
		}
		return del
	}
}

func same(o outcome) func(op) outcome { return byClass(o, o, o) }

func twilioError(status, code int, header ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		reply(w, status, []byte(fmt.Sprintf(`{"code":%d,"message":"m","more_info":"https://www.twilio.com/docs/errors/%d","status":%d}`, code, code, status)))
	}
}

// redirectTo answers every request under /v2/ with a redirect to
// /elsewhere/, where an approval waits: following it would send the
// credentials and the code there, and take its answer.
func redirectTo(status int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/elsewhere/") {
			// Counted as a second attempt: the cell fails.
			reply(w, 200, []byte(`{"sid":"`+veSID+`","service_sid":"`+serviceSID+`","to":"+14155552671","status":"approved","valid":true}`))
			return
		}
		http.Redirect(w, r, "/elsewhere"+r.URL.Path, status)
	}
}

func body(status int, b []byte) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) { reply(w, status, b) }
}

var (
	unknown1   = outcome{provider.ErrOutcomeUnknown, 1, actedMaybe}
	unavail3   = outcome{provider.ErrUnavailable, retries + 1, actedNo}
	unavail1   = outcome{provider.ErrUnavailable, 1, actedNo}
	rateLim3   = outcome{provider.ErrRateLimited, retries + 1, actedNo}
	successDel = outcome{nil, 1, actedYes}
)

var faults = []fault{
	{name: "429, code 20429 (account concurrency)", handler: twilioError(429, 20429), want: same(rateLim3)},
	{name: "429, code 20429, Retry-After: 1", handler: twilioError(429, 20429, "Retry-After", "1"), inMemory: true, want: same(rateLim3)},
	{name: "429, code 20429, Retry-After as an HTTP date", inMemory: true, want: same(rateLim3),
		handler: func(w http.ResponseWriter, r *http.Request) {
			twilioError(429, 20429, "Retry-After", time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat))(w, r)
		}},
	{name: "429, code 60202 (max check attempts)", handler: twilioError(429, 60202), want: func(o op) outcome {
		if o.name == "Start" {
			return outcome{provider.ErrTooManySends, 1, actedNo}
		}
		return outcome{provider.ErrTooManyChecks, 1, actedNo}
	}},
	{name: "429, code 60203 (max send attempts)", handler: twilioError(429, 60203), want: same(outcome{provider.ErrTooManySends, 1, actedNo})},
	{name: "429, code 60212 (concurrent starts)", handler: twilioError(429, 60212), want: same(outcome{provider.ErrRateLimited, 1, actedNo})},
	{name: "500", handler: twilioError(500, 20500), want: byClass(unknown1, unavail3, unavail3)},
	{name: "502", handler: body(502, []byte("<html>Bad Gateway</html>")), want: byClass(unknown1, unavail3, unavail3)},
	{name: "503, code 20503 (Twilio's answer)", handler: twilioError(503, 20503), want: same(unavail3)},
	{name: "503 with an HTML body (not Twilio's answer: a proxy's)", handler: body(503, []byte("<html><body>Service Unavailable</body></html>")),
		want: byClass(unknown1, unavail3, unavail3)},
	{name: "503 with an empty body", handler: body(503, nil), want: byClass(unknown1, unavail3, unavail3)},
	{name: "503, code 20503, WithPOSTRetry(POSTRetryOff)", handler: twilioError(503, 20503), opts: []twilio.Option{twilio.WithPOSTRetry(twilio.POSTRetryOff)},
		want: byClass(unknown1, unavail3, unavail3)},
	{name: "429, code 20429, WithPOSTRetry(POSTRetryOff)", handler: twilioError(429, 20429), opts: []twilio.Option{twilio.WithPOSTRetry(twilio.POSTRetryOff)},
		want: byClass(outcome{provider.ErrRateLimited, 1, actedNo}, rateLim3, rateLim3)},
	{name: "503 with an HTML body, WithPOSTRetry(POSTRetryAny503)", handler: body(503, []byte("<html><body>Service Unavailable</body></html>")),
		opts: []twilio.Option{twilio.WithPOSTRetry(twilio.POSTRetryAny503)}, want: same(unavail3)},
	{name: "504", handler: body(504, nil), want: byClass(unknown1, unavail3, unavail3)},
	{name: "200 with an empty body", handler: body(200, nil), want: byClass(unknown1, unavail1, successDel)},
	{name: "200 with truncated JSON", handler: body(200, []byte(`{"sid":"VE`)), want: byClass(unknown1, unavail1, successDel)},
	{name: "200 with {}", handler: body(200, []byte(`{}`)), want: byClass(unknown1, unavail1, successDel)},
	{name: "200 with null", handler: body(200, []byte(`null`)), want: byClass(unknown1, unavail1, successDel)},
	{name: "200 with no status", handler: body(200, []byte(`{"sid":"`+veSID+`","to":"+14155552671"}`)), want: byClass(unknown1, unavail1, successDel)},
	{name: "200 approving another verification", want: byClass(unknown1, unavail1, successDel),
		handler: body(200, []byte(`{"sid":"VEbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","service_sid":"`+serviceSID+`","to":"+14155550000","status":"approved","valid":true}`))},
	{name: "200 approving in another service", want: byClass(unknown1, unavail1, successDel),
		handler: body(200, []byte(`{"sid":"`+veSID+`","service_sid":"VAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","to":"+14155552671","status":"approved","valid":true}`))},
	{name: "200 with another kind of object (a Service)", handler: body(200, []byte(`{"sid":"`+serviceSID+`","friendly_name":"x","code_length":6}`)),
		want:   byClass(unknown1, unavail1, successDel),
		wantOp: map[string]outcome{"CreateService": successDel, "UpdateService": successDel, "FetchService": successDel}},
	{name: "302 redirect (not followed)", handler: redirectTo(http.StatusFound), want: byClass(unknown1, unavail1, unavail1)},
	{name: "307 redirect (not followed)", handler: redirectTo(http.StatusTemporaryRedirect), want: byClass(unknown1, unavail1, unavail1)},
	{name: "308 redirect, with a caller's client that follows redirects", handler: redirectTo(http.StatusPermanentRedirect),
		opts: []twilio.Option{twilio.WithHTTPClient(&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), CheckRedirect: func(*http.Request, []*http.Request) error { return nil }})},
		want: byClass(unknown1, unavail1, unavail1)},
	{name: "200 with a 2 MiB body", handler: body(200, []byte(`{"sid":"`+strings.Repeat("x", 2<<20)+`"}`)), want: byClass(unknown1, unavail1, unavail1)},
	{name: "a body slower than the context", deadline: 300 * time.Millisecond,
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(200)
			w.Write([]byte(`{"sid":`))
			w.(http.Flusher).Flush()
			<-r.Context().Done() // until the client gives up
		},
		want: byClass(unknown1, outcome{context.DeadlineExceeded, 1, actedNo}, outcome{context.DeadlineExceeded, 1, actedNo})},
	{name: "connection refused", listen: refused, want: same(outcome{provider.ErrUnavailable, 0, actedNo})},
	{name: "connection reset before the request is written (in the TLS handshake)", listen: resetOnAccept, want: same(unavail3)},
	{name: "connection reset after the request is written", listen: resetAfterRequest, want: byClass(unknown1, unavail3, unavail3)},
	{name: "TLS failure (untrusted certificate)", listen: untrustedTLS, want: same(unavail1)},
}

// refused returns an address where every dial is refused: port 0, where
// nothing can listen. (A port freed by closing a listener is not: another
// test can take it.)
func refused(*testing.T) (string, *atomic.Int32, func()) {
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
func resetAfterRequest(t *testing.T) (string, *atomic.Int32, func()) {
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
func untrustedTLS(t *testing.T) (string, *atomic.Int32, func()) {
	var n atomic.Int32
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = quietLog()
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	srv.Config.TLSConfig = &tls.Config{}
	srv.StartTLS()
	return srv.URL, &n, srv.Close
}

// TestFaultMatrix runs every operation against every fault and checks the
// sentinel, the number of attempts the server saw and whether Twilio may
// have acted. README.md's "Failure modes and guarantees" table is rendered
// from the same table (see TestREADMEFailureTable).
func TestFaultMatrix(t *testing.T) {
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			for _, o := range ops {
				t.Run(o.name, func(t *testing.T) {
					if f.inMemory {
						synctest.Test(t, func(t *testing.T) { runCell(t, f, o) })
						return
					}
					runCell(t, f, o)
				})
			}
		})
	}
}

func runCell(t *testing.T, f fault, o op) {
	var base string
	var attempts *atomic.Int32
	opts := append([]twilio.Option{twilio.WithRetries(retries), twilio.WithRetryWait(0, 5*time.Second)}, f.opts...)
	switch {
	case f.listen != nil:
		var stop func()
		base, attempts, stop = f.listen(t)
		defer stop()
	case f.inMemory:
		attempts = new(atomic.Int32)
		base = "http://127.0.0.1:1"
		opts = append(opts, twilio.WithHTTPClient(&http.Client{Transport: handlerTransport{counted(f.handler, attempts)}}))
	default:
		attempts = new(atomic.Int32)
		srv := httptest.NewServer(counted(f.handler, attempts))
		defer srv.Close()
		base = srv.URL
	}
	c, err := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken), append([]twilio.Option{twilio.WithBaseURL(base)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	deadline := f.deadline
	if deadline == 0 {
		deadline = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	begin := time.Now()
	err = o.call(ctx, c)
	want := f.outcomeFor(o)
	got := outcome{attempts: int(attempts.Load()), acted: actedNo}
	switch {
	case err == nil:
		got.acted = actedYes
	case errors.Is(err, provider.ErrOutcomeUnknown):
		got.acted = actedMaybe
	}
	if want.err == nil && err != nil || want.err != nil && !errors.Is(err, want.err) {
		t.Errorf("error %v, want %s", err, want)
	}
	if got.attempts != want.attempts || got.acted != want.acted {
		t.Errorf("%d attempts, acted %s; want %s (error %v)", got.attempts, got.acted, want, err)
	}
	var re *twilio.RequestError
	if errors.As(err, &re) && re.Sent != (got.acted == actedMaybe) && o.class == "POST" {
		t.Errorf("RequestError.Sent = %v, but acted = %s", re.Sent, got.acted)
	}
	if err != nil && verifyCode(err) == "unknown" {
		t.Errorf("error %v matches no sentinel", err)
	}
	if f.inMemory && want.attempts > 1 && time.Since(begin) < time.Duration(want.attempts-1)*time.Second {
		t.Errorf("retried after %v in all: Retry-After was not honoured", time.Since(begin))
	}
}

func counted(h http.HandlerFunc, n *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}
}

// verifyCode classifies err as verify.CodeOf does, without importing verify
// into the cell (it only needs to know "unknown").
func verifyCode(err error) string {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "context"
	}
	for _, s := range allSentinels {
		if errors.Is(err, s) {
			return "sentinel"
		}
	}
	return "unknown"
}

var updateREADME = flag.Bool("update-readme", false, "rewrite README.md's failure table from the fault matrix")

// failureTable renders the fault matrix as the README's table.
func failureTable() string {
	var b strings.Builder
	b.WriteString("| fault | POST: Start, Check, CheckID, CheckSNA, Cancel, Approve, CreateService, UpdateService | GET: Fetch, FetchService, ListServices | DELETE: DeleteService |\n")
	b.WriteString("|---|---|---|---|\n")
	for _, f := range faults {
		cells := map[string]string{}
		for _, class := range []string{"POST", "GET", "DELETE"} {
			// The most common outcome of the class, then the exceptions
			// with the operations they apply to.
			byOutcome := map[string][]string{}
			var order []string
			for _, o := range ops {
				if o.class != class {
					continue
				}
				s := f.outcomeFor(o).String()
				if byOutcome[s] == nil {
					order = append(order, s)
				}
				byOutcome[s] = append(byOutcome[s], o.name)
			}
			sort.SliceStable(order, func(i, j int) bool { return len(byOutcome[order[i]]) > len(byOutcome[order[j]]) })
			cell := order[0]
			for _, s := range order[1:] {
				cell += "; " + strings.Join(byOutcome[s], ", ") + ": " + s
			}
			cells[class] = cell
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", f.name, cells["POST"], cells["GET"], cells["DELETE"])
	}
	return b.String()
}

const (
	tableStart = "<!-- failure-table:start (generated from twilio/faultmatrix_test.go: go test ./twilio -run TestREADMEFailureTable -update-readme) -->\n"
	tableEnd   = "<!-- failure-table:end -->"
)

// TestREADMEFailureTable checks that README.md's failure table is the fault
// matrix, row for row.
func TestREADMEFailureTable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, tableStart), strings.Index(s, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no failure table between %q and %q", tableStart, tableEnd)
	}
	want := failureTable()
	if got := s[i+len(tableStart) : j]; got != want {
		if *updateREADME {
			s = s[:i+len(tableStart)] + want + s[j:]
			if err := os.WriteFile("../README.md", []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's failure table differs from the fault matrix; run go test ./twilio -run TestREADMEFailureTable -update-readme.\nwant:\n%s\ngot:\n%s", want, got)
	}
}
