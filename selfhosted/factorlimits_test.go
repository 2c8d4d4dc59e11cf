package selfhosted_test

import (
	"errors"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
)

// TestWithFactorLimits checks that WithFactorLimits sets how many wrong
// codes a factor takes, and for how long it then refuses every code.
func TestWithFactorLimits(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, _, c, _ := newProvider(t, selfhosted.WithFactorLimits(2, 3*time.Minute))
	e, err := p.EnrollFactor(ctx, provider.EnrollRequest{Identity: "user-0001-limits", Type: provider.FactorTOTP, FriendlyName: "phone",
		Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}) // with the fixed clock, 000000 is a wrong code
	if err != nil {
		t.Fatal(err)
	}
	confirm := func() error {
		_, err := p.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: "user-0001-limits", FactorID: e.Factor.ID, Code: "000000"})
		return err
	}
	for i := range 2 {
		if err := confirm(); err != nil {
			t.Fatalf("wrong code %d: %v", i+1, err)
		}
	}
	if err := confirm(); !errors.Is(err, provider.ErrTooManyChecks) {
		t.Fatalf("third code: %v, want ErrTooManyChecks", err)
	}
	c.Advance(3 * time.Minute)
	if err := confirm(); err != nil {
		t.Fatalf("a code after the window: %v", err)
	}
	m, err := store.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := selfhosted.New(m, testKey, selfhosted.WithSender(new(selfhosted.Outbox), provider.ChannelSMS), selfhosted.WithFactorLimits(0, time.Minute)); err == nil {
		t.Error("WithFactorLimits(0, 1m): no error")
	}
}
