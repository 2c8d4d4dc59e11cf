package providertest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider/providertest"
)

// A provider's conformance test: a HarnessFuncs gives the suite a fresh
// provider, the means to read its codes, read and move its clock, and the
// limits it is configured with (its factor limits too, since the fake
// offers factors). In a real test this is all of it:
//
//	func TestConformance(t *testing.T) {
//		providertest.Run(t, newHarness)
//	}
//
// Here each rule runs through RunRule, and each factor rule through
// RunFactorRuleOn, to show what the suite reports.
func ExampleHarnessFuncs() {
	newHarness := func() providertest.Harness {
		clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		f := fake.MustNew(fake.WithClock(clock.Now))
		return &providertest.HarnessFuncs{
			Subject:         f,
			LastCodeFunc:    f.LastCode,
			AdvanceFunc:     clock.Advance,
			ErrorTargetFunc: func() any { return new(*fake.Error) },
			Declared: providertest.Limits{
				Validity: 10 * time.Minute, MaxSends: 5, MaxChecks: 5,
				MinCodeLength: 4, MaxCodeLength: 10,
			},
			NowFunc:         clock.Now,
			DeclaredFactors: providertest.FactorLimits{MaxWrong: 5, Window: 10 * time.Minute},
			PushDeviceFunc:  f.Device,
		}
	}
	passed, skipped := 0, 0
	for _, r := range providertest.Rules() {
		t := &reporter{}
		providertest.RunRule(t, r, newHarness())
		switch {
		case t.failed:
			fmt.Println("failed:", r.Name)
		case t.skip != "":
			skipped++
			fmt.Println("skipped:", t.skip)
		default:
			passed++
		}
	}
	fmt.Println(passed > 20, "rules passed,", skipped, "skipped")
	factors := 0
	for _, r := range providertest.FactorRules() {
		t := &reporter{}
		providertest.RunFactorRuleOn(t, r, newHarness())
		if t.failed || t.skip != "" {
			fmt.Println("factor rule not passed:", r.Name, t.skip)
			continue
		}
		factors++
	}
	fmt.Println(factors == len(providertest.FactorRules()), "factor rules passed")
	push := 0
	for _, r := range providertest.PushRules() {
		t := &reporter{}
		providertest.RunPushRuleOn(t, r, newHarness())
		if t.failed || t.skip != "" {
			fmt.Println("push rule not passed:", r.Name, t.skip)
			continue
		}
		push++
	}
	fmt.Println(push == len(providertest.PushRules()), "push rules passed")
	// Output:
	// skipped: rule RepeatStartConflicts needs ResendOnStart=false, which the provider does not declare
	// true rules passed, 1 skipped
	// true factor rules passed
	// true push rules passed
}

// The rules, and the capabilities they need.
func ExampleRules() {
	for _, r := range providertest.Rules() {
		if len(r.Needs) > 0 {
			fmt.Println(r.Name, r.Needs)
		}
	}
	// Output:
	// CheckByTo [CheckByTo]
	// RepeatStartReusesVerification [ResendOnStart]
	// RepeatStartConflicts [ResendOnStart=false]
	// TooManySends [ResendOnStart]
	// FetchAfterTooManyChecks [Fetcher]
	// ApproveWithoutCode [Approver]
	// CanceledIsGone [Canceler]
	// CheckWithoutStartIsNotFound [CheckByTo]
	// FetchPending [Fetcher]
	// EmailChannel [channel email]
}

// reporter is a testing.TB that records instead of failing, for the
// example; a real test passes its *testing.T.
type reporter struct {
	testing.TB
	failed bool
	skip   string
}

func (r *reporter) Helper()                  {}
func (r *reporter) Context() context.Context { return context.Background() }
func (r *reporter) Errorf(string, ...any)    { r.failed = true }
func (r *reporter) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
}
