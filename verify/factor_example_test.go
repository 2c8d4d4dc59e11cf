package verify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/verify"
)

// Enrol an authenticator app, confirm it with its first code, and log in
// with a code, on the fake. fake.FactorCode plays the user's phone.
func ExampleClient_EnrollTOTP() {
	ctx := context.Background()
	clock := fake.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	f := fake.MustNew(fake.WithClock(clock.Now), fake.WithFactorIssuer("Acme"))
	client, _ := verify.New(f)
	const user = "5f0c6b1e-user-0001" // the app's stable ID, not personal data

	e, err := client.EnrollTOTP(ctx, user, "Phone", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("enrolled:", e.Status, e.TOTP.Digits, "digits every", e.TOTP.Period)
	fmt.Println("uri:", strings.HasPrefix(e.URI, "otpauth://totp/Acme:Phone?"))
	png, _ := e.QRCodePNG(256)
	fmt.Println("qr png:", string(png[1:4]))
	fmt.Println("printed:", strings.Contains(fmt.Sprint(e), e.Secret))

	code, _ := f.FactorCode(user, e.ID) // what the app shows
	factor, _ := client.ConfirmFactor(ctx, user, e.ID, code)
	fmt.Println("confirmed:", factor.Status)

	clock.Advance(30 * time.Second) // the next code
	code, _ = f.FactorCode(user, e.ID)
	ch, _ := client.CheckFactor(ctx, user, e.ID, code)
	fmt.Println("login:", ch.Status)

	// The same code again is refused: a code approves once.
	ch, _ = client.CheckFactor(ctx, user, e.ID, code)
	fmt.Println("replay:", ch.Status, ch.Approved())
	// Output:
	// enrolled: unverified 6 digits every 30s
	// uri: true
	// qr png: PNG
	// printed: false
	// confirmed: verified
	// login: approved
	// replay: pending false
}

// A wrong code is an outcome; the wrong-code limit is an error.
func ExampleClient_CheckFactor() {
	ctx := context.Background()
	clock := fake.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	f := fake.MustNew(fake.WithClock(clock.Now))
	client, _ := verify.New(f)
	const user = "5f0c6b1e-user-0002"
	e, _ := client.EnrollTOTP(ctx, user, "Phone", nil)
	code, _ := f.FactorCode(user, e.ID)
	client.ConfirmFactor(ctx, user, e.ID, code)
	clock.Advance(30 * time.Second)

	for range 5 {
		ch, err := client.CheckFactor(ctx, user, e.ID, "000 000")
		fmt.Println(ch.Status, err)
	}
	code, _ = f.FactorCode(user, e.ID)
	_, err := client.CheckFactor(ctx, user, e.ID, code)
	wait, _ := verify.RetryAfter(err)
	fmt.Println(errors.Is(err, verify.ErrTooManyChecks), wait)
	// Output:
	// pending <nil>
	// pending <nil>
	// pending <nil>
	// pending <nil>
	// pending <nil>
	// true 10m0s
}
