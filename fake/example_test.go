package fake_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/verify"
)

// The fake behind a verify.Client: start, read the code from the outbox,
// check it.
func Example() {
	ctx := context.Background()
	f, err := fake.New(fake.WithFriendlyName("Acme"))
	if err != nil {
		panic(err)
	}
	client, _ := verify.New(f)

	v, _ := client.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
	code, _ := f.LastCode("+14155552671")
	v, _ = client.CheckID(ctx, v.ID, code, nil)
	fmt.Println(v.Status)
	// Output:
	// approved
}

// The outbox records every message the fake "sends", with its code and
// the body a person would read.
func ExampleFake_Messages() {
	ctx := context.Background()
	f := fake.MustNew(fake.WithFixedCode("424242"))
	f.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	f.Start(ctx, provider.StartRequest{To: "alice@example.com", Channel: provider.ChannelEmail})

	for _, m := range f.Messages() {
		fmt.Printf("%s to %s: %s\n", m.Channel, m.To, m.Body)
	}
	last, _ := f.LastMessage("alice@example.com")
	fmt.Println("last code to alice:", last.Code)
	// Output:
	// sms to +14155552671: Your verifykit verification code is: 424242
	// email to alice@example.com: Your verifykit verification code is: 424242
	// last code to alice: 424242
}

// A Clock moves the fake's time forward, so a test can let a code expire
// without sleeping.
func ExampleClock() {
	ctx := context.Background()
	clock := fake.NewClock(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	f := fake.MustNew(fake.WithClock(clock.Now), fake.WithValidity(10*time.Minute))

	v, _ := f.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	fmt.Println("expires at", v.ExpiresAt.Format("15:04"))
	code, _ := f.LastCode("+14155552671")

	clock.Advance(10 * time.Minute)
	_, err := f.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
	fmt.Println("after 10 minutes:", errors.Is(err, provider.ErrNotFound))
	// Output:
	// expires at 09:10
	// after 10 minutes: true
}

// InjectFault makes calls fail the way a real provider can. With Processed,
// the call takes effect and its answer is "lost": the application sees
// ErrOutcomeUnknown although the code was approved, and a retry answers
// ErrNotFound.
func ExampleFake_InjectFault() {
	ctx := context.Background()
	f := fake.MustNew()
	client, _ := verify.New(f)
	v, _ := client.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
	code, _ := f.LastCode("+14155552671")

	f.InjectFault(fake.Fault{Op: fake.OpCheck, Err: provider.ErrOutcomeUnknown, Processed: true})
	_, err := client.CheckID(ctx, v.ID, code, nil)
	fmt.Println(verify.CodeOf(err))

	_, err = client.CheckID(ctx, v.ID, code, nil)
	fmt.Println(verify.CodeOf(err), "(the approval took effect; never report a wrong code here)")

	f.InjectFault(fake.Fault{Op: fake.OpStart, Err: &fake.Error{Kind: provider.ErrRateLimited, Wait: 30 * time.Second}})
	_, err = client.Start(ctx, "+14155550100", verify.ChannelSMS, nil)
	wait, _ := verify.RetryAfter(err)
	fmt.Println(verify.CodeOf(err), wait)
	// Output:
	// outcome_unknown
	// not_found (the approval took effect; never report a wrong code here)
	// rate_limited 30s
}

// The magic numbers fail in documented ways without any setup.
func Example_magicNumbers() {
	ctx := context.Background()
	client, _ := verify.New(fake.MustNew())

	_, err := client.Start(ctx, fake.NumberLandline, verify.ChannelSMS, nil)
	var fe *fake.Error
	errors.As(err, &fe)
	fmt.Println(verify.CodeOf(err), fe.Reason)

	v, err := client.Start(ctx, fake.NumberLandline, verify.ChannelCall, nil)
	fmt.Println(v.Status, err)
	// Output:
	// undeliverable landline
	// pending <nil>
}
