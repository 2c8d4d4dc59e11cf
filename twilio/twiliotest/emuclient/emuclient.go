// Package emuclient drives a running twiliotest emulator from another
// process — a test in another language's harness, a second binary, a
// container — over its control endpoints: read the codes it "sent", inject
// faults, move its clock. It writes none of the emulator's state itself;
// every call is one HTTP request to /_emulator/.
//
//	emu, err := emuclient.New("http://127.0.0.1:8080", emuclient.WithAuthToken(accountSID, authToken))
//	code, err := emu.LastCode(ctx, "+14155550100")
//	err = emu.InjectFault(ctx, twiliotest.Fault{Op: "check", Status: 503, Code: 20503})
//	now, err := emu.Advance(ctx, 10*time.Minute)
//
// The HTTP is shared with vonage/vonagetest/emuclient (internal/emuclient).
package emuclient

import (
	"context"
	"net/http"
	"time"

	"github.com/verifykit/verifykit/internal/emuclient"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// ErrNoMessage is the error of LastMessage and LastCode when the outbox
// holds no message to the target.
var ErrNoMessage = emuclient.ErrNoMessage

// Error is a control endpoint's refusal, with its HTTP status.
type Error = emuclient.Error

// Client calls a running emulator's control endpoints.
type Client struct {
	c *emuclient.Client[twiliotest.Message]
}

type config struct {
	hc   *http.Client
	auth func(*http.Request)
}

// Option configures New.
type Option func(*config)

// WithAuthToken authenticates with the Account SID and Auth Token the
// emulator accepts (twiliotest.DefaultAccountSID and DefaultAuthToken by
// default). Without it the requests carry no credentials, which only an
// emulator with open control endpoints (twiliotest.WithOpenControl)
// accepts.
func WithAuthToken(accountSID, authToken string) Option {
	return func(c *config) { c.auth = func(r *http.Request) { r.SetBasicAuth(accountSID, authToken) } }
}

// WithHTTPClient sends the requests with hc instead of a client with a
// 10-second timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.hc = hc } }

// New returns a client of the emulator at baseURL, such as
// http://127.0.0.1:8080.
func New(baseURL string, opts ...Option) (*Client, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	c, err := emuclient.New(baseURL, cfg.hc, cfg.auth, func(m twiliotest.Message) (string, string) { return m.To, m.Code })
	if err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// Messages returns the outbox, oldest first: every message, or only those
// to to when it is not empty.
func (c *Client) Messages(ctx context.Context, to string) ([]twiliotest.Message, error) {
	return c.c.Messages(ctx, to)
}

// LastMessage returns the newest message to to, or ErrNoMessage.
func (c *Client) LastMessage(ctx context.Context, to string) (twiliotest.Message, error) {
	return c.c.LastMessage(ctx, to)
}

// LastCode returns the code of the newest message to to, or ErrNoMessage.
func (c *Client) LastCode(ctx context.Context, to string) (string, error) {
	return c.c.LastCode(ctx, to)
}

// InjectFault schedules f, as twiliotest.Emulator.InjectFault does.
func (c *Client) InjectFault(ctx context.Context, f twiliotest.Fault) error {
	return c.c.InjectFault(ctx, f)
}

// ClearFaults removes every scheduled fault.
func (c *Client) ClearFaults(ctx context.Context) error { return c.c.ClearFaults(ctx) }

// Advance moves the emulator's clock forward by d (codes expire, rate
// limits and TOTP steps move) and returns its new time.
func (c *Client) Advance(ctx context.Context, d time.Duration) (time.Time, error) {
	return c.c.Advance(ctx, d)
}
