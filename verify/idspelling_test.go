package verify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/route"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
)

// lenientIDs is a provider that accepts any ASCII case of the IDs it
// issued, as a provider with a case-insensitive lookup would: verify must
// not rely on providers refusing other spellings.
type lenientIDs struct{ *fake.Fake }

func (l lenientIDs) Check(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	req.ID = strings.ToLower(req.ID)
	return l.Fake.Check(ctx, req)
}

func (l lenientIDs) Capabilities() provider.Capabilities { return provider.CapabilitiesOf(l.Fake) }

// spellings returns other spellings of id: its last 16 characters
// upper-cased (in a self-hosted ID, the nonce), everything after a
// two-letter prefix upper-cased, a mixed case, and the whole ID
// upper-cased. For a route ID the
// route name stays as it is.
func spellings(id string) []string {
	pre, inner := "", id
	if i := strings.IndexByte(id, ':'); i >= 0 {
		pre, inner = id[:i+1], id[i+1:]
	}
	var bare []string
	if pre != "" {
		bare = []string{inner} // a Router with WithUnprefixedIDs takes it
	}
	return append(bare,
		pre+inner[:len(inner)-16]+strings.ToUpper(inner[len(inner)-16:]),
		pre+inner[:2]+strings.ToUpper(inner[2:]),
		pre+strings.ToUpper(inner[:2])+inner[2:3]+strings.ToUpper(inner[3:4])+inner[4:],
		strings.ToUpper(id),
	)
}

// TestCheckIDOtherSpellingsKeepTheBudgets is the regression test for a
// per-destination check budget that a verification ID spelled in another
// case slipped past: CheckID looked the remembered target up by the exact
// string, found nothing, and checked with the caller and global budgets
// only. Every spelling must now either be charged to the verification's
// budgets or be refused without reaching the provider.
func TestCheckIDOtherSpellingsKeepTheBudgets(t *testing.T) {
	t.Parallel()
	newSelfhosted := func(t *testing.T) provider.Provider {
		out := new(selfhosted.Outbox)
		p, err := selfhosted.New(mustMemoryStore(t), selfhosted.GenerateKey("k1"),
			selfhosted.WithSender(out, provider.ChannelSMS), selfhosted.WithMaxChecks(20))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	providers := map[string]func(t *testing.T) provider.Provider{
		"selfhosted": newSelfhosted,
		"route over selfhosted": func(t *testing.T) provider.Provider {
			r, err := route.New([]route.Route{{Name: "sh", Provider: newSelfhosted(t)}})
			if err != nil {
				t.Fatal(err)
			}
			return r
		},
		"route with unprefixed IDs over selfhosted": func(t *testing.T) provider.Provider {
			r, err := route.New([]route.Route{{Name: "sh", Provider: newSelfhosted(t)}}, route.WithUnprefixedIDs("sh"))
			if err != nil {
				t.Fatal(err)
			}
			return r
		},
		"lenient provider": func(*testing.T) provider.Provider {
			return lenientIDs{fake.MustNew(fake.WithFixedCode("123456"), fake.WithMaxChecks(50))}
		},
	}
	for name, newP := range providers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) { checkSpellings(t, newP(t)) })
		})
	}
}

func checkSpellings(t *testing.T, inner provider.Provider) {
	const to = "+14155552671"
	{
		{
			p := &counting{Provider: inner}
			c := newClient(t, p,
				verify.WithCheckBudget(verify.PerDestination, 3, time.Hour),
				verify.WithCheckBudget(verify.PerPrefix(6), 100, time.Hour))
			ctx := context.Background()
			v, err := c.Start(ctx, to, verify.ChannelSMS, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for range 4 {
				_, err := c.CheckID(ctx, v.ID, "000000", nil)
				got = append(got, outcome(err))
			}
			want := []string{"ok", "ok", "ok", "too_many_checks check_budget/destination 1h0m0s"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("CheckID with the ID as issued (-want +got):\n%s", diff)
			}
			checks := p.checks.Load()
			for _, id := range spellings(v.ID) {
				_, err := c.CheckID(ctx, id, "000000", nil)
				if err == nil || !errors.Is(err, verify.ErrNotFound) && !errors.Is(err, verify.ErrTooManyChecks) {
					t.Errorf("CheckID(%s) after the budget was spent: %v, want ErrNotFound or ErrTooManyChecks", id, err)
				}
			}
			if n := p.checks.Load() - checks; n != 0 {
				t.Errorf("%d CheckIDs with other spellings reached the provider after the budget was spent", n)
			}
		}
	}
}

// TestCheckIDUnknownTargetFailsClosed: when the check budgets need the
// target (per destination, country or prefix) and the client does not
// remember one for the ID, CheckID refuses with ErrNotFound and no
// provider call rather than check with fewer budgets than Check by To.
func TestCheckIDUnknownTargetFailsClosed(t *testing.T) {
	t.Parallel()
	f := fake.MustNew(fake.WithFixedCode("123456"))
	p := &counting{Provider: f}
	c := newClient(t, p, verify.WithCheckBudget(verify.PerCountry, 100, time.Hour))
	ctx := context.Background()
	// A verification this client did not start: another client started it.
	other := newClient(t, f)
	v, err := other.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CheckID(ctx, v.ID, "123456", nil); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("CheckID of a verification whose target is unknown: %v, want ErrNotFound", err)
	}
	if n := p.checks.Load(); n != 0 {
		t.Errorf("%d checks reached the provider", n)
	}
	// With budgets that need no target, CheckID goes ahead.
	c2 := newClient(t, p, verify.WithCheckBudget(verify.PerCaller("ip"), 5, time.Hour))
	if v, err := c2.CheckID(ctx, v.ID, "123456", nil); err != nil || !v.Approved() {
		t.Errorf("CheckID with caller budgets only: %v, %v", v, err)
	}
}

// limiterOnly is a policy store that keeps counters but no records.
type limiterOnly struct{ m *store.Memory }

func (l limiterOnly) Take(ctx context.Context, limits []store.Limit) (store.Taken, error) {
	return l.m.Take(ctx, limits)
}

func (l limiterOnly) Release(ctx context.Context, limits []store.Limit) error {
	return l.m.Release(ctx, limits)
}

// TestCheckBudgetsNeedRecords: a check budget per destination, country or
// prefix cannot protect CheckID with a policy store that keeps no
// records, so New refuses the combination instead of letting CheckID run
// with fewer budgets than Check.
func TestCheckBudgetsNeedRecords(t *testing.T) {
	t.Parallel()
	l := limiterOnly{mustMemoryStore(t)}
	for _, scope := range []verify.Scope{verify.PerDestination, verify.PerCountry, verify.PerPrefix(4)} {
		if _, err := verify.New(fake.MustNew(), verify.WithPolicyStore(l), verify.WithCheckBudget(scope, 5, time.Hour)); err == nil {
			t.Errorf("New with a check budget per %s and a store without records: no error", scope)
		}
	}
	for _, scope := range []verify.Scope{verify.Global, verify.PerCaller("ip")} {
		if _, err := verify.New(fake.MustNew(), verify.WithPolicyStore(l), verify.WithCheckBudget(scope, 5, time.Hour)); err != nil {
			t.Errorf("New with a check budget per %s and a store without records: %v", scope, err)
		}
	}
	if _, err := verify.New(fake.MustNew(), verify.WithPolicyStore(l), verify.WithSendBudget(verify.PerDestination, 5, time.Hour)); err != nil {
		t.Errorf("New with a send budget and a store without records: %v", err)
	}
}

// TestNewRefusesNilProviders: New returns an error, never panics, for a
// nil provider of any kind, including a typed nil pointer such as the one
// selfhosted.New returns beside an error.
func TestNewRefusesNilProviders(t *testing.T) {
	t.Parallel()
	sh, err := selfhosted.New(nil, selfhosted.GenerateKey("k1"))
	if err == nil {
		t.Fatal("selfhosted.New(nil store): no error")
	}
	var nilFake *fake.Fake
	var nilRouter *route.Router
	for name, p := range map[string]provider.Provider{
		"nil":                   nil,
		"typed nil selfhosted":  sh,
		"typed nil fake":        nilFake,
		"typed nil router":      nilRouter,
		"typed nil func":        nilFuncProvider(nil),
		"nil provider embedded": (*counting)(nil),
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("New(%s) panicked: %v", name, r)
				}
			}()
			if c, err := verify.New(p); err == nil || c != nil {
				t.Errorf("New(%s) = %v, %v; want an error", name, c, err)
			}
		}()
	}
}

// nilFuncProvider is a provider whose value can be a nil func.
type nilFuncProvider func()

func (nilFuncProvider) Start(context.Context, provider.StartRequest) (provider.Verification, error) {
	return provider.Verification{}, nil
}

func (nilFuncProvider) Check(context.Context, provider.CheckRequest) (provider.Verification, error) {
	return provider.Verification{}, nil
}

func mustMemoryStore(t *testing.T) *store.Memory {
	t.Helper()
	m, err := store.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRecoverStartRemembersTheTarget: the verification RecoverStart recovers from a
// conflict is one this client knows the target of, so CheckID keeps its
// check budgets instead of refusing it as unknown.
func TestRecoverStartRemembersTheTarget(t *testing.T) {
	t.Parallel()
	synctest.Test(t, checkResumeRemembers)
}

func checkResumeRemembers(t *testing.T) {
	ctx := context.Background()
	p := &conflicting{pending: "REQ-7"}
	c := newClient(t, p, verify.WithCheckBudget(verify.PerDestination, 1, time.Hour))
	if _, err := c.CheckID(ctx, "REQ-7", "000000", nil); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("CheckID before RecoverStart: %v, want ErrNotFound", err)
	}
	if _, err := c.RecoverStart(ctx, "+14155552671", verify.ChannelSMS, nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 2 {
		_, err := c.CheckID(ctx, "REQ-7", "000000", nil)
		got = append(got, outcome(err))
	}
	if diff := cmp.Diff([]string{"ok", "too_many_checks check_budget/destination 1h0m0s"}, got); diff != "" {
		t.Errorf("CheckID after RecoverStart (-want +got):\n%s", diff)
	}
}
