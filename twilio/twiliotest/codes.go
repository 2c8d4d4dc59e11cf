package twiliotest

import (
	"errors"
	"time"

	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/internal/fakeconf"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// reasonCodes maps the neutral reasons of the engine's errors (and of the
// magic numbers' refusals, fakeconf) to Twilio's error codes. Neither
// speaks a vendor's vocabulary; this is where their failures become
// Twilio's. A reason not listed gets the default code of its sentinel.
var reasonCodes = map[string]int{
	fakeconf.ReasonLandline:        twiliocode.LandlineSMS,
	fakeconf.ReasonBlocked:         twiliocode.GeoPermissionsBlocked,
	fakeconf.ReasonThrottled:       twiliocode.TooManyRequests,
	engine.ReasonChecksSpent:       twiliocode.MaxCheckAttempts, // Twilio answers a start after the check limit with 60202
	engine.ReasonFactorInvalid:     twiliocode.InvalidFactorRequest,
	engine.ReasonFactorType:        twiliocode.InvalidFactorType,
	engine.ReasonFactorUnverified:  twiliocode.FactorUnverified,
	engine.ReasonFactorChecksSpent: twiliocode.FactorAttemptsReached,
	engine.ReasonChallengeNotFound: twiliocode.ChallengeNotFound,
	engine.ReasonChallengeExpired:  twiliocode.ChallengeExpired,
}

// reason returns the reason and wait of the engine's error.
func reason(err error) (string, time.Duration) {
	var ee *engine.Error
	if errors.As(err, &ee) {
		return ee.Reason, ee.Wait
	}
	return "", 0
}

// twilioError turns an error of the engine into Twilio's status, code and
// message, from the one table in twiliocode.
func twilioError(err error) (status, code int, msg string) {
	r, _ := reason(err)
	if c, ok := reasonCodes[r]; ok {
		if e, ok := twiliocode.Lookup(c); ok {
			return e.Status, e.Code, e.Message
		}
	}
	e := twiliocode.For(err)
	return e.Status, e.Code, e.Message
}
