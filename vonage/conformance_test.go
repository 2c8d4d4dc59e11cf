package vonage_test

import (
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider/providertest"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// vonageLimits are what the emulator does with a one-step workflow and the
// default channel timeout: a request lives 180 seconds, allows 3 wrong
// codes, and takes codes of 4 to 10 characters. MaxSends is not used:
// Vonage has no re-send on start.
var vonageLimits = providertest.Limits{Validity: 180 * time.Second, MaxSends: 1, MaxChecks: vonagetest.DefaultMaxChecks, MinCodeLength: 4, MaxCodeLength: 10}

func newEmulatorHarness(t *testing.T) providertest.Harness {
	srv := vonagetest.NewServer()
	t.Cleanup(srv.Close)
	return &providertest.HarnessFuncs{
		Subject:         jwtClient(t, srv.URL),
		LastCodeFunc:    srv.LastCode,
		AdvanceFunc:     srv.Advance,
		ErrorTargetFunc: func() any { return new(*vonage.APIError) },
		Declared:        vonageLimits,
	}
}

// TestConformance runs the provider conformance suite against the vonage
// client talking to the emulator. The rules for capabilities Vonage lacks
// (check by To, re-send on start, fetch, approve) are skipped by name.
func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, newEmulatorHarness)
}
