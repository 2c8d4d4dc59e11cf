package twilio_test

import (
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider/providertest"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// twilioLimits are Twilio Verify's defaults, which the emulator follows:
// codes valid for 10 minutes, 5 sends and 5 wrong codes per verification,
// codes of 4 to 10 characters.
var twilioLimits = providertest.Limits{Validity: 10 * time.Minute, MaxSends: 5, MaxChecks: 5, MinCodeLength: 4, MaxCodeLength: 10}

func newEmulatorHarness(t *testing.T) providertest.Harness {
	srv := twiliotest.NewServer()
	t.Cleanup(srv.Close)
	c, err := twilio.New(twiliotest.DefaultServiceSID,
		twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL), twilio.WithRetryWait(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return &providertest.HarnessFuncs{
		Subject:         c,
		LastCodeFunc:    srv.LastCode,
		AdvanceFunc:     srv.Advance,
		ErrorTargetFunc: func() any { return new(*twilio.APIError) },
		Declared:        twilioLimits,
	}
}

// TestConformance runs the provider conformance suite, the same one the
// fake passes, against the twilio provider talking to the emulator.
func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, newEmulatorHarness)
}
