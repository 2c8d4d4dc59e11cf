// Package fake is a deterministic, in-memory verification provider with
// Twilio Verify's behaviour. Applications use it in their tests to walk
// every step and every error of a verification flow without sending a
// message. The twiliotest emulator serves the same rules over Twilio's HTTP
// API: both are layers over the module's one lifecycle engine.
//
// A *Fake implements [provider.Provider], [provider.CapabilityReporter]
// (it checks by To as well as by ID, and re-sends on a repeated Start),
// [provider.Canceler], [provider.Fetcher] and [provider.Approver]. Wrap it
// with verify.New like any other provider:
//
//	f := fake.MustNew() // or f, err := fake.New(opts...)
//	client, err := verify.New(f)
//	...
//	v, err := client.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
//	code, _ := f.LastCode("+14155552671")
//	v, err = client.Check(ctx, "+14155552671", code, nil)
//
// It speaks no vendor's vocabulary: its IDs are opaque (32 hex digits),
// and its errors carry a neutral [Reason] beside the sentinel. The Twilio
// emulator maps the same reasons (internal/fakeconf, the engine) to
// Twilio's codes.
//
// It is a layer over the module's internal engine, which holds the
// lifecycle of verifications (in memory, on the fake's clock)
// and of factors; what the fake adds is what application tests need: the
// options, faults, the outbox, the magic numbers and the clock. Imports go
// fake → internal/engine → store, provider; its options fill a struct
// (internal/fakeconf) that the Twilio emulator's options fill too, with
// the code generator and magic numbers both use, and its faults use
// the fault queue both emulators use (internal/faultq). No emulator
// imports fake. See docs/engine.md.
//
// # Behaviour
//
// By default the fake follows Twilio Verify's documented rules:
//
//   - A code is valid for 10 minutes ([WithValidity]) from the first send.
//   - A second Start to the same target inside that window re-sends the
//     same code on the same verification, and counts as a send. The sixth
//     send gives [provider.ErrTooManySends] ([WithMaxSends]).
//   - A wrong code leaves the verification pending and is not an error.
//     After 5 wrong codes ([WithMaxChecks]) the next Check gives
//     [provider.ErrTooManyChecks] until the window ends; meanwhile a Start
//     to the same target gives [provider.ErrTooManySends]
//     ([ReasonChecksSpent]) instead of re-sending a code that cannot
//     approve, and Fetch, Cancel and Approve give [provider.ErrNotFound].
//   - Approved, canceled and expired verifications are gone: a later Check,
//     Fetch or Cancel gives [provider.ErrNotFound], and a new Start begins a
//     new verification with a new ID and a new code.
//   - Custom codes are refused with [provider.ErrUnsupported] unless
//     [WithCustomCodes] allows them, as on a Twilio service without
//     custom codes enabled.
//   - ChannelAuto resolves to ChannelSMS for phone numbers.
//
// # Codes
//
// Codes are 6 digits ([WithCodeLength]). They come from a pseudo-random
// generator seeded with [DefaultSeed], so a test that makes the same calls
// in the same order sees the same codes every run. [WithSeed] picks another
// sequence, [WithFixedCode] makes every code the same, and
// [WithRandomCodes] draws them from crypto/rand. Codes are compared in
// constant time.
//
// # Outbox
//
// Every message the fake "sends" is recorded in an outbox (the last 1000 by
// default, [WithOutboxLimit]) with its target, channel, code, rendered body
// and time: see [Fake.Messages], [Fake.LastMessage] and [Fake.LastCode].
//
// # Faults
//
// [Fake.InjectFault] makes matching calls fail with a given error, either
// before they take effect or after (the response is "lost", which is how
// [provider.ErrOutcomeUnknown] happens in real life). The magic numbers
// ([NumberLandline], [NumberRateLimited], …) fail in documented ways
// without any setup, so tests can walk every error path.
//
// # Time
//
// The fake reads time.Now by default, so it works inside testing/synctest
// bubbles, where time advances only when every goroutine is blocked.
// [WithClock] injects another clock, such as a [Clock] that a test moves
// forward with [Clock.Advance].
//
// # Factors
//
// A Fake also implements [provider.FactorProvider]: authenticator-app
// (TOTP) factors with real RFC 6238 codes on the fake's clock. Secrets come
// from the seed (the same calls give the same secrets) or, with
// [WithRandomCodes], from crypto/rand; [Fake.FactorCode] returns the code
// an app would show now. A factor enrolled without a configuration has 6
// digits, 30 s steps, SHA-1 and a skew of one step (zero fields of
// provider.TOTPConfig take these values; EnrollRequest.SkewSet keeps a
// skew of 0). A code approves once per time step; 5 wrong codes
// per factor within 10 minutes ([WithFactorLimits]) give
// [provider.ErrTooManyChecks]. Faults match factor operations by [Op] and
// identity, and [WithOnFactor] observes them. Challenges are kept per
// identity (the last 100).
//
// # Memory
//
// Approved, canceled and expired verifications are removed, so
// memory is bounded by the number of verifications pending at once plus
// the outbox.
package fake
