// Package verify is what applications import to verify phone numbers and
// e-mail addresses with one-time codes: for sign-up checks and two-factor
// login.
//
// A [Client] wraps any [provider.Provider] (Twilio Verify, or the in-memory
// fake for tests). [Client.Start] normalises the target, checks that it fits
// the channel, and asks the provider to send a code; [Client.Check] cleans
// up what the user typed and verifies it:
//
//	client, err := verify.New(twilioProvider, verify.WithDefaultRegion("US"))
//	...
//	v, err := client.Start(ctx, "(415) 555-2671", verify.ChannelSMS, nil)
//	...
//	v, err = client.Check(ctx, "(415) 555-2671", typedCode, nil)
//	if err == nil && v.Approved() {
//		// the user owns the number
//	}
//
// # Outcomes and errors
//
// A wrong code is an outcome, not an error: Check returns the verification
// with [StatusPending] and a nil error, and the user may try again. Errors
// mean the operation failed. Every error a Client returns is an [*Error]
// that names the operation and the masked target, and matches one of the
// sentinel errors with [errors.Is], one per decision a caller makes:
//
//   - [ErrInvalidRequest]: fix the input (nothing was sent).
//   - [ErrNotFound]: the verification was approved, canceled or has
//     expired, or never existed; start a new one.
//   - [ErrTooManyChecks], [ErrTooManySends]: the limits of this
//     verification are spent; wait, or start again later.
//   - [ErrConflict]: a verification to this target is already pending on a
//     provider that does not re-send; check or cancel it ([PendingID] may
//     name it).
//   - [ErrRateLimited]: try again later; [RetryAfter] says when, if the
//     provider did.
//   - [ErrUndeliverable]: offer another channel (a call instead of an SMS
//     to a landline).
//   - [ErrUnauthorized]: a configuration problem.
//   - [ErrUnsupported]: the provider does not offer the operation or
//     feature (see [Client.Capabilities]).
//   - [ErrUnavailable]: the provider failed before doing anything; try
//     again.
//   - [ErrOutcomeUnknown]: the request may have been processed. Never
//     assume it failed: a Start may have sent a code, a Check may have
//     approved. See "Recovering from a lost answer" below.
//   - [ErrNotYet]: silent network auth only ([Client.CheckSNA]): the
//     phone has not completed its step yet; check again shortly. It is
//     neither a wrong code nor a failure; [FallBack] says when a failed
//     silent attempt may be followed by an SMS.
//
// A canceled or expired context gives an error matching the context's
// error. [CodeOf] maps any error to a [Code], for metrics and logs. The
// provider's own error stays reachable with [errors.As], for example
// *twilio.APIError.
//
// Error strings and log records mask phone numbers and e-mail addresses and
// never contain a code or a credential.
//
// # Providers differ
//
// What a provider can do beyond Start and CheckID is declared
// ([provider.Capabilities] and optional interfaces), and a Client answers
// ErrUnsupported for what its provider lacks instead of guessing: Check by
// target needs CheckByTo (Twilio and the fake have it; providers keyed by
// request ID do not, so prefer CheckID with the stored ID); Cancel, Fetch
// and Approve need the provider to offer them. Limits (code length,
// validity, sends and checks per verification) are the provider's; see its
// documentation.
//
// # Recovering from a lost answer
//
// After [ErrOutcomeUnknown]:
//
//   - From Start: a code may have been sent and there is no ID. Do not start
//     again at once. Ask the user for the code; with CheckByTo, Check by
//     target works without the ID. Otherwise [Client.RecoverStart] recovers it: a
//     provider with ResendOnStart re-sends the pending code under the same
//     ID (spending a send), and one that answers [ErrConflict] with the
//     pending ID ([PendingID]) gives it without sending anything.
//   - From Check, CheckID or Approve: the verification may have been
//     approved, and is then gone, so a retry answers ErrNotFound, which
//     cannot tell an approval from an expiry. Never report a wrong code.
//     [Client.RecoverCheck] (where the provider can fetch) tells the cases apart
//     as far as they can be: still pending means not approved, so the user
//     may enter the code again; gone stays [ErrOutcomeUnknown], so fail
//     closed and start a new verification.
//
// # Normalisation
//
// Phone numbers are parsed with github.com/nyaruka/phonenumbers/v2: a
// number in international form (+44 20 7183 8750) always works, and a
// national one ((415) 555-2671) needs [WithDefaultRegion]. Only numbers the
// numbering plan says are valid are accepted, and they reach the provider
// in E.164 form (+14155552671). Targets must be valid UTF-8. E-mail
// addresses follow the one grammar of [provider.IsEmail] (bare addresses:
// no display name, quoted local part or comment; an ASCII domain with at
// least two labels); their domain is lower-cased. Codes lose the spaces and dashes people
// type. Every refusal is [ErrInvalidRequest] and makes no provider call.
//
// # Observability
//
// [WithLogger] logs one record per operation with log/slog, and [WithHook]
// calls a function with an [Event] after each operation, for metrics and
// tracing. Neither ever sees a code.
//
// # Protecting your bill
//
// Optional policies refuse a Start or Check before any provider call:
// [WithResendCooldown], [WithSendBudget] (per destination, per caller key
// such as an IP address that the application passes in
// [StartOptions].CallerKeys, per country or number prefix, globally, per
// channel), [WithCheckBudget] (wrong codes across verifications),
// [WithAllowedRegions], [WithDeniedRegions] and [WithDeniedPrefixes]. A
// refusal is a [*PolicyError] with a [RetryAfter] where waiting helps.
// Counters live in a [github.com/verifykit/verifykit/store.Limiter]
// ([WithPolicyStore]) that replicas can share. An e-mail address counts as
// its mailbox (case-folded local part; tags with [WithSubaddressFolding]);
// [Client.CheckID] never runs with fewer check budgets than [Client.Check];
// a give-back never shortens a later send's wait. docs/policies.md states
// these guarantees.
//
// # Authenticator apps
//
// [Client.EnrollTOTP], [Client.ConfirmFactor] and [Client.CheckFactor] add
// an authenticator app (TOTP) as a second factor, on providers that
// implement provider.FactorProvider: fake, twilio and selfhosted do,
// vonage and route do not (the table "Which providers have what" in
// docs/providers.md is checked against the code). The secret
// is returned once, in the [Enrollment] (with its QR code); a code
// approves at most once; a wrong code is an outcome, too many are
// ErrTooManyChecks.
//
// # Testing
//
// Use the fake provider (github.com/verifykit/verifykit/fake) in tests: it
// has Twilio Verify's capabilities, records every code it "sends", and can be made
// to fail in every way a real provider can.
package verify
