package twilio_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

// counting returns a handler that answers with the given responses in turn
// (repeating the last) and the number of requests it saw.
func counting(t *testing.T, responses ...func(w http.ResponseWriter)) (http.HandlerFunc, *atomic.Int32) {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i >= len(responses) {
			i = len(responses) - 1
		}
		responses[i](w)
	}, &n
}

func status(code int, body string, header ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		reply(w, code, []byte(body))
	}
}

// twilio503 is Twilio's own 503 answer.
const twilio503 = `{"code":20503,"message":"Service Unavailable","more_info":"https://www.twilio.com/docs/errors/20503","status":503}`

func okCheck(t *testing.T) func(http.ResponseWriter) {
	b := fixture(t, "check_approved.json")
	return func(w http.ResponseWriter) { reply(w, 200, b) }
}

// TestRetryPolicy walks the branches of the retry policy against a server
// that counts requests.
func TestRetryPolicy(t *testing.T) {
	const retries = 2
	tests := []struct {
		name      string
		op        func(*twilio.Client) error
		responses []func(http.ResponseWriter)
		want      error // nil: success
		requests  int32
		reasons   []string
		opts      []twilio.Option
	}{
		{name: "500 on check is not retried", op: check,
			responses: []func(http.ResponseWriter){status(500, `{"code":20500}`)},
			want:      provider.ErrOutcomeUnknown, requests: 1},
		{name: "502 on start is not retried", op: start,
			responses: []func(http.ResponseWriter){status(502, `<html>`)},
			want:      provider.ErrOutcomeUnknown, requests: 1},
		{name: "504 on cancel is not retried", op: cancel,
			responses: []func(http.ResponseWriter){status(504, ``)},
			want:      provider.ErrOutcomeUnknown, requests: 1},
		{name: "Twilio's 503 on check is retried until it succeeds", op: check,
			responses: []func(http.ResponseWriter){status(503, twilio503), okCheck(t)},
			requests:  2, reasons: []string{"status 503"}},
		{name: "Twilio's 503 on check until retries run out", op: check,
			responses: []func(http.ResponseWriter){status(503, twilio503)},
			want:      provider.ErrUnavailable, requests: retries + 1, reasons: []string{"status 503", "status 503"}},
		{name: "a proxy's 503 on check is not retried", op: check,
			responses: []func(http.ResponseWriter){status(503, `<html>busy</html>`), okCheck(t)},
			want:      provider.ErrOutcomeUnknown, requests: 1},
		{name: "a proxy's 503 on check is retried with POSTRetryAny503", op: check, opts: []twilio.Option{twilio.WithPOSTRetry(twilio.POSTRetryAny503)},
			responses: []func(http.ResponseWriter){status(503, `<html>busy</html>`), okCheck(t)},
			requests:  2, reasons: []string{"status 503"}},
		{name: "Twilio's 503 on check is not retried with POSTRetryOff", op: check, opts: []twilio.Option{twilio.WithPOSTRetry(twilio.POSTRetryOff)},
			responses: []func(http.ResponseWriter){status(503, twilio503), okCheck(t)},
			want:      provider.ErrOutcomeUnknown, requests: 1},
		{name: "20429 on start is not retried with POSTRetryOff", op: start, opts: []twilio.Option{twilio.WithPOSTRetry(twilio.POSTRetryOff)},
			responses: []func(http.ResponseWriter){status(429, `{"code":20429,"status":429}`), status(201, `{"sid":"`+veSID+`","status":"pending"}`)},
			want:      provider.ErrRateLimited, requests: 1},
		{name: "a proxy's 503 on fetch is retried with POSTRetryOff", op: fetch, opts: []twilio.Option{twilio.WithPOSTRetry(twilio.POSTRetryOff)},
			responses: []func(http.ResponseWriter){status(503, ``), status(200, `{"sid":"`+veSID+`","status":"pending"}`)},
			requests:  2, reasons: []string{"status 503"}},
		{name: "20429 on start is retried", op: start,
			responses: []func(http.ResponseWriter){status(429, `{"code":20429,"status":429}`), status(201, `{"sid":"`+veSID+`","status":"pending"}`)},
			requests:  2, reasons: []string{"status 429, code 20429"}},
		{name: "60203 is never retried", op: start,
			responses: []func(http.ResponseWriter){status(429, `{"code":60203,"status":429}`)},
			want:      provider.ErrTooManySends, requests: 1},
		{name: "60202 is never retried", op: check,
			responses: []func(http.ResponseWriter){status(429, `{"code":60202,"status":429}`)},
			want:      provider.ErrTooManyChecks, requests: 1},
		{name: "60212 is not retried", op: start,
			responses: []func(http.ResponseWriter){status(429, `{"code":60212,"status":429}`)},
			want:      provider.ErrRateLimited, requests: 1},
		{name: "429 without a body is not retried", op: start,
			responses: []func(http.ResponseWriter){status(429, ``)},
			want:      provider.ErrRateLimited, requests: 1},
		{name: "500 on fetch is retried", op: fetch,
			responses: []func(http.ResponseWriter){status(500, ``), status(502, ``), status(200, `{"sid":"`+veSID+`","status":"pending"}`)},
			requests:  3, reasons: []string{"status 500", "status 502"}},
		{name: "504 on fetch until retries run out", op: fetch,
			responses: []func(http.ResponseWriter){status(504, ``)},
			want:      provider.ErrUnavailable, requests: retries + 1, reasons: []string{"status 504", "status 504"}},
		{name: "404 is final", op: fetch,
			responses: []func(http.ResponseWriter){status(404, `{"code":20404}`)},
			want:      provider.ErrNotFound, requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var events []twilio.RetryEvent
			mux, c := setup(t, append([]twilio.Option{twilio.WithRetries(retries), twilio.WithRetryHook(func(_ context.Context, e twilio.RetryEvent) {
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
			})}, tt.opts...)...)
			h, n := counting(t, tt.responses...)
			mux.HandleFunc("/", h)
			err := tt.op(c)
			if tt.want == nil && err != nil || !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
			if got := n.Load(); got != tt.requests {
				t.Errorf("server saw %d requests, want %d", got, tt.requests)
			}
			var reasons []string
			for i, e := range events {
				reasons = append(reasons, e.Reason)
				if e.Attempt != i+2 || e.Op == "" {
					t.Errorf("retry event %d = %+v", i, e)
				}
			}
			if diff := cmp.Diff(tt.reasons, reasons); diff != "" {
				t.Errorf("retry reasons (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRetryAfterIsHonoured checks that a 429 with code 20429 and
// Retry-After: 1 on Start is retried once, after one second of (fake)
// time: the client runs in a synctest bubble over an in-memory transport.
func TestRetryAfterIsHonoured(t *testing.T) {
	for _, header := range []string{"1", "HTTPDATE"} {
		t.Run(header, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var n atomic.Int32
				var times []time.Time
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					times = append(times, time.Now())
					if n.Add(1) == 1 {
						ra := header
						if ra == "HTTPDATE" {
							ra = time.Now().Add(1500 * time.Millisecond).UTC().Format(http.TimeFormat)
						}
						w.Header().Set("Retry-After", ra)
						reply(w, 429, []byte(`{"code":20429,"message":"Too many requests","status":429}`))
						return
					}
					reply(w, 201, []byte(`{"sid":"`+veSID+`","status":"pending"}`))
				})
				var waits []time.Duration
				c, err := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken),
					twilio.WithBaseURL("http://127.0.0.1:1"), twilio.WithHTTPClient(&http.Client{Transport: handlerTransport{h}}),
					twilio.WithRetryWait(time.Hour, time.Hour), // only Retry-After can make the wait short
					twilio.WithRetryHook(func(_ context.Context, e twilio.RetryEvent) { waits = append(waits, e.Wait) }))
				if err != nil {
					t.Fatal(err)
				}
				if err := start(c); err != nil {
					t.Fatal(err)
				}
				if n.Load() != 2 {
					t.Fatalf("%d requests, want 2", n.Load())
				}
				gap := times[1].Sub(times[0])
				want := time.Second
				if header == "HTTPDATE" {
					// An HTTP date has whole seconds: the wait is 1 to 1.5 s.
					if gap < time.Second || gap > 1500*time.Millisecond {
						t.Errorf("waited %v between attempts, want 1s to 1.5s", gap)
					}
					return
				}
				if gap != want || len(waits) != 1 || waits[0] != want {
					t.Errorf("waited %v (hook saw %v), want %v", gap, waits, want)
				}
			})
		})
	}
}

// handlerTransport serves requests with a handler, in memory.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// TestContextBoundsRetries checks that a context that ends during a
// backoff wait stops the call at once with the context's error: the 503
// was not processed, so the outcome is known (nothing happened).
func TestContextBoundsRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int32
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			reply(w, 503, []byte(twilio503))
		})
		c, _ := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken), twilio.WithBaseURL("http://127.0.0.1:1"),
			twilio.WithHTTPClient(&http.Client{Transport: handlerTransport{h}}), twilio.WithRetryWait(20*time.Second, 20*time.Second))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		begin := time.Now()
		_, err := c.Check(ctx, provider.CheckRequest{To: "+14155552671", Code: "123456"})
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, provider.ErrOutcomeUnknown) || time.Since(begin) != 5*time.Second || n.Load() != 1 {
			t.Errorf("Check = %v after %v and %d requests; want only DeadlineExceeded after 5s and 1 request", err, time.Since(begin), n.Load())
		}
	})
}

// TestDroppedConnection closes the connection in the middle of the
// response to a Check: it may have approved, so the answer is
// ErrOutcomeUnknown, after exactly one request.
func TestDroppedConnection(t *testing.T) {
	for _, tt := range []struct {
		name string
		op   func(*twilio.Client) error
		want error
		reqs int32
	}{
		{"check", check, provider.ErrOutcomeUnknown, 1},
		{"start", start, provider.ErrOutcomeUnknown, 1},
		{"fetch is retried", fetch, provider.ErrUnavailable, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mux, c := setup(t, twilio.WithRetries(2))
			var n atomic.Int32
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				conn, buf, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Fatal(err)
				}
				buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"sid\":\"VE")
				buf.Flush()
				conn.Close()
			})
			err := tt.op(c)
			var re *twilio.RequestError
			if !errors.Is(err, tt.want) || !errors.As(err, &re) || !re.Sent {
				t.Errorf("error = %#v, want a sent RequestError matching %v", err, tt.want)
			}
			if n.Load() != tt.reqs {
				t.Errorf("%d requests, want %d", n.Load(), tt.reqs)
			}
		})
	}
}

// TestResetBeforeResponse closes the connection after reading the request
// and before answering.
func TestResetBeforeResponse(t *testing.T) {
	mux, c := setup(t, twilio.WithRetries(2))
	var n atomic.Int32
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		conn, _, _ := w.(http.Hijacker).Hijack()
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST, not FIN
		}
		conn.Close()
	})
	err := check(c)
	if !errors.Is(err, provider.ErrOutcomeUnknown) || n.Load() != 1 {
		t.Errorf("Check = %v after %d requests, want ErrOutcomeUnknown after 1", err, n.Load())
	}
}

// TestDialFailureIsRetried makes the first two dials fail: a request that
// never left is safe to send again, even a Check.
func TestDialFailureIsRetried(t *testing.T) {
	mux := http.NewServeMux()
	h, n := counting(t, okCheck(t))
	mux.HandleFunc("/", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) <= 2 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	var reasons []string
	c, err := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken), twilio.WithBaseURL(srv.URL),
		twilio.WithHTTPClient(&http.Client{Transport: tr}), twilio.WithRetryWait(0, 0), twilio.WithRetries(3),
		twilio.WithRetryHook(func(_ context.Context, e twilio.RetryEvent) { reasons = append(reasons, e.Reason) }))
	if err != nil {
		t.Fatal(err)
	}
	if err := check(c); err != nil {
		t.Fatalf("Check = %v", err)
	}
	if dials.Load() != 3 || n.Load() != 1 {
		t.Errorf("%d dials and %d requests, want 3 and 1", dials.Load(), n.Load())
	}
	if diff := cmp.Diff([]string{"not sent: dial error", "not sent: dial error"}, reasons); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
}

// callerKey marks the caller's context, for the retry hook.
type callerKey struct{}

// TestConnectionRefused points the client at a closed port: every attempt
// fails to dial, so the request never left and the error is
// ErrUnavailable, not ErrOutcomeUnknown.
func TestConnectionRefused(t *testing.T) {
	// Port 0: nothing can listen there, so every dial is refused. (A port
	// freed by closing a listener is not: another test can take it.)
	var retries atomic.Int32
	c, _ := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken), twilio.WithBaseURL("http://127.0.0.1:0"),
		twilio.WithRetryWait(0, 0), twilio.WithRetries(2), twilio.WithRetryHook(func(ctx context.Context, _ twilio.RetryEvent) {
			if ctx.Value(callerKey{}) == "caller" { // the hook gets the caller's context
				retries.Add(1)
			}
		}))
	_, err := c.Check(context.WithValue(context.Background(), callerKey{}, "caller"), provider.CheckRequest{To: "+14155552671", Code: "123456"})
	var re *twilio.RequestError
	if !errors.Is(err, provider.ErrUnavailable) || !errors.As(err, &re) || re.Sent {
		t.Errorf("Check = %#v, want an unsent RequestError matching ErrUnavailable", err)
	}
	if retries.Load() != 2 {
		t.Errorf("%d retries, want 2", retries.Load())
	}
	if strings.Contains(err.Error(), authToken) {
		t.Error("error contains the auth token")
	}
}

// TestTimeoutAfterSending lets the per-attempt timeout expire while the
// server holds a Check: the request was sent, so the outcome is unknown,
// and it is not repeated.
func TestTimeoutAfterSending(t *testing.T) {
	release := make(chan struct{})
	// The timeout must outlast dialing and writing the request, even on a
	// loaded machine (with -race): expiring before the request is written
	// is the other case, not sent, and retried.
	mux, c := setup(t, twilio.WithTimeout(time.Second))
	var n atomic.Int32
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		<-release
	})
	defer close(release)
	err := check(c)
	if !errors.Is(err, provider.ErrOutcomeUnknown) || n.Load() != 1 {
		t.Errorf("Check = %v after %d requests, want ErrOutcomeUnknown after 1", err, n.Load())
	}
}

// TestCanceledContext checks both sides of a canceled context: before
// anything is sent (the context's error) and while a POST is in flight
// (the context's error, and an unknown outcome).
func TestCanceledContext(t *testing.T) {
	mux, c := setup(t)
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Check(ctx, provider.CheckRequest{To: "+14155552671", Code: "123456"})
	if !errors.Is(err, context.Canceled) || errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Errorf("Check with a canceled context = %v, want context.Canceled only", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	_, err = c.Check(ctx, provider.CheckRequest{To: "+14155552671", Code: "123456"})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Errorf("Check canceled in flight = %v, want context.Canceled and ErrOutcomeUnknown", err)
	}
}

// TestNoRedirects checks that a redirect is not followed (it could carry
// the credentials to another host).
func TestNoRedirects(t *testing.T) {
	follow := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	for _, opts := range [][]twilio.Option{nil, {twilio.WithHTTPClient(follow)}} {
		mux, c := setup(t, opts...)
		var other atomic.Int32
		mux.HandleFunc("/v2/", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		})
		mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
			other.Add(1)
			reply(w, 200, fixture(t, "check_approved.json"))
		})
		if err := fetch(c); !errors.Is(err, twilio.ErrRedirect) || !errors.Is(err, provider.ErrUnavailable) || other.Load() != 0 {
			t.Errorf("Fetch = %v, redirect followed %d times", err, other.Load())
		}
		if err := check(c); !errors.Is(err, twilio.ErrRedirect) || !errors.Is(err, provider.ErrOutcomeUnknown) || other.Load() != 0 {
			t.Errorf("Check = %v, redirect followed %d times", err, other.Load())
		}
	}
	if follow.CheckRedirect(nil, nil) != nil {
		t.Error("the caller's client was modified")
	}
}

// TestLongRetryAfterIsNotSlept checks that a Retry-After longer than the
// longest configured wait, or than the context allows, ends the call at
// once with the answer itself.
func TestLongRetryAfterIsNotSlept(t *testing.T) {
	for _, tt := range []struct {
		name       string
		retryAfter string
		deadline   time.Duration // 0: none
		want       error
	}{
		{"longer than the max wait", "30", 0, provider.ErrRateLimited},
		{"longer than the context allows", "5", 3 * time.Second, provider.ErrRateLimited},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var n atomic.Int32
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					n.Add(1)
					w.Header().Set("Retry-After", tt.retryAfter)
					reply(w, 429, []byte(`{"code":20429,"status":429}`))
				})
				c, _ := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken), twilio.WithBaseURL("http://127.0.0.1:1"),
					twilio.WithHTTPClient(&http.Client{Transport: handlerTransport{h}}), twilio.WithRetryWait(time.Second, 10*time.Second))
				ctx := context.Background()
				if tt.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.deadline)
					defer cancel()
				}
				begin := time.Now()
				_, err := c.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
				if !errors.Is(err, tt.want) || n.Load() != 1 || time.Since(begin) != 0 {
					t.Errorf("Start = %v after %d requests and %v; want %v at once", err, n.Load(), time.Since(begin), tt.want)
				}
				if d, ok := provider.RetryAfter(err); !ok || d.String() != tt.retryAfter+"s" {
					t.Errorf("RetryAfter = %v, %v", d, ok)
				}
			})
		})
	}
}

// TestAttemptTimeoutIsPerAttempt lets the first two attempts of a Fetch (a
// GET, idempotent) outlast the per-attempt timeout: each is retried, and
// each retry is bounded by a timeout of its own, so the third attempt
// answers. A Check (a POST) stalled the same way is not repeated.
func TestAttemptTimeoutIsPerAttempt(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	mux, c := setup(t, twilio.WithTimeout(300*time.Millisecond))
	b := fixture(t, "check_approved.json")
	var n atomic.Int32
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			<-release // the first two attempts never get an answer
		}
		reply(w, 200, b)
	})
	done := make(chan error, 1)
	go func() { done <- fetch(c) }()
	select {
	case err := <-done:
		if err != nil || n.Load() != 3 {
			t.Errorf("Fetch = %v after %d requests, want success after 3", err, n.Load())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a retried attempt is not bounded by the per-attempt timeout")
	}
	n.Store(0)
	if err := check(c); !errors.Is(err, provider.ErrOutcomeUnknown) || n.Load() != 1 {
		t.Errorf("Check = %v after %d requests, want ErrOutcomeUnknown after 1", err, n.Load())
	}
}

// TestAttemptTimeoutBoundsTheBody sends a Check's status line and headers
// at once, then stalls the body: the per-attempt timeout still ends the
// call (reading the response is part of the attempt), with an unknown
// outcome.
func TestAttemptTimeoutBoundsTheBody(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	mux, c := setup(t, twilio.WithTimeout(300*time.Millisecond))
	var n atomic.Int32
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(200)
		w.Write([]byte(`{"sid":`))
		w.(http.Flusher).Flush()
		<-release
	})
	done := make(chan error, 1)
	go func() { done <- check(c) }()
	select {
	case err := <-done:
		if !errors.Is(err, provider.ErrOutcomeUnknown) || n.Load() != 1 {
			t.Errorf("Check = %v after %d requests, want ErrOutcomeUnknown after 1", err, n.Load())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Check still reading a stalled body after 30s with a 300ms per-attempt timeout")
	}
}

// TestRetriedPOSTSendsTheWholeBody retries a Check and a Start after
// Twilio's own 503 and checks that every attempt carried the whole form.
func TestRetriedPOSTSendsTheWholeBody(t *testing.T) {
	mux, c := setup(t)
	var forms []string
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		forms = append(forms, string(b))
		if len(forms)%3 != 0 {
			reply(w, http.StatusServiceUnavailable, []byte(twilio503))
			return
		}
		reply(w, 200, fixture(t, "check_approved.json"))
	})
	if err := check(c); err != nil {
		t.Fatal(err)
	}
	want := "Code=123456&To=%2B14155552671"
	if diff := cmp.Diff([]string{want, want, want}, forms); diff != "" {
		t.Errorf("bodies of the attempts (-want +got):\n%s", diff)
	}
}
