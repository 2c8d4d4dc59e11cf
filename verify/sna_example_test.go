package verify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/pushdevice"
	"github.com/verifykit/verifykit/verify"
)

// Silent network auth: Start over ChannelSNA returns the URL the phone
// opens over its mobile data; the backend then checks without a code.
// "Not yet" is a retry, not a wrong code; after a failure, FallBack says
// whether to start again over SMS.
func ExampleClient_CheckSNA() {
	// The fake serves its SNA URLs from a test server.
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := fake.MustNew(fake.WithSNABaseURL(srv.URL))
	mux.Handle("/", f.SNAHandler())
	c, err := verify.New(f)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	// The backend starts, and hands v.SNAURL to the app on the phone.
	v, err := c.Start(ctx, "+14155552671", verify.ChannelSNA, nil)
	if err != nil {
		panic(err)
	}
	_, err = c.CheckSNA(ctx, v.ID, "", nil)
	fmt.Println("before the phone:", errors.Is(err, verify.ErrNotYet))

	// The phone (here the device simulator) opens the URL over mobile
	// data and passes res.Token on.
	phone, err := pushdevice.New(f.Device())
	if err != nil {
		panic(err)
	}
	res, err := phone.OpenSNA(ctx, srv.Client(), v.SNAURL)
	if err != nil {
		panic(err)
	}
	v, err = c.CheckSNA(ctx, v.ID, res.Token, nil)
	if verify.FallBack(err) {
		// The silent attempt failed, the number is fine: send an SMS.
		v, err = c.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
	}
	fmt.Println("after:", v.Status, err)
	// Output:
	// before the phone: true
	// after: approved <nil>
}
