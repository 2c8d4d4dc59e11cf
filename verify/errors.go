package verify

import (
	"context"
	"errors"
)

// Error is the error type of every failure a Client reports. It names the
// operation and the target, masked, and wraps the underlying error: the
// provider's own error, a context error, or an input refusal. errors.Is
// matches the sentinel the underlying error matches, and errors.As reaches
// the provider's error type through it.
type Error struct {
	// Op is the operation: "start", "check", "cancel", "fetch",
	// "approve", "recover check" or "normalize".
	Op string
	// Provider is the provider's name, such as "twilio".
	Provider string
	// Target is the phone number or e-mail address, masked, or the
	// verification ID for operations keyed by ID. It may be empty.
	Target string
	// Err is the underlying error.
	Err error
}

// Error returns "verify: OP TARGET: ERR".
func (e *Error) Error() string {
	s := "verify: " + e.Op
	if e.Target != "" {
		s += " " + e.Target
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Code classifies errors by the decision a caller makes about them; see
// CodeOf. Its values are stable strings, suitable as metric labels.
type Code string

// The codes. Each error sentinel has one; CodeCanceled and
// CodeDeadlineExceeded stand for context errors, CodeOK for a nil error and
// CodeUnknown for an error that matches none of them.
const (
	CodeOK               Code = "ok"
	CodeInvalidRequest   Code = "invalid_request"
	CodeNotFound         Code = "not_found"
	CodeTooManyChecks    Code = "too_many_checks"
	CodeTooManySends     Code = "too_many_sends"
	CodeRateLimited      Code = "rate_limited"
	CodeUndeliverable    Code = "undeliverable"
	CodeUnauthorized     Code = "unauthorized"
	CodeUnsupported      Code = "unsupported"
	CodeUnavailable      Code = "unavailable"
	CodeOutcomeUnknown   Code = "outcome_unknown"
	CodeConflict         Code = "conflict"
	CodeNotYet           Code = "not_yet"
	CodeCanceled         Code = "canceled"
	CodeDeadlineExceeded Code = "deadline_exceeded"
	CodeUnknown          Code = "unknown"
)

// codes is the order in which CodeOf tries the sentinels: an unknown
// outcome first, since it must never be mistaken for a plain failure, then
// the context, then the most specific advice.
var codes = []struct {
	err  error
	code Code
}{
	{ErrOutcomeUnknown, CodeOutcomeUnknown},
	{context.Canceled, CodeCanceled},
	{context.DeadlineExceeded, CodeDeadlineExceeded},
	{ErrUndeliverable, CodeUndeliverable},
	{ErrInvalidRequest, CodeInvalidRequest},
	{ErrNotFound, CodeNotFound},
	{ErrTooManyChecks, CodeTooManyChecks},
	{ErrTooManySends, CodeTooManySends},
	{ErrConflict, CodeConflict},
	{ErrNotYet, CodeNotYet},
	{ErrRateLimited, CodeRateLimited},
	{ErrUnauthorized, CodeUnauthorized},
	{ErrUnsupported, CodeUnsupported},
	{ErrUnavailable, CodeUnavailable},
}

// CodeOf returns the Code of err: CodeOK for nil, the code of the first
// sentinel err matches, or CodeUnknown. An error that may have been
// processed is CodeOutcomeUnknown even when a context error caused it.
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return CodeUnknown
}

// inputError is an input refusal. It matches ErrInvalidRequest, and also
// ErrUndeliverable when a different channel would work.
type inputError struct {
	msg           string
	undeliverable bool
}

func (e *inputError) Error() string { return "invalid request: " + e.msg }

func (e *inputError) Is(target error) bool {
	return target == ErrInvalidRequest || (e.undeliverable && target == ErrUndeliverable)
}

func invalid(msg string) error { return &inputError{msg: msg} }
