package providertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
)

// broken wraps a fake and breaks one rule of the contract.
type broken struct {
	*fake.Fake
	caps  *provider.Capabilities
	start func(context.Context, provider.StartRequest) (provider.Verification, error)
	check func(context.Context, provider.CheckRequest) (provider.Verification, error)
	fetch func(context.Context, string) (provider.Verification, error)
}

func (b *broken) Capabilities() provider.Capabilities {
	if b.caps != nil {
		return *b.caps
	}
	return b.Fake.Capabilities()
}

func (b *broken) Fetch(ctx context.Context, id string) (provider.Verification, error) {
	if b.fetch != nil {
		return b.fetch(ctx, id)
	}
	return b.Fake.Fetch(ctx, id)
}

// conflictErr is ErrConflict naming the pending verification.
type conflictErr struct{ id string }

func (e conflictErr) Error() string     { return "conflict" }
func (e conflictErr) Unwrap() error     { return provider.ErrConflict }
func (e conflictErr) PendingID() string { return e.id }

// idOnly wraps a fake as a provider that checks by ID only and refuses a
// repeated Start with a conflict, the way Vonage does. It is correct.
func idOnly(f *fake.Fake, pendingID bool) *broken {
	b := &broken{Fake: f, caps: &provider.Capabilities{Channels: []provider.Channel{provider.ChannelSMS}}}
	var mu sync.Mutex
	b.start = func(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
		mu.Lock()
		defer mu.Unlock()
		if id, ok := pending(ctx, f, req.To); ok {
			{
				if pendingID {
					return provider.Verification{}, conflictErr{id}
				}
				return provider.Verification{}, provider.ErrConflict
			}
		}
		return f.Start(ctx, req)
	}
	b.check = func(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
		if req.ID == "" {
			return provider.Verification{}, &fake.Error{Op: fake.OpCheck, Kind: provider.ErrInvalidRequest}
		}
		return f.Check(ctx, req)
	}
	return b
}

// pending returns the ID of the verification pending for to, if any.
func pending(ctx context.Context, f *fake.Fake, to string) (string, bool) {
	m, ok := f.LastMessage(to)
	if !ok {
		return "", false
	}
	_, err := f.Fetch(ctx, m.VerificationID)
	return m.VerificationID, err == nil
}

func (b *broken) Start(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
	if b.start != nil {
		return b.start(ctx, req)
	}
	return b.Fake.Start(ctx, req)
}

func (b *broken) Check(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	if b.check != nil {
		return b.check(ctx, req)
	}
	return b.Fake.Check(ctx, req)
}

// fakeLimits are the fake's default limits.
var fakeLimits = Limits{Validity: 10 * time.Minute, MaxSends: 5, MaxChecks: 5, MinCodeLength: 4, MaxCodeLength: 10}

func harness(p provider.Provider, f *fake.Fake, clock *fake.Clock) *HarnessFuncs {
	return &HarnessFuncs{
		Subject:         p,
		LastCodeFunc:    f.LastCode,
		AdvanceFunc:     clock.Advance,
		ErrorTargetFunc: func() any { return new(*fake.Error) },
		Declared:        fakeLimits,
	}
}

// failures runs every rule against providers made by mk and returns the
// names of the rules that failed, and of those skipped.
func failures(t *testing.T, mk func(*fake.Fake) provider.Provider, opts ...fake.Option) (failed, skipped []string) {
	t.Helper()
	for _, r := range Rules() {
		clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		f := fake.MustNew(append([]fake.Option{fake.WithClock(clock.Now)}, opts...)...)
		h := harness(mk(f), f, clock)
		if r.missing(h) != "" {
			skipped = append(skipped, r.Name)
			continue
		}
		if err := r.run(t.Context(), h); err != nil {
			failed = append(failed, r.Name)
		}
	}
	sort.Strings(failed)
	return failed, skipped
}

func TestSuiteCatchesBrokenProviders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mk   func(*fake.Fake) provider.Provider
		opts []fake.Option
		want []string
		// maybe are rules whose failure depends on how the scheduler
		// interleaves goroutines: they may fail or pass, and are left out
		// of the comparison.
		maybe []string
	}{
		{
			name: "correct fake",
			mk:   func(f *fake.Fake) provider.Provider { return f },
			want: nil,
		},
		{
			name: "approves any well-formed code",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				b.check = func(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
					if req.ID == "" {
						if m, ok := f.LastMessage(req.To); ok && len(req.Code) == len(m.Code) {
							req.Code = m.Code
						}
					} else if v, err := f.Fetch(ctx, req.ID); err == nil {
						if m, ok := f.LastMessage(v.To); ok && len(req.Code) == len(m.Code) {
							req.Code = m.Code
						}
					}
					return f.Check(ctx, req)
				}
				return b
			},
			want: []string{"CheckByID", "CheckByTo", "ConcurrentUse", "ExpiredIsGone", "FetchAfterTooManyChecks", "StartAfterTooManyChecks", "TooManyChecks", "WrongCodeIsPending"},
		},
		{
			name: "forgets the check limit",
			mk:   func(f *fake.Fake) provider.Provider { return f },
			opts: []fake.Option{fake.WithMaxChecks(1000)},
			want: []string{"FetchAfterTooManyChecks", "StartAfterTooManyChecks", "TooManyChecks"},
		},
		{
			name: "forgets the send limit",
			mk:   func(f *fake.Fake) provider.Provider { return f },
			opts: []fake.Option{fake.WithMaxSends(1000)},
			want: []string{"TooManySends"},
		},
		{
			name: "reports a wrong code as an error",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				b.check = func(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
					v, err := f.Check(ctx, req)
					if err == nil && !v.Approved() {
						return v, errors.New("wrong code")
					}
					return v, err
				}
				return b
			},
			want: []string{"CheckByID", "CheckByTo", "ConcurrentUse", "ExpiredIsGone", "FetchAfterTooManyChecks", "StartAfterTooManyChecks", "TooManyChecks", "WrongCodeIsPending"},
		},
		{
			// The suite reaches providers through verify.New, which refuses
			// a done context before it calls the provider.
			name: "ignores the context",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				b.start = func(_ context.Context, req provider.StartRequest) (provider.Verification, error) {
					return f.Start(context.Background(), req)
				}
				return b
			},
			want: nil,
		},
		{
			name: "sends a new code on every start",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				b.start = func(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
					if v, err := f.Check(ctx, provider.CheckRequest{To: req.To, Code: "0000"}); err == nil {
						f.Cancel(ctx, v.ID)
					}
					return f.Start(ctx, req)
				}
				return b
			},
			want: []string{"ExpiresAtIsWindowEnd", "RepeatStartReusesVerification", "TooManySends"},
			// Concurrent Starts catch it only when one Start's Check
			// runs after another's Start has created the verification.
			maybe: []string{"ConcurrentUse"},
		},
		{
			name: "never expires",
			mk:   func(f *fake.Fake) provider.Provider { return f },
			opts: []fake.Option{fake.WithValidity(1000 * time.Hour)},
			want: []string{"ExpiredIsGone", "ExpiresAtIsWindowEnd", "StartAfterTooManyChecks"},
		},
		{
			name: "accepts anything as a target",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				b.start = func(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
					if req.To == "" || req.To[0] != '+' {
						req.To, req.Channel = "+14155559999", provider.ChannelSMS
					}
					return f.Start(ctx, req)
				}
				return b
			},
			// The client refuses malformed targets before the provider
			// sees them; the e-mail the provider rewrites still fails.
			want: []string{"EmailChannel"},
		},
		{
			name: "returns bare sentinels",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				b.check = func(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
					v, err := f.Check(ctx, req)
					if errors.Is(err, provider.ErrNotFound) {
						err = provider.ErrNotFound
					}
					return v, err
				}
				return b
			},
			want: []string{"ErrorsAs"},
		},
		{
			name: "checks by ID only and refuses a repeated start (correct)",
			mk:   func(f *fake.Fake) provider.Provider { return idOnly(f, true) },
			want: nil,
		},
		{
			name: "declares check by To but cannot",
			mk: func(f *fake.Fake) provider.Provider {
				b := idOnly(f, true)
				b.caps.CheckByTo = true
				return b
			},
			want: []string{"ApproveWithoutCode", "ApprovedIsGone", "CanceledIsGone", "CheckByTo", "CheckWithoutStartIsNotFound", "ConcurrentUse", "ExpiredIsGone", "FetchAfterTooManyChecks", "MalformedCodeIsInvalidRequest", "RepeatStartConflicts", "RightCodeApproves", "StartAfterTooManyChecks", "TooManyChecks", "WrongCodeIsPending"},
		},
		{
			name: "refuses a repeated start but sends a code anyway",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f, caps: &provider.Capabilities{CheckByTo: true}}
				b.start = func(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
					_, pending := pending(ctx, f, req.To)
					v, err := f.Start(ctx, req)
					if pending && err == nil {
						return provider.Verification{}, conflictErr{"VE-wrong"}
					}
					return v, err
				}
				return b
			},
			want: []string{"RepeatStartConflicts"},
		},
		{
			name: "re-sends a code after the check limit",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				var mu sync.Mutex
				wrongs := map[string]int{}
				b.check = func(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
					v, err := f.Check(ctx, req)
					if err == nil && !v.Approved() {
						mu.Lock()
						wrongs[v.ID]++
						mu.Unlock()
					}
					return v, err
				}
				b.start = func(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
					v, err := f.Start(ctx, req)
					m, _ := f.LastMessage(req.To)
					mu.Lock()
					spent := wrongs[m.VerificationID] >= fakeLimits.MaxChecks
					mu.Unlock()
					if errors.Is(err, provider.ErrTooManySends) && spent {
						return provider.Verification{ID: m.VerificationID, To: req.To, Status: provider.StatusPending}, nil
					}
					return v, err
				}
				return b
			},
			want: []string{"StartAfterTooManyChecks"},
		},
		{
			name: "fetches a spent verification as pending",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				b.fetch = func(ctx context.Context, id string) (provider.Verification, error) {
					v, err := f.Fetch(ctx, id)
					if errors.Is(err, provider.ErrNotFound) {
						return provider.Verification{ID: id, Status: provider.StatusPending}, nil
					}
					return v, err
				}
				return b
			},
			want: []string{"ApproveWithoutCode", "ApprovedIsGone", "CanceledIsGone", "ExpiredIsGone", "FetchAfterTooManyChecks", "OldIDDoesNotReachNewVerification", "UnknownIDIsNotFound"},
		},
		{
			name: "refuses an ID of another shape as invalid",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				b.check = func(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
					if req.ID != "" && len(req.ID) != 32 { // not the fake's shape
						return provider.Verification{}, &fake.Error{Op: fake.OpCheck, Kind: provider.ErrInvalidRequest}
					}
					return f.Check(ctx, req)
				}
				return b
			},
			want: []string{"UnknownIDIsNotFound"},
		},
		{
			// A provider whose IDs name the target's slot rather than the
			// verification (the self-hosted provider's IDs carry both).
			name: "lets an old ID check the target's current verification",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				var mu sync.Mutex
				toOf := map[string]string{}
				b.start = func(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
					v, err := f.Start(ctx, req)
					if err == nil {
						mu.Lock()
						toOf[v.ID] = req.To
						mu.Unlock()
					}
					return v, err
				}
				b.check = func(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
					v, err := f.Check(ctx, req)
					mu.Lock()
					to := toOf[req.ID]
					mu.Unlock()
					if errors.Is(err, provider.ErrNotFound) && to != "" {
						return f.Check(ctx, provider.CheckRequest{To: to, Code: req.Code})
					}
					return v, err
				}
				return b
			},
			want: []string{"OldIDDoesNotReachNewVerification"},
		},
		{
			name: "reports an ExpiresAt outside the window",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				b.start = func(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
					v, err := f.Start(ctx, req)
					v.ExpiresAt = v.ExpiresAt.Add(time.Hour)
					return v, err
				}
				return b
			},
			want: []string{"ExpiresAtIsWindowEnd"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _ := failures(t, tt.mk, tt.opts...)
			got = slices.DeleteFunc(got, func(r string) bool { return slices.Contains(tt.maybe, r) })
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("failed rules (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSkipsNameTheCapability checks that the rules of a capability the
// provider lacks are skipped, and that the skip names the capability.
func TestSkipsNameTheCapability(t *testing.T) {
	t.Parallel()
	_, skipped := failures(t, func(f *fake.Fake) provider.Provider { return idOnly(f, false) })
	want := []string{"CheckByTo", "RepeatStartReusesVerification", "TooManySends", "CheckWithoutStartIsNotFound", "EmailChannel"}
	if diff := cmp.Diff(want, skipped); diff != "" {
		t.Errorf("skipped rules (-want +got):\n%s", diff)
	}
	_, skipped = failures(t, func(f *fake.Fake) provider.Provider { return f })
	if diff := cmp.Diff([]string{"RepeatStartConflicts"}, skipped); diff != "" {
		t.Errorf("skipped rules for the fake (-want +got):\n%s", diff)
	}
	f := fake.MustNew()
	rec := &recorder{TB: t}
	for _, r := range Rules() {
		if r.Name == "CheckByTo" {
			RunRule(rec, r, harness(idOnly(f, false), f, fake.NewClock(time.Now())))
		}
	}
	if !rec.skipped || !strings.Contains(rec.skipMsg, NeedCheckByTo) || len(rec.msgs) != 0 {
		t.Errorf("RunRule(CheckByTo) on an ID-only provider: skipped %v with %q, errors %q; want a skip naming %s", rec.skipped, rec.skipMsg, rec.msgs, NeedCheckByTo)
	}
}

// TestIncompleteLimitsFail checks that a harness that leaves a limit out
// fails every rule instead of passing with a zero limit.
func TestIncompleteLimitsFail(t *testing.T) {
	t.Parallel()
	f := fake.MustNew()
	h := harness(f, f, fake.NewClock(time.Now()))
	h.Declared.MaxChecks = 0
	if err := Rules()[0].run(t.Context(), h); err == nil || !strings.Contains(err.Error(), "limits") {
		t.Errorf("run with MaxChecks 0 = %v, want an error about the limits", err)
	}
}

// TestFailureNamesRule checks that a failure reported through Run carries
// the rule's text.
func TestFailureNamesRule(t *testing.T) {
	t.Parallel()
	r := Rules()[0]
	rec := &recorder{TB: t}
	f := fake.MustNew()
	RunRule(rec, r, harness(&broken{Fake: f, start: func(context.Context, provider.StartRequest) (provider.Verification, error) {
		return provider.Verification{}, errors.New("boom")
	}}, f, fake.NewClock(time.Now())))
	if len(rec.msgs) != 1 || !strings.Contains(rec.msgs[0], "rule: "+r.Text) || !strings.Contains(rec.msgs[0], "boom") {
		t.Errorf("reported %q, want one message with the error and %q", rec.msgs, "rule: "+r.Text)
	}
}

type recorder struct {
	testing.TB
	msgs    []string
	skipped bool
	skipMsg string
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.skipMsg = true, fmt.Sprintf(format, args...)
}

func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

// noFactors hides the fake's factor methods: a provider without
// provider.FactorProvider.
type noFactors struct{ provider.Provider }

// approvesAll is a factor provider that approves every challenge.
type approvesAll struct{ *fake.Fake }

func (a approvesAll) ChallengeFactor(ctx context.Context, req provider.ChallengeRequest) (provider.Challenge, error) {
	c, err := a.Fake.ChallengeFactor(ctx, req)
	if err == nil {
		c.Status = provider.ChallengeApproved
	}
	return c, err
}

// factorsHarness is the conformance harness of p (made from f), with the
// clock and the factor limits the factors section needs.
func factorsHarness(p provider.Provider, f *fake.Fake, clock *fake.Clock) *HarnessFuncs {
	h := harness(p, f, clock)
	h.NowFunc = clock.Now
	h.DeclaredFactors = FactorLimits{MaxWrong: fake.DefaultFactorMaxChecks, Window: fake.DefaultFactorCheckWindow}
	h.PushDeviceFunc = f.Device
	return h
}

// TestRunRunsFactors checks that Run runs the factors section too, with a
// fresh harness for each of its rules.
func TestRunRunsFactors(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var names []string
	t.Run("suite", func(t *testing.T) {
		Run(t, func(t *testing.T) Harness {
			mu.Lock()
			names = append(names, t.Name())
			mu.Unlock()
			clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 7, 0, time.UTC))
			f := fake.MustNew(fake.WithClock(clock.Now))
			return factorsHarness(f, f, clock)
		})
	})
	factors, push, sna := 0, 0, 0
	for _, n := range names {
		switch {
		case strings.Contains(n, "/Factors/"):
			factors++
		case strings.Contains(n, "/Push/"):
			push++
		case strings.Contains(n, "/SNA/"):
			sna++
		}
	}
	want := len(Rules()) + len(FactorRules()) + len(PushRules()) + len(SNARules())
	if len(names) != want || factors != len(FactorRules()) || push != len(PushRules()) || sna != len(SNARules()) {
		t.Errorf("Run made %d harnesses, %d for factor rules, %d for push rules, %d for SNA rules; want %d, %d, %d and %d", len(names), factors, push, sna,
			want, len(FactorRules()), len(PushRules()), len(SNARules()))
	}
}

// TestFactorSectionThroughRun checks what Run does with the factors
// section: a skip naming the capability for a provider without factors,
// a failure for a broken one, and a failure, not a pass, for a harness
// that does not give what the section needs.
func TestFactorSectionThroughRun(t *testing.T) {
	t.Parallel()
	rule := func(name string) FactorRule {
		for _, r := range FactorRules() {
			if r.Name == name {
				return r
			}
		}
		t.Fatalf("no factor rule %s", name)
		return FactorRule{}
	}
	run := func(r FactorRule, h Harness) *recorder {
		rec := &recorder{TB: t}
		RunFactorRuleOn(rec, r, h)
		return rec
	}
	mk := func() (*fake.Fake, *fake.Clock) {
		clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 7, 0, time.UTC))
		return fake.MustNew(fake.WithClock(clock.Now)), clock
	}
	wrong := rule("ChallengeWrongCodeNotApproved")

	f, clock := mk()
	if rec := run(wrong, factorsHarness(f, f, clock)); rec.skipped || len(rec.msgs) != 0 {
		t.Errorf("the fake: skipped %v, errors %q; want a pass", rec.skipped, rec.msgs)
	}
	f, clock = mk()
	if rec := run(wrong, factorsHarness(noFactors{f}, f, clock)); !rec.skipped || !strings.Contains(rec.skipMsg, NeedFactors) || len(rec.msgs) != 0 {
		t.Errorf("a provider without factors: skipped %v with %q, errors %q; want a skip naming %s", rec.skipped, rec.skipMsg, rec.msgs, NeedFactors)
	}
	f, clock = mk()
	if rec := run(wrong, factorsHarness(approvesAll{f}, f, clock)); len(rec.msgs) != 1 || !strings.Contains(rec.msgs[0], "rule: "+wrong.Text) {
		t.Errorf("a provider approving every challenge: errors %q, want one naming the rule", rec.msgs)
	}
	f, clock = mk()
	h := factorsHarness(f, f, clock)
	h.NowFunc = nil
	if rec := run(wrong, h); len(rec.msgs) != 1 || !strings.Contains(rec.msgs[0], "NowFunc") {
		t.Errorf("a harness without NowFunc: errors %q, want one naming NowFunc", rec.msgs)
	}
	f, clock = mk()
	h = factorsHarness(f, f, clock)
	h.DeclaredFactors.Window = 0
	if rec := run(wrong, h); len(rec.msgs) != 1 || !strings.Contains(rec.msgs[0], "factor limits") {
		t.Errorf("a harness with incomplete factor limits: errors %q, want one about the factor limits", rec.msgs)
	}
}

// eightDigits is the fake with other TOTP defaults: 8-digit codes.
type eightDigits struct{ *fake.Fake }

func (p eightDigits) EnrollFactor(ctx context.Context, req provider.EnrollRequest) (provider.Enrollment, error) {
	if req.TOTP.Digits == 0 {
		req.TOTP.Digits = 8
	}
	return p.Fake.EnrollFactor(ctx, req)
}

// TestTOTPDefaultsAreDeclared checks that the enrolment rule holds a
// provider to the TOTP defaults its harness declares, not to any vendor's:
// 8-digit defaults pass when declared, and a declaration the provider does
// not keep fails.
func TestTOTPDefaultsAreDeclared(t *testing.T) {
	t.Parallel()
	var rule FactorRule
	for _, r := range FactorRules() {
		if r.Name == "EnrollIsUnverified" {
			rule = r
		}
	}
	for _, tc := range []struct {
		declared provider.TOTPConfig
		fail     bool
	}{
		{provider.TOTPConfig{Digits: 8, Period: 30 * time.Second, Skew: 1, Algorithm: provider.AlgSHA1}, false},
		{provider.TOTPConfig{}, false}, // undeclared: any complete configuration
		{provider.TOTPConfig{Digits: 6, Period: 30 * time.Second, Skew: 1, Algorithm: provider.AlgSHA1}, true},
	} {
		clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 7, 0, time.UTC))
		f := fake.MustNew(fake.WithClock(clock.Now))
		h := factorsHarness(eightDigits{f}, f, clock)
		h.DeclaredFactors.TOTP = tc.declared
		rec := &recorder{TB: t}
		RunFactorRuleOn(rec, rule, h)
		if failed := len(rec.msgs) > 0; failed != tc.fail || rec.skipped {
			t.Errorf("declared %+v: failed = %v, want %v (%q)", tc.declared, failed, tc.fail, rec.msgs)
		}
	}
}

// pushBroken wraps the fake's device side with one flaw each.
type pushBroken struct {
	provider.PushDeviceAPI
	f    *fake.Fake
	flaw string
}

// AnswerDeviceChallenge of "approves-anything" reports a refused answer
// as an approval, as a server that checked no signature would.
func (b pushBroken) AnswerDeviceChallenge(ctx context.Context, auth, identity, id, payload string) (provider.Challenge, error) {
	c, err := b.PushDeviceAPI.AnswerDeviceChallenge(ctx, auth, identity, id, payload)
	if err != nil && b.flaw == "approves-anything" {
		got, ferr := b.f.FetchChallenge(ctx, identity, id)
		if ferr == nil {
			got.Status = provider.ChallengeApproved
			return got, nil
		}
	}
	return c, err
}

// ListDeviceChallenges of "no-time" drops the server's time from a
// refusal.
func (b pushBroken) ListDeviceChallenges(ctx context.Context, auth, identity, factorID string, status provider.ChallengeStatus) ([]provider.DeviceChallenge, error) {
	l, err := b.PushDeviceAPI.ListDeviceChallenges(ctx, auth, identity, factorID, status)
	if err != nil && b.flaw == "no-time" {
		return nil, fmt.Errorf("refused: %w", provider.ErrUnauthorized)
	}
	return l, err
}

// UpdateDeviceFactor of "update-noop" answers success and changes
// nothing.
func (b pushBroken) UpdateDeviceFactor(ctx context.Context, auth, identity, factorID string, req provider.DeviceFactorUpdate) (provider.Factor, error) {
	if b.flaw == "update-noop" {
		return b.f.FetchFactor(ctx, identity, factorID)
	}
	return b.PushDeviceAPI.UpdateDeviceFactor(ctx, auth, identity, factorID, req)
}

// noPush hides the fake's push methods: factors, no push.
type noPush struct {
	provider.Provider
	provider.FactorProvider
}

// TestPushSectionCatchesBrokenProviders runs the push rules against a
// device side with one flaw each, and checks which rules fail; and that a
// provider without push is skipped, naming the capability, and a harness
// without the device side fails.
func TestPushSectionCatchesBrokenProviders(t *testing.T) {
	t.Parallel()
	run := func(flaw string, mk func(f *fake.Fake) provider.Provider, noDevice bool) (failed, skipped []string) {
		t.Helper()
		for _, r := range PushRules() {
			clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 7, 0, time.UTC))
			f := fake.MustNew(fake.WithClock(clock.Now))
			h := factorsHarness(mk(f), f, clock)
			h.PushDeviceFunc = func() provider.PushDeviceAPI { return pushBroken{PushDeviceAPI: f.Device(), f: f, flaw: flaw} }
			if noDevice {
				h.PushDeviceFunc = nil
			}
			rec := &recorder{TB: t}
			RunPushRuleOn(rec, r, h)
			if len(rec.msgs) > 0 {
				failed = append(failed, r.Name)
			}
			if rec.skipped {
				skipped = append(skipped, r.Name)
				if !strings.Contains(rec.skipMsg, NeedPush) || noDevice && !strings.Contains(rec.skipMsg, "no device side") {
					t.Errorf("skip message %q does not name %s", rec.skipMsg, NeedPush)
				}
			}
		}
		return failed, skipped
	}
	self := func(f *fake.Fake) provider.Provider { return f }
	tests := []struct {
		name, flaw string
		mk         func(*fake.Fake) provider.Provider
		noDevice   bool
		failed     []string
		skipped    int
	}{
		{"correct", "", self, false, nil, 0},
		{"approves anything", "approves-anything", self, false, []string{"OnlyTheDeviceKeyAnswers", "ReplayRefused", "WrongSignaturesLockOut", "ChallengeExpires", "SecretsNeverPrinted"}, 0},
		{"no server time", "no-time", self, false, []string{"ClockCorrection"}, 0},
		{"updates nothing", "update-noop", self, false, []string{"DeviceUpdatesItsFactor"}, 0},
		{"no device side", "", self, true, nil, len(PushRules())},
		{"no push", "", func(f *fake.Fake) provider.Provider { return noPush{f, f} }, false, nil, len(PushRules())},
	}
	for _, tt := range tests {
		failed, skipped := run(tt.flaw, tt.mk, tt.noDevice)
		if diff := cmp.Diff(tt.failed, failed); diff != "" {
			t.Errorf("%s: failed rules (-want +got):\n%s", tt.name, diff)
		}
		if len(skipped) != tt.skipped {
			t.Errorf("%s: skipped %v, want %d", tt.name, skipped, tt.skipped)
		}
	}
}
