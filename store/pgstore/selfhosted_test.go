package pgstore_test

import (
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/provider/providertest"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store/pgstore"
)

var testKey = selfhosted.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")}

// TestSelfhostedConformance runs the provider conformance suite, its
// factors section included, on the self-hosted provider with its state in
// PostgreSQL.
func TestSelfhostedConformance(t *testing.T) {
	srv := sharedServer(t)
	pool := newPool(t, srv.URL())
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		clk := &clock{now: time.Now()}
		s, schema := newStore(t, pool, pgstore.WithClock(clk.Now))
		out := new(selfhosted.Outbox)
		p, err := selfhosted.New(s, testKey, selfhosted.WithClock(clk.Now),
			selfhosted.WithSender(out, provider.ChannelSMS, provider.ChannelCall, provider.ChannelEmail))
		if err != nil {
			t.Fatal(err)
		}
		return &providertest.HarnessFuncs{
			Subject:      p,
			LastCodeFunc: out.LastCode,
			AdvanceFunc: func(d time.Duration) {
				clk.Advance(d)
				advance(t, pool, schema, d)
			},
			ErrorTargetFunc: func() any { return new(*selfhosted.Error) },
			Declared:        providertest.Limits{Validity: 10 * time.Minute, MaxSends: 5, MaxChecks: 5, MinCodeLength: 4, MaxCodeLength: 10},
			NowFunc:         clk.Now,
			DeclaredFactors: providertest.FactorLimits{MaxWrong: 5, Window: 10 * time.Minute},
		}
	})
}
