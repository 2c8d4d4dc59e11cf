package verify_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/verify"
)

// The whole start-and-check flow, on the fake provider.
func Example() {
	ctx := context.Background()
	f := fake.MustNew()
	client, err := verify.New(f, verify.WithDefaultRegion("US"))
	if err != nil {
		panic(err)
	}

	v, err := client.Start(ctx, "(415) 555-2671", verify.ChannelSMS, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("started:", v.Status, "to", v.To)

	msg, _ := f.LastMessage("+14155552671")
	fmt.Println("the user reads:", msg.Body)

	v, err = client.Check(ctx, "(415) 555-2671", "250 614", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("checked:", v.Status, "approved:", v.Approved())
	// Output:
	// started: pending to +14155552671
	// the user reads: Your verifykit verification code is: 250614
	// checked: approved approved: true
}

func ExampleClient_Start() {
	ctx := context.Background()
	client, _ := verify.New(fake.MustNew())

	v, err := client.Start(ctx, "+447400123456", verify.ChannelSMS, &verify.StartOptions{Locale: "en-GB"})
	if err != nil {
		fmt.Println("start failed:", err)
		return
	}
	fmt.Println(v.Status, v.Channel, len(v.SendAttempts), "send")

	// A second start inside the validity window re-sends the same code.
	again, _ := client.Start(ctx, "+447400123456", verify.ChannelCall, nil)
	fmt.Println(again.ID == v.ID, again.Channel, len(again.SendAttempts), "sends")
	// Output:
	// pending sms 1 send
	// true call 2 sends
}

// A wrong code is an outcome, not an error: the verification stays
// pending and the user may try again.
func ExampleClient_Check() {
	ctx := context.Background()
	f := fake.MustNew(fake.WithFixedCode("123456"))
	client, _ := verify.New(f)
	v, _ := client.Start(ctx, "alice@example.com", verify.ChannelEmail, nil)

	v, err := client.CheckID(ctx, v.ID, "000000", nil)
	fmt.Println("wrong code:", v.Status, err)

	v, err = client.CheckID(ctx, v.ID, "123-456", nil)
	fmt.Println("right code:", v.Status, err)

	// Once approved, the verification is gone.
	_, err = client.CheckID(ctx, v.ID, "123456", nil)
	fmt.Println("again:", errors.Is(err, verify.ErrNotFound))
	// Output:
	// wrong code: pending <nil>
	// right code: approved <nil>
	// again: true
}

// Branching on errors: one sentinel per decision the application makes.
// The fake's magic numbers make each one easy to reach in tests.
func Example_errors() {
	ctx := context.Background()
	client, _ := verify.New(fake.MustNew())

	for _, to := range []string{"+1 415 555", fake.NumberLandline, fake.NumberRateLimited, fake.NumberUnavailable} {
		_, err := client.Start(ctx, to, verify.ChannelSMS, nil)
		switch {
		case err == nil:
			fmt.Println("sent")
		case errors.Is(err, verify.ErrInvalidRequest):
			fmt.Println("ask for the number again:", err)
		case errors.Is(err, verify.ErrUndeliverable):
			fmt.Println("offer a call instead")
		case errors.Is(err, verify.ErrRateLimited):
			wait, _ := verify.RetryAfter(err)
			fmt.Println("try again in", wait)
		default:
			fmt.Println("something went wrong:", verify.CodeOf(err))
		}
	}
	// Output:
	// ask for the number again: verify: start +14***55: invalid request: not a valid phone number
	// offer a call instead
	// try again in 30s
	// something went wrong: unavailable
}

// The fake's clock makes expiry testable without waiting.
func Example_expiry() {
	ctx := context.Background()
	clock := fake.NewClock(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	f := fake.MustNew(fake.WithClock(clock.Now), fake.WithFixedCode("4321"))
	client, _ := verify.New(f)

	client.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
	clock.Advance(10 * time.Minute)
	_, err := client.Check(ctx, "+14155552671", "4321", nil)
	fmt.Println(errors.Is(err, verify.ErrNotFound), verify.CodeOf(err))
	// Output:
	// true not_found
}
