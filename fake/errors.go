package fake

import (
	"time"

	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/internal/fakeconf"
)

// Op names a fake operation, in errors and in faults.
type Op string

// The operations of a Fake.
const (
	OpStart   Op = "start"
	OpCheck   Op = "check"
	OpFetch   Op = "fetch"
	OpCancel  Op = "cancel"
	OpApprove Op = "approve"
	OpSNA     Op = "sna" // the device's visit of an SNA URL (see Fake.SNAHandler)
)

// Error is the error type of every failure the fake reports, except a
// canceled or expired context, which it returns unchanged. It matches its
// Kind and its Err with errors.Is and is reached with errors.As. Its
// fields mean what the same fields of selfhosted.Error mean (and Op and
// Err what they mean in route.Error and verify.Error).
type Error struct {
	// Op is the operation that failed.
	Op Op
	// Kind is the sentinel the failure matches, such as
	// provider.ErrNotFound, or the error given to InjectFault.
	Kind error
	// Err is the cause, or nil: an error from below the fake (its store)
	// that it passes on.
	Err error
	// Reason says more than the sentinel where one sentinel covers several
	// causes (ReasonLandline and ReasonBlocked are both ErrUndeliverable),
	// or is empty. The Twilio emulator maps the same reasons
	// (internal/fakeconf) to Twilio's error codes.
	Reason Reason
	// Wait is how long the caller is asked to wait before trying again,
	// zero when there is no such advice.
	Wait time.Duration

	msg  string
	date time.Time // the fake's clock, when a device's request JWT was used outside its window
}

// Reason is the cause of a fake's failure, in neutral words. See the Reason
// constants.
type Reason string

// The reasons the fake reports.
const (
	ReasonLandline            Reason = fakeconf.ReasonLandline            // sms or whatsapp to a landline
	ReasonBlocked             Reason = fakeconf.ReasonBlocked             // the destination is blocked
	ReasonBounced             Reason = fakeconf.ReasonBounced             // the e-mail address bounces
	ReasonThrottled           Reason = fakeconf.ReasonThrottled           // the provider is throttling requests
	ReasonChecksSpent         Reason = fakeconf.ReasonChecksSpent         // a start after the maximum wrong codes
	ReasonCustomCodesDisabled Reason = fakeconf.ReasonCustomCodesDisabled // a custom code without WithCustomCodes
	ReasonMissingTarget       Reason = fakeconf.ReasonMissingTarget       // a check with neither ID nor To
)

// Error returns "fake: OP: SENTINEL[: DETAIL] [(REASON)]". It never
// contains a code or a full target.
func (e *Error) Error() string {
	s := "fake: " + string(e.Op) + ": "
	switch {
	case e.Kind != nil && e.Err != nil:
		s += e.Kind.Error() + ": " + e.Err.Error()
	case e.Kind != nil:
		s += e.Kind.Error()
	case e.Err != nil:
		s += e.Err.Error()
	}
	if e.msg != "" {
		s += ": " + e.msg
	}
	if e.Reason != "" {
		s += " (" + string(e.Reason) + ")"
	}
	return s
}

// Unwrap returns Kind and Err, those that are set.
func (e *Error) Unwrap() []error {
	switch {
	case e.Kind == nil && e.Err == nil:
		return nil
	case e.Kind == nil:
		return []error{e.Err}
	case e.Err == nil:
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// RetryAfter returns Wait, so provider.RetryAfter reports it.
func (e *Error) RetryAfter() time.Duration { return e.Wait }

// ServerTime returns the fake's clock when a push device's request JWT
// was refused for being used outside its validity window (an HTTP server
// would send it as the Date of its 401), so provider.ServerTime reports
// it; the zero time otherwise.
func (e *Error) ServerTime() time.Time { return e.date }

// The magic targets. Each fails in a documented way without any setup, so
// an application's tests can reach every error path through the verify
// client (they are valid numbers, so verify's normalisation lets them
// through). Use the constants rather than their values.
const (
	// NumberLandline is a landline: Start over sms or whatsapp fails with
	// ErrUndeliverable (ReasonLandline); call, sna and auto work.
	NumberLandline = fakeconf.NumberLandline

	// NumberBlocked is in a blocked destination: every Start fails with
	// ErrUndeliverable (ReasonBlocked).
	NumberBlocked = fakeconf.NumberBlocked

	// NumberRateLimited is throttled: every Start fails with ErrRateLimited
	// (ReasonThrottled) asking to retry after RateLimitedWait.
	NumberRateLimited = fakeconf.NumberRateLimited

	// NumberUnavailable is unreachable: every Start and Check fails with
	// ErrUnavailable before anything happens.
	NumberUnavailable = fakeconf.NumberUnavailable

	// NumberStartOutcomeUnknown sends its code, then fails with
	// ErrOutcomeUnknown, as if the response had been lost.
	NumberStartOutcomeUnknown = fakeconf.NumberStartOutcomeUnknown

	// NumberCheckOutcomeUnknown starts normally, but every Check that
	// reaches a pending verification takes effect (a right code approves it)
	// and then fails with ErrOutcomeUnknown, as if the response had been
	// lost.
	NumberCheckOutcomeUnknown = fakeconf.NumberCheckOutcomeUnknown

	// EmailUndeliverable is an address that bounces: Start fails with
	// ErrUndeliverable (ReasonBounced).
	EmailUndeliverable = fakeconf.EmailUndeliverable

	// RateLimitedWait is the Retry-After of NumberRateLimited.
	RateLimitedWait = fakeconf.RateLimitedWait
)

// magic returns the fake's error for a magic target's refusal, or nil.
func magic(op Op, r *engine.Error) error {
	if r == nil {
		return nil
	}
	return &Error{Op: op, Kind: r.Kind, Reason: Reason(r.Reason), Wait: r.Wait, msg: r.Msg}
}
