package verify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
)

// guardEnv is a client with the fraud guard over a fake on a manual clock.
type guardEnv struct {
	c     *verify.Client
	f     *fake.Fake
	clock *fake.Clock

	mu        sync.Mutex
	decisions []verify.FraudDecision
}

func newGuardEnv(t *testing.T, edit func(*verify.FraudGuard), opts ...verify.Option) *guardEnv {
	t.Helper()
	e := &guardEnv{clock: fake.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))}
	s, err := store.NewMemory(store.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	e.f = fake.MustNew(fake.WithClock(e.clock.Now), fake.WithFixedCode("123456"))
	g := verify.RecommendedFraudGuard()
	g.Now = e.clock.Now
	g.OnDecision = func(_ context.Context, d verify.FraudDecision) {
		e.mu.Lock()
		e.decisions = append(e.decisions, d)
		e.mu.Unlock()
	}
	if edit != nil {
		edit(&g)
	}
	opts = append([]verify.Option{verify.WithPolicyStore(s), verify.WithFraudGuard(g),
		verify.WithLogger(slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))}, opts...)
	e.c, err = verify.New(e.f, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *guardEnv) start(to, ip string) error {
	_, err := e.c.Start(context.Background(), to, verify.ChannelSMS, &verify.StartOptions{CallerKeys: map[string]string{"ip": ip}})
	return err
}

func (e *guardEnv) approve(t *testing.T, to string) {
	t.Helper()
	v, err := e.c.Check(context.Background(), to, "123456", nil)
	if err != nil || !v.Approved() {
		t.Fatalf("Check(%s) = %v, %v", to, v.Status, err)
	}
}

// policyOf returns the refusal's policy error, or fails.
func policyOf(t *testing.T, err error) *verify.PolicyError {
	t.Helper()
	var pe *verify.PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *PolicyError", err)
	}
	return pe
}

func TestFraudGuardPremiumRange(t *testing.T) {
	e := newGuardEnv(t, nil)
	err := e.start("+882 16 3456 789", "198.51.100.1")
	pe := policyOf(t, err)
	if pe.Policy != verify.PolicyPremium || pe.Key != "+882" || pe.Wait != 0 {
		t.Errorf("refusal = %+v, want premium_range +882 without a wait", pe)
	}
	if !errors.Is(err, verify.ErrUndeliverable) {
		t.Errorf("errors.Is(%v, ErrUndeliverable) = false", err)
	}
	if n := len(e.f.Messages()); n != 0 {
		t.Errorf("%d messages sent, want 0", n)
	}
}

func TestFraudGuardIPVelocity(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ip    func(i int) string
		scope verify.Scope
		max   int
		key   string
	}{
		{"one address", func(int) string { return "198.51.100.7" }, verify.PerCaller("ip"), 10, ""},
		{"ipv4 /24", func(i int) string { return fmt.Sprintf("198.51.100.%d", i) }, verify.PerIPRange, 100, "198.51.100.0/24"},
		{"ipv6 /48", func(i int) string { return fmt.Sprintf("2001:db8:1:%x::1", i) }, verify.PerIPRange, 100, "2001:db8:1::/48"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGuardEnv(t, nil)
			for i := range tc.max {
				// Numbers in many countries and prefixes: only the IP
				// signals can fire.
				to := fmt.Sprintf("+1415%03d%04d", 200+i, i)
				if err := e.start(to, tc.ip(i)); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
				e.approve(t, to)
			}
			err := e.start("+14159990000", tc.ip(tc.max))
			pe := policyOf(t, err)
			if pe.Policy != verify.PolicyVelocity || pe.Scope != tc.scope || pe.Max != tc.max || pe.Wait <= 0 {
				t.Errorf("refusal = %+v, want velocity per %s, max %d, with a wait", pe, tc.scope, tc.max)
			}
			if tc.key != "" && pe.Key != tc.key {
				t.Errorf("key = %q, want %q", pe.Key, tc.key)
			}
			if !errors.Is(err, verify.ErrRateLimited) {
				t.Errorf("errors.Is(%v, ErrRateLimited) = false", err)
			}
			if d, ok := verify.RetryAfter(err); !ok || d != pe.Wait {
				t.Errorf("RetryAfter = %v, %v", d, ok)
			}
		})
	}
}

// TestFraudGuardConversion: a prefix where nothing converts gets its
// floor, then refuses; approvals there grow the allowance; another
// country is not touched.
func TestFraudGuardConversion(t *testing.T) {
	e := newGuardEnv(t, func(g *verify.FraudGuard) {
		g.CountryHour, g.CountryDay = verify.Conversion{Floor: 10, Share: 0.3}, verify.Conversion{Floor: 30, Share: 0.3}
		g.PrefixHour, g.PrefixDay = verify.Conversion{Floor: 3, Share: 0.3}, verify.Conversion{Floor: 6, Share: 0.3}
	})
	ip := func(i int) string { return fmt.Sprintf("203.0.%d.1", i) }
	// Unconverted sends to one prefix, each to another block of numbers.
	for i := range 3 {
		if err := e.start(fmt.Sprintf("+234803120%02d00", i), ip(i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	err := e.start("+2348031299000", ip(9))
	pe := policyOf(t, err)
	want := &verify.PolicyError{Policy: verify.PolicyConversion, Scope: verify.PerPrefix(6), Key: "+234803", Max: 3, Window: time.Hour, Wait: pe.Wait}
	if diff := cmp.Diff(want, pe); diff != "" {
		t.Errorf("refusal (-want +got):\n%s", diff)
	}
	if pe.Wait <= 0 || pe.Wait > 2*time.Hour {
		t.Errorf("wait %v, want until the bucket's counter ends", pe.Wait)
	}
	e.mu.Lock()
	last := e.decisions[len(e.decisions)-1]
	e.mu.Unlock()
	if last.Action != verify.FraudRefuse || last.Signal != verify.PolicyConversion || last.Verified != 0 || last.Country != "+234" {
		t.Errorf("decision = %+v", last)
	}
	// Another country is untouched.
	if err := e.start("+447911123456", ip(10)); err != nil {
		t.Errorf("send to another country: %v", err)
	}
	// Approvals in a second prefix grow its allowance past the floor.
	for i := range 20 {
		to := fmt.Sprintf("+44770%d%06d", 1+i%2, i*137)
		if err := e.start(to, ip(20+i)); err != nil {
			t.Fatalf("converted send %d: %v", i, err)
		}
		e.approve(t, to)
	}
	for i := range 3 {
		if err := e.start(fmt.Sprintf("+447701%02d9999", i), ip(60+i)); err != nil {
			t.Fatalf("send %d after approvals: %v", i, err)
		}
	}
	e.clock.Advance(time.Minute)
	// 10 approved in the prefix, taken out of its counter: allowance
	// max(3, 0.3×10) = 3; the 3 above fit, the next one does not.
	err = e.start("+447701999999", ip(70))
	if pe := policyOf(t, err); pe.Policy != verify.PolicyConversion || pe.Max != 3 {
		t.Errorf("refusal = %+v", pe)
	}
}

func TestFraudGuardSequence(t *testing.T) {
	e := newGuardEnv(t, nil)
	for i := range 4 {
		to := fmt.Sprintf("+3361234%04d", 5600+i)
		if err := e.start(to, fmt.Sprintf("192.0.2.%d", i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		e.approve(t, to)
	}
	pe := policyOf(t, e.start("+33612345604", "192.0.2.99"))
	if pe.Policy != verify.PolicySequence || pe.Scope != verify.PerNumberBlock || pe.Max != 4 {
		t.Errorf("refusal = %+v, want sequence per number_block", pe)
	}
}

func TestFraudGuardRecordOnly(t *testing.T) {
	var log bytes.Buffer
	e := newGuardEnv(t, func(g *verify.FraudGuard) { g.RecordOnly = true },
		verify.WithLogger(slog.New(slog.NewTextHandler(&log, nil))),
		verify.WithSendBudget(verify.Global, 12, time.Hour))
	for i := range 12 {
		if err := e.start(fmt.Sprintf("+882163456%03d", i), "198.51.100.7"); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if n := len(e.f.Messages()); n != 12 {
		t.Errorf("%d sent, want 12", n)
	}
	e.mu.Lock()
	var recorded int
	for _, d := range e.decisions {
		if d.Action == verify.FraudRecord && d.Signal == verify.PolicyPremium {
			recorded++
		}
	}
	e.mu.Unlock()
	if recorded != 12 {
		t.Errorf("%d premium decisions recorded, want 12", recorded)
	}
	if !strings.Contains(log.String(), "action=record signal=premium_range") {
		t.Errorf("log lacks the recorded decision:\n%s", log.String())
	}
	if strings.Contains(log.String(), "882163456") {
		t.Errorf("log shows a number unmasked:\n%s", log.String())
	}
	// The other policies still count and refuse.
	pe := policyOf(t, e.start("+447911123401", "198.51.100.8"))
	if pe.Policy != verify.PolicySendBudget {
		t.Errorf("refusal = %+v, want the global send budget", pe)
	}
}

// TestFraudGuardRecordOnlyKeepsBudgets: a velocity refusal recorded under
// RecordOnly still counts the request against the other budgets.
func TestFraudGuardRecordOnlyKeepsBudgets(t *testing.T) {
	e := newGuardEnv(t, func(g *verify.FraudGuard) { g.RecordOnly = true; g.PerIP.Max = 1 },
		verify.WithSendBudget(verify.Global, 3, time.Hour))
	for i := range 3 {
		if err := e.start(fmt.Sprintf("+1415%03d1234", 300+i), "198.51.100.7"); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if pe := policyOf(t, e.start("+14154001234", "198.51.100.7")); pe.Policy != verify.PolicySendBudget {
		t.Errorf("refusal = %+v, want the global budget", pe)
	}
}

func TestFraudGuardSkipsEmailAndFreeChannels(t *testing.T) {
	e := newGuardEnv(t, func(g *verify.FraudGuard) { g.PerIP.Max = 1 })
	for i := range 3 {
		if _, err := e.c.Start(context.Background(), fmt.Sprintf("u%d@example.com", i), verify.ChannelEmail,
			&verify.StartOptions{CallerKeys: map[string]string{"ip": "198.51.100.7"}}); err != nil {
			t.Fatalf("e-mail %d: %v", i, err)
		}
	}
	e.mu.Lock()
	n := len(e.decisions)
	e.mu.Unlock()
	if n != 0 {
		t.Errorf("%d decisions on e-mail, want 0", n)
	}
}

// TestFraudGuardGivesBackFailedSends: a Start the provider refuses costs
// nothing, and leaves the guard's counters as they were.
func TestFraudGuardGivesBackFailedSends(t *testing.T) {
	e := newGuardEnv(t, func(g *verify.FraudGuard) { g.PerIP.Max = 1 })
	e.f.FailNext(1, verify.ErrUnavailable)
	if err := e.start("+14155550100", "198.51.100.7"); !errors.Is(err, verify.ErrUnavailable) {
		t.Fatalf("failed send: %v", err)
	}
	if err := e.start("+14155550100", "198.51.100.7"); err != nil {
		t.Fatalf("send after the failure: %v", err)
	}
	if pe := policyOf(t, e.start("+14155550199", "198.51.100.7")); pe.Policy != verify.PolicyVelocity {
		t.Fatalf("refusal = %+v", pe)
	}
}

func TestFraudGuardOptionErrors(t *testing.T) {
	for _, g := range []verify.FraudGuard{
		{PrefixDigits: 13},
		{Channels: []verify.Channel{"pigeon"}},
		{Premium: []string{"882"}},
		{IPKey: "IP"},
		{PerIP: verify.Rate{Max: 1}},
		{CountryDay: verify.Conversion{Floor: -1}},
	} {
		if _, err := verify.New(fake.MustNew(), verify.WithFraudGuard(g)); err == nil {
			t.Errorf("WithFraudGuard(%+v) = nil error", g)
		}
	}
}

func TestPremiumRangesParse(t *testing.T) {
	r := verify.PremiumRanges()
	for _, want := range []string{"+882", "+979", "+449", "+1900"} {
		found := false
		for _, p := range r {
			found = found || p == want
		}
		if !found {
			t.Errorf("PremiumRanges() lacks %s", want)
		}
	}
	if _, err := verify.ParseRanges(strings.NewReader("+44 9 # ok\nnope\n")); err == nil {
		t.Error("ParseRanges accepted a bad line")
	}
}

// TestFraudGuardLearnsOtherReplicasApprovals: two replicas share a
// store; the approvals one of them sees raise the conversion allowance
// of the other, which reads them from the store before refusing.
func TestFraudGuardLearnsOtherReplicasApprovals(t *testing.T) {
	clock := fake.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	s, err := store.NewMemory(store.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	f := fake.MustNew(fake.WithClock(clock.Now), fake.WithFixedCode("123456"))
	g := verify.RecommendedFraudGuard()
	g.Now = clock.Now
	var cs [2]*verify.Client
	for i := range cs {
		if cs[i], err = verify.New(f, verify.WithPolicyStore(s), verify.WithFraudGuard(g)); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	start := func(c *verify.Client, to string, i int) error {
		_, err := c.Start(ctx, to, verify.ChannelSMS, &verify.StartOptions{CallerKeys: map[string]string{"ip": fmt.Sprintf("198.51.%d.%d", i/200, i%200)}})
		return err
	}
	// Replica 0: 30 sends into +447911 that end approved.
	for i := range 30 {
		to := fmt.Sprintf("+447911%02d0000", i)
		if err := start(cs[0], to, i); err != nil {
			t.Fatalf("converted send %d: %v", i, err)
		}
		if v, err := cs[0].Check(ctx, to, "123456", nil); err != nil || !v.Approved() {
			t.Fatalf("check %d: %v %v", i, v.Status, err)
		}
		clock.Advance(30 * time.Second)
	}
	// Replica 1 saw none of them: its allowance for unapproved sends in
	// the prefix is still Share × 30 = 15, not the floor of 6.
	for i := range 15 {
		if err := start(cs[1], fmt.Sprintf("+4479111%d%d999", i/10, i%10), 100+i); err != nil {
			t.Fatalf("replica 1, unapproved send %d: %v", i, err)
		}
	}
	err = start(cs[1], "+447911199899", 200)
	if pe := policyOf(t, err); pe.Policy != verify.PolicyConversion || pe.Max != 15 {
		t.Errorf("replica 1 past the allowance: %+v, want a conversion refusal with Max 15", pe)
	}
}

// keyRecorder is a policy store that is not a *store.Memory, and records
// the keys of the limits it takes.
type keyRecorder struct {
	*store.Memory
	mu   sync.Mutex
	keys []string
}

func (k *keyRecorder) Take(ctx context.Context, limits []store.Limit) (store.Taken, error) {
	k.mu.Lock()
	for _, l := range limits {
		k.keys = append(k.keys, l.Key)
	}
	k.mu.Unlock()
	return k.Memory.Take(ctx, limits)
}

// TestFraudGuardPlainKeysOnMemory: on a *store.Memory, which keeps no
// key, the guard puts addresses and numbers into its keys as they are; on
// any other store it hashes them. The decisions are the same either way,
// and the other store's keys hold no address or number in clear.
func TestFraudGuardPlainKeysOnMemory(t *testing.T) {
	run := func(wrap bool) ([]string, *keyRecorder) {
		e := &guardEnv{clock: fake.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))}
		m, err := store.NewMemory(store.WithClock(e.clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		var s store.Limiter = m
		rec := &keyRecorder{Memory: m}
		if wrap {
			s = rec
		}
		g := verify.RecommendedFraudGuard()
		g.Now = e.clock.Now
		e.f = fake.MustNew(fake.WithClock(e.clock.Now), fake.WithFixedCode("123456"))
		if e.c, err = verify.New(e.f, verify.WithPolicyStore(s), verify.WithFraudGuard(g)); err != nil {
			t.Fatal(err)
		}
		var got []string
		for i := range 400 {
			// Phases where each signal fires: one address, one /24, a
			// block of neighbouring numbers from /48s, then sends that
			// are never approved.
			ip, to, approve := "203.0.0.1", fmt.Sprintf("+447400%06d", i*7919%1000000), true
			switch {
			case i >= 300:
				ip, approve = fmt.Sprintf("198.51.%d.1", i), false
			case i >= 250:
				ip, to = fmt.Sprintf("2001:db8:%x::1", i), fmt.Sprintf("+44740055%04d", i)
			case i >= 100:
				ip = fmt.Sprintf("203.0.1.%d", i)
			}
			err := e.start(to, ip)
			var pe *verify.PolicyError
			switch {
			case errors.As(err, &pe):
				got = append(got, fmt.Sprintf("%d %s %s %s", i, pe.Policy, pe.Scope, pe.Key))
			case err != nil:
				t.Fatalf("send %d: %v", i, err)
			default:
				got = append(got, fmt.Sprintf("%d sent", i))
				if approve {
					e.approve(t, to)
				}
			}
			e.clock.Advance(2 * time.Second)
		}
		return got, rec
	}
	plain, _ := run(false)
	hashed, rec := run(true)
	if diff := cmp.Diff(hashed, plain); diff != "" {
		t.Errorf("decisions on a *store.Memory differ from another store's (-other +memory):\n%s", diff)
	}
	for _, signal := range []string{" sent", " velocity caller:ip ", " velocity ip_range ", " sequence ", " conversion "} {
		if !slices.ContainsFunc(plain, func(d string) bool { return strings.Contains(d+" ", signal) }) {
			t.Errorf("no decision %q: the trace does not test it", signal)
		}
	}
	for _, k := range rec.keys {
		if strings.Contains(k, "203.0.") || strings.Contains(k, "2001:db8") || strings.Contains(k, "+4474009") {
			t.Fatalf("key %q holds an address or number in clear", k)
		}
	}
}
