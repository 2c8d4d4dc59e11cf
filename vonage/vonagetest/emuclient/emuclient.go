// Package emuclient drives a running vonagetest emulator from another
// process over its control endpoints: read the codes it "sent"
// (Messages, LastMessage, LastCode), inject faults (InjectFault,
// ClearFaults), move its clock (Advance). Every call is one HTTP request
// to /_emulator/.
//
//	emu, err := emuclient.New("http://127.0.0.1:8081", emuclient.WithAPIKey(key, secret))
//	code, err := emu.LastCode(ctx, "+447700900001")
//	err = emu.InjectFault(ctx, vonagetest.Fault{Op: vonagetest.OpCheck, Status: 503})
//	now, err := emu.Advance(ctx, 5*time.Minute)
//
// The HTTP is shared with twilio/twiliotest/emuclient (internal/emuclient).
package emuclient

import (
	"github.com/verifykit/verifykit/internal/emuclient"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// Client calls a running emulator's control endpoints.
type Client = emuclient.Client[vonagetest.Message, vonagetest.Fault]

// ErrNoMessage is the error of LastMessage and LastCode when the outbox
// holds no message to the target.
var ErrNoMessage = emuclient.ErrNoMessage

// Error is a control endpoint's refusal, with its HTTP status.
type Error = emuclient.Error

// Option configures New.
type Option = emuclient.Option

// WithAPIKey authenticates with the API key and secret the emulator accepts
// (vonagetest.DefaultAPIKey and DefaultAPISecret).
func WithAPIKey(key, secret string) Option { return emuclient.WithBasicAuth(key, secret) }

// WithHTTPClient sends the requests with hc instead of a client with a
// 10-second timeout.
var WithHTTPClient = emuclient.WithHTTPClient

// New returns a client of the emulator at baseURL. Without WithAPIKey the
// requests carry no credentials, which only an emulator with open control
// endpoints (vonagetest.WithOpenControl) accepts.
func New(baseURL string, opts ...Option) (*Client, error) {
	return emuclient.New[vonagetest.Message, vonagetest.Fault](baseURL, func(m vonagetest.Message) (string, string) { return m.To, m.Code }, opts...)
}
