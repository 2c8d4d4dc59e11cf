package verify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
)

// A daily spend budget of 1.00 for all countries: three SMS at 0.30 pass
// (the alerts at 50 and 80 percent fire on the way), the fourth is
// refused until midnight UTC.
func ExampleSpendBudget() {
	now := time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	prices, err := verify.ParsePrices(strings.NewReader("cc,sms,call,whatsapp\n*,0.30,1.00,0.05\n"))
	if err != nil {
		panic(err)
	}
	counters, err := store.NewMemory(store.WithClock(clock)) // or Redis, shared by replicas
	if err != nil {
		panic(err)
	}
	c, err := verify.New(fake.MustNew(),
		verify.WithPolicyStore(counters),
		verify.WithPrices(prices),
		verify.WithFraudGuard(verify.FraudGuard{
			Spend: []verify.SpendBudget{{Scope: verify.Global, Amount: 1, Period: verify.Daily}},
			OnSpend: func(_ context.Context, a verify.SpendAlert) {
				fmt.Printf("alert: %d%% of %g per %v, spent %.2f\n", a.Threshold, a.Budget.Amount, a.Budget.Period, a.Spent)
			},
			Now: clock,
		}))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	cost, _ := c.Cost("+14155550100", verify.ChannelSMS)
	fmt.Printf("one SMS costs %.2f\n", cost)
	for _, to := range []string{"+14155550100", "+14155550101", "+14155550102", "+14155550103"} {
		_, err := c.Start(ctx, to, verify.ChannelSMS, nil)
		var pe *verify.PolicyError
		if errors.As(err, &pe) {
			fmt.Println(pe.Policy, pe.Scope, pe.Amount, pe.Wait)
			continue
		}
		fmt.Println("sent", err)
	}
	// Output:
	// one SMS costs 0.30
	// sent <nil>
	// alert: 50% of 1 per day, spent 0.60
	// sent <nil>
	// alert: 80% of 1 per day, spent 0.90
	// sent <nil>
	// alert: 100% of 1 per day, spent 0.00
	// spend_budget global 1 6h0m0s
}
