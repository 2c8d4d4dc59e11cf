// Package httpretry is the retry rule the hosted providers (twilio, vonage)
// share: never repeat a request that may have sent a code; repeat only what
// provably was not processed — an attempt that never reached the vendor
// (the dial failed, or the transport's httptrace shows no header was
// written) or the vendor's own "not processed" answer (429, 503), honouring
// Retry-After; and, for idempotent requests only, any transport failure and
// 500, 502 and 504.
//
// Each provider keeps its own attempt type, embeds [Attempt] in it, and
// says through [Vendor] which 429 and 503 answers it trusts and how it logs.
// The package plugs into go-retryablehttp's CheckRetry, Backoff and
// RequestLogHook. FailureKind is the shared rule for the sentinel of a call
// that failed without a usable answer.
package httpretry

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// errBodyTooLarge is the error of a response body over the limit given to
// [ReadBody]. Such an answer is never retried.
var errBodyTooLarge = errors.New("response body larger than 1 MiB")

// Vendor is what the shared rule asks of a provider.
type Vendor interface {
	// Unprocessed reports whether resp, a 429 or a 503 answer, is the
	// vendor's own answer that it did not process the request (so repeating
	// it cannot send a second code). idempotent says whether the request is
	// a read or a delete. detail, when not empty, is added to the retry's
	// reason ("status 429, <detail>").
	Unprocessed(resp *http.Response, idempotent bool) (detail string, ok bool)
	// LogFailure logs an attempt that failed with err; resp is not nil
	// when the answer came but its body could not be read.
	LogFailure(err error, resp *http.Response)
	// LogResponse logs an attempt's answer.
	LogResponse(resp *http.Response)
}

// Attempt is the state of one API call across its HTTP attempts. The zero
// value is ready; install its trace with [Attempt.Trace] on the requests'
// context.
type Attempt struct {
	traced atomic.Bool // the transport reported GetConn: its trace works
	// sent is set when the current attempt's headers are written, and
	// cleared when an attempt is judged unprocessed and retried: it tells
	// whether the latest attempt may have reached the vendor.
	sent atomic.Bool

	// InFlight is true from the start of an attempt until Check decides to
	// retry it (so it was not processed): while it is false, in a backoff
	// wait or before the first attempt, nothing can have reached the
	// vendor.
	InFlight bool
	// N is the number of attempts started.
	N int
	// Start is when the current attempt started.
	Start time.Time
	// Reason says why the last attempt is being retried.
	Reason string
	// Wait is the wait before the next attempt.
	Wait time.Duration
}

// Trace sets ct's GetConn and WroteHeaders so that they record whether the
// request was written. ct must be installed (httptrace.WithClientTrace) on
// the context of the call's requests.
func (a *Attempt) Trace(ct *httptrace.ClientTrace) {
	ct.GetConn = func(string) { a.traced.Store(true) }
	ct.WroteHeaders = func() { a.sent.Store(true) }
}

// NotSent reports whether the attempt that failed with err provably did not
// reach the vendor: the dial failed, or the transport's trace shows no
// header was written.
func (a *Attempt) NotSent(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	if errors.As(err, &op) && op.Op == "dial" || errors.As(err, &dns) {
		return !a.sent.Load()
	}
	return a.traced.Load() && !a.sent.Load()
}

// MaybeSent reports whether a call that failed with err may have reached the
// vendor: an attempt was in flight and it is not provably unsent.
func (a *Attempt) MaybeSent(err error) bool { return a.InFlight && !a.NotSent(err) }

// Begin records the start of attempt i (0 for the first, as retryablehttp's
// RequestLogHook counts) and reports whether it is a retry.
func (a *Attempt) Begin(i int) (retry bool) {
	a.sent.Store(false)
	a.InFlight = true
	a.N = i + 1
	a.Start = time.Now()
	return i > 0
}

// Check is the shared CheckRetry rule; now and waitMax bound the
// Retry-After it honours (see canWait).
//
//   - A request that provably never reached the vendor is retried, except
//     after a certificate error.
//   - 429 and 503 are retried when v says they are its own not-processed
//     answer, and any Retry-After fits.
//   - For idempotent requests, any other transport failure and 500, 502
//     and 504 are retried too.
//   - Everything else is final: a request that may have been processed is
//     never repeated.
func (a *Attempt) Check(ctx context.Context, v Vendor, resp *http.Response, err error, idempotent bool, now func() time.Time, waitMax time.Duration) (bool, error) {
	retry, err := a.check(ctx, v, resp, err, idempotent, now, waitMax)
	if retry {
		// Only attempts that the vendor did not process are retried (or
		// idempotent ones): the call has had no effect so far.
		a.sent.Store(false)
		a.InFlight = false
	}
	return retry, err
}

func (a *Attempt) check(ctx context.Context, v Vendor, resp *http.Response, err error, idempotent bool, now func() time.Time, waitMax time.Duration) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if errors.Is(err, errBodyTooLarge) {
		return false, nil
	}
	if err != nil {
		v.LogFailure(err, resp)
		var cert *tls.CertificateVerificationError
		switch {
		case errors.As(err, &cert):
			return false, nil
		case a.NotSent(err):
			a.Reason = "not sent: " + ErrorClass(err)
			return true, nil
		case idempotent:
			a.Reason = ErrorClass(err)
			return true, nil
		}
		return false, nil
	}
	v.LogResponse(resp)
	switch s := resp.StatusCode; s {
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		detail, ok := v.Unprocessed(resp, idempotent)
		if !ok {
			return false, nil // not the vendor's answer: maybe processed
		}
		a.Reason = "status " + strconv.Itoa(s)
		if detail != "" {
			a.Reason += ", " + detail
		}
		return canWait(ctx, resp, now(), waitMax), nil
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		if idempotent {
			a.Reason = "status " + strconv.Itoa(s)
			return true, nil
		}
	}
	return false, nil
}

// Backoff is the retryablehttp Backoff rule: Retry-After when the response
// has one, else [ExpBackoff]. It records the wait in a.Wait.
func (a *Attempt) Backoff(min, max time.Duration, n int, resp *http.Response, now time.Time) time.Duration {
	if d, ok := RetryAfter(resp, now); ok {
		a.Wait = d
		return d
	}
	a.Wait = ExpBackoff(min, max, n)
	return a.Wait
}

// canWait reports whether a Retry-After in resp (if any) can be honoured: it
// is no longer than waitMax and ends before the context's deadline. When it
// cannot, the call should end with the response itself (with its wait), so
// the caller can decide, rather than sleep into a deadline.
func canWait(ctx context.Context, resp *http.Response, now time.Time, waitMax time.Duration) bool {
	d, ok := RetryAfter(resp, now)
	if !ok {
		return true
	}
	if d > waitMax {
		return false
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	return true
}

// ExpBackoff returns min·2ⁿ capped at max, jittered to between half and all
// of it.
func ExpBackoff(min, max time.Duration, n int) time.Duration {
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

// RetryAfter reads a Retry-After header in seconds or as an HTTP date; a
// value over a day, negative or unreadable is ignored.
func RetryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
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

// ReadBody reads resp's body into buf (reset first) through lr, at most
// limit bytes, and closes it. It is meant for retryablehttp's response
// handler, so that a connection that fails mid-body goes through Check like
// any transport failure. The body returned aliases buf; it is returned even
// with an error. A body over limit gives errBodyTooLarge.
func ReadBody(buf *bytes.Buffer, lr *io.LimitedReader, resp *http.Response, limit int64) ([]byte, error) {
	buf.Reset()
	*lr = io.LimitedReader{R: resp.Body, N: limit + 1}
	_, err := buf.ReadFrom(lr)
	lr.R = nil
	resp.Body.Close()
	body := buf.Bytes()
	if err != nil {
		return body, err
	}
	if int64(len(body)) > limit {
		return body, errBodyTooLarge
	}
	return body, nil
}

// ErrorClass names a transport error without its text, which can contain
// the URL.
func ErrorClass(err error) string {
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

// FailureKind is the sentinel of a call that failed with err and no usable
// answer: provider.ErrOutcomeUnknown when it may have taken effect (a
// state-changing request that may have reached the vendor — an unknown
// outcome is never made definite), none (nil) when err is the context's
// own error, which says it all, else provider.ErrUnavailable.
func FailureKind(ctx context.Context, mayHaveEffect bool, err error) error {
	switch {
	case mayHaveEffect:
		return provider.ErrOutcomeUnknown
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return nil
	}
	return provider.ErrUnavailable
}
