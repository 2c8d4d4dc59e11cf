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
// reveal it either. Sealed records carry the ID of the key that sealed
// them: after a new key becomes primary, [WithOlderKeys] keeps the old ones
// readable until what they sealed has expired.
//
// A record that does not open (sealed under a key this provider was not
// given, or altered) is an error, never taken for an absent one. And since
// store keys are names derived from the key, a replica given another key
// would not even see the others' records: a key check record, read once
// per provider, makes such a replica fail every operation with
// ErrUnavailable instead of, say, reporting an identity without factors.
//
// Custom codes (provider.StartRequest.CustomCode) are refused with
// ErrUnsupported, since they would have to be stored.
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
// # Delivery
//
// Codes go out through a [Sender], one per channel ([WithSender]). [Outbox]
// keeps messages in memory for development and tests.
package selfhosted
