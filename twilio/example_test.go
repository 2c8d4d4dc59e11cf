package twilio_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/pushdevice"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
	"github.com/verifykit/verifykit/verify"
)

// A Client for a Verify Service, here pointed at the emulator; in
// production leave out WithBaseURL.
func ExampleNew() {
	srv := twiliotest.NewServer()
	defer srv.Close()

	p, err := twilio.New(twiliotest.DefaultServiceSID,
		twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}
	client, _ := verify.New(p)

	ctx := context.Background()
	v, err := client.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
	if err != nil {
		panic(err)
	}
	code, _ := srv.LastCode("+14155552671") // what the user would read
	v, err = client.Check(ctx, "+14155552671", code, nil)
	fmt.Println(v.Status, err)
	// Output:
	// approved <nil>
}

// NewFromEnvFunc reads the TWILIO_* variables (NewFromEnv reads the
// process environment); here they point at the emulator, as
// examples/emulator prints them.
func ExampleNewFromEnvFunc() {
	srv := twiliotest.NewServer()
	defer srv.Close()
	env := map[string]string{
		twilio.EnvAccountSID: twiliotest.DefaultAccountSID,
		twilio.EnvAuthToken:  twiliotest.DefaultAuthToken,
		twilio.EnvServiceSID: twiliotest.DefaultServiceSID,
		twilio.EnvBaseURL:    srv.URL,
	}
	p, err := twilio.NewFromEnvFunc(func(k string) string { return env[k] })
	if err != nil {
		panic(err)
	}
	fmt.Println(p.ServiceSID() == twiliotest.DefaultServiceSID, p.Capabilities().CheckByTo)
	// Output:
	// true true
}

// CheckSNA completes a silent network auth: the device opens the
// verification's SNA URL (here the emulator's), then a check without a
// code approves; before the device's step the check says "not yet".
func ExampleClient_CheckSNA() {
	srv := twiliotest.NewServer()
	defer srv.Close()
	c, err := twilio.New(twiliotest.DefaultServiceSID,
		twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	v, err := c.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSNA})
	if err != nil {
		panic(err)
	}
	_, err = c.CheckSNA(ctx, provider.CheckRequest{ID: v.ID})
	fmt.Println(errors.Is(err, provider.ErrNotYet))    // the device has not opened the URL yet
	res, err := pushdevice.OpenSNA(ctx, nil, v.SNAURL) // on the device, over mobile data
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Carrier)
	v, err = c.CheckSNA(ctx, provider.CheckRequest{ID: v.ID, Code: res.Token})
	fmt.Println(v.Status, err)
	// Output:
	// true
	// EMU
	// approved <nil>
}
