// Package twiliocode is the one table of the Twilio error codes verifykit
// knows: each code's HTTP status, the provider sentinel it means and
// Twilio's message. The twilio client reads it to classify error answers,
// and the twiliotest emulator reads it to produce them, so the two cannot
// disagree.
package twiliocode

import (
	"errors"

	"github.com/verifykit/verifykit/provider"
)

// The codes of the table, by name.
const (
	Authenticate          = 20003 // bad credentials
	MethodNotAllowed      = 20004 // the resource does not answer this method
	NotFound              = 20404 // no such resource (or no longer pending)
	TooManyRequests       = 20429 // account concurrency limit; never processed
	InternalError         = 20500 // Twilio failed; may have acted
	ServiceUnavailable    = 20503 // Twilio is unavailable
	InvalidParameter      = 60200 // a parameter is malformed
	MaxCheckAttempts      = 60202 // the verification has had too many checks
	MaxSendAttempts       = 60203 // the target has been sent too many codes
	FeatureUnsupported    = 60204 // the service does not offer this feature
	LandlineSMS           = 60205 // SMS to a landline
	ConcurrentRequests    = 60212 // too many concurrent starts for one number
	MissingTarget         = 60221 // neither To nor VerificationSid given
	ChannelDisabled       = 60223 // the channel is disabled on the service
	CreationBlocked       = 60238 // Twilio blocked the creation
	InvalidFactorRequest  = 60306 // a factor, entity or challenge parameter is malformed
	FactorAttemptsReached = 60310 // too many wrong codes for the factor
	FactorVerifyFailed    = 60311 // a wrong code to verify a factor (Twilio before 2021-10-27)
	FactorUnverified      = 60318 // a challenge of a factor not yet verified
	ChallengeExpired      = 60323 // the challenge expired
	ChallengeVerifyFailed = 60324 // a wrong code for a challenge (Twilio before 2021-10-27)
	InvalidChallengeSID   = 60364 // the challenge SID is malformed
	InvalidFactorType     = 60369 // the factor type is missing or not push or totp
	ChallengeNotFound     = 60391 // no such challenge
	FraudGuardBlocked     = 60410 // Fraud Guard blocked the prefix
	SNAError              = 60510 // silent network auth failed (e.g. over Wi-Fi)
	SNADownstream         = 60511 // the carrier's side of silent network auth failed
	SNAUserAgent          = 60517 // the User-Agent changed during the redirects
	SNAPending            = 60519 // the SNA URL has not been opened (or has not answered) yet
	SNAURLFailed          = 60520 // the SNA URL failed
	SNACarrierHeader      = 60533 // the carrier did not add its header
	SNADownstreamCarrier  = 60534 // the carrier failed
	SNAInvalidNumber      = 60540 // the number is invalid: SMS would fail too
	GeoPermissionsBlocked = 60605 // Verify Geo-Permissions block the destination
)

// Entry is one Twilio error code.
type Entry struct {
	// Code is Twilio's error code.
	Code int
	// Status is the HTTP status Twilio answers the code with.
	Status int
	// Sentinel is the provider sentinel the code means, or nil when the
	// meaning depends on the HTTP status and the method (a 500 may have
	// acted on a POST but not on a GET).
	Sentinel error
	// OnStart, when not nil, is the sentinel the code means in answer to a
	// start (60202 to a start means no more codes will be sent).
	OnStart error
	// Default marks the code the emulator answers for Sentinel when it has
	// no more precise code.
	Default bool
	// Message is Twilio's message for the code.
	Message string
}

var table = []Entry{
	{Code: Authenticate, Status: 401, Sentinel: provider.ErrUnauthorized, Default: true, Message: "Authenticate"},
	{Code: MethodNotAllowed, Status: 405, Sentinel: provider.ErrInvalidRequest, Message: "Method not allowed"},
	{Code: NotFound, Status: 404, Sentinel: provider.ErrNotFound, Default: true, Message: "The requested resource was not found"},
	{Code: TooManyRequests, Status: 429, Sentinel: provider.ErrRateLimited, Default: true, Message: "Too Many Requests"},
	{Code: InternalError, Status: 500, Message: "Internal Server Error"},
	{Code: ServiceUnavailable, Status: 503, Message: "Service Unavailable"},
	{Code: InvalidParameter, Status: 400, Sentinel: provider.ErrInvalidRequest, Default: true, Message: "Invalid parameter"},
	{Code: MaxCheckAttempts, Status: 429, Sentinel: provider.ErrTooManyChecks, OnStart: provider.ErrTooManySends, Default: true, Message: "Max check attempts reached"},
	{Code: MaxSendAttempts, Status: 429, Sentinel: provider.ErrTooManySends, Default: true, Message: "Max send attempts reached"},
	{Code: FeatureUnsupported, Status: 403, Sentinel: provider.ErrUnsupported, Default: true, Message: "Service does not support this feature"},
	{Code: LandlineSMS, Status: 403, Sentinel: provider.ErrUndeliverable, Message: "SMS is not supported by landline phone number"},
	{Code: ConcurrentRequests, Status: 429, Sentinel: provider.ErrRateLimited, Message: "Too many concurrent requests for phone number"},
	{Code: MissingTarget, Status: 400, Sentinel: provider.ErrInvalidRequest, Message: "Either a 'To' number or 'VerificationSid' must be specified"},
	{Code: ChannelDisabled, Status: 400, Sentinel: provider.ErrUndeliverable, Message: "Delivery channel disabled"},
	{Code: CreationBlocked, Status: 403, Sentinel: provider.ErrUndeliverable, Message: "Verification creation blocked"},
	{Code: InvalidFactorRequest, Status: 400, Sentinel: provider.ErrInvalidRequest, Message: "Invalid parameter"},
	{Code: FactorAttemptsReached, Status: 429, Sentinel: provider.ErrTooManyChecks, Message: "Factor verification attempts reached"},
	{Code: FactorVerifyFailed, Status: 403, Sentinel: provider.ErrInvalidRequest, Message: "Factor verification failed"},
	{Code: FactorUnverified, Status: 403, Sentinel: provider.ErrInvalidRequest, Message: "The Factor is not verified"},
	{Code: ChallengeExpired, Status: 403, Sentinel: provider.ErrNotFound, Message: "Challenge expired"},
	{Code: ChallengeVerifyFailed, Status: 403, Sentinel: provider.ErrInvalidRequest, Message: "Challenge verification failed"},
	{Code: InvalidChallengeSID, Status: 400, Sentinel: provider.ErrInvalidRequest, Message: "Challenge SID invalid"},
	{Code: InvalidFactorType, Status: 400, Sentinel: provider.ErrInvalidRequest, Message: "Factor type invalid"},
	{Code: ChallengeNotFound, Status: 404, Sentinel: provider.ErrNotFound, Message: "Challenge not found"},
	{Code: FraudGuardBlocked, Status: 403, Sentinel: provider.ErrUndeliverable, Message: "Verification blocked by Fraud Guard"},
	{Code: SNAError, Status: 400, Sentinel: provider.ErrUndeliverable, Message: "SNA Error"},
	{Code: SNADownstream, Status: 400, Sentinel: provider.ErrUndeliverable, Message: "SNA Downstream Error"},
	{Code: SNAUserAgent, Status: 400, Sentinel: provider.ErrUndeliverable, Message: "SNA User-Agent mismatch"},
	{Code: SNAPending, Status: 400, Sentinel: provider.ErrNotYet, Default: true, Message: "SNA Verification Result Pending"},
	{Code: SNAURLFailed, Status: 400, Sentinel: provider.ErrUndeliverable, Message: "SNA URL Failed"},
	{Code: SNACarrierHeader, Status: 400, Sentinel: provider.ErrUndeliverable, Message: "SNA Carrier Header Error"},
	{Code: SNADownstreamCarrier, Status: 400, Sentinel: provider.ErrUndeliverable, Message: "SNA Downstream Carrier Error"},
	{Code: SNAInvalidNumber, Status: 400, Sentinel: provider.ErrInvalidRequest, Message: "SNA Invalid Phone Number"},
	{Code: GeoPermissionsBlocked, Status: 403, Sentinel: provider.ErrUndeliverable, Default: true, Message: "Verification delivery attempt blocked by geo permissions"},
}

var byCode = func() map[int]*Entry {
	m := make(map[int]*Entry, len(table))
	for i := range table {
		m[table[i].Code] = &table[i]
	}
	return m
}()

// Lookup returns the entry of code.
func Lookup(code int) (Entry, bool) {
	if e, ok := byCode[code]; ok {
		return *e, true
	}
	return Entry{}, false
}

// All returns a copy of the table, in code order.
func All() []Entry { return append([]Entry(nil), table...) }

// SentinelOf returns the sentinel code means, for an answer to a start when
// start is true, or nil when the code is unknown or its meaning depends on
// the HTTP status.
func SentinelOf(code int, start bool) error {
	e, ok := byCode[code]
	switch {
	case !ok:
		return nil
	case start && e.OnStart != nil:
		return e.OnStart
	}
	return e.Sentinel
}

// For returns the default entry of the first sentinel in err's tree, for an
// emulator answering an error that has no Twilio code of its own. Errors
// that match no sentinel (or only provider.ErrUnavailable) get 503/20503.
func For(err error) Entry {
	for i := range table {
		e := &table[i]
		if e.Default && errors.Is(err, e.Sentinel) {
			return *e
		}
	}
	return *byCode[ServiceUnavailable]
}

// SNASentinel returns the sentinel the code of a failed silent network
// auth attempt (an entry of sna_attempts_error_codes) means: ErrNotYet for
// 60519, ErrInvalidRequest for 60540 (the number itself is bad) and
// ErrUndeliverable (fall back to another channel) for every other code,
// unknown ones included: Twilio advises falling back on every SNA error
// but 60540, and adds codes over time.
func SNASentinel(code int) error {
	switch code {
	case SNAPending:
		return provider.ErrNotYet
	case SNAInvalidNumber:
		return provider.ErrInvalidRequest
	}
	return provider.ErrUndeliverable
}
