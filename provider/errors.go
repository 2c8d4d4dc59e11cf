package provider

import (
	"errors"
	"time"
)

// The sentinel errors. Provider errors match at most one of them with
// errors.Is (ErrUndeliverable and ErrInvalidRequest may both match an input
// refusal that names a better channel). Each sentinel stands for one
// decision a caller makes.
var (
	// ErrInvalidRequest: the input is malformed (target, channel, code or a
	// parameter). Fix the input; retrying it unchanged fails again.
	ErrInvalidRequest = errors.New("invalid request")

	// ErrNotFound: no pending verification matches. It was never started,
	// or it was approved, canceled or has expired. Start a new one.
	ErrNotFound = errors.New("verification not found")

	// ErrTooManyChecks: the verification has had the maximum number of
	// wrong codes and can no longer be approved. Wait for its validity
	// window to end, then start again.
	ErrTooManyChecks = errors.New("too many check attempts")

	// ErrTooManySends: no more codes will be sent to the target in the
	// current window: it has been sent the maximum number of codes, or its
	// pending verification has had the maximum number of wrong codes. Ask
	// the user for a code already sent if it can still approve, or wait for
	// the window to end.
	ErrTooManySends = errors.New("too many send attempts")

	// ErrRateLimited: the provider is throttling requests. Try again later;
	// use RetryAfter to learn how much later, when the provider said.
	ErrRateLimited = errors.New("rate limited")

	// ErrUndeliverable: the code cannot be delivered to this target over
	// this channel (a landline for SMS, a disabled channel, a geographic or
	// fraud block). Try another channel or target.
	ErrUndeliverable = errors.New("undeliverable")

	// ErrUnauthorized: the provider refused the credentials.
	ErrUnauthorized = errors.New("unauthorized")

	// ErrUnsupported: the provider does not offer the requested operation
	// or feature.
	ErrUnsupported = errors.New("unsupported")

	// ErrUnavailable: the provider failed before processing the request, or
	// is down. Nothing happened; try again later.
	ErrUnavailable = errors.New("provider unavailable")

	// ErrConflict: a verification to this target is already pending, and
	// the provider does not re-send it on a repeated Start (see
	// Capabilities.ResendOnStart). Check or cancel the pending one, or wait
	// for it to end; PendingID reports its ID when the provider said.
	ErrConflict = errors.New("verification already pending")

	// ErrOutcomeUnknown: the request may or may not have been processed (the
	// answer was lost). Do not assume either outcome: fetch the
	// verification's status, or ask the user to try again, before acting.
	ErrOutcomeUnknown = errors.New("outcome unknown")
)

// RetryAfter reports how long the provider asked the caller to wait before
// trying again, when some error in err's tree has a RetryAfter method
// returning a positive duration.
func RetryAfter(err error) (time.Duration, bool) {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		if d := ra.RetryAfter(); d > 0 {
			return d, true
		}
	}
	return 0, false
}

// PendingID reports the ID of the verification already pending for the
// target, when some error in err's tree has a PendingID method returning a
// non-empty ID. Providers attach it to ErrConflict when they know it,
// which lets an application recover the ID of a verification whose Start
// answer was lost.
func PendingID(err error) (string, bool) {
	var p interface{ PendingID() string }
	if errors.As(err, &p) {
		if id := p.PendingID(); id != "" {
			return id, true
		}
	}
	return "", false
}
