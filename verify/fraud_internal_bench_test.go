package verify

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/verifykit/verifykit/store"
)

// benchGuard returns a client with the recommended fraud guard on a
// memory store whose clock is *now.
func benchGuard(b *testing.B, now *time.Time) *Client {
	s, err := store.NewMemory(store.WithClock(func() time.Time { return *now }))
	if err != nil {
		b.Fatal(err)
	}
	g := RecommendedFraudGuard()
	g.Now = func() time.Time { return *now }
	c, err := New(nopP{}, WithPolicyStore(s), WithFraudGuard(g))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkFraudDecision measures one decision of the recommended fraud
// guard on the memory store, as Start makes it (the premium ranges, the
// velocity, conversion and sequence keys, one Take, the request's return
// to its pool), for sends that pass: distinct callers and numbers, with a
// clock that moves three hours per iteration.
func BenchmarkFraudDecision(b *testing.B) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := benchGuard(b, &now)
	ctx := context.Background()
	tos := make([]target, 1<<12)
	keys := make([]map[string]string, len(tos))
	for i := range tos {
		tos[i] = target{value: "+1" + strconv.Itoa(2000000000+i*104729)}
		keys[i] = map[string]string{"ip": "198.51." + strconv.Itoa(i>>8) + "." + strconv.Itoa(i&255)}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		j := i & (len(tos) - 1)
		i++
		now = now.Add(3 * time.Hour)
		r, err := c.startPolicy(ctx, tos[j], ChannelSMS, keys[j])
		if err != nil {
			b.Fatal(err)
		}
		_ = c.finish(ctx, r, true)
	}
}

// BenchmarkFraudRefuse measures decisions under attack: every send goes
// to one prefix from rotating addresses, and all but the first few are
// refused by the conversion signal. Decisions per second on one core is
// 1e9 / ns/op (go test -bench Fraud -cpu 1).
func BenchmarkFraudRefuse(b *testing.B) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := benchGuard(b, &now)
	ctx := context.Background()
	tos := make([]target, 1<<12)
	keys := make([]map[string]string, len(tos))
	for i := range tos {
		tos[i] = target{value: "+23480" + strconv.Itoa(31000000+i*131)}
		keys[i] = map[string]string{"ip": "203.0." + strconv.Itoa(i>>8) + "." + strconv.Itoa(i&255)}
	}
	b.ReportAllocs()
	refused := 0
	i := 0
	for b.Loop() {
		j := i & (len(tos) - 1)
		i++
		r, err := c.startPolicy(ctx, tos[j], ChannelSMS, keys[j])
		if _, ok := err.(*PolicyError); ok {
			refused++
		} else if err != nil {
			b.Fatal(err)
		}
		_ = c.finish(ctx, r, true)
	}
	if refused < i-10 {
		b.Fatalf("%d of %d refused", refused, i)
	}
}
