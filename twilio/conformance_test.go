package twilio_test

import (
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/provider/providertest"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// emulatorHarness runs the twilio provider against a fresh emulator.
type emulatorHarness struct {
	srv *twiliotest.Server
	c   *twilio.Client
}

func (h *emulatorHarness) Provider() provider.Provider       { return h.c }
func (h *emulatorHarness) LastCode(to string) (string, bool) { return h.srv.LastCode(to) }
func (h *emulatorHarness) Advance(d time.Duration)           { h.srv.Advance(d) }
func (h *emulatorHarness) ErrorTarget() any                  { return new(*twilio.APIError) }

func newEmulatorHarness(t *testing.T) providertest.Harness {
	srv := twiliotest.NewServer()
	t.Cleanup(srv.Close)
	c, err := twilio.New(twiliotest.DefaultServiceSID,
		twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL), twilio.WithRetryWait(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return &emulatorHarness{srv: srv, c: c}
}

// TestConformance runs the provider conformance suite, the same one the
// fake passes, against the twilio provider talking to the emulator.
func TestConformance(t *testing.T) {
	providertest.Run(t, newEmulatorHarness)
}
