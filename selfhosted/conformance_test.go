package selfhosted_test

import (
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/provider/providertest"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
)

// clock is a manual clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var testKey = selfhosted.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")}

// newProvider returns a provider over a memory store with an outbox and a
// manual clock.
func newProvider(t testing.TB, opts ...selfhosted.Option) (*selfhosted.Provider, *selfhosted.Outbox, *clock, *store.Memory) {
	t.Helper()
	c := newClock()
	m, err := store.NewMemory(store.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	out := new(selfhosted.Outbox)
	opts = append([]selfhosted.Option{
		selfhosted.WithClock(c.Now),
		selfhosted.WithSender(out, provider.ChannelSMS, provider.ChannelCall, provider.ChannelEmail, provider.ChannelWhatsApp),
	}, opts...)
	p, err := selfhosted.New(m, testKey, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p, out, c, m
}

func TestConformanceMemory(t *testing.T) {
	t.Parallel()
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		p, out, c, _ := newProvider(t)
		return &providertest.HarnessFuncs{
			Subject:         p,
			LastCodeFunc:    out.LastCode,
			AdvanceFunc:     c.Advance,
			ErrorTargetFunc: func() any { return new(*selfhosted.Error) },
			Declared:        providertest.Limits{Validity: 10 * time.Minute, MaxSends: 5, MaxChecks: 5, MinCodeLength: 4, MaxCodeLength: 10},
			NowFunc:         c.Now,
			PushDeviceFunc:  p.Device,
			DeclaredFactors: providertest.FactorLimits{MaxWrong: 5, Window: 10 * time.Minute,
				TOTP: provider.TOTPConfig{Digits: 6, Period: 30 * time.Second, Skew: 1, Algorithm: provider.AlgSHA1}},
		}
	})
}
