package servertest

import (
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/provider/providertest"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/storetest"
)

// Fixture is a fresh, empty store over a real server and how to move the
// server's time for it.
type Fixture struct {
	// Store is the store under test; it also implements store.Limiter.
	Store store.Store
	// Advance moves the server's time forward by d for Store's records
	// and counters (by shortening what is left of their lives: a server's
	// clock cannot be moved).
	Advance func(d time.Duration)
}

// NewFixture returns a fresh fixture whose store reads its time from now,
// released when t ends.
type NewFixture func(t *testing.T, now func() time.Time) Fixture

// testKey is the self-hosted provider's key in these tests.
var testKey = selfhosted.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")}

// Conformance runs, each on fresh fixtures, storetest's suites of the
// store contract and of store.Limiter, and the provider conformance suite
// (factors included) on the self-hosted provider with its state in the
// store. A store's time and the server's move together.
func Conformance(t *testing.T, newFixture NewFixture) {
	harness := func(t *testing.T) storetest.Harness {
		clk := fake.NewClock(time.Now())
		f := newFixture(t, clk.Now)
		return storetest.Harness{Store: f.Store, Advance: func(d time.Duration) {
			clk.Advance(d)
			f.Advance(d)
		}, Tolerance: time.Second}
	}
	t.Run("Store", func(t *testing.T) { storetest.Run(t, harness) })
	t.Run("Limiter", func(t *testing.T) { storetest.RunLimiter(t, harness) })
	t.Run("Selfhosted", func(t *testing.T) {
		providertest.Run(t, func(t *testing.T) providertest.Harness {
			clk := fake.NewClock(time.Now())
			f := newFixture(t, clk.Now)
			out := new(selfhosted.Outbox)
			p, err := selfhosted.New(f.Store, testKey, selfhosted.WithClock(clk.Now),
				selfhosted.WithSender(out, provider.ChannelSMS, provider.ChannelCall, provider.ChannelEmail))
			if err != nil {
				t.Fatal(err)
			}
			return &providertest.HarnessFuncs{
				Subject:      p,
				LastCodeFunc: out.LastCode,
				AdvanceFunc: func(d time.Duration) {
					clk.Advance(d)
					f.Advance(d)
				},
				ErrorTargetFunc: func() any { return new(*selfhosted.Error) },
				Declared:        providertest.Limits{Validity: 10 * time.Minute, MaxSends: 5, MaxChecks: 5, MinCodeLength: 4, MaxCodeLength: 10},
				NowFunc:         clk.Now,
				PushDeviceFunc:  p.Device,
				DeclaredFactors: providertest.FactorLimits{MaxWrong: 5, Window: 10 * time.Minute},
			}
		})
	})
}
