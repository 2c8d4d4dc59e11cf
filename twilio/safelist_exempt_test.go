package twilio_test

import (
	"context"
	"errors"
	"testing"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// TestEmulatorSafeListExemptsMagicNumbers: the fake's magic numbers that
// stand for Fraud Guard and Geo Permissions refusals start normally once
// on the Safe List, and are refused again after their removal; the others
// (a landline, an outage) are not exempt.
func TestEmulatorSafeListExemptsMagicNumbers(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	c := emulatorClient(t, srv)
	ctx := context.Background()
	start := func(to string) error {
		_, err := c.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
		return err
	}
	for _, tc := range []struct {
		to     string
		refuse error
		exempt bool
	}{
		{fake.NumberBlocked, provider.ErrUndeliverable, true},
		{fake.NumberRateLimited, provider.ErrRateLimited, true},
		{fake.NumberLandline, provider.ErrUndeliverable, false},
		{fake.NumberUnavailable, provider.ErrUnavailable, false},
	} {
		if err := start(tc.to); !errors.Is(err, tc.refuse) {
			t.Fatalf("%s before the Safe List: %v, want %v", tc.to, err, tc.refuse)
		}
		if _, err := c.CreateSafeListNumber(ctx, tc.to); err != nil {
			t.Fatal(err)
		}
		err := start(tc.to)
		switch {
		case tc.exempt && err != nil:
			t.Errorf("%s on the Safe List: %v, want a start", tc.to, err)
		case !tc.exempt && !errors.Is(err, tc.refuse):
			t.Errorf("%s on the Safe List: %v, still want %v", tc.to, err, tc.refuse)
		}
		if tc.exempt {
			if _, ok := srv.LastCode(tc.to); !ok {
				t.Errorf("%s on the Safe List: no code in the outbox", tc.to)
			}
			if _, err := c.Cancel(ctx, lastVerification(t, srv, tc.to)); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.DeleteSafeListNumber(ctx, tc.to); err != nil {
			t.Fatal(err)
		}
		if err := start(tc.to); !errors.Is(err, tc.refuse) {
			t.Errorf("%s after leaving the Safe List: %v, want %v", tc.to, err, tc.refuse)
		}
	}
}

func lastVerification(t *testing.T, srv *twiliotest.Server, to string) string {
	t.Helper()
	m, ok := srv.LastMessage(to)
	if !ok {
		t.Fatalf("no message to %s", to)
	}
	return m.VerificationSID
}
