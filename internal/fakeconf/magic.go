package fakeconf

import (
	"time"

	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/provider"
)

// The reasons of the fake's refusals, in neutral words; the fake exports
// them as its Reason constants, and the Twilio emulator maps them to
// Twilio's error codes.
const (
	ReasonLandline            = "landline"               // sms or whatsapp to a landline
	ReasonBlocked             = "blocked_destination"    // the destination is blocked
	ReasonBounced             = "bounced"                // the e-mail address bounces
	ReasonThrottled           = "throttled"              // the provider is throttling requests
	ReasonChecksSpent         = engine.ReasonChecksSpent // a start after the maximum wrong codes
	ReasonCustomCodesDisabled = "custom_codes_disabled"  // a custom code the service does not allow
	ReasonMissingTarget       = "missing_target"         // a check with neither ID nor To
)

// The magic targets, which the fake and the Twilio emulator share; the
// fake documents each.
const (
	NumberLandline            = "+15005550009"
	NumberBlocked             = "+15005550605"
	NumberRateLimited         = "+15005550429"
	NumberUnavailable         = "+15005550503"
	NumberStartOutcomeUnknown = "+15005550504"
	NumberCheckOutcomeUnknown = "+15005550500"
	EmailUndeliverable        = "undeliverable@example.com"
	RateLimitedWait           = 30 * time.Second
)

// MagicStart returns the refusal a magic target gives on a start over ch
// before anything happens, or nil. A number safeListed reports is not
// refused as blocked or throttled (Twilio's Safe List exempts a number
// from Fraud Guard and Geo Permissions).
func MagicStart(to string, ch provider.Channel, safeListed func(string) bool) *engine.Error {
	if (to == NumberBlocked || to == NumberRateLimited) && safeListed != nil && safeListed(to) {
		return nil
	}
	switch to {
	case NumberLandline:
		if ch == provider.ChannelSMS || ch == provider.ChannelWhatsApp {
			return &engine.Error{Kind: provider.ErrUndeliverable, Reason: ReasonLandline, Msg: "magic number: landline"}
		}
	case NumberBlocked:
		return &engine.Error{Kind: provider.ErrUndeliverable, Reason: ReasonBlocked, Msg: "magic number: blocked destination"}
	case NumberRateLimited:
		return &engine.Error{Kind: provider.ErrRateLimited, Reason: ReasonThrottled, Wait: RateLimitedWait, Msg: "magic number"}
	case NumberUnavailable:
		return &engine.Error{Kind: provider.ErrUnavailable, Msg: "magic number"}
	case EmailUndeliverable:
		return &engine.Error{Kind: provider.ErrUndeliverable, Reason: ReasonBounced, Msg: "magic address: bounces"}
	}
	return nil
}

// MagicCheck returns the refusal a magic target gives on a check before
// anything happens, or nil.
func MagicCheck(to string) *engine.Error {
	if to == NumberUnavailable {
		return &engine.Error{Kind: provider.ErrUnavailable, Msg: "magic number"}
	}
	return nil
}

// SendChannel is the channel a start over ch to to uses: auto becomes sms,
// or email for an e-mail address.
func SendChannel(ch provider.Channel, to string) provider.Channel {
	if ch == provider.ChannelAuto {
		if provider.IsEmail(to) {
			return provider.ChannelEmail
		}
		return provider.ChannelSMS
	}
	return ch
}

// Body is the text of a code's message, as a person would receive it.
func Body(name, code string) string {
	return "Your " + name + " verification code is: " + code
}
