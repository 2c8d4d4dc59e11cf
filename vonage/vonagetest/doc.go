// Package vonagetest is a stateful emulator of Vonage's Verify v2 API, for
// tests and local development: an [http.Handler] ([Emulator]) and a
// loopback server ([NewServer]) that the vonage provider, and Vonage's
// official SDKs pointed at its URL, run their whole flow against. It runs
// on the module's internal engine, driven by Vonage's workflows (steps,
// channel timeouts on the emulator's clock), and answers with Vonage's
// RFC 7807 problem documents.
//
// Requests need a bearer JWT of a known application or Basic auth with a
// known API key; [DefaultApplicationID] with [DefaultPrivateKeyPEM], and
// [DefaultAPIKey] with [DefaultAPISecret], work out of the box. The outbox
// ([Emulator.LastCode], /_emulator/), faults ([Emulator.InjectFault]) and
// the clock ([Emulator.Advance]) are described, with every rule it
// enforces, in docs/emulators.md ("Testing without Vonage").
package vonagetest
