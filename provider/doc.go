// Package provider defines the contract that verification providers
// implement. It is imported by provider implementations (such as
// [github.com/verifykit/verifykit/twilio] and
// [github.com/verifykit/verifykit/fake]); applications import
// [github.com/verifykit/verifykit/verify] instead, which wraps any Provider
// in a concrete client that normalises input, validates it, wraps errors and
// reports to hooks.
//
// The split follows database/sql and database/sql/driver: this package is
// small and imports only the standard library, and new capabilities arrive
// as optional interfaces (such as [Canceler] and [Fetcher]) that the verify
// client discovers with a type assertion.
//
// # Contract
//
// Every provider must behave as follows; the conformance suite in
// [github.com/verifykit/verifykit/provider/providertest] checks each rule.
//
//   - Start returns a [Verification] with an opaque, non-empty ID and status
//     [StatusPending].
//   - Check with the right code returns status [StatusApproved]; with a wrong
//     code it returns [StatusPending] and a nil error. A wrong code is an
//     outcome, not an error.
//   - Check may be keyed by verification ID or by To.
//   - A second Start to the same To inside the validity window reuses the
//     pending verification (same ID, same code) and counts as another send.
//   - After the allowed number of sends the next Start fails with
//     [ErrTooManySends]; after the allowed number of wrong checks the next
//     Check fails with [ErrTooManyChecks].
//   - Once approved, canceled or expired, a verification is gone: a later
//     Check, Fetch or Cancel fails with [ErrNotFound].
//   - Invalid input fails with [ErrInvalidRequest] before anything is sent.
//   - A canceled or expired context returns promptly with the context's
//     error.
//   - Implementations are safe for concurrent use.
//
// # Errors
//
// Providers return their own error values, which must match one of the
// sentinel errors in this package with [errors.Is] when the failure fits one
// of them, and must stay reachable with [errors.As] so callers can read
// provider detail. The verify client wraps each error exactly once.
//
// Errors, and the String methods of the request types, never contain a
// verification code or a credential.
package provider
