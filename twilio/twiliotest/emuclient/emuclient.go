// Package emuclient drives a running twiliotest emulator from another
// process — a test in another language's harness, a second binary, a
// container — over its control endpoints: read the codes it "sent"
// (Messages, LastMessage, LastCode), inject faults (InjectFault,
// ClearFaults), move its clock (Advance). It writes none of the
// emulator's state itself; every call is one HTTP request to /_emulator/.
//
//	emu, err := emuclient.New("http://127.0.0.1:8080", emuclient.WithAuthToken(accountSID, authToken))
//	code, err := emu.LastCode(ctx, "+14155550100")
//	err = emu.InjectFault(ctx, twiliotest.Fault{Op: "check", Status: 503, Code: 20503})
//	now, err := emu.Advance(ctx, 10*time.Minute)
//
// The HTTP is shared with vonage/vonagetest/emuclient (internal/emuclient).
package emuclient

import (
	"github.com/verifykit/verifykit/internal/emuclient"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// Client calls a running emulator's control endpoints.
type Client = emuclient.Client[twiliotest.Message, twiliotest.Fault]

// ErrNoMessage is the error of LastMessage and LastCode when the outbox
// holds no message to the target.
var ErrNoMessage = emuclient.ErrNoMessage

// Error is a control endpoint's refusal, with its HTTP status.
type Error = emuclient.Error

// Option configures New.
type Option = emuclient.Option

// WithAuthToken authenticates with the Account SID and Auth Token the
// emulator accepts (twiliotest.DefaultAccountSID and DefaultAuthToken by
// default). Without it the requests carry no credentials, which only an
// emulator with open control endpoints (twiliotest.WithOpenControl)
// accepts.
func WithAuthToken(accountSID, authToken string) Option {
	return emuclient.WithBasicAuth(accountSID, authToken)
}

// WithHTTPClient sends the requests with hc instead of a client with a
// 10-second timeout.
var WithHTTPClient = emuclient.WithHTTPClient

// New returns a client of the emulator at baseURL, such as
// http://127.0.0.1:8080.
func New(baseURL string, opts ...Option) (*Client, error) {
	return emuclient.New[twiliotest.Message, twiliotest.Fault](baseURL, func(m twiliotest.Message) (string, string) { return m.To, m.Code }, opts...)
}
