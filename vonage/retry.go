package vonage

import (
	"context"
	"crypto/tls"
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

// attempt is the state of one API call across its HTTP attempts.
type attempt struct {
	op     string
	client *Client

	traced atomic.Bool // the transport reported GetConn: its trace works
	// sent is set when the current attempt's headers are written, and
	// cleared when an attempt is judged unprocessed and retried.
	sent atomic.Bool
	// inFlight is true from the start of an attempt until checkRetry
	// decides to retry it: while it is false nothing can have reached
	// Vonage.
	inFlight bool
	body     []byte // the last response body, read by readBody
	read     bool   // readBody ran for the last response
	n        int    // attempts started
	start    time.Time
	reason   string
	wait     time.Duration
}

// trace returns ctx with a ClientTrace that records whether the request
// was written.
func (a *attempt) trace(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn:      func(string) { a.traced.Store(true) },
		WroteHeaders: func() { a.sent.Store(true) },
	})
}

// notSent reports whether a failed attempt provably did not reach Vonage:
// the dial failed, or the trace shows no header was written.
func (a *attempt) notSent(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	if errors.As(err, &op) && op.Op == "dial" || errors.As(err, &dns) {
		return !a.sent.Load()
	}
	return a.traced.Load() && !a.sent.Load()
}

// maybeSent reports whether a call that failed with err may have reached
// Vonage.
func (a *attempt) maybeSent(err error) bool { return a.inFlight && !a.notSent(err) }

// beforeAttempt runs before each HTTP attempt (retryablehttp's
// RequestLogHook).
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
		c.logger.Info("vonage retry", slog.String("op", ev.Op), slog.Int("attempt", ev.Attempt),
			slog.Duration("wait", ev.Wait), slog.String("reason", ev.Reason))
	}
	if c.retryHook != nil {
		c.retryHook(ev)
	}
}

// checkRetry is retryablehttp's CheckRetry. Every Vonage call changes
// state, so only what Vonage provably did not process is retried:
//
//   - an attempt that never reached Vonage (the dial failed, or nothing was
//     written), except after a certificate error;
//   - 503, and 429 (the API's request-rate limit refuses the request
//     before processing it), honouring Retry-After when it fits.
//
// Everything else is final.
func (a *attempt) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	retry, err := a.shouldRetry(ctx, resp, err)
	if retry {
		a.sent.Store(false)
		a.inFlight = false
	}
	return retry, err
}

func (a *attempt) shouldRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if errors.Is(err, errBodyTooLarge) {
		return false, nil
	}
	if err != nil {
		a.logFailure(err)
		var cert *tls.CertificateVerificationError
		switch {
		case errors.As(err, &cert):
			return false, nil
		case a.notSent(err):
			a.reason = "not sent: " + errorClass(err)
			return true, nil
		}
		return false, nil
	}
	a.logResponse(resp)
	switch s := resp.StatusCode; s {
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		a.reason = "status " + strconv.Itoa(s)
		return a.canWait(ctx, resp), nil
	}
	return false, nil
}

// canWait reports whether a Retry-After in resp (if any) can be honoured:
// no longer than the longest wait configured and ending before the
// context's deadline. When it cannot, the call ends with the response
// itself, so the caller can decide.
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

// backoff is retryablehttp's Backoff: Retry-After when the response has
// one, else jittered exponential backoff.
func (a *attempt) backoff(min, max time.Duration, n int, resp *http.Response) time.Duration {
	if d, ok := retryAfter(resp, a.client.now()); ok {
		a.wait = d
		return d
	}
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
	a.wait = d
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
		d := max(t.Sub(now), 0)
		if d > 24*time.Hour {
			return 0, false
		}
		return d, true
	}
	return 0, false
}

var errBodyTooLarge = errors.New("response body larger than 1 MiB")

// readBody is the request's response handler: it reads the body (up to
// maxBody bytes) inside retryablehttp's loop, so a connection that fails
// mid-body goes through checkRetry like any transport failure.
func (a *attempt) readBody(resp *http.Response) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	a.body, a.read = data, true
	if err != nil {
		return err
	}
	if len(data) > maxBody {
		return errBodyTooLarge
	}
	return nil
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
		l.Debug("vonage request failed", slog.String("op", a.op),
			slog.Int("attempt", a.n), slog.Duration("duration", time.Since(a.start)), slog.String("error", errorClass(err)))
	}
}

func (a *attempt) logResponse(resp *http.Response) {
	if l := a.client.logger; l != nil && l.Enabled(context.Background(), slog.LevelDebug) {
		l.Debug("vonage request", slog.String("op", a.op), slog.String("method", resp.Request.Method),
			slog.String("path", resp.Request.URL.Path), slog.Int("status", resp.StatusCode),
			slog.Int("attempt", a.n), slog.Duration("duration", time.Since(a.start)))
	}
}
