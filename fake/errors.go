package fake

import (
	"strconv"
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
)

// Error is the error type of every failure the fake reports, except a
// canceled or expired context, which it returns unchanged. It matches its
// sentinel (Err) with errors.Is and is reached with errors.As.
type Error struct {
	// Op is the operation that failed.
	Op Op
	// Err is the sentinel the failure matches, such as
	// provider.ErrNotFound, or the error given to InjectFault.
	Err error
	// Code is the Twilio Verify error code of the same failure (for example
	// 60203 for too many sends), or 0 when Twilio has none. The twiliotest
	// emulator answers with it.
	Code int
	// Wait is how long the caller is asked to wait before trying again,
	// zero when there is no such advice.
	Wait time.Duration

	msg string
}

// Error returns "fake: OP: SENTINEL[: DETAIL] (CODE)". It never contains a
// code or a full target.
func (e *Error) Error() string {
	s := "fake: " + string(e.Op) + ": "
	if e.Err != nil {
		s += e.Err.Error()
	}
	if e.msg != "" {
		s += ": " + e.msg
	}
	if e.Code != 0 {
		s += " (" + strconv.Itoa(e.Code) + ")"
	}
	return s
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// RetryAfter returns Wait, so provider.RetryAfter reports it.
func (e *Error) RetryAfter() time.Duration { return e.Wait }

// The magic targets. Each fails in a documented way without any setup, so
// an application's tests can reach every error path through the verify
// client (they are valid numbers, so verify's normalisation lets them
// through). Use the constants rather than their values.
const (
	// NumberLandline is a landline: Start over sms or whatsapp fails with
	// ErrUndeliverable (Twilio 60205); call, sna and auto work.
	NumberLandline = "+15005550009"

	// NumberBlocked is in a blocked destination: every Start fails with
	// ErrUndeliverable (Twilio 60605, geographic permissions).
	NumberBlocked = "+15005550605"

	// NumberRateLimited is throttled: every Start fails with ErrRateLimited
	// (Twilio 20429) asking to retry after RateLimitedWait.
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
	// ErrUndeliverable.
	EmailUndeliverable = "undeliverable@example.com"

	// RateLimitedWait is the Retry-After of NumberRateLimited.
	RateLimitedWait = 30 * time.Second
)

// magicStart returns the error a magic target gives on Start before
// anything happens, or nil.
func magicStart(req provider.StartRequest) error {
	switch req.To {
	case NumberLandline:
		if req.Channel == provider.ChannelSMS || req.Channel == provider.ChannelWhatsApp {
			return &Error{Op: OpStart, Err: provider.ErrUndeliverable, Code: 60205, msg: "magic number: landline"}
		}
	case NumberBlocked:
		return &Error{Op: OpStart, Err: provider.ErrUndeliverable, Code: 60605, msg: "magic number: blocked destination"}
	case NumberRateLimited:
		return &Error{Op: OpStart, Err: provider.ErrRateLimited, Code: 20429, Wait: RateLimitedWait, msg: "magic number"}
	case NumberUnavailable:
		return &Error{Op: OpStart, Err: provider.ErrUnavailable, msg: "magic number"}
	case EmailUndeliverable:
		return &Error{Op: OpStart, Err: provider.ErrUndeliverable, msg: "magic address: bounces"}
	}
	return nil
}

// magicCheck returns the error a magic target gives on Check before
// anything happens, or nil.
func magicCheck(to string) error {
	if to == NumberUnavailable {
		return &Error{Op: OpCheck, Err: provider.ErrUnavailable, msg: "magic number"}
	}
	return nil
}
