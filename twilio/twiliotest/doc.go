// Package twiliotest is a stateful emulator of the Twilio Verify v2 HTTP
// API, for tests of any application that talks to Twilio Verify: through
// this library, an official Twilio SDK, or curl. It answers with Twilio's
// JSON, status codes and error bodies, and follows Twilio's lifecycle
// (codes valid 10 minutes, 5 sends and 5 checks per verification, approved
// and canceled verifications gone) because each Verify Service is backed
// by a [fake.Fake].
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
//   - /v2/Services: create, list (with Twilio's pagination meta), fetch,
//     update, delete.
//   - /v2/Services/{ServiceSid}/Verifications: create; /{Sid}: fetch, and
//     update to Status=canceled or approved.
//   - /v2/Services/{ServiceSid}/VerificationCheck.
//   - /_emulator/messages: the outbox as JSON (newest last, ?to= filters);
//     /_emulator/: the same as an HTML page that refreshes itself.
//   - /_emulator/faults: POST a JSON [Fault] to make the next matching
//     request fail; DELETE clears them.
//   - /_emulator/clock: POST ?advance=10m moves the emulator's clock.
//
// Requests need HTTP Basic auth with the configured Account SID and Auth
// Token, or an API key added with [WithAPIKey]; anything else gets 401 with
// Twilio error 20003. The /_emulator/ endpoints need no auth.
//
// Entities, Factors and Challenges (TOTP factors) are served too, on the
// emulator's clock (wall time unless WithClock), so an authenticator app on
// a phone, or oathtool, can enrol and log in against it.
//
// # Faults
//
// The fake's magic numbers work through the emulator: fake.NumberLandline
// gets 403/60205 on sms, fake.NumberRateLimited 429/20429, and
// fake.NumberCheckOutcomeUnknown has its check processed and then its
// connection dropped, as a lost response would be. [Emulator.InjectFault]
// and POST /_emulator/faults schedule other failures.
package twiliotest
