// Package vonage is a verification provider over Vonage's Verify v2 API
// (https://developer.vonage.com/en/verify/overview): raw net/http with JSON
// bodies, JWT or Basic authentication, and a retry policy that never
// repeats a request that may have sent a code.
//
// A [Client] implements [provider.Provider], [provider.Canceler],
// [provider.Namer] and [provider.CapabilityReporter]; wrap it with
// verify.New like any provider. The wire facts it follows, with their
// sources, are in CONTRACT.md beside this file; the emulator in
// [github.com/verifykit/verifykit/vonage/vonagetest] serves the same API
// for tests and local development.
//
// # Authentication
//
// [Application] credentials (a Vonage Application's ID and private key)
// make the client sign a JWT (RS256; claims application_id, iat, jti, exp)
// and send it as a bearer token, reusing it until shortly before it
// expires; [APIKey] credentials send the account's key and secret with
// HTTP Basic auth. Silent authentication needs Application credentials.
// No formatting of a [Credentials] or a [Client] shows the key, the
// secret or a token, and no error contains them.
//
// # What Vonage does differently
//
// The differences from Twilio are declared through Capabilities, not
// hidden:
//
//   - Checks are keyed by request ID only (CheckByTo is false): a
//     [provider.CheckRequest] with To and no ID fails with
//     provider.ErrUnsupported. The verify client keeps To → ID where it has
//     a store.
//   - A second start to a number with a pending verification is refused
//     with provider.ErrConflict (ResendOnStart is false);
//     provider.PendingID gives the pending request's ID. To send the code
//     over the next channel of the workflow, call [Client.NextWorkflow].
//   - There is no status look-up: the client is not a provider.Fetcher.
//     Vonage reports outcomes (completed, failed, expired, rejected) to the
//     application's status webhook; [ParseCallback] checks a callback's
//     signature, that its token is bound to the body (payload_hash) and
//     fresh (iat at most 5 minutes old), and decodes it.
//   - A start carries a workflow: an ordered list of channels, each tried
//     after the previous one's channel timeout. The neutral channels map to
//     Vonage's (call is voice, sna is silent_auth); auto uses the
//     workflow set by [WithAutoWorkflow]. [StartParams] sets the workflow,
//     code length, channel timeout and the rest per start.
//   - A wrong code is Vonage's 400; Check turns it into status pending
//     with a nil error, as the contract asks.
//
// # Errors
//
// Answers of 400 and more are [*APIError] values carrying Vonage's RFC 7807
// problem details; they match the provider sentinels with errors.Is (see
// APIError for the mapping). Failures without an answer are
// [*RequestError] values. Phone numbers and e-mail addresses in Vonage's
// texts are masked.
//
// # Retries
//
// Every Verify call changes state: a start sends a code, a check spends an
// attempt or approves, a cancel ends the request. So the client retries
// only what provably did not reach Vonage (a failed dial, nothing written)
// and what Vonage itself refused before processing it (503 and 429 with
// Vonage's problem document, honouring a Retry-After that fits the
// context's deadline; see [POSTRetryPolicy] and [WithPOSTRetry], the same
// policy as the twilio package's). Anything else that may have been
// processed — a timeout after sending, a connection reset before the
// answer, a 500, 502 or 504, a 503 that is not Vonage's own (a proxy's
// HTML page, an empty body), a success that is not an answer to the call
// — fails with provider.ErrOutcomeUnknown: repeating a start would answer
// 409, and repeating a check after a lost approval would answer 404,
// turning a right code into a failure. The templates API's reads (GET) are
// the exception: they change nothing, and are retried like any read.
//
// # Templates
//
// [Client.CreateTemplate], [Client.ListTemplates] and the other template
// methods manage Verify v2's custom templates and their fragments (a beta
// that Vonage enables per account); [StartParams].TemplateID selects one
// for a start.
package vonage
