// Package fake is a deterministic, in-memory verification provider with
// Twilio Verify's behaviour, for an application's tests: they walk every
// step and every error of a verification flow without sending a message.
// A *Fake implements [provider.Provider], [provider.CapabilityReporter],
// [provider.Canceler], [provider.Fetcher], [provider.Approver] and
// [provider.FactorProvider] (TOTP factors with real RFC 6238 codes on the
// fake's clock); wrap it with verify.New like any other provider:
//
//	f := fake.MustNew() // or f, err := fake.New(opts...)
//	client, err := verify.New(f)
//	...
//	v, err := client.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
//	code, _ := f.LastCode("+14155552671")
//	v, err = client.Check(ctx, "+14155552671", code, nil)
//
// It follows Twilio's rules by default (each limit is an option), draws
// codes from a generator seeded with [DefaultSeed] (the same calls give
// the same codes), records what it "sends" in an outbox
// ([Fake.LastCode]), fails on demand ([Fake.InjectFault], the magic
// numbers such as [NumberLandline]) and reads time.Now unless [WithClock]
// (so it works inside testing/synctest bubbles). Its IDs are opaque and its
// errors carry a neutral [Reason] beside the sentinel. It is a layer over
// the module's internal engine, which the emulators run on too; it imports
// no emulator, and none imports it. The rules in full are in
// docs/emulators.md ("Testing your application with the fake").
package fake
