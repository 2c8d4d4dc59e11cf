package verify_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/verify"
)

// A sign-up form's protection: a resend cooldown, budgets per number, per
// IP address and for the whole application, a smaller budget for calls,
// and no international premium ranges. The second "send again" click comes
// too soon and is refused without reaching the provider, with the time to
// show the user.
func ExampleWithResendCooldown() {
	ctx := context.Background()
	f := fake.MustNew()
	client, err := verify.New(f,
		verify.WithResendCooldown(30*time.Second, 5*time.Minute),
		verify.WithSendBudget(verify.PerDestination, 5, time.Hour),
		verify.WithSendBudget(verify.PerCaller("ip"), 10, time.Hour),
		verify.WithSendBudget(verify.Global, 1000, time.Hour),
		verify.WithSendBudget(verify.PerDestination, 1, time.Hour, verify.ChannelCall),
		verify.WithDeniedPrefixes(verify.HighCostPrefixes()...),
	)
	if err != nil {
		panic(err)
	}
	// The application passes its own idea of the caller; the library never
	// reads a request header.
	opts := &verify.StartOptions{CallerKeys: map[string]string{"ip": "203.0.113.9"}}

	_, err = client.Start(ctx, "+14155552671", verify.ChannelSMS, opts)
	fmt.Println("first send:", err)

	_, err = client.Start(ctx, "+14155552671", verify.ChannelSMS, opts)
	if d, ok := verify.RetryAfter(err); ok && errors.Is(err, verify.ErrTooManySends) {
		fmt.Printf("send again: try again in %d s\n", int(d.Round(time.Second).Seconds()))
	}
	var pe *verify.PolicyError
	if errors.As(err, &pe) {
		fmt.Println("refused by:", pe.Policy, pe.Scope, pe.Key)
	}

	_, err = client.Start(ctx, "+8823421234", verify.ChannelSMS, opts)
	fmt.Println("premium range:", errors.Is(err, verify.ErrUndeliverable))
	fmt.Println("codes sent:", len(f.Messages()))
	// Output:
	// first send: <nil>
	// send again: try again in 30 s
	// refused by: cooldown destination +14*******71
	// premium range: true
	// codes sent: 1
}
