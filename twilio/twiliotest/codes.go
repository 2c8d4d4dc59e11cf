package twiliotest

import (
	"errors"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// reasonCodes maps the neutral reasons of the fake's and the engine's
// errors to Twilio's error codes. Neither speaks a vendor's vocabulary;
// this is where their failures become Twilio's. A reason not listed gets
// the default code of its sentinel.
var reasonCodes = map[string]int{
	string(fake.ReasonChannelDisabled):     twiliocode.ChannelDisabled,
	string(fake.ReasonLandline):            twiliocode.LandlineSMS,
	string(fake.ReasonBlocked):             twiliocode.GeoPermissionsBlocked,
	string(fake.ReasonThrottled):           twiliocode.TooManyRequests,
	string(fake.ReasonChecksSpent):         twiliocode.MaxCheckAttempts, // Twilio answers a start after the check limit with 60202
	string(fake.ReasonCustomCodesDisabled): twiliocode.FeatureUnsupported,
	string(fake.ReasonMissingTarget):       twiliocode.MissingTarget,
	engine.ReasonFactorInvalid:             twiliocode.InvalidFactorRequest,
	engine.ReasonFactorType:                twiliocode.InvalidFactorType,
	engine.ReasonFactorUnverified:          twiliocode.FactorUnverified,
	engine.ReasonFactorChecksSpent:         twiliocode.FactorAttemptsReached,
	engine.ReasonChallengeNotFound:         twiliocode.ChallengeNotFound,
	engine.ReasonChallengeExpired:          twiliocode.ChallengeExpired,
}

// reason returns the reason and wait of a fake's or the engine's error.
func reason(err error) (string, time.Duration) {
	var fe *fake.Error
	var ee *engine.Error
	switch {
	case errors.As(err, &fe):
		return string(fe.Reason), fe.Wait
	case errors.As(err, &ee):
		return ee.Reason, ee.Wait
	}
	return "", 0
}

// fakeError turns an error of a fake or of the engine into Twilio's
// status, code and message, from the one table in twiliocode.
func fakeError(err error) (status, code int, msg string) {
	r, _ := reason(err)
	if c, ok := reasonCodes[r]; ok {
		if e, ok := twiliocode.Lookup(c); ok {
			return e.Status, e.Code, e.Message
		}
	}
	e := twiliocode.For(err)
	return e.Status, e.Code, e.Message
}
