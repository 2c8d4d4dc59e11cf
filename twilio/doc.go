// Package twilio is a verification provider for Twilio Verify v2, over raw
// HTTP form posts (no Twilio SDK). Applications wrap a *Client with
// verify.New; the Client also offers Approve, CheckSNA (the check of a
// Silent Network Authentication, which carries no code; verify.Client's
// CheckSNA reaches it through provider.SNAChecker) and the Services calls (CreateService, FetchService, ListServices,
// Services, UpdateService, DeleteService).
//
//	p, err := twilio.NewFromEnv() // TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_VERIFY_SERVICE_SID
//	if err != nil { … }
//	client, err := verify.New(p, verify.WithDefaultRegion("US"))
//
// Credentials are an Account SID and Auth Token ([AuthToken]) or an API Key
// SID and secret ([APIKey]); they never appear in errors, logs or %v.
// Twilio-only start and check parameters are typed extensions: pass a
// [StartParams] or [CheckParams] in the Extensions of the verify options.
//
// # Capabilities and limits
//
// The Client reports its [provider.Capabilities]: it checks by To as well as
// by verification SID, a repeated Start re-sends the pending code under the
// same SID, and it delivers over sms, call, whatsapp, email, sna and auto.
// It implements provider.Canceler, provider.Fetcher and provider.Approver.
// Twilio's limits, which the portable packages no longer assume, are a
// service's configuration; by default a code is 4 to 10 letters or digits
// and valid for 10 minutes, and a verification allows 5 sends and 5 wrong
// codes. After the 5th wrong code Twilio deletes the verification (Fetch:
// ErrNotFound), a Check keeps answering 60202 (ErrTooManyChecks) and a
// Start 60202 (ErrTooManySends) until the 10 minutes end. Verification
// SIDs are opaque to callers: one that is not VE and 32 hex digits is
// ErrNotFound without a request. [provider.Verification.ExpiresAt] stays
// zero: Twilio does not report it.
//
// # Errors
//
// Error answers from Twilio are [*APIError] values, with the HTTP status,
// Twilio's code, message and more-info URL, and any Retry-After; they match
// the provider sentinel errors with errors.Is (the table is on APIError).
// Failures without an error answer (input refused before sending, a
// connection that failed, a context that ended, a body that could not be
// read or exceeded 1 MiB, a success answer that is not a well-formed result
// for the request) are [*RequestError] values. A success status is never
// taken at its word: an answer with no SID or status, or about another
// verification, service or target than the one asked about, gives
// provider.ErrOutcomeUnknown after a POST (Twilio may have acted) and
// provider.ErrUnavailable after a read. Messages from Twilio have the
// credentials (raw, base64, hex, percent-, JSON- or HTML-escaped) and the
// request's codes redacted before they are cut to 512 bytes, and phone
// numbers and e-mail addresses masked (SIDs are left whole).
//
// # Retries
//
// Requests go through go-retryablehttp with this package's own policy. The
// promise: a request that may have been processed is never repeated, so a
// retry never sends a second SMS or spends another of the 5 sends, and a
// lost approval is never turned into a failure.
//
//   - Retried: a request that provably never reached Twilio (the dial
//     failed, or the transport's trace shows nothing was written); 429
//     with code 20429; 503. GET and DELETE are also retried after any
//     transport failure and after 500, 502 and 504.
//   - The premise of repeating a POST after a 429 or a 503 is that the
//     answer means Twilio did not process it. A proxy or load balancer can
//     answer 503 after forwarding the request, so by default
//     ([POSTRetryTwilio]) only Twilio's own answers count: 429 with code
//     20429 and 503 with code 20503 in Twilio's JSON error body; any other
//     503 to a POST is not repeated and gives provider.ErrOutcomeUnknown.
//     [WithPOSTRetry] with [POSTRetryOff] never repeats a POST that may
//     have reached the server, whatever the answer; [POSTRetryAny503]
//     trusts every 503.
//   - Not retried: a POST (Start, Check, Cancel, Approve, service changes)
//     after a timeout once sent, a connection closed mid-response, or 500,
//     502 or 504: these give provider.ErrOutcomeUnknown. Nor 60202, 60203
//     or any other 4xx: they are answers.
//   - Waits: Retry-After (seconds or an HTTP date) when Twilio sends it,
//     else exponential backoff with jitter ([WithRetryWait]), at most
//     [WithRetries] times (3 by default). A Retry-After longer than the
//     longest configured wait, or than the time left before the context's
//     deadline, is not slept through: the call ends at once with the 429 or
//     503 (ErrRateLimited or ErrUnavailable, its RetryAfter set), so the
//     caller decides. The context bounds everything, waits included;
//     [WithTimeout] bounds each attempt.
//   - Redirects are never followed, whatever *http.Client is given (a 3xx
//     answer is an [*APIError] matching [ErrRedirect]), and next-page URLs
//     are followed on the client's own base URL only, so credentials go
//     nowhere else.
//
// [WithRetryHook] and [WithLogger] report each retry with its reason.
//
// # Factors
//
// The Client implements provider.FactorProvider over Verify's Entities,
// Factors and Challenges (TOTP): [Client.EnrollFactor],
// [Client.ConfirmFactor], [Client.ChallengeFactor] and the rest, plus
// Twilio-shaped calls for what the contract does not cover
// ([Client.CreateEntity], [Client.ListEntities], [Client.UpdateFactor],
// [Client.UpdateChallenge], [Client.ListChallenges]). A challenge's
// creation follows the retry rule of a check. Twilio's TOTP defaults, for
// the zero fields of provider.TOTPConfig, are 6 digits, 30 s steps, a skew
// of one step and SHA-1; a challenge expires after 5 minutes unless
// ChallengeRequest.ExpiresAt says otherwise (at most an hour ahead).
// Twilio's responded_reason is in the *Challenge of
// provider.Challenge.Detail.
//
// # Testing
//
// Nothing here needs a Twilio account to test: the package's tests use
// httptest servers. Point [WithBaseURL] (or TWILIO_VERIFY_BASE_URL) at a
// local emulator of the Verify API to test a whole application; plain
// http is accepted for loopback hosts only. The opt-in live test runs when
// TWILIO_LIVE_TO and the credentials are set.
//
// # Signed events
//
// [NewWebhookHandler] is a net/http handler for Twilio's signed requests
// (Verify webhooks and Event Streams): it checks X-Twilio-Signature
// ([ValidateSignature], [ValidateBodySignature]), answers a bad or missing
// signature with 403 and nothing else, and hands the application
// provider.LifecycleEvent values. See docs/events.md.
package twilio
