package verify

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

// nopP is a provider that is never called.
type nopP struct{ provider.Provider }

// BenchmarkPolicyLayer measures the policy layer alone, as Start runs it
// (the rules, the keys, one Take on the memory store, the request's
// return to its pool) for the sign-up policy of docs/policies.md: the cost it adds
// to a Start. A manual clock moves a minute per iteration so nothing is
// refused.
func BenchmarkPolicyLayer(b *testing.B) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := store.NewMemory(store.WithClock(func() time.Time { return now }))
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(nopP{}, WithPolicyStore(s),
		WithResendCooldown(30*time.Second, 5*time.Minute),
		WithSendBudget(PerDestination, 5, time.Hour),
		WithSendBudget(PerCaller("ip"), 20, time.Hour),
		WithSendBudget(Global, 1_000_000, time.Hour),
		WithSendBudget(PerDestination, 1, time.Hour, ChannelCall),
		WithDeniedPrefixes(HighCostPrefixes()...))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	tos := make([]target, 1<<12)
	keys := make([]map[string]string, len(tos))
	for i := range tos {
		tos[i] = target{value: "+1415555" + strconv.Itoa(1000+i)}
		keys[i] = map[string]string{"ip": "198.51.100." + strconv.Itoa(i)}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		j := i & (len(tos) - 1)
		i++
		now = now.Add(time.Minute)
		r, err := c.startPolicy(ctx, tos[j], ChannelSMS, keys[j])
		if err != nil {
			b.Fatal(err)
		}
		_ = c.finish(ctx, r, true)
	}
}
