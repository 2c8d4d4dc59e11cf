package twilio

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/verifykit/verifykit/internal/httpretry"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// attempt is the state of one API call across its HTTP attempts. It is
// also the context of the call's requests (it wraps the caller's), so the
// retry policy's functions, which retryablehttp calls with the request's
// context, find it without a closure per call. The retry rule itself is
// httpretry's, shared with the vonage package; attempt says which 429 and
// 503 answers are Twilio's own and how they are logged.
type attempt struct {
	httpretry.Attempt // the sent/in-flight proof, the attempt count, the reason and wait

	op     string
	method string
	client *Client
	parent context.Context // the caller's

	rc  retryablehttp.Client  // the call's retry loop
	ct  httptrace.ClientTrace // reports whether the request was written
	lr  io.LimitedReader      // bounds the body readBody reads
	buf *bytes.Buffer         // holds the body; from the bodies pool

	// req is the call's request; its context is the current attempt's
	// (reqCtx with the client's per-attempt deadline), or reqCtx alone in
	// a backoff wait. cancel ends the current attempt's deadline; it runs
	// when the next attempt starts or the call ends, so the previous
	// attempt's body stays bounded by its deadline until then.
	req *retryablehttp.Request
	// reqBody is the request body; bodyReader hands out readers of it
	// (see there).
	reqBody []byte
	// building is true while do builds the request, before the retry
	// loop runs: nothing can be sending a body yet.
	building bool
	// backoffSet says rc.Backoff is a.backoff (see checkRetry).
	backoffSet bool
	brUsed     atomic.Bool
	pre, br    bytes.Reader
	reqCtx     context.Context // the attempt, with its ClientTrace
	cancel     context.CancelFunc

	body []byte // the last response body, read by readBody (in buf)
	read bool   // readBody ran for the last response
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

// attemptContext returns the context of the call's first attempt: the
// attempt, with a ClientTrace that records whether the request was
// written, bounded by the client's per-attempt timeout.
//
// The per-attempt deadline is set here, on the request's context, rather
// than through http.Client.Timeout (the client's copy has none): the
// transport sees the same deadline either way — it bounds the dial, the
// request and reading the response — without http.Client forking the
// request and wrapping its body for every attempt.
func (a *attempt) attemptContext() context.Context {
	a.Trace(&a.ct)
	a.reqCtx = httptrace.WithClientTrace(a, &a.ct)
	var ctx context.Context
	ctx, a.cancel = context.WithTimeout(a.reqCtx, a.client.timeout)
	return ctx
}

// nextAttempt gives a retry its own per-attempt deadline, ending the
// previous attempt's (whose body retryablehttp has drained).
func (a *attempt) nextAttempt() {
	a.cancel()
	var ctx context.Context
	ctx, a.cancel = context.WithTimeout(a.reqCtx, a.client.timeout)
	a.req.Request = a.req.Request.WithContext(ctx)
}

// bodyReader is the request's retryablehttp.ReaderFunc. It depends on
// no library's order or number of calls, only on the phase of the call:
//
//   - while do builds the request (building), nothing is sending, so
//     every call — retryablehttp measuring the body, say — gets pre,
//     part of the attempt, rewound;
//   - once the retry loop runs, the first call gets br, also part of the
//     attempt, and every later one (a retry, the transport rewinding a
//     request) a new reader, since the transport may still be writing an
//     earlier attempt's body. pre is never handed out again, in case the
//     library kept the reader it measured and sent it.
//
// So no reader is ever shared by two users that may run at once, and the
// common call (measure, then one attempt) allocates no reader. The readers
// are *bytes.Reader (retryablehttp wraps them in io.NopCloser) so that the
// transport knows the body is in memory and writes it with the headers.
func (a *attempt) bodyReader() (io.Reader, error) {
	if a.building {
		a.pre.Reset(a.reqBody)
		return &a.pre, nil
	}
	if !a.brUsed.Swap(true) {
		a.br.Reset(a.reqBody)
		return &a.br, nil
	}
	return bytes.NewReader(a.reqBody), nil
}

// release ends the last attempt's deadline and returns the body buffer to
// the pool; the response and its body must no longer be used.
func (a *attempt) release() {
	if a.cancel != nil {
		a.cancel()
	}
	if a.buf != nil && a.buf.Cap() <= 64<<10 {
		a.buf.Reset()
		bodies.Put(a.buf)
	}
	a.buf, a.body = nil, nil
}

// beforeAttempt is retryablehttp's RequestLogHook: it runs before each
// HTTP attempt of a call, and reports retries.
func beforeAttempt(l retryablehttp.Logger, req *http.Request, i int) {
	if a := attemptOf(req.Context()); a != nil {
		a.beforeAttempt(l, req, i)
	}
}

func (a *attempt) beforeAttempt(_ retryablehttp.Logger, req *http.Request, i int) {
	a.body, a.read = nil, false
	if !a.Begin(i) {
		return
	}
	if a.req != nil {
		a.nextAttempt()
	}
	c := a.client
	ev := RetryEvent{Op: a.op, Attempt: a.N, Wait: a.Wait, Reason: a.Reason}
	if c.logger != nil {
		c.logger.Info("twilio retry", slog.String("op", ev.Op), slog.Int("attempt", ev.Attempt),
			slog.Duration("wait", ev.Wait), slog.String("reason", ev.Reason))
	}
	if c.retryHook != nil {
		c.retryHook(req.Context(), ev)
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

func (a *attempt) checkRetry(_ context.Context, resp *http.Response, err error) (bool, error) {
	// The caller's context decides, not the attempt's: an attempt that
	// ran out of its own time is judged like any transport failure.
	retry, err := a.Check(a.parent, a, resp, err, a.method != http.MethodPost, a.client.now, a.client.waitMax)
	if retry && !a.backoffSet {
		// Backoff is asked for only after a retry is decided: its method
		// value is made then, not for every call.
		a.rc.Backoff, a.backoffSet = a.backoff, true
	}
	if retry && a.req != nil {
		// The backoff wait watches the request's context: only the
		// caller's may end it, not the spent attempt's deadline. (A new
		// shallow copy: the transport may still hold the old request.)
		a.req.Request = a.req.Request.WithContext(a.reqCtx)
	}
	return retry, err
}

// Unprocessed says which 429 and 503 answers Twilio did not process (see
// checkRetry); it is attempt's httpretry.Vendor predicate.
func (a *attempt) Unprocessed(resp *http.Response, idempotent bool) (string, bool) {
	p := a.client.postRetry
	if resp.StatusCode == http.StatusTooManyRequests {
		if peekCode(resp) != twiliocode.TooManyRequests {
			return "", false
		}
		return "code 20429", idempotent || p.Unprocessed(resp.StatusCode, true)
	}
	if idempotent {
		return "", true
	}
	// Only the default policy reads the body: the others do not ask
	// whose answer it is.
	own := p == POSTRetryTwilio && peekCode(resp) == twiliocode.ServiceUnavailable
	return "", p.Unprocessed(resp.StatusCode, own) // else not Twilio's answer: maybe processed
}

// noBackoff is rc's Backoff until checkRetry first decides to retry and
// installs the attempt's; retryablehttp asks for a wait only after that,
// so it is never called.
func noBackoff(min, max time.Duration, n int, _ *http.Response) time.Duration {
	return httpretry.ExpBackoff(min, max, n)
}

// backoff is retryablehttp's Backoff: Retry-After when the response has one,
// else exponential backoff with jitter between min and max.
func (a *attempt) backoff(min, max time.Duration, n int, resp *http.Response) time.Duration {
	return a.Backoff(min, max, n, resp, a.client.now())
}

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
	var err error
	a.body, err = httpretry.ReadBody(a.buf, &a.lr, resp, maxBody)
	a.read = true
	return err
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

// LogFailure logs a failed attempt at debug level (and its answer, when
// only its body failed).
func (a *attempt) LogFailure(err error, resp *http.Response) {
	if l := a.client.logger; l != nil && l.Enabled(context.Background(), slog.LevelDebug) {
		l.Debug("twilio request failed", slog.String("op", a.op), slog.String("method", a.method),
			slog.Int("attempt", a.N), slog.Duration("duration", time.Since(a.Start)), slog.String("error", httpretry.ErrorClass(err)))
	}
	if resp != nil {
		a.LogResponse(resp) // the body failed
	}
}

// LogResponse logs an attempt's answer at debug level.
func (a *attempt) LogResponse(resp *http.Response) {
	if l := a.client.logger; l != nil && l.Enabled(context.Background(), slog.LevelDebug) {
		l.Debug("twilio request", slog.String("op", a.op), slog.String("method", a.method),
			slog.String("path", resp.Request.URL.Path), slog.Int("status", resp.StatusCode),
			slog.Int("attempt", a.N), slog.Duration("duration", time.Since(a.Start)))
	}
}
