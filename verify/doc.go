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
//   - [ErrRateLimited]: try again later; [RetryAfter] says when, if the
//     provider did.
//   - [ErrUndeliverable]: offer another channel (a call instead of an SMS
//     to a landline).
//   - [ErrUnauthorized], [ErrUnsupported]: a configuration problem.
//   - [ErrUnavailable]: the provider failed before doing anything; try
//     again.
//   - [ErrOutcomeUnknown]: the request may have been processed. Never
//     assume it failed: a Start may have sent a code, a Check may have
//     approved. Fetch the verification, or let the user retry.
//
// A canceled or expired context gives an error matching the context's
// error. [CodeOf] maps any error to a [Code], for metrics and logs. The
// provider's own error stays reachable with [errors.As], for example
// *twilio.APIError.
//
// Error strings and log records mask phone numbers and e-mail addresses and
// never contain a code or a credential.
//
// # Normalisation
//
// Phone numbers are parsed with github.com/nyaruka/phonenumbers/v2: a
// number in international form (+44 20 7183 8750) always works, and a
// national one ((415) 555-2671) needs [WithDefaultRegion]. Only numbers the
// numbering plan says are valid are accepted, and they reach the provider
// in E.164 form (+14155552671). E-mail addresses must be bare addresses;
// their domain is lower-cased. Codes lose the spaces and dashes people
// type. Every refusal is [ErrInvalidRequest] and makes no provider call.
//
// # Observability
//
// [WithLogger] logs one record per operation with log/slog, and [WithHook]
// calls a function with an [Event] after each operation, for metrics and
// tracing. Neither ever sees a code.
//
// # Testing
//
// Use the fake provider (github.com/verifykit/verifykit/fake) in tests: it
// behaves like Twilio Verify, records every code it "sends", and can be made
// to fail in every way a real provider can.
package verify
