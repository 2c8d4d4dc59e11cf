package verify

import "github.com/verifykit/verifykit/provider"

// LifecycleEvent is something that happened to a factor, challenge,
// verification or recovery code: one type for every provider (unlike Event,
// which describes one call of a Client, for WithHook). Twilio's signed webhooks
// (twilio.WebhookHandler), Vonage's signed callbacks (vonage.Callback's
// Lifecycle method) and recovery codes (package verify/recovery) all report
// it. It carries identifiers and a masked target, never a secret. See
// docs/events.md.
type LifecycleEvent = provider.LifecycleEvent

// LifecycleKind names what a LifecycleEvent reports; the same type as
// provider.LifecycleKind.
type LifecycleKind = provider.LifecycleKind

// The event kinds.
const (
	EventFactorCreated        = provider.EventFactorCreated
	EventFactorVerified       = provider.EventFactorVerified
	EventFactorDeleted        = provider.EventFactorDeleted
	EventChallengeApproved    = provider.EventChallengeApproved
	EventChallengeDenied      = provider.EventChallengeDenied
	EventVerificationApproved = provider.EventVerificationApproved
	EventVerificationCanceled = provider.EventVerificationCanceled
	EventVerificationExpired  = provider.EventVerificationExpired
	EventVerificationFailed   = provider.EventVerificationFailed
	EventVerificationDenied   = provider.EventVerificationDenied
	EventRecoveryCodeUsed     = provider.EventRecoveryCodeUsed
	EventRecoveryCodesIssued  = provider.EventRecoveryCodesIssued
	EventUnknown              = provider.EventUnknown
)
