package twilio

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// attempt is the state of one API call across its HTTP attempts. It is
// also the context of the call's requests (it wraps the caller's), so the
// retry policy's functions, which retryablehttp calls with the request's
// context, find it without a closure per call.
type attempt struct {
	op     string
	method string
	client *Client
	parent context.Context // the caller's

	rc  retryablehttp.Client  // the call's retry loop
	ct  httptrace.ClientTrace // reports whether the request was written
	lr  io.LimitedReader      // bounds the body readBody reads
	buf *bytes.Buffer         // holds the body; from the bodies pool

	traced atomic.Bool // the transport reported GetConn: its trace works
	// sent is set when the current attempt's headers are written, and
	// cleared when an attempt is judged unprocessed and retried: it tells
	// whether the latest attempt may have reached Twilio.
	sent atomic.Bool

	// inFlight is true from the start of an attempt until checkRetry
	// decides to retry it (so it was not processed): while it is false, in
	// a backoff wait or before the first attempt, nothing can have reached
	// Twilio.
	inFlight bool
	body     []byte // the last response body, read by readBody (in buf)
	read     bool   // readBody ran for the last response
	n        int    // attempts started
	start    time.Time
	reason   string        // why the last attempt is being retried
	wait     time.Duration // the wait before the next attempt
}

// attemptKey is the context key under which an attempt finds itself.
type attemptKey struct{}

// Deadline, Done, Err and Value make an attempt the context of its
// requests: the caller's, plus the attempt itself under attemptKey.
func (a *attempt) Deadline() (time.Time, bool) { return a.parent.Deadline() }
func (a *attempt) Done() <-chan struct{}       { return a.parent.Done() }
func (a *attempt) Err() error                  { return a.parent.Err() }
func (a *attempt) Value(key any) any {
	if key == (attemptKey{}) {
		return a
	}
	return a.parent.Value(key)
}

// attemptOf returns the attempt whose request has the context ctx, or nil.
func attemptOf(ctx context.Context) *attempt {
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	return a
}

// requestContext returns the context of the call's requests: the attempt, with a
// ClientTrace that records whether the request was written.
func (a *attempt) requestContext() context.Context {
	a.ct.GetConn = func(string) { a.traced.Store(true) }
	a.ct.WroteHeaders = func() { a.sent.Store(true) }
	return httptrace.WithClientTrace(a, &a.ct)
}

// release returns the body buffer to the pool; the body must no longer be
// used.
func (a *attempt) release() {
	if a.buf != nil && a.buf.Cap() <= 64<<10 {
		a.buf.Reset()
		bodies.Put(a.buf)
	}
	a.buf, a.body = nil, nil
}

// notSent reports whether the failed attempt provably did not reach Twilio:
// the dial failed, or the transport's trace shows no header was written.
func (a *attempt) notSent(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	if errors.As(err, &op) && op.Op == "dial" || errors.As(err, &dns) {
		return !a.sent.Load()
	}
	return a.traced.Load() && !a.sent.Load()
}

// maybeSent reports whether a call that failed with err may have reached
// Twilio: an attempt was in flight and it is not provably unsent.
func (a *attempt) maybeSent(err error) bool { return a.inFlight && !a.notSent(err) }

// beforeAttempt is retryablehttp's RequestLogHook: it runs before each
// HTTP attempt of a call, and reports retries.
func beforeAttempt(l retryablehttp.Logger, req *http.Request, i int) {
	if a := attemptOf(req.Context()); a != nil {
		a.beforeAttempt(l, req, i)
	}
}

func (a *attempt) beforeAttempt(_ retryablehttp.Logger, _ *http.Request, i int) {
	a.sent.Store(false)
	a.inFlight = true
	a.body, a.read = nil, false
	a.n = i + 1
	a.start = time.Now()
	if i == 0 {
		return
	}
	c := a.client
	ev := RetryEvent{Op: a.op, Attempt: i + 1, Wait: a.wait, Reason: a.reason}
	if c.logger != nil {
		c.logger.Info("twilio retry", slog.String("op", ev.Op), slog.Int("attempt", ev.Attempt),
			slog.Duration("wait", ev.Wait), slog.String("reason", ev.Reason))
	}
	if c.retryHook != nil {
		c.retryHook(ev)
	}
}

// checkRetry is retryablehttp's CheckRetry: it retries only what is safe.
//
//   - A request that provably never reached Twilio (the dial failed, or
//     nothing was written) is retried, except after a certificate error.
//   - 429 with code 20429 (account concurrency) and 503 are retried: Twilio
//     did not process them. For a POST, the POSTRetryPolicy decides which
//     of those answers to trust (by default, only Twilio's own: 20429 and
//     20503 bodies). 60202, 60203 and other 429s are not retried.
//   - For GET and DELETE, which are idempotent, any other transport failure
//     and 500, 502 and 504 are retried too.
//   - Everything else is final: a POST that may have been processed is
//     never repeated.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	a := attemptOf(ctx)
	if a == nil {
		return false, err // not a call of this package: never retry
	}
	return a.checkRetry(ctx, resp, err)
}

func (a *attempt) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	retry, err := a.shouldRetry(ctx, resp, err)
	if retry {
		// Only attempts that Twilio did not process are retried (or reads,
		// which change nothing): the call has had no effect so far.
		a.sent.Store(false)
		a.inFlight = false
	}
	return retry, err
}

func (a *attempt) shouldRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	idempotent := a.method != http.MethodPost
	if errors.Is(err, errBodyTooLarge) {
		return false, nil
	}
	if err != nil {
		a.logFailure(err)
		var cert *tls.CertificateVerificationError
		if resp != nil {
			a.logResponse(resp) // the body failed
		}
		switch {
		case errors.As(err, &cert):
			return false, nil
		case a.notSent(err):
			a.reason = "not sent: " + errorClass(err)
			return true, nil
		case idempotent:
			a.reason = errorClass(err)
			return true, nil
		}
		return false, nil
	}
	a.logResponse(resp)
	switch s := resp.StatusCode; {
	case s == http.StatusServiceUnavailable:
		if !idempotent {
			switch a.client.postRetry {
			case POSTRetryOff:
				return false, nil
			case POSTRetryTwilio:
				if peekCode(resp) != twiliocode.ServiceUnavailable {
					return false, nil // not Twilio's answer: maybe processed
				}
			}
		}
		a.reason = "status 503"
		return a.canWait(ctx, resp), nil
	case s == http.StatusTooManyRequests:
		if code := peekCode(resp); code == twiliocode.TooManyRequests {
			if !idempotent && a.client.postRetry == POSTRetryOff {
				return false, nil
			}
			a.reason = "status 429, code 20429"
			return a.canWait(ctx, resp), nil
		}
		return false, nil
	case idempotent && (s == http.StatusInternalServerError || s == http.StatusBadGateway || s == http.StatusGatewayTimeout):
		a.reason = "status " + strconv.Itoa(s)
		return true, nil
	}
	return false, nil
}

// canWait reports whether a Retry-After in resp (if any) can be honoured:
// it is no longer than the longest wait configured and ends before the
// context's deadline. When it cannot, the call ends with the response
// itself (ErrRateLimited or ErrUnavailable, with its RetryAfter), so the
// caller can decide, rather than sleeping into a deadline.
func (a *attempt) canWait(ctx context.Context, resp *http.Response) bool {
	d, ok := retryAfter(resp, a.client.now())
	if !ok {
		return true
	}
	if d > a.client.waitMax {
		return false
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	return true
}

// backoff is retryablehttp's Backoff: Retry-After when the response has one,
// else exponential backoff with jitter between min and max.
func (a *attempt) backoff(min, max time.Duration, n int, resp *http.Response) time.Duration {
	if d, ok := retryAfter(resp, a.client.now()); ok {
		a.wait = d
		return d
	}
	a.wait = expBackoff(min, max, n)
	return a.wait
}

// expBackoff returns min·2ⁿ capped at max, jittered to between half and
// all of it.
func expBackoff(min, max time.Duration, n int) time.Duration {
	d := min
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	if d > max || d < 0 {
		d = max
	}
	if d > 0 {
		d = d/2 + rand.N(d/2+1)
	}
	return d
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 || s > 24*3600 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		if d > 24*time.Hour {
			return 0, false
		}
		return d, true
	}
	return 0, false
}

// errBodyTooLarge is the error of a response body over maxBody bytes.
var errBodyTooLarge = errors.New("response body larger than 1 MiB")

// readBody is the requests' response handler: it reads the body (up to
// maxBody bytes) inside retryablehttp's loop, so that a connection that
// fails mid-body goes through checkRetry like any transport failure, and
// keeps it for the caller.
func readBody(resp *http.Response) error {
	a := attemptOf(resp.Request.Context())
	if a == nil {
		return nil // do reads it
	}
	return a.readBody(resp)
}

func (a *attempt) readBody(resp *http.Response) error {
	a.buf.Reset()
	a.lr = io.LimitedReader{R: resp.Body, N: maxBody + 1}
	_, err := a.buf.ReadFrom(&a.lr)
	a.lr.R = nil
	resp.Body.Close()
	a.body, a.read = a.buf.Bytes(), true
	if err != nil {
		return err
	}
	if len(a.body) > maxBody {
		return errBodyTooLarge
	}
	return nil
}

// peekCode reads the Twilio error code from a response body and puts the
// body back, so it can still be read later.
func peekCode(resp *http.Response) int {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return twilioCode(data)
}

// twilioCode returns the code of a Twilio JSON error body, or 0.
func twilioCode(data []byte) int {
	var body struct {
		Code int `json:"code"`
	}
	if json.Unmarshal(data, &body) != nil {
		return 0
	}
	return body.Code
}

// errorClass names a transport error without its text, which can contain
// the URL.
func errorClass(err error) string {
	var op *net.OpError
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		return "DNS error"
	case errors.As(err, &op):
		return op.Op + " error"
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "connection closed"
	}
	var timeout interface{ Timeout() bool }
	if errors.As(err, &timeout) && timeout.Timeout() {
		return "timeout"
	}
	return "transport error"
}

func (a *attempt) logFailure(err error) {
	if l := a.client.logger; l != nil && l.Enabled(context.Background(), slog.LevelDebug) {
		l.Debug("twilio request failed", slog.String("op", a.op), slog.String("method", a.method),
			slog.Int("attempt", a.n), slog.Duration("duration", time.Since(a.start)), slog.String("error", errorClass(err)))
	}
}

func (a *attempt) logResponse(resp *http.Response) {
	if l := a.client.logger; l != nil && l.Enabled(context.Background(), slog.LevelDebug) {
		l.Debug("twilio request", slog.String("op", a.op), slog.String("method", a.method),
			slog.String("path", resp.Request.URL.Path), slog.Int("status", resp.StatusCode),
			slog.Int("attempt", a.n), slog.Duration("duration", time.Since(a.start)))
	}
}
