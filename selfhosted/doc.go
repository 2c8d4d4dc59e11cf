// Package selfhosted is a verification provider that runs the Verify
// lifecycle itself — it generates, delivers, limits, expires and checks
// codes — with its state in a [store.Store] that any number of replicas of
// the application share (store.Memory for one process, the Redis store in
// github.com/verifykit/verifykit/store/redisstore for many). It behaves
// like Twilio Verify, with Twilio's defaults, each configurable, and
// passes the provider conformance suite on both stores.
//
// Nothing in the store lets anyone pass a check: codes are never stored
// (each is derived from the verification's random nonce with a key
// derived from the application [Key], and compared in constant time), so
// custom codes are refused with ErrUnsupported; every record is sealed
// with AES-GCM under the application key, and store keys are keyed hashes
// of the target. A record that does not open, or that is older than one
// this replica has seen, is ErrUnavailable, never taken for an absent one.
// Every change is a compare-and-swap on one store record, so replicas
// never approve a code twice nor count past the limits. A send is counted
// before the message goes out, and taken back only when the [Sender]
// certainly did not deliver; otherwise Start fails with ErrOutcomeUnknown
// and a retried Start re-sends the same code.
//
// TOTP and push factors run on the factor engine the fake runs on, with an
// identity's factors in one sealed record. Codes go out through a [Sender]
// per channel ([WithSender]); [Outbox] keeps them in memory for
// development. The security model (what someone who can read or write the
// store can do, key rotation with [WithOlderKeys], [WithRecordMemory]) is
// docs/security.md; running it, docs/selfhosted.md.
package selfhosted
