package vonage_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// Example runs a verification against the emulator: a start, a conflict
// for a second start to the same number, and the check by request ID.
func Example() {
	srv := vonagetest.NewServer(vonagetest.WithFixedCode("2468"))
	defer srv.Close()
	c, err := vonage.New("Acme",
		vonage.Application(vonagetest.DefaultApplicationID, vonagetest.DefaultPrivateKeyPEM()),
		vonage.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	v, err := c.Start(ctx, provider.StartRequest{To: "+447700900123", Channel: provider.ChannelSMS})
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Status)

	_, err = c.Start(ctx, provider.StartRequest{To: "+447700900123", Channel: provider.ChannelCall})
	pending, _ := provider.PendingID(err)
	fmt.Println(errors.Is(err, provider.ErrConflict), pending == v.ID)

	got, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "2468"})
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Status)
	// Output:
	// pending
	// true true
	// approved
}

// ExampleStartParams starts a workflow: an SMS, then a voice call after 60
// seconds if the code has not been checked.
func ExampleStartParams() {
	srv := vonagetest.NewServer()
	defer srv.Close()
	c, _ := vonage.New("Acme", vonage.APIKey(vonagetest.DefaultAPIKey, vonagetest.DefaultAPISecret), vonage.WithBaseURL(srv.URL))
	ctx := context.Background()
	v, err := c.Start(ctx, provider.StartRequest{To: "+447700900123", Channel: provider.ChannelSMS,
		Extensions: []provider.Extension{vonage.StartParams{
			Workflow:       []vonage.Step{{Channel: provider.ChannelSMS}, {Channel: provider.ChannelCall}},
			ChannelTimeout: 60e9,
			CodeLength:     6,
		}}})
	if err != nil {
		panic(err)
	}
	if err := c.NextWorkflow(ctx, v.ID); err != nil { // call now
		panic(err)
	}
	for _, m := range srv.Messages() {
		fmt.Println(m.Channel, len(m.Code))
	}
	// Output:
	// sms 6
	// voice 6
}
