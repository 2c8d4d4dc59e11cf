package verify_test

import (
	"context"
	"fmt"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/pushdevice"
	"github.com/verifykit/verifykit/verify"
)

// "Approve on your phone" on the fake: the application issues an access
// token, the phone (a pushdevice.Device) enrols its key with it, and at
// login the application creates a challenge that the phone approves.
func ExampleClient_StartPush() {
	ctx := context.Background()
	clock := fake.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	f := fake.MustNew(fake.WithClock(clock.Now))
	client, _ := verify.New(f)
	const user = "5f0c6b1e-user-0001"

	// Enrolment: the token goes to the phone app (a QR code, say).
	tok, err := client.CreatePushAccessToken(ctx, user, &verify.AccessTokenOptions{FactorFriendlyName: "My phone"})
	if err != nil {
		panic(err)
	}
	phone, _ := pushdevice.New(f.Device(), pushdevice.WithClock(clock.Now))
	factor, err := phone.Enroll(ctx, tok.Token, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("enrolled:", factor.Type, factor.Status, factor.FriendlyName)

	// Login: a challenge the phone shows, approves, and the page waits for.
	ch, err := client.StartPush(ctx, user, factor.ID, verify.PushDetails{
		Message: "Log in to Acme?",
		Fields:  []verify.PushField{{Label: "Browser", Value: "Firefox on Linux"}},
	}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("challenge:", ch.Status)
	shown, _ := phone.Pending(ctx)
	fmt.Println("phone shows:", shown[0].Push.Message, "/", shown[0].Push.Fields[0].Value)
	if _, err := phone.Approve(ctx, ch.ID); err != nil {
		panic(err)
	}
	done, err := client.WaitChallenge(ctx, user, ch.ID, nil)
	fmt.Println("login:", done.Status, err)
	// Output:
	// enrolled: push verified My phone
	// challenge: pending
	// phone shows: Log in to Acme? / Firefox on Linux
	// login: approved <nil>
}
