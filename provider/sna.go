package provider

import (
	"context"
	"errors"
)

// Silent network auth (SNA) proves that the phone asking to sign in holds
// the SIM of the number: Start over ChannelSNA returns a URL
// (Verification.SNAURL) that the device opens over its mobile data; the
// carrier recognises the SIM on the way, and the check that follows
// carries no code the user typed. The errors of that check say which of
// three decisions to make:
//
//   - ErrNotYet: the device has not completed its step yet. Nothing
//     failed; check again shortly (until the verification expires).
//   - ErrUndeliverable: the silent attempt failed (no mobile data, a
//     carrier that does not take part, a Wi-Fi connection): another
//     channel, such as SMS, may still reach the number. Fall back.
//   - ErrInvalidRequest: the number itself is bad, and another channel
//     would fail too. Do not fall back.
//
// Providers report these as an *SNAError, which carries the provider's
// own code beside the sentinel. An unknown outcome stays
// ErrOutcomeUnknown, never one of these.

// SNAChecker is implemented by providers that check a silent network auth
// verification (one started over ChannelSNA).
type SNAChecker interface {
	// CheckSNA checks the verification named by req.ID (or req.To, with
	// Capabilities.CheckByTo) once the device has opened its SNA URL.
	// req.Code is not a code the user typed: it is what the device got
	// back from the URL, when the provider hands it one to pass on (a
	// Vonage silent-auth code, a Twilio SNA client token), and empty
	// otherwise. It is a secret like a code and is never printed.
	//
	// The result is StatusApproved when the carrier confirmed the number.
	// Otherwise CheckSNA returns an error matching ErrNotYet,
	// ErrUndeliverable or ErrInvalidRequest as the package documents for
	// silent network auth, or any other sentinel as Check would.
	CheckSNA(ctx context.Context, req CheckRequest) (Verification, error)
}

// ErrNotYet: the device has not completed the silent network auth step
// yet (it has not opened the URL, or the carrier's answer has not
// arrived). It is not a wrong code and not a failure: the verification is
// still pending. Check again shortly.
var ErrNotYet = errors.New("silent network auth not complete yet")

// SNAError is the failure of a silent network auth step, as the provider
// reported it. It matches its Kind with errors.Is: ErrNotYet,
// ErrUndeliverable (fall back to another channel) or ErrInvalidRequest
// (the number is bad; do not fall back).
type SNAError struct {
	// Op is the operation, such as "check sna".
	Op string
	// Kind is the sentinel the failure matches.
	Kind error
	// Code is the provider's own code for the failure ("60510"), empty
	// when it gave none.
	Code string
	// Description is the provider's description of the code, empty when
	// it gave none. It never holds a secret or a full target.
	Description string
}

// Error returns "OP: KIND[ (CODE: DESCRIPTION)]".
func (e *SNAError) Error() string {
	s := e.Op + ": " + e.Kind.Error()
	switch {
	case e.Code != "" && e.Description != "":
		s += " (" + e.Code + ": " + e.Description + ")"
	case e.Code != "":
		s += " (" + e.Code + ")"
	}
	return s
}

// Is reports whether target is e's Kind.
func (e *SNAError) Is(target error) bool { return e.Kind != nil && e.Kind == target }

// FallBack reports whether err says that the silent network auth attempt
// failed in a way another channel may still succeed: it matches
// ErrUndeliverable or ErrUnsupported, and nothing that may have been
// processed (ErrOutcomeUnknown, a context's end). ErrNotYet, a bad number
// (ErrInvalidRequest, even beside ErrUndeliverable) and every other error
// give false.
func FallBack(err error) bool {
	switch {
	case err == nil, errors.Is(err, ErrOutcomeUnknown), errors.Is(err, ErrNotYet), errors.Is(err, ErrInvalidRequest),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	return errors.Is(err, ErrUndeliverable) || errors.Is(err, ErrUnsupported)
}
