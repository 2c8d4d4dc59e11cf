package fake_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/provider/providertest"
)

type factorHarness struct {
	f     *fake.Fake
	clock *fake.Clock
	lim   providertest.FactorLimits
}

func (h *factorHarness) Factors() provider.FactorProvider { return h.f }
func (h *factorHarness) Now() time.Time                   { return h.clock.Now() }
func (h *factorHarness) Advance(d time.Duration)          { h.clock.Advance(d) }
func (h *factorHarness) ErrorTarget() any                 { return new(*fake.Error) }
func (h *factorHarness) FactorLimits() providertest.FactorLimits {
	return h.lim
}

var start = time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC)

// The factors section of the conformance suite runs with the rest of it
// (TestConformance, TestConformanceCustomLimits in fake_test.go); this runs
// it alone through RunFactors, as a provider of factors only would.
func TestConformance_Factors(t *testing.T) {
	t.Parallel()
	providertest.RunFactors(t, func(t *testing.T) providertest.FactorHarness {
		c := fake.NewClock(start)
		return &factorHarness{f: fake.MustNew(fake.WithClock(c.Now)), clock: c, lim: providertest.DefaultFactorLimits()}
	})
}

// A harness whose provider offers no factors: the section is skipped.
type noFactors struct{ *factorHarness }

func (noFactors) Factors() provider.FactorProvider { return nil }

func TestConformance_FactorsSkipWithoutCapability(t *testing.T) {
	t.Parallel()
	r := providertest.FactorRules()[0]
	skipped := false
	t.Run("skip", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		providertest.RunFactorRule(t, r, noFactors{&factorHarness{}})
	})
	if !skipped {
		t.Error("a harness without factors was not skipped")
	}
}

func enrollT(t *testing.T, f *fake.Fake, id string) provider.Enrollment {
	t.Helper()
	e, err := f.EnrollFactor(context.Background(), provider.EnrollRequest{Identity: id, Type: provider.FactorTOTP, FriendlyName: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestFake_FactorSecretsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := fake.MustNew(), fake.MustNew()
	s1, s2 := enrollT(t, a, "user-00000001").Secret, enrollT(t, b, "user-00000001").Secret
	if s1 != s2 {
		t.Error("two fakes with the default seed gave different first secrets")
	}
	if s3 := enrollT(t, a, "user-00000001").Secret; s3 == s1 {
		t.Error("the second secret equals the first")
	}
	if s4 := enrollT(t, fake.MustNew(fake.WithSeed(7)), "user-00000001").Secret; s4 == s1 {
		t.Error("another seed gave the same secret")
	}
	r1, r2 := enrollT(t, fake.MustNew(fake.WithRandomCodes()), "user-00000001").Secret, enrollT(t, fake.MustNew(fake.WithRandomCodes()), "user-00000001").Secret
	if r1 == r2 || r1 == s1 {
		t.Error("random secrets repeat")
	}
	if len(s1) != 32 {
		t.Errorf("secret of %d Base32 characters, want 32 (160 bits)", len(s1))
	}
}

func TestFake_FactorCodeAndIssuer(t *testing.T) {
	t.Parallel()
	c := fake.NewClock(start)
	f := fake.MustNew(fake.WithClock(c.Now), fake.WithFactorIssuer("Acme"))
	e := enrollT(t, f, "user-00000001")
	if !strings.Contains(e.URI, "issuer=Acme") || !strings.HasPrefix(e.URI, "otpauth://totp/Acme:phone?") {
		t.Errorf("URI does not name the issuer and account: %s", strings.ReplaceAll(e.URI, e.Secret, "SECRET"))
	}
	code, ok := f.FactorCode("user-00000001", e.ID)
	if !ok {
		t.Fatal("FactorCode: no factor")
	}
	fa, err := f.ConfirmFactor(context.Background(), provider.ConfirmRequest{Identity: "user-00000001", FactorID: e.ID, Code: code})
	if err != nil || !fa.Verified() {
		t.Fatalf("confirm with FactorCode: %v %v", fa, err)
	}
	if _, ok := f.FactorCode("user-00000002", e.ID); ok {
		t.Error("FactorCode answered for another identity")
	}
}

func TestFake_FactorFaultsAndEvents(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var events []fake.FactorEvent
	c := fake.NewClock(start)
	f := fake.MustNew(fake.WithClock(c.Now), fake.WithOnFactor(func(_ context.Context, e fake.FactorEvent) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}))
	ctx := context.Background()
	const id = "user-00000001"
	e := enrollT(t, f, id)
	code, _ := f.FactorCode(id, e.ID)

	// A fault before the effect: nothing happens.
	f.InjectFault(fake.Fault{Op: fake.OpConfirmFactor, To: id, Err: provider.ErrUnavailable})
	if _, err := f.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: id, FactorID: e.ID, Code: code}); !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("injected fault: %v", err)
	}
	if fa, _ := f.FetchFactor(ctx, id, e.ID); fa.Verified() {
		t.Fatal("an unprocessed fault verified the factor")
	}
	// A processed fault: the effect happens, the answer is lost.
	f.InjectFault(fake.Fault{Op: fake.OpConfirmFactor, Err: provider.ErrOutcomeUnknown, Processed: true})
	if _, err := f.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: id, FactorID: e.ID, Code: code}); !errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Fatalf("processed fault: %v", err)
	}
	if fa, _ := f.FetchFactor(ctx, id, e.ID); !fa.Verified() {
		t.Fatal("a processed fault did not verify the factor")
	}
	// A fault for another identity does not match.
	f.InjectFault(fake.Fault{Op: fake.OpFetchFactor, To: "someone-else-1"})
	if _, err := f.FetchFactor(ctx, id, e.ID); err != nil {
		t.Fatalf("fault for another identity hit: %v", err)
	}
	f.ClearFaults()

	mu.Lock()
	defer mu.Unlock()
	var ops []string
	for _, ev := range events {
		ops = append(ops, string(ev.Op))
		if s := fmt.Sprintf("%+v", ev); strings.Contains(s, code) || strings.Contains(s, e.Secret) {
			t.Errorf("event %s reveals the code or secret", ev.Op)
		}
	}
	want := []string{"enroll factor", "confirm factor", "fetch factor", "confirm factor", "fetch factor", "fetch factor"}
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestFake_FactorOptionsValidate(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]fake.Option{
		"limits 0":     fake.WithFactorLimits(0, time.Minute),
		"window 0":     fake.WithFactorLimits(5, 0),
		"issuer empty": fake.WithFactorIssuer(""),
		"nil hook":     fake.WithOnFactor(nil),
	} {
		if _, err := fake.New(opt); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

const maxFactors = 20 // per identity

func TestFake_FactorBounds(t *testing.T) {
	t.Parallel()
	f := fake.MustNew()
	ctx := context.Background()
	for range maxFactors {
		enrollT(t, f, "user-00000001")
	}
	_, err := f.EnrollFactor(ctx, provider.EnrollRequest{Identity: "user-00000001", Type: provider.FactorTOTP, FriendlyName: "one more"})
	if !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("factor %d: %v, want ErrInvalidRequest", maxFactors+1, err)
	}
	list, _ := f.ListFactors(ctx, "user-00000001")
	if len(list) != maxFactors {
		t.Errorf("%d factors held", len(list))
	}
	if err := f.DeleteFactor(ctx, "user-00000001", list[0].ID); err != nil {
		t.Fatal(err)
	}
	enrollT(t, f, "user-00000001") // room again
}

// factorIDs enrols, confirms and challenges a factor on f and returns the
// factor and challenge IDs and a verification ID.
func factorIDs(t *testing.T, f *fake.Fake, c *fake.Clock) (factor, challenge, verification string) {
	t.Helper()
	ctx := t.Context()
	const user = "user-0001-ids"
	e := enrollT(t, f, user)
	code, _ := f.FactorCode(user, e.ID)
	if _, err := f.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: user, FactorID: e.ID, Code: code}); err != nil {
		t.Fatal(err)
	}
	c.Advance(30 * time.Second)
	code, _ = f.FactorCode(user, e.ID)
	ch, err := f.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: user, FactorID: e.ID, Code: code})
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	return e.ID, ch.ID, v.ID
}

func isHex32(s string) bool {
	return len(s) == 32 && strings.Trim(s, "0123456789abcdef") == ""
}

// TestFactorIDsOpaque: the fake speaks no vendor's vocabulary, so its
// factor and challenge IDs are opaque, like its verification IDs, and no
// two are equal.
func TestFactorIDsOpaque(t *testing.T) {
	t.Parallel()
	c := fake.NewClock(start)
	factor, challenge, verification := factorIDs(t, fake.MustNew(fake.WithClock(c.Now)), c)
	seen := map[string]bool{}
	for _, id := range []string{factor, challenge, verification} {
		if !isHex32(id) {
			t.Errorf("ID %q: want 32 hex digits and no vendor prefix", id)
		}
		if seen[id] {
			t.Errorf("ID %q issued twice (factor %s, challenge %s, verification %s)", id, factor, challenge, verification)
		}
		seen[id] = true
	}
}
