package selfhosted

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/verifykit/verifykit/provider"
)

var errRecord = errors.New("malformed record")

// Op names an operation of the provider, in errors.
type Op string

// The operations.
const (
	OpStart     Op = "start"
	OpCheck     Op = "check"
	OpFetch     Op = "fetch"
	OpCancel    Op = "cancel"
	OpApprove   Op = "approve"
	OpEnroll    Op = "enroll"
	OpConfirm   Op = "confirm"
	OpChallenge Op = "challenge"
	OpFactor    Op = "factor"
	OpDelete    Op = "delete"
)

// Error is the error type of every failure the provider reports, except a
// canceled or expired context before anything was done, which it returns
// unchanged. It matches its sentinel (Kind) with errors.Is and wraps the
// cause (a store or sender error), which is reached with errors.As.
type Error struct {
	// Op is the operation that failed.
	Op Op
	// Kind is the sentinel the failure matches, such as
	// provider.ErrNotFound.
	Kind error
	// Wait is how long the caller should wait before trying again, zero
	// when there is no such advice.
	Wait time.Duration
	// Err is the cause, or nil.
	Err error

	msg  string
	date time.Time // see ServerTime
}

// Error describes the failure; it never contains a code, a secret or an
// unmasked target.
func (e *Error) Error() string {
	s := "selfhosted: " + string(e.Op) + ": "
	switch {
	case e.msg != "":
		s += e.msg
	case e.Err != nil && strings.Contains(e.Err.Error(), e.Kind.Error()):
		// The cause says the kind already ("unauthorized: gatewayapi:
		// send to …: unauthorized" would say it twice).
		return s + e.Err.Error()
	default:
		s += e.Kind.Error()
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the sentinel and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// ServerTime returns the provider's clock when a push device's request
// JWT was used outside its validity window (an HTTP layer sends it as the
// Date of its 401), for provider.ServerTime; zero otherwise.
func (e *Error) ServerTime() time.Time { return e.date }

// RetryAfter returns Wait, for provider.RetryAfter.
func (e *Error) RetryAfter() time.Duration { return e.Wait }

func newErr(op Op, kind error, msg string) *Error { return &Error{Op: op, Kind: kind, msg: msg} }

// failure wraps a store or sender error: it keeps its kind when it matches
// ErrUnavailable, ErrOutcomeUnknown or another sentinel, and treats
// anything else as an outcome that cannot be known.
func failure(op Op, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Op == op {
		return err
	}
	for _, k := range []error{provider.ErrOutcomeUnknown, provider.ErrUnavailable, provider.ErrUndeliverable,
		provider.ErrInvalidRequest, provider.ErrRateLimited, provider.ErrUnauthorized, provider.ErrUnsupported} {
		if errors.Is(err, k) {
			w, _ := provider.RetryAfter(err)
			return &Error{Op: op, Kind: k, Err: err, Wait: w}
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err // the store returned before doing anything
	}
	return &Error{Op: op, Kind: provider.ErrOutcomeUnknown, Err: err}
}
