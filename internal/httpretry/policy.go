package httpretry

import "net/http"

// POSTPolicy says which answers to a request that changes state (a POST,
// or a DELETE the vendor does not treat as idempotent) are taken to mean
// that the vendor did not process it, so that the request is repeated. It
// is the premise every retry of a sent request rests on: an answer that
// says "not processed" must not come from something that forwarded the
// request first, such as a proxy or load balancer that answers 503 after
// its upstream failed mid-request. A request that is not repeated after
// such an answer gives provider.ErrOutcomeUnknown.
//
// It is the one policy type of the hosted providers: twilio and vonage
// both name it POSTRetryPolicy (a type alias) and set it with their
// WithPOSTRetry options.
type POSTPolicy int

// The POSTPolicy values.
const (
	// POSTVendor, the default, repeats a request only after an answer
	// that is the vendor's own and says it was not processed (Twilio's
	// 20429 and 20503 codes, Vonage's problem+json). Any other 503 (an
	// HTML page, an empty body: a proxy's answer) is not repeated and
	// gives provider.ErrOutcomeUnknown.
	POSTVendor POSTPolicy = iota
	// POSTOff never repeats a request that may have reached the server,
	// whatever the answer: the no-repeat promise holds unconditionally. A
	// 503 gives provider.ErrOutcomeUnknown; the vendor's own 429 gives
	// provider.ErrRateLimited at once.
	POSTOff
	// POSTAny503 repeats a request after any 503, and after the vendor's
	// own 429, trusting every 503 on the way to mean "not processed". Use
	// it only when nothing between the client and the vendor can answer
	// 503 after forwarding the request.
	POSTAny503
)

// Valid reports whether p is one of the POSTPolicy values.
func (p POSTPolicy) Valid() bool { return p >= POSTVendor && p <= POSTAny503 }

// Unprocessed applies the policy to a 429 or 503 answer (status) to a
// request that changes state: own says the answer is the vendor's own
// "not processed" answer. It reports whether the request provably was not
// processed, so that it may be repeated and, when it is not, its failure
// is definite (provider.ErrUnavailable or ErrRateLimited) rather than
// provider.ErrOutcomeUnknown.
//
// A 429 counts only when it is the vendor's own (a 429 from elsewhere is
// not repeated), and not under POSTOff. A 503 counts when it is the
// vendor's own under POSTVendor, always under POSTAny503, and never under
// POSTOff.
func (p POSTPolicy) Unprocessed(status int, own bool) bool {
	switch status {
	case http.StatusTooManyRequests:
		return own && p != POSTOff
	case http.StatusServiceUnavailable:
		switch p {
		case POSTVendor:
			return own
		case POSTAny503:
			return true
		}
	}
	return false
}
