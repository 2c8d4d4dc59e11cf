package twiliotest

import (
	"errors"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// reasonCodes maps the fake's neutral reasons to Twilio's error codes. The
// fake speaks no vendor's vocabulary; this is where its failures become
// Twilio's. A reason not listed gets the default code of its sentinel.
var reasonCodes = map[fake.Reason]int{
	fake.ReasonChannelDisabled:     twiliocode.ChannelDisabled,
	fake.ReasonLandline:            twiliocode.LandlineSMS,
	fake.ReasonBlocked:             twiliocode.GeoPermissionsBlocked,
	fake.ReasonThrottled:           twiliocode.TooManyRequests,
	fake.ReasonChecksSpent:         twiliocode.MaxCheckAttempts, // Twilio answers a start after the check limit with 60202
	fake.ReasonCustomCodesDisabled: twiliocode.FeatureUnsupported,
	fake.ReasonMissingTarget:       twiliocode.MissingTarget,
	fake.ReasonFactorInvalid:       twiliocode.InvalidFactorRequest,
	fake.ReasonFactorType:          twiliocode.InvalidFactorType,
	fake.ReasonFactorUnverified:    twiliocode.FactorUnverified,
	fake.ReasonFactorChecksSpent:   twiliocode.FactorAttemptsReached,
	fake.ReasonChallengeNotFound:   twiliocode.ChallengeNotFound,
	fake.ReasonChallengeExpired:    twiliocode.ChallengeExpired,
}

// reasonCode returns the Twilio code of a fake's error's reason, or 0.
func reasonCode(fe *fake.Error) int { return reasonCodes[fe.Reason] }

// fakeError turns an error of a fake into Twilio's status, code and
// message, from the one table in twiliocode.
func fakeError(err error) (status, code int, msg string) {
	var fe *fake.Error
	if errors.As(err, &fe) {
		if c, ok := reasonCodes[fe.Reason]; ok {
			if e, ok := twiliocode.Lookup(c); ok {
				return e.Status, e.Code, e.Message
			}
		}
	}
	e := twiliocode.For(err)
	return e.Status, e.Code, e.Message
}
