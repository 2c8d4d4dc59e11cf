// Package provider defines the contract that verification providers
// implement. It is imported by provider implementations (such as
// [github.com/verifykit/verifykit/fake] and each vendor's package);
// applications import
// [github.com/verifykit/verifykit/verify] instead, which wraps any Provider
// in a concrete client that normalises input, validates it, wraps errors and
// reports to hooks.
//
// # Design
//
// The split follows database/sql and database/sql/driver: this package is
// small, imports only the standard library (and the module's internal
// helpers), and is neutral: it carries no vendor's defaults, limits or
// error codes. Every provider implements [Provider] (Start and Check).
// What only some providers do is declared, never assumed:
//
//   - Whole operations are optional interfaces that the verify client
//     discovers with a type assertion: [Canceler], [Fetcher], [Approver],
//     [Namer], [CapabilityReporter], [SNAChecker] for silent network
//     auth, and [FactorProvider] for factors the
//     user holds (authenticator apps: enrol, confirm, challenge, fetch,
//     list, delete), whose rules the suite's factors section states.
//   - Differences in how the two common operations behave are a
//     [Capabilities] value: whether Check accepts To instead of the ID
//     ([Capabilities.CheckByTo]), whether a repeated Start re-sends the
//     pending code or is refused with [ErrConflict]
//     ([Capabilities.ResendOnStart]), and which channels Start accepts
//     ([Capabilities.Channels]).
//   - [Channel] and [Status] are open vocabularies. The constants name what
//     this package knows; Known is informational, and a provider may accept
//     or report other values.
//   - Limits (how long a code is valid, how many sends and wrong codes a
//     verification allows, how long a code is) are each provider's own
//     configuration. Its documentation states them, and its conformance
//     harness declares them to the suite.
//
// Where a provider lacks a capability, the verify client answers
// [ErrUnsupported] instead of guessing.
//
// # Optional operations
//
// There is one mechanism for optional operations: optional interfaces.
// A provider that has an operation implements its interface; a caller
// discovers it with a type assertion. An implemented optional method may
// still answer [ErrUnsupported] for a verification it cannot serve — a
// provider built from other providers (route.Router, a tracing wrapper)
// implements every optional interface its parts might have and answers
// ErrUnsupported where the part lacks it — so callers treat ErrUnsupported
// from the call exactly as they treat a failed type assertion, and the
// conformance suite skips a rule whose optional operation answers it.
//
// Why not every method on [Provider], with ErrUnsupported and a
// capability for discovery? It would make a minimal provider (and every
// test double) write stubs for operations it does not have, and the
// capability and the method could disagree. Why not a wrapper that builds
// each subset of the optional interfaces? It grows as 2^n with n optional
// operations and has to be rebuilt by every wrapper. Optional interfaces
// with ErrUnsupported allowed keep a provider at the two methods it must
// have and let wrappers forward every operation, as database/sql/driver's
// optional interfaces do.
//
// # What the verify client guarantees
//
// Applications reach a provider through verify.New(p), and so does the
// conformance suite. Before the client calls a provider:
//
//   - the context is not done;
//   - a StartRequest's To is normalised: E.164 for a phone number
//     ([IsPhone]), an address with a lower-cased domain for an e-mail
//     ([IsEmail]); the Channel is one the provider declares (or, when it
//     declares none, a known one), and the target fits it ([ChannelFits]);
//   - a CheckRequest has exactly one of ID and To: an ID of 1 to 64
//     printable ASCII characters without '/', '?', '#', '%' or space, or a
//     normalised To (only when the provider declares CheckByTo); its Code
//     is 1 to 64 ASCII letters and digits, spaces and dashes removed,
//     within the lengths the application configured;
//   - the ID given to Cancel, Fetch or Approve has the same shape.
//
// So a provider need not check these again. It still refuses what its own
// API would refuse (a vendor's code length, its ID shape) with
// [ErrInvalidRequest], and an emulator still validates whatever reaches
// it over the wire.
//
// # Contract
//
// Every provider must behave as follows; the conformance suite in
// [github.com/verifykit/verifykit/provider/providertest] checks each rule,
// and skips, naming the capability, the rules of capabilities a provider
// does not declare.
//
//   - Start returns a [Verification] with an opaque, non-empty ID and status
//     [StatusPending].
//   - Check with the right code returns status [StatusApproved]; with a wrong
//     code it returns [StatusPending] and a nil error. A wrong code is an
//     outcome, not an error.
//   - Check is keyed by the verification's ID; with CheckByTo it may be
//     keyed by To instead.
//   - A second Start to the same To inside the validity window: with
//     ResendOnStart it reuses the pending verification (same ID, same code)
//     and counts as another send; without it, it fails with [ErrConflict].
//   - After the allowed number of sends the next Start fails with
//     [ErrTooManySends]; after the allowed number of wrong checks the next
//     Check fails with [ErrTooManyChecks] until the verification expires.
//     Meanwhile a Start to the same To never re-sends a code that can no
//     longer approve: it fails with [ErrTooManySends] or starts a new
//     verification; and Fetch does not report it as pending.
//   - [Verification.ExpiresAt] is zero (the provider does not say) or the
//     end of the validity window.
//   - Once approved, canceled or expired, a verification is gone: a later
//     Check, Fetch, Cancel or Approve fails with [ErrNotFound]. So does an
//     ID the provider never issued, whatever its shape.
//   - Invalid input fails with [ErrInvalidRequest] before anything is sent:
//     a target that does not fit the channel (see [ChannelFits]), a
//     channel the provider does not know, a code that cannot be a code.
//     The verify client refuses most of it first (see above); the suite
//     checks the client and the provider together.
//   - A canceled or expired context returns promptly with the context's
//     error.
//   - Implementations are safe for concurrent use.
//
// # Recovering from a lost answer
//
// [ErrOutcomeUnknown] means the request may have taken effect. Two cases
// need care:
//
//   - Start: a code may have been sent, and there is no ID to keep. With
//     CheckByTo, ask the user for the code and check by To. With
//     ResendOnStart, a new Start re-sends the pending code and returns its
//     ID (spending one send). Without it, the new Start fails with
//     [ErrConflict], and [PendingID] reports the pending ID when the
//     provider told it.
//   - Check: the code may have been approved, after which the verification
//     is gone and a retry answers [ErrNotFound]. Treat ErrNotFound after a
//     lost check as "unknown", never as "wrong code": ask the user to start
//     again, or, where the provider is a [Fetcher], fetch it — a
//     verification that is still pending was not approved.
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
