package vonage

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/verifykit/verifykit/internal/httpretry"
)

// RetryEvent describes a retry, for WithRetryHook.
type RetryEvent struct {
	// Op is the operation, such as "start".
	Op string
	// Attempt is the number of the attempt about to be made: 2 for the
	// first retry.
	Attempt int
	// Wait is how long the client waited before it.
	Wait time.Duration
	// Reason says why the previous attempt is retried, such as
	// "status 503" or "not sent: dial error".
	Reason string
}

// attempt is the state of one API call across its HTTP attempts. The
// retry rule is httpretry's, shared with the twilio package: every Vonage
// call changes state, so only what Vonage provably did not process is
// retried —
//
//   - an attempt that never reached Vonage (the dial failed, or nothing was
//     written), except after a certificate error;
//   - 503, and 429 (the API's request-rate limit refuses the request
//     before processing it), honouring Retry-After when it fits.
//
// Everything else is final.
type attempt struct {
	httpretry.Attempt // the sent/in-flight proof, the attempt count, the reason and wait

	op         string
	client     *Client
	idempotent bool // a read (GET): repeated like any read

	body []byte // the last response body, read by readBody
	read bool   // readBody ran for the last response
}

// trace returns ctx with a ClientTrace that records whether the request
// was written.
func (a *attempt) trace(ctx context.Context) context.Context {
	ct := new(httptrace.ClientTrace)
	a.Trace(ct)
	return httptrace.WithClientTrace(ctx, ct)
}

// beforeAttempt runs before each HTTP attempt (retryablehttp's
// RequestLogHook).
func (a *attempt) beforeAttempt(_ retryablehttp.Logger, req *http.Request, i int) {
	a.body, a.read = nil, false
	if !a.Begin(i) {
		return
	}
	c := a.client
	ev := RetryEvent{Op: a.op, Attempt: a.N, Wait: a.Wait, Reason: a.Reason}
	if c.logger != nil {
		c.logger.Info("vonage retry", slog.String("op", ev.Op), slog.Int("attempt", ev.Attempt),
			slog.Duration("wait", ev.Wait), slog.String("reason", ev.Reason))
	}
	if c.retryHook != nil {
		c.retryHook(req.Context(), ev)
	}
}

// checkRetry is retryablehttp's CheckRetry: no Verify call is treated as
// idempotent (a cancel's DELETE included); only the templates' reads
// (GET) are.
func (a *attempt) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	return a.Check(ctx, a, resp, err, a.idempotent, a.client.now, a.client.waitMax)
}

// Unprocessed is attempt's httpretry.Vendor predicate: Vonage does not
// process a request it answers with 429 or 503 and its own problem
// document; the POSTRetryPolicy decides which of those answers to trust.
func (a *attempt) Unprocessed(resp *http.Response, idempotent bool) (string, bool) {
	if idempotent {
		return "", true // a read: repeating it changes nothing
	}
	p := a.client.postRetry
	own := false
	if p != POSTRetryAny503 || resp.StatusCode != http.StatusServiceUnavailable {
		own = vonageProblem(resp.Header, peekBody(resp))
	}
	return "", p.Unprocessed(resp.StatusCode, own)
}

// peekBody reads a response body (up to maxBody bytes) and puts it back,
// so it can still be read later.
func peekBody(resp *http.Response) []byte {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return data
}

// backoff is retryablehttp's Backoff: Retry-After when the response has
// one, else jittered exponential backoff.
func (a *attempt) backoff(min, max time.Duration, n int, resp *http.Response) time.Duration {
	return a.Backoff(min, max, n, resp, a.client.now())
}

// readBody is the request's response handler: it reads the body (up to
// maxBody bytes) inside retryablehttp's loop, so a connection that fails
// mid-body goes through checkRetry like any transport failure.
func (a *attempt) readBody(resp *http.Response) error {
	var lr io.LimitedReader
	var err error
	a.body, err = httpretry.ReadBody(new(bytes.Buffer), &lr, resp, maxBody)
	a.read = true
	return err
}

// LogFailure logs a failed attempt at debug level.
func (a *attempt) LogFailure(err error, _ *http.Response) {
	if l := a.client.logger; l != nil && l.Enabled(context.Background(), slog.LevelDebug) {
		l.Debug("vonage request failed", slog.String("op", a.op),
			slog.Int("attempt", a.N), slog.Duration("duration", time.Since(a.Start)), slog.String("error", httpretry.ErrorClass(err)))
	}
}

// LogResponse logs an attempt's answer at debug level.
func (a *attempt) LogResponse(resp *http.Response) {
	if l := a.client.logger; l != nil && l.Enabled(context.Background(), slog.LevelDebug) {
		l.Debug("vonage request", slog.String("op", a.op), slog.String("method", resp.Request.Method),
			slog.String("path", resp.Request.URL.Path), slog.Int("status", resp.StatusCode),
			slog.Int("attempt", a.N), slog.Duration("duration", time.Since(a.Start)))
	}
}
