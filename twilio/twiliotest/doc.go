// Package twiliotest is a stateful emulator of the Twilio Verify v2 HTTP
// API, for tests of any application that talks to Twilio Verify: through
// this library, an official Twilio SDK, or curl. It answers with Twilio's
// JSON, status codes and error bodies and follows Twilio's lifecycle,
// because it runs on the module's internal engine (the one under the fake,
// selfhosted and vonagetest); it never imports the fake.
//
//	srv := twiliotest.NewServer()
//	defer srv.Close()
//	p, _ := twilio.New(twiliotest.DefaultServiceSID,
//		twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
//		twilio.WithBaseURL(srv.URL))
//	// … start a verification, then read the code:
//	code, _ := srv.LastCode("+14155552671")
//
// Requests need HTTP Basic auth with the account's SID and Auth Token (or
// a key from [WithAPIKey]); so do the /_emulator/ endpoints (outbox,
// faults, clock) unless [WithOpenControl]. The fake's magic numbers work
// through it, and [Emulator.InjectFault] schedules other failures. What it
// serves, its limits and every way it differs from Twilio are in
// docs/emulators.md ("Testing without Twilio").
package twiliotest
