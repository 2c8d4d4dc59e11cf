// Package emuclient drives a running vonagetest emulator from another
// process over its control endpoints: read the codes it "sent", inject
// faults, move its clock. Every call is one HTTP request to /_emulator/.
//
//	emu, err := emuclient.New("http://127.0.0.1:8081", emuclient.WithAPIKey(key, secret))
//	code, err := emu.LastCode(ctx, "+447700900001")
//	err = emu.InjectFault(ctx, vonagetest.Fault{Op: vonagetest.OpCheck, Status: 503})
//	now, err := emu.Advance(ctx, 5*time.Minute)
//
// The HTTP is shared with twilio/twiliotest/emuclient (internal/emuclient).
package emuclient

import (
	"context"
	"net/http"
	"time"

	"github.com/verifykit/verifykit/internal/emuclient"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// ErrNoMessage is the error of LastMessage and LastCode when the outbox
// holds no message to the target.
var ErrNoMessage = emuclient.ErrNoMessage

// Error is a control endpoint's refusal, with its HTTP status.
type Error = emuclient.Error

// Client calls a running emulator's control endpoints.
type Client struct {
	c *emuclient.Client[vonagetest.Message]
}

type config struct {
	hc   *http.Client
	auth func(*http.Request)
}

// Option configures New.
type Option func(*config)

// WithAPIKey authenticates with an API key and secret the emulator accepts
// (vonagetest.DefaultAPIKey and DefaultAPISecret by default).
func WithAPIKey(key, secret string) Option {
	return func(c *config) { c.auth = func(r *http.Request) { r.SetBasicAuth(key, secret) } }
}

// WithJWT authenticates with a JWT signed for an application the emulator
// accepts (sent as a Bearer token).
func WithJWT(token string) Option {
	return func(c *config) { c.auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) } }
}

// WithHTTPClient sends the requests with hc instead of a client with a
// 10-second timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.hc = hc } }

// New returns a client of the emulator at baseURL. Without WithAPIKey or
// WithJWT the requests carry no credentials, which only an emulator with
// open control endpoints (vonagetest.WithOpenControl) accepts.
func New(baseURL string, opts ...Option) (*Client, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	c, err := emuclient.New(baseURL, cfg.hc, cfg.auth, func(m vonagetest.Message) (string, string) { return m.To, m.Code })
	if err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// Messages returns the outbox, oldest first: every message, or only those
// to to when it is not empty.
func (c *Client) Messages(ctx context.Context, to string) ([]vonagetest.Message, error) {
	return c.c.Messages(ctx, to)
}

// LastMessage returns the newest message to to, or ErrNoMessage.
func (c *Client) LastMessage(ctx context.Context, to string) (vonagetest.Message, error) {
	return c.c.LastMessage(ctx, to)
}

// LastCode returns the code of the newest message to to, or ErrNoMessage;
// a codeless step (silent auth) has none.
func (c *Client) LastCode(ctx context.Context, to string) (string, error) {
	return c.c.LastCode(ctx, to)
}

// InjectFault schedules f, as vonagetest.Emulator.InjectFault does.
func (c *Client) InjectFault(ctx context.Context, f vonagetest.Fault) error {
	return c.c.InjectFault(ctx, f)
}

// ClearFaults removes every injected fault.
func (c *Client) ClearFaults(ctx context.Context) error { return c.c.ClearFaults(ctx) }

// Advance moves the emulator's clock forward by d and returns its new
// time.
func (c *Client) Advance(ctx context.Context, d time.Duration) (time.Time, error) {
	return c.c.Advance(ctx, d)
}
