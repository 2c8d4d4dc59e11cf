package vonage_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider/providertest"
	"github.com/verifykit/verifykit/pushdevice"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// vonageLimits are what the emulator does with a one-step workflow and the
// default channel timeout: a request lives 180 seconds, allows 3 wrong
// codes, and takes codes of 4 to 10 characters. MaxSends is not used:
// Vonage has no re-send on start.
var vonageLimits = providertest.Limits{Validity: 180 * time.Second, MaxSends: 1, MaxChecks: vonagetest.DefaultMaxChecks, MinCodeLength: 4, MaxCodeLength: 10}

// newEmulatorHarness puts the emulator and the client (its JWTs) on one
// clock, so the harness's Advance is the only time that passes: a slow
// machine cannot cross the 180 s expiry between two steps of a rule.
func newEmulatorHarness(t *testing.T) providertest.Harness {
	clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := vonagetest.NewServer(vonagetest.WithClock(clock.Now))
	t.Cleanup(srv.Close)
	return &providertest.HarnessFuncs{
		Subject:         jwtClient(t, srv.URL, vonage.WithClock(clock.Now)),
		LastCodeFunc:    srv.LastCode,
		AdvanceFunc:     clock.Advance,
		ErrorTargetFunc: func() any { return new(*vonage.APIError) },
		Declared:        vonageLimits,
		// The device opens the silent-auth check_url and passes the code
		// on; Vonage has no codeless check, so no "not yet" outcome, and
		// the emulator simulates no carrier failure.
		OpenSNAFunc: func(ctx context.Context, url string) (string, error) {
			res, err := pushdevice.OpenSNA(ctx, &http.Client{}, url)
			return res.Token, err
		},
		SNATokenRequired: true,
	}
}

// TestConformance runs the provider conformance suite against the vonage
// client talking to the emulator. The rules for capabilities Vonage lacks
// (check by To, re-send on start, fetch, approve) are skipped by name.
func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, newEmulatorHarness)
}
