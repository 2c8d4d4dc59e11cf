package verify_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
)

// counting counts the calls that reach the provider.
type counting struct {
	provider.Provider
	starts, checks atomic.Int64
}

func (c *counting) Start(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
	c.starts.Add(1)
	return c.Provider.Start(ctx, req)
}

func (c *counting) Capabilities() provider.Capabilities {
	return provider.CapabilitiesOf(c.Provider)
}

func (c *counting) Check(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	c.checks.Add(1)
	return c.Provider.Check(ctx, req)
}

// policyEnv is a client with policies over a counted fake. Create it inside
// a synctest bubble so that the fake and the policies share its clock.
type policyEnv struct {
	f *fake.Fake
	p *counting
	c *verify.Client
}

func newPolicyEnv(t *testing.T, opts ...verify.Option) *policyEnv {
	t.Helper()
	f := fake.MustNew(fake.WithFixedCode("123456"), fake.WithMaxSends(1000), fake.WithMaxChecks(1000))
	p := &counting{Provider: f}
	return &policyEnv{f: f, p: p, c: newClient(t, p, opts...)}
}

// outcome is a compact description of a call's result for table tests:
// "ok", or the error's code with the policy, scope and wait.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	s := string(verify.CodeOf(err))
	var pe *verify.PolicyError
	if errors.As(err, &pe) {
		s += " " + string(pe.Policy)
		if pe.Scope != "" {
			s += "/" + string(pe.Scope)
		}
		if pe.Wait > 0 {
			s += " " + pe.Wait.String()
		}
	}
	return s
}

func TestPolicyOptionsValidate(t *testing.T) {
	t.Parallel()
	bad := map[string][]verify.Option{
		"cooldown too short":      {verify.WithResendCooldown(time.Millisecond, time.Minute)},
		"cooldown max < first":    {verify.WithResendCooldown(time.Minute, time.Second)},
		"cooldown too long":       {verify.WithResendCooldown(time.Minute, 8*24*time.Hour)},
		"unknown scope":           {verify.WithSendBudget("planet", 1, time.Hour)},
		"empty scope":             {verify.WithSendBudget("", 1, time.Hour)},
		"caller without name":     {verify.WithSendBudget(verify.PerCaller(""), 1, time.Hour)},
		"caller name with pipe":   {verify.WithSendBudget(verify.PerCaller("a|b"), 1, time.Hour)},
		"caller name upper":       {verify.WithSendBudget(verify.PerCaller("IP"), 1, time.Hour)},
		"prefix 0":                {verify.WithSendBudget(verify.PerPrefix(0), 1, time.Hour)},
		"prefix 16":               {verify.WithSendBudget(verify.PerPrefix(16), 1, time.Hour)},
		"prefix 07":               {verify.WithSendBudget("prefix:07", 1, time.Hour)},
		"max 0":                   {verify.WithSendBudget(verify.Global, 0, time.Hour)},
		"max huge":                {verify.WithSendBudget(verify.Global, 2e9, time.Hour)},
		"window short":            {verify.WithSendBudget(verify.Global, 1, time.Millisecond)},
		"window long":             {verify.WithCheckBudget(verify.Global, 1, 8*24*time.Hour)},
		"unknown channel":         {verify.WithSendBudget(verify.Global, 1, time.Hour, "pigeon")},
		"duplicate budgets":       {verify.WithSendBudget(verify.Global, 1, time.Hour), verify.WithSendBudget(verify.Global, 2, time.Hour)},
		"duplicate check budgets": {verify.WithCheckBudget(verify.PerDestination, 1, time.Hour), verify.WithCheckBudget(verify.PerDestination, 2, time.Hour)},
		"no allowed region":       {verify.WithAllowedRegions()},
		"unknown allowed region":  {verify.WithAllowedRegions("US", "XX")},
		"unknown denied region":   {verify.WithDeniedRegions("001")},
		"no prefix":               {verify.WithDeniedPrefixes()},
		"prefix without plus":     {verify.WithDeniedPrefixes("882")},
		"prefix letters":          {verify.WithDeniedPrefixes("+88a")},
		"prefix only plus":        {verify.WithDeniedPrefixes("+")},
		"prefix too long":         {verify.WithDeniedPrefixes("+1234567890123456")},
		"prefix plus inside":      {verify.WithDeniedPrefixes("+1+2")},
		"nil store":               {verify.WithPolicyStore(nil)},
	}
	for name, opts := range bad {
		if _, err := verify.New(fake.MustNew(), opts...); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	good := [][]verify.Option{
		{verify.WithResendCooldown(30*time.Second, 30*time.Second)},
		{verify.WithSendBudget(verify.Global, 1, time.Hour), verify.WithSendBudget(verify.Global, 1, time.Hour, verify.ChannelCall)},
		{verify.WithSendBudget(verify.PerDestination, 1, time.Hour), verify.WithCheckBudget(verify.PerDestination, 1, time.Hour)},
		{verify.WithSendBudget(verify.PerCaller("ip"), 1, time.Hour), verify.WithSendBudget(verify.PerCaller("user"), 1, time.Hour)},
		{verify.WithDeniedPrefixes("+44 (70)", "+882-3"), verify.WithAllowedRegions("us", "gb")},
	}
	for i, opts := range good {
		if _, err := verify.New(fake.MustNew(), opts...); err != nil {
			t.Errorf("good options %d: %v", i, err)
		}
	}
}

func TestResendCooldownGrows(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newPolicyEnv(t, verify.WithResendCooldown(30*time.Second, 2*time.Minute))
		ctx := context.Background()
		const to = "+14155552671"
		start := func() string {
			_, err := e.c.Start(ctx, to, verify.ChannelSMS, nil)
			return outcome(err)
		}
		var got []string
		// time.Sleep moves the bubble's fake clock: no real waiting.
		for _, step := range []time.Duration{0, 0, 29 * time.Second, time.Second, 59 * time.Second, time.Second, 2 * time.Minute, 2 * time.Minute, 90 * time.Second} {
			time.Sleep(step)
			got = append(got, start())
		}
		want := []string{
			"ok",
			"too_many_sends cooldown/destination 30s",
			"too_many_sends cooldown/destination 1s",
			"ok", // 30 s after the first
			"too_many_sends cooldown/destination 1s",
			"ok", // 60 s after the second
			"ok", // 120 s after the third (the wait is capped at 2 min)
			"ok",
			"too_many_sends cooldown/destination 30s", // the cap holds
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		if n := e.p.starts.Load(); n != 5 {
			t.Errorf("provider saw %d starts, want 5 (refusals make no call)", n)
		}
		// Quiet for the wait plus an hour: the series starts again.
		time.Sleep(2*time.Minute + time.Hour)
		got = []string{start(), start()}
		if diff := cmp.Diff([]string{"ok", "too_many_sends cooldown/destination 30s"}, got); diff != "" {
			t.Errorf("after a quiet hour (-want +got):\n%s", diff)
		}
		// Another destination has its own cooldown.
		if _, err := e.c.Start(ctx, "+14155552672", verify.ChannelSMS, nil); err != nil {
			t.Errorf("another destination: %v", err)
		}
	})
}

func TestSendBudgets(t *testing.T) {
	t.Parallel()
	type call struct {
		to     string
		ch     verify.Channel
		caller string
	}
	a, b := "+14155552671", "+14155552672"
	uk1, uk2 := "+447400123456", "+447911123456"
	tests := []struct {
		name  string
		opts  []verify.Option
		calls []call
		want  []string
	}{
		{
			"per destination",
			[]verify.Option{verify.WithSendBudget(verify.PerDestination, 2, time.Hour)},
			[]call{{a, "sms", ""}, {a, "call", ""}, {a, "sms", ""}, {b, "sms", ""}},
			[]string{"ok", "ok", "too_many_sends send_budget/destination 1h0m0s", "ok"},
		},
		{
			"per caller, named keys",
			[]verify.Option{verify.WithSendBudget(verify.PerCaller("ip"), 2, time.Hour)},
			[]call{{a, "sms", "1.2.3.4"}, {b, "sms", "1.2.3.4"}, {uk1, "sms", "1.2.3.4"}, {uk1, "sms", "5.6.7.8"}, {uk1, "sms", ""}},
			[]string{"ok", "ok", "rate_limited send_budget/caller:ip 1h0m0s", "ok", "ok"},
		},
		{
			"per country",
			[]verify.Option{verify.WithSendBudget(verify.PerCountry, 2, time.Minute)},
			[]call{{uk1, "sms", ""}, {uk2, "sms", ""}, {"+447400123457", "sms", ""}, {a, "sms", ""}, {"a@example.com", "email", ""}},
			[]string{"ok", "ok", "rate_limited send_budget/country 1m0s", "ok", "ok"},
		},
		{
			"per prefix",
			[]verify.Option{verify.WithSendBudget(verify.PerPrefix(6), 1, time.Minute)},
			[]call{{uk1, "sms", ""}, {"+447400123457", "sms", ""}, {uk2, "sms", ""}},
			[]string{"ok", "rate_limited send_budget/prefix:6 1m0s", "ok"},
		},
		{
			"global",
			[]verify.Option{verify.WithSendBudget(verify.Global, 2, time.Minute)},
			[]call{{a, "sms", ""}, {b, "sms", ""}, {uk1, "sms", ""}},
			[]string{"ok", "ok", "rate_limited send_budget/global 1m0s"},
		},
		{
			"per channel: calls have their own smaller budget",
			[]verify.Option{
				verify.WithSendBudget(verify.Global, 3, time.Minute),
				verify.WithSendBudget(verify.Global, 1, time.Minute, verify.ChannelCall),
			},
			[]call{{a, "call", ""}, {b, "call", ""}, {b, "sms", ""}, {uk1, "sms", ""}, {uk2, "sms", ""}},
			[]string{"ok", "rate_limited send_budget/global 1m0s", "ok", "ok", "rate_limited send_budget/global 1m0s"},
		},
		{
			"all or nothing: a refused send counts against no budget",
			[]verify.Option{
				verify.WithSendBudget(verify.PerCaller("ip"), 1, time.Minute),
				verify.WithSendBudget(verify.Global, 2, time.Minute),
			},
			[]call{{a, "sms", "x"}, {b, "sms", "x"}, {b, "sms", "x"}, {b, "sms", "y"}, {uk1, "sms", "z"}},
			[]string{"ok", "rate_limited send_budget/caller:ip 1m0s", "rate_limited send_budget/caller:ip 1m0s", "ok", "rate_limited send_budget/global 1m0s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				e := newPolicyEnv(t, tt.opts...)
				var got []string
				sent := int64(0)
				for _, c := range tt.calls {
					var opts *verify.StartOptions
					if c.caller != "" {
						opts = &verify.StartOptions{CallerKeys: map[string]string{"ip": c.caller}}
					}
					before := e.p.starts.Load()
					_, err := e.c.Start(context.Background(), c.to, c.ch, opts)
					got = append(got, outcome(err))
					if err == nil {
						sent++
					} else if e.p.starts.Load() != before {
						t.Errorf("refused Start to %s reached the provider", c.to)
					}
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("outcomes (-want +got):\n%s", diff)
				}
				if e.p.starts.Load() != sent {
					t.Errorf("provider saw %d starts, want %d", e.p.starts.Load(), sent)
				}
				// The windows end on their own.
				time.Sleep(time.Hour)
				if _, err := e.c.Start(context.Background(), tt.calls[len(tt.calls)-1].to, tt.calls[len(tt.calls)-1].ch, nil); err != nil {
					t.Errorf("after the window: %v", err)
				}
			})
		})
	}
}

func TestPolicyRetryAfterShrinks(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newPolicyEnv(t, verify.WithSendBudget(verify.PerDestination, 1, 10*time.Minute))
		ctx := context.Background()
		if _, err := e.c.Start(ctx, "+14155552671", verify.ChannelSMS, nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(4 * time.Minute)
		_, err := e.c.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
		if d, ok := verify.RetryAfter(err); !ok || d != 6*time.Minute {
			t.Errorf("RetryAfter = %v, %v; want 6m0s", d, ok)
		}
		if !errors.Is(err, verify.ErrTooManySends) || errors.Is(err, verify.ErrRateLimited) {
			t.Errorf("err = %v, want ErrTooManySends only", err)
		}
	})
}

func TestPolicyGivesBackWhenNothingWasSent(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newPolicyEnv(t,
			verify.WithResendCooldown(30*time.Second, time.Minute),
			verify.WithSendBudget(verify.PerDestination, 1, time.Hour))
		ctx := context.Background()
		const to = "+14155552671"
		// The provider fails before sending: the places are given back.
		e.f.InjectFault(fake.Fault{Op: fake.OpStart, Err: provider.ErrUnavailable})
		if _, err := e.c.Start(ctx, to, verify.ChannelSMS, nil); !errors.Is(err, verify.ErrUnavailable) {
			t.Fatalf("injected fault: %v", err)
		}
		if _, err := e.c.Start(ctx, to, verify.ChannelSMS, nil); err != nil {
			t.Fatalf("retry after a failure that sent nothing: %v", err)
		}
		// The outcome is unknown: a code may have gone, so it counts.
		time.Sleep(2 * time.Hour)
		e.f.InjectFault(fake.Fault{Op: fake.OpStart, Err: provider.ErrOutcomeUnknown, Processed: true})
		if _, err := e.c.Start(ctx, to, verify.ChannelSMS, nil); !errors.Is(err, verify.ErrOutcomeUnknown) {
			t.Fatalf("injected unknown outcome: %v", err)
		}
		if _, err := e.c.Start(ctx, to, verify.ChannelSMS, nil); !errors.Is(err, verify.ErrTooManySends) {
			t.Fatalf("retry after an unknown outcome: %v, want the cooldown", err)
		}
	})
}

// TestCheckBudgetGivesBackWhenNothingWasChecked checks the check budget's
// give-back on a failed Check: a failure that checked nothing gives the
// place back, an unknown outcome (the code may have been checked) keeps it.
func TestCheckBudgetGivesBackWhenNothingWasChecked(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newPolicyEnv(t, verify.WithCheckBudget(verify.PerDestination, 2, time.Hour))
		ctx := context.Background()
		const to = "+14155552671"
		if _, err := e.c.Start(ctx, to, verify.ChannelSMS, nil); err != nil {
			t.Fatal(err)
		}
		check := func() string {
			_, err := e.c.Check(ctx, to, "000000", nil)
			return outcome(err)
		}
		e.f.InjectFault(fake.Fault{Op: fake.OpCheck, Err: provider.ErrUnavailable})
		got := []string{check()} // given back
		e.f.InjectFault(fake.Fault{Op: fake.OpCheck, Err: provider.ErrOutcomeUnknown, Processed: true})
		got = append(got, check(), check(), check()) // kept, kept, refused
		want := []string{"unavailable", "outcome_unknown", "ok", "too_many_checks check_budget/destination 1h0m0s"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
	})
}

func TestCountryRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []verify.Option
		to   string
		want string
		key  string
	}{
		{"allowed", []verify.Option{verify.WithAllowedRegions("US", "GB")}, "+447400123456", "ok", ""},
		{"not allowed", []verify.Option{verify.WithAllowedRegions("US", "GB")}, "+33612345678", "undeliverable region", "FR"},
		{"+1 outside the US", []verify.Option{verify.WithAllowedRegions("US")}, "+16135550123", "undeliverable region", "CA"},
		{"+1 in the US", []verify.Option{verify.WithAllowedRegions("US")}, "+14155552671", "ok", ""},
		{"national form is normalised first", []verify.Option{verify.WithDefaultRegion("GB"), verify.WithDeniedRegions("GB")}, "07400 123456", "undeliverable region", "GB"},
		{"international service not in allow list", []verify.Option{verify.WithAllowedRegions("US")}, "+80012345678", "undeliverable region", "001"},
		{"denied", []verify.Option{verify.WithDeniedRegions("CA")}, "+16135550123", "undeliverable region", "CA"},
		{"deny beats allow", []verify.Option{verify.WithAllowedRegions("CA"), verify.WithDeniedRegions("CA")}, "+16135550123", "undeliverable region", "CA"},
		{"e-mail unaffected", []verify.Option{verify.WithAllowedRegions("US")}, "a@example.com", "ok", ""},
		{"denied prefix", []verify.Option{verify.WithDeniedPrefixes("+44 7400")}, "+447400123456", "undeliverable prefix", "+447400"},
		{"denied prefix, national form", []verify.Option{verify.WithDefaultRegion("GB"), verify.WithDeniedPrefixes("+447400")}, "07400 123456", "undeliverable prefix", "+447400"},
		{"other prefix", []verify.Option{verify.WithDeniedPrefixes("+447400")}, "+447911123456", "ok", ""},
		{"high-cost list", []verify.Option{verify.WithDeniedPrefixes(verify.HighCostPrefixes()...)}, "+8823421234", "undeliverable prefix", "+882"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &counting{Provider: fake.MustNew()}
			c := newClient(t, p, tt.opts...)
			_, err := c.Start(context.Background(), tt.to, verify.ChannelAuto, nil)
			if got := outcome(err); got != tt.want {
				t.Fatalf("Start(%s) = %s (%v), want %s", tt.to, got, err, tt.want)
			}
			if err == nil {
				return
			}
			var pe *verify.PolicyError
			if !errors.As(err, &pe) || pe.Key != tt.key {
				t.Errorf("PolicyError = %+v, want key %q", pe, tt.key)
			}
			if errors.Is(err, verify.ErrInvalidRequest) {
				t.Errorf("a policy refusal matches ErrInvalidRequest")
			}
			if n := p.starts.Load(); n != 0 {
				t.Errorf("refused Start reached the provider %d times", n)
			}
		})
	}
}

func TestCheckBudgetAcrossVerifications(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newPolicyEnv(t,
			verify.WithCheckBudget(verify.PerDestination, 3, time.Hour),
			verify.WithCheckBudget(verify.PerCaller("user"), 5, time.Hour))
		ctx := context.Background()
		const to = "+14155552671"
		check := func(code, user string) string {
			var opts *verify.CheckOptions
			if user != "" {
				opts = &verify.CheckOptions{CallerKeys: map[string]string{"user": user}}
			}
			v, err := e.c.Check(ctx, to, code, opts)
			if err == nil && v.Approved() {
				return "approved"
			}
			return outcome(err)
		}
		if _, err := e.c.Start(ctx, to, verify.ChannelSMS, nil); err != nil {
			t.Fatal(err)
		}
		got := []string{check("000000", ""), check("000001", ""), check("123456", "")}
		// A new verification does not reset the budget: two wrong codes
		// were spent, the right one gave its place back.
		if _, err := e.c.Start(ctx, to, verify.ChannelSMS, nil); err != nil {
			t.Fatal(err)
		}
		got = append(got, check("000002", ""), check("000003", ""), check("123456", ""))
		want := []string{"ok", "ok", "approved", "ok", "too_many_checks check_budget/destination 1h0m0s", "too_many_checks check_budget/destination 1h0m0s"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		if n := e.p.checks.Load(); n != 4 {
			t.Errorf("provider saw %d checks, want 4", n)
		}

		// CheckID knows no destination beforehand: only the caller budget
		// applies, across destinations.
		var ids []string
		for _, dst := range []string{"+14155550001", "+14155550002", "+14155550003"} {
			v, err := e.c.Start(ctx, dst, verify.ChannelSMS, nil)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, v.ID)
		}
		opts := &verify.CheckOptions{CallerKeys: map[string]string{"user": "u-1"}}
		got = nil
		for i := range 6 {
			_, err := e.c.CheckID(ctx, ids[i%3], "999999", opts)
			got = append(got, outcome(err))
		}
		want = []string{"ok", "ok", "ok", "ok", "ok", "rate_limited check_budget/caller:user 1h0m0s"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("CheckID outcomes (-want +got):\n%s", diff)
		}
		// A code that cannot be a code is refused before any budget.
		if _, err := e.c.CheckID(ctx, ids[0], "12/34", opts); !errors.Is(err, verify.ErrInvalidRequest) {
			t.Errorf("bad code: %v", err)
		}
	})
}

// brokenStore is a policy store that is down.
type brokenStore struct{ calls atomic.Int64 }

var errStoreDown = errors.New("connection refused")

func (s *brokenStore) Take(context.Context, []store.Limit) (store.Taken, error) {
	s.calls.Add(1)
	return store.Taken{}, errStoreDown
}

func (s *brokenStore) Release(context.Context, []store.Limit) error { return errStoreDown }

func TestPolicyStoreFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("fail closed by default", func(t *testing.T) {
		t.Parallel()
		p := &counting{Provider: fake.MustNew()}
		c := newClient(t, p, verify.WithPolicyStore(&brokenStore{}), verify.WithSendBudget(verify.Global, 10, time.Hour))
		_, err := c.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
		if !errors.Is(err, verify.ErrUnavailable) || !errors.Is(err, errStoreDown) {
			t.Errorf("err = %v, want ErrUnavailable wrapping the store's error", err)
		}
		if p.starts.Load() != 0 {
			t.Errorf("a Start reached the provider with the store down")
		}
	})
	t.Run("fail open reports it", func(t *testing.T) {
		t.Parallel()
		var logs bytes.Buffer
		var events []verify.Event
		var mu sync.Mutex
		p := &counting{Provider: fake.MustNew(fake.WithFixedCode("123456"))}
		c := newClient(t, p, verify.WithPolicyStore(&brokenStore{}), verify.WithPolicyFailOpen(),
			verify.WithSendBudget(verify.Global, 10, time.Hour), verify.WithCheckBudget(verify.Global, 10, time.Hour),
			verify.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
			verify.WithHook(func(_ context.Context, e verify.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }))
		if _, err := c.Start(ctx, "+14155552671", verify.ChannelSMS, nil); err != nil {
			t.Fatalf("Start under fail-open: %v", err)
		}
		if v, err := c.Check(ctx, "+14155552671", "123456", nil); err != nil || !v.Approved() {
			t.Fatalf("Check under fail-open: %v %v", v, err)
		}
		if len(events) != 2 || !errors.Is(events[0].PolicyErr, errStoreDown) || !errors.Is(events[1].PolicyErr, errStoreDown) {
			t.Errorf("events = %+v, want PolicyErr on both", events)
		}
		if s := logs.String(); strings.Count(s, "level=WARN") != 2 || !strings.Contains(s, "policy_skipped=true") {
			t.Errorf("log = %s, want two warnings with policy_skipped", s)
		}
	})
}

func TestPolicyRefusalsAreReported(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		var events []verify.Event
		e := newPolicyEnv(t,
			verify.WithResendCooldown(30*time.Second, time.Minute),
			verify.WithSendBudget(verify.PerCaller("ip"), 2, time.Hour),
			verify.WithDeniedPrefixes("+882"),
			verify.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
			verify.WithHook(func(_ context.Context, ev verify.Event) { events = append(events, ev) }))
		ctx := context.Background()
		const to, ip = "+14155552671", "203.0.113.77"
		opts := &verify.StartOptions{CallerKeys: map[string]string{"ip": ip}}
		_, _ = e.c.Start(ctx, to, verify.ChannelSMS, opts)
		_, err1 := e.c.Start(ctx, to, verify.ChannelSMS, opts)
		_, _ = e.c.Start(ctx, "+14155552673", verify.ChannelSMS, opts)
		_, err2 := e.c.Start(ctx, "+14155552672", verify.ChannelSMS, opts)
		_, err3 := e.c.Start(ctx, "+8823421234", verify.ChannelSMS, opts)
		var codes []verify.Code
		for _, ev := range events {
			codes = append(codes, ev.Code)
		}
		want := []verify.Code{verify.CodeOK, verify.CodeTooManySends, verify.CodeOK, verify.CodeRateLimited, verify.CodeUndeliverable}
		if diff := cmp.Diff(want, codes); diff != "" {
			t.Errorf("event codes (-want +got):\n%s", diff)
		}
		out := logs.String() + err1.Error() + err2.Error() + err3.Error()
		for _, secret := range []string{to, "4155552672", "3421234", ip} {
			if strings.Contains(out, secret) {
				t.Errorf("%q appears in the errors or logs:\n%s", secret, out)
			}
		}
		for _, want := range []string{"policy=cooldown scope=destination retry_after=30s", "policy=send_budget scope=caller:ip", "policy=prefix", "203*******77"} {
			if !strings.Contains(out, want) {
				t.Errorf("errors and logs lack %q:\n%s", want, out)
			}
		}
	})
}

func TestPolicyConcurrentSendsKeepTheBudget(t *testing.T) {
	t.Parallel()
	e := newPolicyEnv(t, verify.WithSendBudget(verify.PerCaller("ip"), 7, time.Hour))
	var wg sync.WaitGroup
	var ok atomic.Int64
	for i := range 64 {
		wg.Go(func() {
			to := "+1415555" + string(rune('0'+i/10)) + "0" + string(rune('0'+i%10)) + "0"
			_, err := e.c.Start(context.Background(), to, verify.ChannelSMS, &verify.StartOptions{CallerKeys: map[string]string{"ip": "x"}})
			if err == nil {
				ok.Add(1)
			} else if !errors.Is(err, verify.ErrRateLimited) {
				t.Errorf("Start(%s): %v", to, err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 7 || e.p.starts.Load() != 7 {
		t.Errorf("%d sends succeeded and %d reached the provider, want 7 and 7", ok.Load(), e.p.starts.Load())
	}
}

func TestPolicyLongCallerKeys(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newPolicyEnv(t, verify.WithSendBudget(verify.PerCaller("session"), 1, time.Hour))
		long := strings.Repeat("s", 10000)
		for i, want := range []string{"ok", "rate_limited send_budget/caller:session 1h0m0s"} {
			_, err := e.c.Start(context.Background(), "+1415555000"+string(rune('1'+i)), verify.ChannelSMS,
				&verify.StartOptions{CallerKeys: map[string]string{"session": long}})
			if got := outcome(err); got != want {
				t.Errorf("start %d = %s, want %s", i, got, want)
			}
			if err != nil && len(err.Error()) > 300 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		}
	})
}

// TestREADMEPolicy builds the policy docs/policies.md recommends for a sign-up
// form, so the page cannot drift from the API.
func TestREADMEPolicy(t *testing.T) {
	t.Parallel()
	c := newClient(t, fake.MustNew(),
		verify.WithResendCooldown(30*time.Second, 10*time.Minute),
		verify.WithSendBudget(verify.PerDestination, 5, time.Hour),
		verify.WithSendBudget(verify.PerDestination, 10, 24*time.Hour),
		verify.WithSendBudget(verify.PerCaller("ip"), 10, time.Hour),
		verify.WithSendBudget(verify.PerPrefix(6), 30, time.Hour),
		verify.WithSendBudget(verify.Global, 2000, 24*time.Hour),
		verify.WithSendBudget(verify.PerDestination, 2, 24*time.Hour, verify.ChannelCall),
		verify.WithAllowedRegions("US", "CA", "GB"),
		verify.WithDeniedPrefixes(verify.HighCostPrefixes()...),
		verify.WithCheckBudget(verify.PerDestination, 10, time.Hour),
		verify.WithCheckBudget(verify.PerCaller("ip"), 30, time.Hour),
	)
	opts := &verify.StartOptions{CallerKeys: map[string]string{"ip": "203.0.113.9"}}
	if _, err := c.Start(context.Background(), "+14155552671", verify.ChannelSMS, opts); err != nil {
		t.Fatal(err)
	}
	_, err := c.Start(context.Background(), "+14155552671", verify.ChannelSMS, opts)
	if d, ok := verify.RetryAfter(err); !ok || d > 30*time.Second || d < 29*time.Second {
		t.Errorf("second Start: %v, RetryAfter %v %v", err, d, ok)
	}
}

// TestCheckIDDestinationBudget: CheckID knows only the ID, so Start
// remembers each verification's target in the store: wrong codes by ID
// count per destination across verifications.
func TestCheckIDDestinationBudget(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newPolicyEnv(t, verify.WithCheckBudget(verify.PerDestination, 2, time.Hour))
		ctx := context.Background()
		const to = "+14155552671"
		var got []string
		for range 2 {
			v, err := e.c.Start(ctx, to, verify.ChannelSMS, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.c.CheckID(ctx, v.ID, "000000", nil)
			got = append(got, outcome(err))
			// A new verification next time: this one expires first (the
			// fake re-sends a pending one under the same ID).
			time.Sleep(11 * time.Minute)
		}
		v, err := e.c.Start(ctx, to, verify.ChannelSMS, nil)
		if err != nil {
			t.Fatal(err)
		}
		checks := e.p.checks.Load()
		_, err = e.c.CheckID(ctx, v.ID, "123456", nil)
		got = append(got, outcome(err))
		want := []string{"ok", "ok", "too_many_checks check_budget/destination 38m0s"} // 22 min into the window
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		if e.p.checks.Load() != checks {
			t.Error("the refused CheckID reached the provider")
		}
		// Another destination is not affected.
		v, _ = e.c.Start(ctx, "+14155552672", verify.ChannelSMS, nil)
		if v, err := e.c.CheckID(ctx, v.ID, "123456", nil); err != nil || !v.Approved() {
			t.Errorf("other destination: %v %v", v, err)
		}
	})
}

// getFails is a memory store whose reads of records fail.
type getFails struct{ *store.Memory }

func (getFails) Get(context.Context, string) (store.Record, error) {
	return store.Record{}, errStoreDown
}

func TestCheckIDTargetLookupFails(t *testing.T) {
	t.Parallel()
	for _, open := range []bool{false, true} {
		m, err := store.NewMemory()
		if err != nil {
			t.Fatal(err)
		}
		opts := []verify.Option{verify.WithPolicyStore(getFails{m}), verify.WithCheckBudget(verify.PerDestination, 5, time.Hour)}
		if open {
			opts = append(opts, verify.WithPolicyFailOpen())
		}
		e := newPolicyEnv(t, opts...)
		ctx := context.Background()
		v, err := e.c.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
		if err != nil {
			t.Fatal(err)
		}
		v, err = e.c.CheckID(ctx, v.ID, "123456", nil)
		switch {
		case open && (err != nil || !v.Approved()):
			t.Errorf("fail open: %v %v", v, err)
		case !open && (!errors.Is(err, verify.ErrUnavailable) || e.p.checks.Load() != 0):
			t.Errorf("fail closed: %v, %d checks reached the provider", err, e.p.checks.Load())
		}
	}
}
