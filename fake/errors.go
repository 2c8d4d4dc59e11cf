package fake

import (
	"time"

	"github.com/verifykit/verifykit/provider"
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
	// or is empty. Emulators of real services map it to their vendor's
	// error codes.
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
	ReasonChannelDisabled     Reason = "channel_disabled"      // WithDisabledChannels switched the channel off
	ReasonLandline            Reason = "landline"              // sms or whatsapp to a landline
	ReasonBlocked             Reason = "blocked_destination"   // the destination is blocked
	ReasonBounced             Reason = "bounced"               // the e-mail address bounces
	ReasonThrottled           Reason = "throttled"             // the provider is throttling requests
	ReasonChecksSpent         Reason = "checks_spent"          // a start after the maximum wrong codes
	ReasonCustomCodesDisabled Reason = "custom_codes_disabled" // a custom code without WithCustomCodes
	ReasonMissingTarget       Reason = "missing_target"        // a check with neither ID nor To
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
	NumberLandline = "+15005550009"

	// NumberBlocked is in a blocked destination: every Start fails with
	// ErrUndeliverable (ReasonBlocked).
	NumberBlocked = "+15005550605"

	// NumberRateLimited is throttled: every Start fails with ErrRateLimited
	// (ReasonThrottled) asking to retry after RateLimitedWait.
	NumberRateLimited = "+15005550429"

	// NumberUnavailable is unreachable: every Start and Check fails with
	// ErrUnavailable before anything happens.
	NumberUnavailable = "+15005550503"

	// NumberStartOutcomeUnknown sends its code, then fails with
	// ErrOutcomeUnknown, as if the response had been lost.
	NumberStartOutcomeUnknown = "+15005550504"

	// NumberCheckOutcomeUnknown starts normally, but every Check that
	// reaches a pending verification takes effect (a right code approves it)
	// and then fails with ErrOutcomeUnknown, as if the response had been
	// lost.
	NumberCheckOutcomeUnknown = "+15005550500"

	// EmailUndeliverable is an address that bounces: Start fails with
	// ErrUndeliverable (ReasonBounced).
	EmailUndeliverable = "undeliverable@example.com"

	// RateLimitedWait is the Retry-After of NumberRateLimited.
	RateLimitedWait = 30 * time.Second
)

// magicStart returns the error a magic target gives on Start before
// anything happens, or nil. A number safeListed reports is not refused as
// blocked or throttled (Twilio's Safe List exempts a number from Fraud
// Guard and Geo Permissions).
func magicStart(req provider.StartRequest, safeListed func(string) bool) error {
	if (req.To == NumberBlocked || req.To == NumberRateLimited) && safeListed != nil && safeListed(req.To) {
		return nil
	}
	switch req.To {
	case NumberLandline:
		if req.Channel == provider.ChannelSMS || req.Channel == provider.ChannelWhatsApp {
			return &Error{Op: OpStart, Kind: provider.ErrUndeliverable, Reason: ReasonLandline, msg: "magic number: landline"}
		}
	case NumberBlocked:
		return &Error{Op: OpStart, Kind: provider.ErrUndeliverable, Reason: ReasonBlocked, msg: "magic number: blocked destination"}
	case NumberRateLimited:
		return &Error{Op: OpStart, Kind: provider.ErrRateLimited, Reason: ReasonThrottled, Wait: RateLimitedWait, msg: "magic number"}
	case NumberUnavailable:
		return &Error{Op: OpStart, Kind: provider.ErrUnavailable, msg: "magic number"}
	case EmailUndeliverable:
		return &Error{Op: OpStart, Kind: provider.ErrUndeliverable, Reason: ReasonBounced, msg: "magic address: bounces"}
	}
	return nil
}

// magicCheck returns the error a magic target gives on Check before
// anything happens, or nil.
func magicCheck(to string) error {
	if to == NumberUnavailable {
		return &Error{Op: OpCheck, Kind: provider.ErrUnavailable, msg: "magic number"}
	}
	return nil
}
