package verify_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
)

// testPrices: an SMS to +44 costs 0.30, to +33 0.25, anywhere else 0.10;
// calls cost 1.00; WhatsApp is free.
func testPrices(t *testing.T) *verify.PriceTable {
	t.Helper()
	p, err := verify.ParsePrices(strings.NewReader("cc,sms,call,whatsapp\n+44,0.30,1,0\n+33,0.25,1,0\n*,0.10,1,0\n"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// spendEnv is replicas sharing one memory store, each a client with only
// the given spend budgets of the fraud guard, over one fake, on one clock.
type spendEnv struct {
	clock    *fake.Clock
	f        *fake.Fake
	replicas []*verify.Client

	mu     sync.Mutex
	alerts []verify.SpendAlert
}

func newSpendEnv(t *testing.T, replicas int, at time.Time, budgets []verify.SpendBudget, edit func(*verify.FraudGuard)) *spendEnv {
	t.Helper()
	e := &spendEnv{clock: fake.NewClock(at)}
	s, err := store.NewMemory(store.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	e.f = fake.MustNew(fake.WithClock(e.clock.Now), fake.WithFixedCode("123456"))
	for range replicas {
		g := verify.FraudGuard{Spend: budgets, Now: e.clock.Now}
		g.OnSpend = func(_ context.Context, a verify.SpendAlert) {
			e.mu.Lock()
			e.alerts = append(e.alerts, a)
			e.mu.Unlock()
		}
		if edit != nil {
			edit(&g)
		}
		c, err := verify.New(e.f, verify.WithPolicyStore(s), verify.WithFraudGuard(g), verify.WithPrices(testPrices(t)))
		if err != nil {
			t.Fatal(err)
		}
		e.replicas = append(e.replicas, c)
	}
	return e
}

func (e *spendEnv) start(i int, to string, ch verify.Channel) error {
	_, err := e.replicas[i%len(e.replicas)].Start(context.Background(), to, ch, nil)
	return err
}

// TestSpendBudgetRefuses: a daily global budget of 1.00 takes three SMS
// at 0.30, refuses the fourth until midnight UTC as a PolicyError naming
// the budget, still takes a 0.10 one that fits, and starts again the next
// day; WhatsApp (free here) is never counted.
func TestSpendBudgetRefuses(t *testing.T) {
	at := time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)
	e := newSpendEnv(t, 1, at, []verify.SpendBudget{{Scope: verify.Global, Amount: 1, Period: verify.Daily}}, nil)
	for i, to := range []string{"+447911123401", "+447911123402", "+447911123403"} {
		if err := e.start(0, to, verify.ChannelSMS); err != nil {
			t.Fatalf("send %d: %v", i+1, err)
		}
	}
	err := e.start(0, "+447911123404", verify.ChannelSMS)
	want := &verify.PolicyError{Policy: verify.PolicySpendBudget, Scope: verify.Global, Amount: 1, Window: 24 * time.Hour, Wait: 6 * time.Hour}
	if diff := cmp.Diff(want, policyOf(t, err)); diff != "" {
		t.Fatalf("4th send at 0.30 past 0.90 of 1.00 (-want +got):\n%s", diff)
	}
	if ra, ok := verify.RetryAfter(err); !errors.Is(err, verify.ErrRateLimited) || !ok || ra != 6*time.Hour {
		t.Errorf("refusal %v: not ErrRateLimited with RetryAfter 6h", err)
	}
	if got := policyOf(t, err).Error(); got != "refused by policy spend_budget per global (1 per day); retry after 6h0m0s" {
		t.Errorf("Error() = %q", got)
	}
	if err := e.start(0, "+12025550123", verify.ChannelSMS); err != nil {
		t.Errorf("a 0.10 send that fits: %v", err)
	}
	if err := e.start(0, "+447911123405", verify.ChannelWhatsApp); err != nil {
		t.Errorf("a free send: %v", err)
	}
	e.clock.Advance(6 * time.Hour)
	for i, to := range []string{"+447911123404", "+447911123406", "+447911123407"} {
		if err := e.start(0, to, verify.ChannelSMS); err != nil {
			t.Fatalf("next day, send %d: %v", i+1, err)
		}
	}
}

// TestSpendBudgetPerCountry: a country's budget running out refuses that
// country only, naming it.
func TestSpendBudgetPerCountry(t *testing.T) {
	e := newSpendEnv(t, 1, time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC),
		[]verify.SpendBudget{{Scope: verify.PerCountry, Amount: 0.5, Period: verify.Hourly}}, nil)
	if err := e.start(0, "+447911123401", verify.ChannelSMS); err != nil {
		t.Fatal(err)
	}
	err := e.start(0, "+447911123402", verify.ChannelSMS)
	want := &verify.PolicyError{Policy: verify.PolicySpendBudget, Scope: verify.PerCountry, Key: "+44", Amount: 0.5, Window: time.Hour, Wait: 30 * time.Minute}
	if diff := cmp.Diff(want, policyOf(t, err)); diff != "" {
		t.Fatalf("second +44 send (-want +got):\n%s", diff)
	}
	if err := e.start(0, "+33612345678", verify.ChannelSMS); err != nil {
		t.Errorf("+33, with its own budget: %v", err)
	}
}

// TestSpendBudgetCalendarMonth: a monthly budget's window is the UTC
// calendar month: exhausted on the 31st, it waits until the 1st at 00:00
// UTC, not a month from its first send.
func TestSpendBudgetCalendarMonth(t *testing.T) {
	e := newSpendEnv(t, 1, time.Date(2026, 1, 20, 12, 0, 0, 0, time.UTC),
		[]verify.SpendBudget{{Scope: verify.Global, Amount: 2, Period: verify.Monthly}}, nil)
	for range 2 {
		if err := e.start(0, "+12025550100", verify.ChannelCall); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(11 * 24 * time.Hour) // to Jan 31 12:00
	}
	e.clock.Advance(-11 * 24 * time.Hour)
	err := e.start(0, "+12025550101", verify.ChannelCall)
	if pe := policyOf(t, err); pe.Policy != verify.PolicySpendBudget || pe.Wait != 12*time.Hour || pe.Window != 31*24*time.Hour {
		t.Fatalf("on Jan 31 12:00: %+v, want the monthly budget until Feb 1 00:00 UTC", pe)
	}
	e.clock.Advance(12 * time.Hour)
	if err := e.start(0, "+12025550101", verify.ChannelCall); err != nil {
		t.Errorf("on Feb 1: %v", err)
	}
}

// TestSpendAlertsOncePerWindow: across three replicas sharing the store,
// each threshold is reported once per window, by the replica whose send
// reached it, with what was spent, even when a failed send gives its cost
// back and a later one reaches the threshold again; 100 % comes with the
// first refusal. The next window reports again.
func TestSpendAlertsOncePerWindow(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	e := newSpendEnv(t, 3, at, []verify.SpendBudget{{Scope: verify.Global, Amount: 1, Period: verify.Hourly}}, nil)
	// 0.10 per send (+1): 50 % at the 5th, 80 % at the 8th.
	to := func(i int) string {
		return "+1202555" + string(rune('0'+i/1000%10)) + string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
	}
	for i := range 5 {
		if err := e.start(i, to(i), verify.ChannelSMS); err != nil {
			t.Fatal(err)
		}
	}
	// A send that fails before sending gives its 0.10 back: 0.50 -> 0.40
	// for a moment, and the next send reaches 50 % again.
	e.f.FailNext(1, provider.ErrUnavailable)
	if err := e.start(5, to(5), verify.ChannelSMS); !errors.Is(err, verify.ErrUnavailable) {
		t.Fatalf("failed send: %v", err)
	}
	for i := 6; i < 16; i++ {
		err := e.start(i, to(i), verify.ChannelSMS)
		if i < 11 && err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if i >= 11 && policyOf(t, err).Policy != verify.PolicySpendBudget {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	e.clock.Advance(time.Hour)
	for i := 20; i < 25; i++ {
		if err := e.start(i, to(i), verify.ChannelSMS); err != nil {
			t.Fatal(err)
		}
	}
	b := verify.SpendBudget{Scope: verify.Global, Amount: 1, Period: verify.Hourly}
	w1, w2 := at.Add(time.Hour), at.Add(2*time.Hour)
	want := []verify.SpendAlert{
		{Budget: b, Start: at, End: w1, Threshold: 50, Spent: 0.5},
		{Budget: b, Start: at, End: w1, Threshold: 80, Spent: 0.8},
		{Budget: b, Start: at, End: w1, Threshold: 100, Spent: 1},
		{Budget: b, Start: w1, End: w2, Threshold: 50, Spent: 0.5},
	}
	if diff := cmp.Diff(want, e.alerts); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
}

// TestSpendAlertOnRefusal: a budget that no send fills exactly reports
// 100 % with its first refusal, once.
func TestSpendAlertOnRefusal(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	e := newSpendEnv(t, 2, at, []verify.SpendBudget{{Scope: verify.PerCountry, Amount: 0.5, Period: verify.Daily}}, nil)
	for i := range 4 {
		err := e.start(i, "+44791112340"+string(rune('0'+i)), verify.ChannelSMS)
		if (err == nil) != (i == 0) {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	b := verify.SpendBudget{Scope: verify.PerCountry, Amount: 0.5, Period: verify.Daily}
	want := []verify.SpendAlert{
		{Budget: b, Key: "+44", Start: at.Truncate(24 * time.Hour), End: at.Truncate(24 * time.Hour).Add(24 * time.Hour), Threshold: 50, Spent: 0.3},
		{Budget: b, Key: "+44", Start: at.Truncate(24 * time.Hour), End: at.Truncate(24 * time.Hour).Add(24 * time.Hour), Threshold: 100},
	}
	if diff := cmp.Diff(want, e.alerts); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
}

// TestSpendBudgetRecordOnly: under RecordOnly a send over the budget is
// reported as a recorded decision and sent.
func TestSpendBudgetRecordOnly(t *testing.T) {
	var ds []verify.FraudDecision
	e := newSpendEnv(t, 1, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		[]verify.SpendBudget{{Scope: verify.Global, Amount: 0.5, Period: verify.Daily}}, func(g *verify.FraudGuard) {
			g.RecordOnly = true
			g.OnDecision = func(_ context.Context, d verify.FraudDecision) { ds = append(ds, d) }
		})
	for i := range 3 {
		if err := e.start(0, "+44791112340"+string(rune('0'+i)), verify.ChannelSMS); err != nil {
			t.Fatalf("send %d under RecordOnly: %v", i, err)
		}
	}
	if len(ds) != 3 || ds[0].Action != verify.FraudAllow || ds[1].Action != verify.FraudRecord || ds[1].Signal != verify.PolicySpendBudget || ds[1].Amount != 0.5 {
		t.Errorf("decisions = %+v, want allow then record by the spend budget", ds)
	}
}

// TestSpendBudgetGivesBackFailedSends: a Start that fails without
// sending costs nothing, so its cost goes back to the budget.
func TestSpendBudgetGivesBackFailedSends(t *testing.T) {
	e := newSpendEnv(t, 1, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		[]verify.SpendBudget{{Scope: verify.Global, Amount: 0.6, Period: verify.Daily}}, nil)
	for range 5 {
		e.f.FailNext(1, provider.ErrUnavailable)
		if err := e.start(0, "+447911123401", verify.ChannelSMS); !errors.Is(err, verify.ErrUnavailable) {
			t.Fatalf("failed send: %v", err)
		}
	}
	for i := range 2 {
		if err := e.start(0, "+44791112341"+string(rune('0'+i)), verify.ChannelSMS); err != nil {
			t.Fatalf("send %d after failed ones: %v", i, err)
		}
	}
}

func TestSpendBudgetOptionErrors(t *testing.T) {
	for name, b := range map[string][]verify.SpendBudget{
		"per destination": {{Scope: verify.PerDestination, Amount: 1, Period: verify.Daily}},
		"no amount":       {{Scope: verify.Global, Period: verify.Daily}},
		"tiny amount":     {{Scope: verify.Global, Amount: 1e-9, Period: verify.Daily}},
		"huge amount":     {{Scope: verify.Global, Amount: 2e9, Period: verify.Daily}},
		"no period":       {{Scope: verify.Global, Amount: 1}},
		"twice":           {{Scope: verify.Global, Amount: 1, Period: verify.Daily}, {Scope: verify.Global, Amount: 2, Period: verify.Daily}},
	} {
		if _, err := verify.New(fake.MustNew(), verify.WithFraudGuard(verify.FraudGuard{Spend: b})); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
