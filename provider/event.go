package provider

import (
	"fmt"
	"strconv"
	"time"
)

// LifecycleKind names what a [LifecycleEvent] reports. The values are the same words
// for every provider; a provider's own event names are mapped onto them by
// its package.
type LifecycleKind string

// The event kinds.
const (
	EventFactorCreated        LifecycleKind = "factor.created"        // a factor exists but cannot take challenges yet
	EventFactorVerified       LifecycleKind = "factor.verified"       // a factor was confirmed and can take challenges
	EventFactorDeleted        LifecycleKind = "factor.deleted"        // a factor was deleted
	EventChallengeApproved    LifecycleKind = "challenge.approved"    // a factor's challenge was approved
	EventChallengeDenied      LifecycleKind = "challenge.denied"      // a factor's challenge was denied (push)
	EventVerificationApproved LifecycleKind = "verification.approved" // a verification's code was checked right
	EventVerificationCanceled LifecycleKind = "verification.canceled" // a verification was canceled
	EventVerificationExpired  LifecycleKind = "verification.expired"  // a verification expired unapproved
	EventVerificationFailed   LifecycleKind = "verification.failed"   // a verification failed (Vonage: every step failed)
	EventVerificationDenied   LifecycleKind = "verification.denied"   // the user refused a verification (Vonage: user_rejected)
	EventRecoveryCodeUsed     LifecycleKind = "recovery_code.used"    // a recovery code was accepted (it is now spent)
	EventRecoveryCodesIssued  LifecycleKind = "recovery_codes.issued" // a new set of recovery codes replaced any older one
	EventUnknown              LifecycleKind = "unknown"               // a provider's event this package does not map
)

// LifecycleEvent is something that happened to a factor, challenge, verification or
// recovery code, reported by a provider (a signed webhook or callback) or
// by this library itself (recovery codes). One type serves every provider.
//
// A LifecycleEvent carries identifiers, never a secret: no code, token, signature
// or recovery code, and Target is masked.
type LifecycleEvent struct {
	// Kind is what happened.
	Kind LifecycleKind
	// ID identifies this event for de-duplication of redeliveries (Twilio's
	// uuid; for Vonage the request ID, the callback type and status), or
	// "" when the source gives none.
	ID string
	// Provider names the source: "twilio", "vonage", "recovery".
	Provider string
	// Identity is the application's identity of the factor's or recovery
	// codes' owner, when known.
	Identity string
	// FactorID, FactorType and ChallengeID name the factor and challenge,
	// for factor and challenge events.
	FactorID    string
	FactorType  FactorType
	ChallengeID string
	// VerificationID names the verification, for verification events.
	VerificationID string
	// Channel is the verification's channel, when the source says.
	Channel Channel
	// Target is the masked destination, when the source gives one.
	Target string
	// Status is the source's own status word, as sent (informational).
	Status string
	// Remaining is, for a recovery event, how many unused recovery codes
	// are left.
	Remaining int
	// Time is when it happened, as the source reports it (the zero time
	// when it does not say).
	Time time.Time
}

// String describes the event with the identity masked.
func (e LifecycleEvent) String() string {
	s := "LifecycleEvent{Kind:" + string(e.Kind) + " Provider:" + e.Provider
	if e.Identity != "" {
		s += " Identity:" + maskTarget(e.Identity)
	}
	for _, f := range [...]struct{ k, v string }{
		{"ID", e.ID}, {"FactorID", e.FactorID}, {"ChallengeID", e.ChallengeID},
		{"VerificationID", e.VerificationID}, {"Target", maskTarget(e.Target)}, {"Status", e.Status},
	} {
		if f.v != "" {
			s += " " + f.k + ":" + strconv.Quote(f.v)
		}
	}
	if !e.Time.IsZero() {
		s += " Time:" + e.Time.UTC().Format(time.RFC3339)
	}
	return s + "}"
}

// GoString is like String.
func (e LifecycleEvent) GoString() string { return e.String() }

// Format prints what String does for every verb.
func (e LifecycleEvent) Format(f fmt.State, verb rune) { formatString(f, verb, e.String()) }
