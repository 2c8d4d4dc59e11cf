package twilio

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/verifykit/verifykit/internal/httpretry"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// ErrRedirect is matched (with errors.Is) by the APIError of a 3xx answer.
// The client never follows a redirect, whatever *http.Client it was given:
// Twilio's API does not redirect, and following one would send the
// credentials and a code elsewhere. A 3xx answer to a POST also matches
// provider.ErrOutcomeUnknown (whoever answered may have acted), and to a GET
// or DELETE provider.ErrUnavailable.
var ErrRedirect = errors.New("twilio: redirect not followed")

// APIError is an error response from the Twilio API: an HTTP status of 400
// or more, with Twilio's error body when it had one, or a redirect (3xx),
// which the client never follows.
//
// It matches the provider sentinel errors with errors.Is, by Twilio code
// first and HTTP status second:
//
//	20404, 60323, 60391                  → provider.ErrNotFound
//	60202                                → provider.ErrTooManyChecks (ErrTooManySends on start)
//	60203                                → provider.ErrTooManySends
//	20429, 60212                         → provider.ErrRateLimited
//	20004, 60200, 60221                  → provider.ErrInvalidRequest
//	60306, 60311, 60318, 60324, 60364,
//	60369 (factors)                      → provider.ErrInvalidRequest
//	60310 (factor wrong-code limit)      → provider.ErrTooManyChecks
//	60205, 60223, 60605, 60410, 60238    → provider.ErrUndeliverable
//	20003                                → provider.ErrUnauthorized
//	60204                                → provider.ErrUnsupported
//	60519 (silent network auth)          → provider.ErrNotYet
//	60540 (silent network auth)          → provider.ErrInvalidRequest
//	60510, 60511, 60517, 60520, 60533,
//	60534 (silent network auth)          → provider.ErrUndeliverable
//	other codes: 401 and 403 → ErrUnauthorized, 404 → ErrNotFound,
//	429 → ErrRateLimited, 503 → ErrUnavailable (for a POST only when
//	the POSTRetryPolicy takes the answer to mean "not processed", else
//	ErrOutcomeUnknown), other 5xx → ErrOutcomeUnknown for POST requests
//	(Twilio may have acted) and ErrUnavailable for GET and DELETE, other
//	4xx → ErrInvalidRequest; 3xx → ErrRedirect and ErrOutcomeUnknown
//	for a POST, ErrRedirect and ErrUnavailable for GET and DELETE.
type APIError struct {
	// Op is the operation: "start", "check", "fetch", "cancel", "approve",
	// a Services operation such as "create service", or a factor operation
	// such as "enroll factor" or "create challenge".
	Op string
	// Status is the HTTP status code.
	Status int
	// Code is Twilio's error code (for example 60203), or 0 when the body
	// was not a Twilio error.
	Code int
	// Message is Twilio's message, with phone numbers and e-mail addresses
	// masked.
	Message string
	// MoreInfo is the URL of Twilio's page about the code.
	MoreInfo string
	// Wait is the Retry-After the response carried, zero if none.
	Wait time.Duration

	method string
	// hint says which credentials to check, for an answer that refuses
	// them; it never holds a secret.
	hint string
	// unprocessed is set for a 503 answer to a POST that the client's
	// POSTRetryPolicy takes to mean "not processed".
	unprocessed bool
}

// Error returns "twilio: OP: STATUS CODE: MESSAGE", followed for an error
// matching provider.ErrUnauthorized by which credentials to check (the
// names of the environment variables NewFromEnv reads, never a value).
func (e *APIError) Error() string {
	s := "twilio: " + e.Op + ": " + strconv.Itoa(e.Status)
	if e.Code != 0 {
		s += " " + strconv.Itoa(e.Code)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.hint != "" {
		s += " (" + e.hint + ")"
	}
	return s
}

// GoString is like Error, so %#v shows nothing more.
func (e *APIError) GoString() string { return e.Error() }

// RetryAfter returns the wait the response asked for, so
// provider.RetryAfter reports it.
func (e *APIError) RetryAfter() time.Duration { return e.Wait }

// Is reports whether target is the sentinel error e matches; see the type's
// documentation.
func (e *APIError) Is(target error) bool {
	if target == ErrRedirect {
		return e.Status >= 300 && e.Status < 400
	}
	s := e.sentinel()
	return s != nil && s == target
}

func (e *APIError) sentinel() error {
	if s := twiliocode.SentinelOf(e.Code, e.Op == opStart); s != nil {
		return s
	}
	switch s := e.Status; {
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return provider.ErrUnauthorized
	case s == http.StatusNotFound:
		return provider.ErrNotFound
	case s == http.StatusTooManyRequests:
		return provider.ErrRateLimited
	case s == http.StatusServiceUnavailable:
		if e.method == http.MethodPost && !e.unprocessed {
			return provider.ErrOutcomeUnknown
		}
		return provider.ErrUnavailable
	case s >= 500:
		if e.method == http.MethodPost {
			return provider.ErrOutcomeUnknown
		}
		return provider.ErrUnavailable
	case s >= 400:
		return provider.ErrInvalidRequest
	case s >= 300:
		if e.method == http.MethodPost {
			return provider.ErrOutcomeUnknown
		}
		return provider.ErrUnavailable
	}
	return nil
}

// RequestError is a failure without an error answer from Twilio: the input
// was refused before sending (provider.ErrInvalidRequest), the request could
// not be sent or the connection failed, the context ended, or the response
// could not be read or was not a well-formed answer to the request (a
// success status with an empty object, null, no SID or status, or a
// verification, service or target other than the one asked about). It matches provider.ErrUnavailable when the request
// provably did not reach Twilio (or was a read), and
// provider.ErrOutcomeUnknown when a POST may have been processed. Through
// Unwrap it also matches the underlying error, such as context.Canceled.
type RequestError struct {
	// Op is the operation, as in APIError.
	Op string
	// Sent reports whether the request may have reached Twilio.
	Sent bool
	// Err is the underlying error.
	Err error

	kind error // the sentinel, or nil
}

// Error returns "twilio: OP: KIND: ERR".
func (e *RequestError) Error() string {
	s := "twilio: " + e.Op + ": "
	if e.kind != nil {
		s += e.kind.Error() + ": "
	}
	return s + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *RequestError) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel e matches.
func (e *RequestError) Is(target error) bool { return e.kind != nil && e.kind == target }

// requestError classifies a failure without a usable response.
func requestError(ctx context.Context, op, method string, sent bool, err error) *RequestError {
	return &RequestError{Op: op, Sent: sent, Err: err, kind: httpretry.FailureKind(ctx, sent && method == http.MethodPost, err)}
}

// invalidInput is the error for input refused before anything is sent.
func invalidInput(op, msg string) error {
	return &RequestError{Op: op, Err: errors.New(msg), kind: provider.ErrInvalidRequest}
}

// unknownSID is the error for a verification SID that Twilio cannot have
// issued: no such verification, found without a request (IDs are opaque
// to callers, so a malformed one is not found rather than invalid).
func unknownSID(op string) error {
	return &RequestError{Op: op, Err: errors.New("no verification has this SID (not VE followed by 32 hex digits)"), kind: provider.ErrNotFound}
}

// unknownFactorSID is unknownSID for a factor (YF) or challenge (YC) SID: an
// ID the client never got from Twilio is unknown whatever its shape, and
// is not sent.
func unknownFactorSID(op, what string) error {
	return &RequestError{Op: op, Err: errors.New("no " + what + " has this SID (not the shape of Twilio's)"), kind: provider.ErrNotFound}
}

// CodeOf returns Twilio's numeric error code (such as 60203) of the
// APIError in err's tree, or 0 when there is none or it had no code.
func CodeOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}

// maxMessage is the most of a message from Twilio an error keeps.
const maxMessage = 512
