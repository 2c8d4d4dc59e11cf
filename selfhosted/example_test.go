package selfhosted_test

import (
	"context"
	"fmt"
	"os"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
)

// The provider over a memory store, delivering to an outbox: what a test
// or a development server does. In production, use the Redis store and a
// real Sender, and load the key from a secret store.
func Example() {
	ctx := context.Background()
	st, err := store.NewMemory()
	if err != nil {
		panic(err)
	}
	outbox := new(selfhosted.Outbox)
	p, err := selfhosted.New(st, selfhosted.GenerateKey("2026-11"),
		selfhosted.WithAppName("Acme"),
		selfhosted.WithSender(outbox, provider.ChannelSMS, provider.ChannelEmail))
	if err != nil {
		panic(err)
	}
	client, err := verify.New(p)
	if err != nil {
		panic(err)
	}
	v, err := client.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("started:", v.Status)

	code, _ := outbox.LastCode("+14155552671")
	v, err = client.CheckID(ctx, v.ID, code, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println("checked:", v.Status)

	// Approved means gone: the same code does not work twice.
	_, err = client.CheckID(ctx, v.ID, code, nil)
	fmt.Println("again:", err != nil)
	// Output:
	// started: pending
	// checked: approved
	// again: true
}
