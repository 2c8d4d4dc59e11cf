package verify_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
)

// BenchmarkPolicyStart measures Start (and the Check that ends each
// verification, so the fake stays small) without policies and with the
// sign-up policy of docs/policies.md on the memory store: the difference is the cost
// of the policy layer. A manual clock moves a minute per iteration so that
// no request is refused: the benchmark measures the path that sends.
func BenchmarkPolicyStart(b *testing.B) {
	signup := func(s *store.Memory) []verify.Option {
		return []verify.Option{
			verify.WithPolicyStore(s),
			verify.WithResendCooldown(30*time.Second, 5*time.Minute),
			verify.WithSendBudget(verify.PerDestination, 5, time.Hour),
			verify.WithSendBudget(verify.PerCaller("ip"), 20, time.Hour),
			verify.WithSendBudget(verify.Global, 1000, time.Hour),
			verify.WithSendBudget(verify.PerDestination, 1, time.Hour, verify.ChannelCall),
			verify.WithDeniedPrefixes(verify.HighCostPrefixes()...),
			verify.WithCheckBudget(verify.PerDestination, 10, time.Hour),
			verify.WithCheckBudget(verify.PerCaller("ip"), 30, time.Hour),
		}
	}
	for _, bc := range []struct {
		name string
		opts func(*store.Memory) []verify.Option
	}{
		{"none", func(*store.Memory) []verify.Option { return nil }},
		{"signup", signup},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			s, err := store.NewMemory(store.WithClock(clock.Now))
			if err != nil {
				b.Fatal(err)
			}
			f := fake.MustNew(fake.WithClock(clock.Now), fake.WithFixedCode("123456"), fake.WithOutboxLimit(64))
			c, err := verify.New(f, bc.opts(s)...)
			if err != nil {
				b.Fatal(err)
			}
			tos := make([]string, 1<<12)
			opts := make([]*verify.StartOptions, len(tos))
			copts := make([]*verify.CheckOptions, len(tos))
			for i := range tos {
				tos[i] = "+1415555" + strconv.Itoa(1000+i)
				keys := map[string]string{"ip": "198.51.100." + strconv.Itoa(i)}
				opts[i] = &verify.StartOptions{CallerKeys: keys}
				copts[i] = &verify.CheckOptions{CallerKeys: keys}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				j := i & (len(tos) - 1)
				i++
				clock.Advance(time.Minute)
				if _, err := c.Start(ctx, tos[j], verify.ChannelSMS, opts[j]); err != nil {
					b.Fatal(err)
				}
				if v, err := c.Check(ctx, tos[j], "123456", copts[j]); err != nil || !v.Approved() {
					b.Fatal(v, err)
				}
			}
		})
	}
}
