// Package vonagetest is a stateful emulator of Vonage's Verify v2 API, for
// tests and local development: an [http.Handler] ([Emulator]) and a
// loopback server ([NewServer]) that the vonage provider, and Vonage's
// official SDKs pointed at its URL, can run their whole flow against.
//
// It serves POST /v2/verify (start, 202; 409 with the pending request_id
// for a second start to the same number; 422 with invalid_parameters), POST
// /v2/verify/{id} (check: 200, 400 for a wrong code, 410 after too many,
// 404 when the request is unknown, finished or expired, 409 when the step
// takes no code), DELETE /v2/verify/{id} (cancel, 204) and POST
// /v2/verify/{id}/next_workflow (200, 409 with no step left). Every error
// is RFC 7807 application/problem+json, as Vonage's are (see
// ../CONTRACT.md). Starts are held to the limits of Vonage's Verify API
// 1.0.1: a brand of 1 to 18 characters, a client_ref of 1 to 40 letters
// and digits, 1 to 3 workflow steps over sms, voice, email, whatsapp (with
// from), rcs and silent_auth (whatsapp_interactive, which the API no longer
// lists, is refused). Workflows move to their next step when a channel
// timeout (180 s unless the start says otherwise; always 60 s when the
// workflow starts with silent_auth) passes on the emulator's
// clock ([Emulator.Advance]) and expire after the last; each step sends a
// new code unless the step sets reuse_code or the start chose the code. A
// silent_auth step's check_url redirects to the redirect_url with the
// request ID and a code in the URL's fragment, and takes one attempt. With
// [WithCallbacks] it posts Vonage's signed status callbacks (event and
// summary) to the application's webhook, for requests authenticated with a
// JWT only, as Vonage does.
//
// Requests must be authenticated as Vonage's are: a bearer JWT signed RS256
// with a known application's private key (claims application_id, iat and
// jti; without exp it is valid 15 minutes after iat, and never beyond 24
// hours; its times are checked against the base clock, not the advanced
// one), or Basic auth with a known API key and secret; anything else
// answers 401 problem+json. [DefaultApplicationID] with
// [DefaultPrivateKeyPEM], and [DefaultAPIKey] with [DefaultAPISecret], work
// out of the box.
//
// The lifecycle (codes, sends, wrong-code counting, approval) runs on the
// module's internal engine, the one under the fake and the Twilio
// emulator; the workflow (steps, channel timeouts, the answer after
// termination) drives it. Imports go vonagetest → internal/engine,
// internal/emuserver (the chassis both emulators share), vonage (its
// callbacks are signed with vonage.SignCallback) and provider; never
// fake (see docs/engine.md). What was "sent" is in the
// outbox: [Emulator.LastCode], [Emulator.Messages], GET
// /_emulator/messages (JSON, ?to= filters) and an HTML page at /_emulator/;
// those endpoints need the API's credentials unless [WithOpenControl].
// Live requests are bounded ([WithMaxPending]), bodies are bounded in size,
// and [NewServer] (or [ConfigureServer]) sets the server's timeouts.
// [Emulator.InjectFault] (or POST /_emulator/faults, JSON) makes requests
// fail: a status, a dropped connection, or a lost answer after the request
// took effect; POST /_emulator/clock?advance=5m moves the clock.
package vonagetest
