// Package selfhosted is a verification provider that runs the Verify
// lifecycle itself — it generates, delivers, limits, expires and checks
// codes — with its state in a [store.Store] that any number of replicas of
// the application share (store.Memory for one process, the Redis store in
// github.com/verifykit/verifykit/store/redisstore for many).
//
// It behaves like Twilio Verify, with Twilio's defaults, each configurable:
// a code is valid for 10 minutes from the first send; a second Start to the
// same target re-sends the same code and counts as a send; 5 sends and 5
// wrong codes per verification; once approved or canceled a verification
// is gone. It passes the provider conformance suite on both stores.
//
// # Secrets at rest
//
// Nothing in the store lets anyone pass a check. Codes are never stored:
// a code is derived, when it is sent and when it is checked, from the
// verification's random nonce (crypto/rand) with a key derived from the
// application [Key], and compared in constant time. Every record is sealed
// with AES-GCM under a key derived from the application key, with the
// store key as additional data, so a dump of the store shows neither
// targets nor TOTP secrets, and a record cannot be moved to another key.
// Store keys are keyed hashes of the target (or identity), so they do not
// reveal it either. Every verification record has the same sealed length,
// whatever its target and number of sends; an identity's record is 2 KiB,
// or a whole number of KiB above that for an identity with many factors.
// Sealed records carry, in clear, the ID of the key that sealed them.
//
// A record that does not open (sealed under a key this provider was not
// given, or altered) is an error (ErrUnavailable), never taken for an
// absent one.
//
// Custom codes (provider.StartRequest.CustomCode) are refused with
// ErrUnsupported, since they would have to be stored.
//
// # Someone who can write to the store
//
// Without the application key, a store writer cannot make a record the
// provider accepts, but can put back one it saw earlier (to reset a
// wrong-code count or reuse a TOTP code) or delete one. Every sealed
// record carries a lineage, a sequence number that grows with each write
// and a count of the codes it has had checked, and each replica remembers
// the latest it has seen of the records it has read or written (up to
// [WithRecordMemory], 100000 by default, for as long as the process runs):
// a record older than that, a verification it deleted coming back, or an
// identity's record it has seen going missing fails with ErrUnavailable. A
// replica that has not seen the newer state (one started since, or that
// has forgotten the record) cannot tell, and accepts a restored record;
// having taken guesses on it, it refuses any record that has had fewer, so
// a store writer gets at most one round of guesses at a verification from
// it, and the replicas that saw more refuse it.
//
// An identity's record has no expiry ([store.NoExpiry]); DeleteIdentity
// empties it rather than deleting it, so a missing record is a loss, not a
// deletion. A replica that has never seen an identity reads a missing
// record as "no factors": applications keep "this account has two-step
// login" in their own database and refuse a login when the provider lists
// no factor for such an account. The repository's docs/security.md states
// the whole model.
//
// # Key rotation
//
// Store names are keyed hashes under a name key that the first replica
// makes from its application key and keeps in the store, sealed; it does
// not change when the application key rotates, so records keep their names
// and every replica looks for a record in one place. A replica that meets
// a record sealed under a key it was not given fails with ErrUnavailable.
// [WithOlderKeys] describes the rolling rotation.
//
// # Many replicas
//
// Every change is a compare-and-swap on one store record, so two replicas
// acting on the same verification at the same instant never both win: a
// code approves at most once, and no more sends or wrong codes are counted
// than the limits allow. A send is counted in the store before the message
// goes out; when the [Sender] reports that it certainly did not deliver
// (ErrUnavailable, ErrUndeliverable and the like), the send is taken back,
// and otherwise Start fails with ErrOutcomeUnknown and the verification
// stays pending, so a retried Start re-sends the same code.
//
// # Factors
//
// TOTP and push factors ([provider.PushProvider]; the phone's side is
// [Provider.Device]) run on the factor engine the fake runs on, with an
// identity's factors, latest challenges and unspent push access tokens in
// one sealed record of the store, changed by compare-and-swap. Push
// challenges are delivered through [WithPushNotifier] (package
// github.com/verifykit/verifykit/selfhosted/pushnotify: FCM, APNs).
// Passkey factors are not offered.
//
// # Delivery
//
// Codes go out through a [Sender], one per channel ([WithSender]). [Outbox]
// keeps messages in memory for development and tests.
package selfhosted
