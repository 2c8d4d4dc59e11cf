package twiliotest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// A test against the emulator: the twilio client talks HTTP to it, the
// test reads the code it "sent" and moves its clock.
func ExampleNewServer() {
	srv := twiliotest.NewServer(twiliotest.WithFixedCode("123456"))
	defer srv.Close()
	c, _ := twilio.New(twiliotest.DefaultServiceSID,
		twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL))
	ctx := context.Background()

	v, _ := c.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	code, _ := srv.LastCode("+14155552671")
	fmt.Println(v.ID[:2], v.Status, code)

	srv.Advance(10 * time.Minute) // the code expires
	_, err := c.Check(ctx, provider.CheckRequest{To: "+14155552671", Code: code})
	fmt.Println(errors.Is(err, provider.ErrNotFound), twilio.CodeOf(err))
	// Output:
	// VE pending 123456
	// true 20404
}

// InjectFault makes the next matching request fail with a Twilio error.
func ExampleEmulator_InjectFault() {
	srv := twiliotest.NewServer()
	defer srv.Close()
	c, _ := twilio.New(twiliotest.DefaultServiceSID,
		twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL))

	srv.InjectFault(twiliotest.Fault{Op: "start", Status: 429, Code: 60203})
	_, err := c.Start(context.Background(), provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	fmt.Println(errors.Is(err, provider.ErrTooManySends), twilio.CodeOf(err))
	// Output:
	// true 60203
}

// Client is an *http.Client for the server, like httptest.Server's: hand
// it to twilio.WithHTTPClient, or read the emulator's outbox with it.
func ExampleServer_Client() {
	srv := twiliotest.NewServer(twiliotest.WithFixedCode("123456"))
	defer srv.Close()
	c, _ := twilio.New(twiliotest.DefaultServiceSID,
		twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL), twilio.WithHTTPClient(srv.Client()))
	ctx := context.Background()
	if _, err := c.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS}); err != nil {
		panic(err)
	}

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/_emulator/messages", nil)
	req.SetBasicAuth(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"))
	// Output:
	// 200 application/json
}
