// Package twiliotest is a stateful emulator of the Twilio Verify v2 HTTP
// API, for tests of any application that talks to Twilio Verify: through
// this library, an official Twilio SDK, or curl. It answers with Twilio's
// JSON, status codes and error bodies, and follows Twilio's lifecycle
// (codes valid 10 minutes, 5 sends and 5 checks per verification, approved
// and canceled verifications gone) because it runs on the module's
// internal engine, the one under the fake, selfhosted and vonagetest: each
// Verify Service's verifications are an engine over a memory store of its
// own, and its entities, factors and challenges the factor engine. It adds
// only Twilio's wire and what Twilio adds to a verification (PSD2 amount
// and payee, silent network auth), kept by verification SID. It does not
// import the fake: imports go twiliotest → internal/engine,
// internal/fakeconf (the code generator and magic numbers it shares with
// the fake), internal/emuserver, twilio, store, provider (see
// docs/engine.md).
//
//	srv := twiliotest.NewServer()
//	defer srv.Close()
//	p, _ := twilio.New(twiliotest.DefaultServiceSID,
//		twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
//		twilio.WithBaseURL(srv.URL))
//	// … start a verification, then read the code:
//	code, _ := srv.LastCode("+14155552671")
//
// # What it serves
//
//   - /v2/Services: create, list (with Twilio's pagination meta, Page and
//     opaque PageToken), fetch, update, delete.
//   - /v2/Services/{ServiceSid}/Verifications: create; /{Sid}: fetch, and
//     update to Status=canceled or approved. PSD2 Amount and Payee on a
//     service with Psd2Enabled; silent network auth (Channel=sna) with an
//     sna.url served at /_emulator/sna/{token}.
//   - /v2/Services/{ServiceSid}/VerificationCheck, with a Code, or without
//     one for silent network auth.
//   - /v2/Services/{ServiceSid}/Entities, their TOTP Factors and
//     Challenges (see factors.go).
//   - The resources a Service's links name: RateLimits,
//     MessagingConfigurations, Webhooks and AccessTokens.
//   - /_emulator/messages: the outbox as JSON (newest last, ?to= filters);
//     /_emulator/: the same as an HTML page that refreshes itself, with
//     the [Stats]; /_emulator/stats: the Stats as JSON.
//   - /_emulator/faults: POST a JSON [Fault] (Content-Type
//     application/json) to make the next matching request fail; DELETE
//     clears them.
//   - /_emulator/clock: POST ?advance=10m moves the emulator's clock.
//
// A path it does not serve answers 404 with error 20404, a method a path
// does not take 405 with error 20004, in Twilio's JSON. Every URL in an
// answer (url, links, meta.*_page_url, sna.url) points at the emulator
// itself: the address the request came to, or [WithPublicBaseURL]. The
// page docs/emulators.md ("What the emulator serves, and where it differs
// from Twilio") lists every way the emulator differs from Twilio.
//
// Requests need HTTP Basic auth with the configured Account SID and Auth
// Token, or an API key added with [WithAPIKey]; anything else gets 401 with
// Twilio error 20003. The /_emulator/ endpoints need the same, unless
// [WithOpenControl] is given; an sna.url needs none (its token is the
// credential, as a device has no other).
//
// # Limits
//
// Request bodies are read before any lock, at most 64 KiB, within
// [WithBodyTimeout]; [NewServer] (and [ConfigureServer]) sets the server's
// read and idle timeouts. Services, faults and pending verifications are
// bounded ([WithMaxServices], [WithMaxFaults], [WithMaxPending]); one more
// answers 429 with error 20429. The outbox and the record of approvals
// keep the newest [WithOutboxLimit] entries.
//
// Entities, Factors and Challenges (TOTP factors) are served too, on the
// emulator's clock (wall time unless WithClock), so an authenticator app on
// a phone, or oathtool, can enrol and log in against it.
//
// # Faults
//
// The fake's magic numbers work through the emulator: fake.NumberLandline
// gets 403/60205 on sms, fake.NumberRateLimited 429/20429,
// fake.NumberStartOutcomeUnknown has its code sent and
// fake.NumberCheckOutcomeUnknown its check processed, and then their
// connections dropped, as a lost response would be. A number on the Safe
// List is exempt from fake.NumberBlocked's and fake.NumberRateLimited's
// refusals (Fraud Guard and Geo Permissions), as Twilio's Safe List is.
// [Emulator.InjectFault]
// and POST /_emulator/faults schedule other failures.
package twiliotest
