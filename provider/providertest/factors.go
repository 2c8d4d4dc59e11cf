package providertest

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// FactorHarness gives the factors section of the suite a fresh provider of
// factors and the means to observe it. The suite computes codes itself from
// the secret the enrolment returns (RFC 6238, as an authenticator app
// does), reading the time from Now.
type FactorHarness interface {
	// Factors returns the provider under test, or nil when it does not
	// offer factors (the section is then skipped, visibly). Every harness
	// must have its own state.
	Factors() provider.FactorProvider
	// Now returns the provider's current time.
	Now() time.Time
	// Advance moves the provider's clock forward by d.
	Advance(d time.Duration)
	// ErrorTarget returns a pointer to a variable of the provider's own
	// error type, for errors.As.
	ErrorTarget() any
}

// FactorLimits are the provider's factor limits, as the suite expects them.
type FactorLimits struct {
	// MaxWrong is how many wrong codes a factor accepts in Window before
	// the next code fails with ErrTooManyChecks.
	MaxWrong int
	// Window is how long the wrong-code count lasts from the first wrong
	// code.
	Window time.Duration
	// TOTP is the configuration the provider gives a factor enrolled
	// without one (its defaults, every field set). Zero means the harness
	// does not say: the suite then checks only that every field is set
	// and in range.
	TOTP provider.TOTPConfig
}

// DefaultFactorLimits returns 5 wrong codes per 10 minutes and no declared
// TOTP defaults, for harnesses that declare nothing: the limits of the
// fake with its defaults.
func DefaultFactorLimits() FactorLimits { return FactorLimits{MaxWrong: 5, Window: 10 * time.Minute} }

// FactorLimitsHarness is implemented by harnesses whose provider has other
// limits than DefaultFactorLimits(), for RunFactors. (Run, through
// RunFactorRuleOn, requires the limits instead of assuming them.)
type FactorLimitsHarness interface {
	FactorHarness
	// FactorLimits returns the provider's factor limits.
	FactorLimits() FactorLimits
}

// FactorRule is one rule of the factor contract.
type FactorRule struct {
	// Name is the subtest's name.
	Name string
	// Text states the rule.
	Text string

	check func(context.Context, FactorHarness, provider.FactorProvider, FactorLimits) error
}

// FactorRules returns the rules of the factors section.
func FactorRules() []FactorRule { return append([]FactorRule(nil), factorRules...) }

// RunFactors runs the factors section alone: one subtest per rule, each
// with a fresh harness. When the provider does not offer
// provider.FactorProvider every subtest is skipped with a message saying
// so. [Run] runs the section too, for a provider that implements
// provider.FactorProvider; RunFactors is for a harness that only has
// factors to offer, or a second run in another setting.
func RunFactors(t *testing.T, newHarness func(t *testing.T) FactorHarness) {
	t.Helper()
	for _, r := range factorRules {
		t.Run("Factors/"+r.Name, func(t *testing.T) {
			RunFactorRule(t, r, newHarness(t))
		})
	}
}

// RunFactorRule checks one rule against h.
func RunFactorRule(t testing.TB, r FactorRule, h FactorHarness) {
	t.Helper()
	fp := h.Factors()
	if fp == nil {
		t.Skip("the provider does not offer factors (provider.FactorProvider): factor rules skipped")
	}
	lim := DefaultFactorLimits()
	if lh, ok := h.(FactorLimitsHarness); ok {
		lim = lh.FactorLimits()
	}
	var p provider.Provider
	if hp, ok := fp.(provider.Provider); ok {
		p = hp
	}
	via, err := factorsViaClient(p, fp)
	if err != nil {
		t.Errorf("verify.New: %v", err)
		return
	}
	if err := r.check(t.Context(), h, via, lim); err != nil {
		t.Errorf("%v\nrule: %s", err, r.Text)
	}
}

// RunFactorRuleOn checks one factor rule against the provider of a
// conformance [Harness], as [Run] does for every factor rule. It skips t,
// naming the capability, when the provider does not implement
// provider.FactorProvider. Otherwise h must also have the methods
// Now() time.Time and FactorLimits() FactorLimits ([HarnessFuncs] has them,
// from NowFunc and DeclaredFactors), and the limits are required.
func RunFactorRuleOn(t testing.TB, r FactorRule, h Harness) {
	t.Helper()
	p := h.Provider()
	fp, ok := p.(provider.FactorProvider)
	if !ok {
		t.Skipf("rule Factors/%s needs %s, which the provider does not implement", r.Name, NeedFactors)
		return
	}
	fh, err := factorHarnessOf(h, fp)
	if err != nil {
		t.Errorf("%v\nrule: %s", err, r.Text)
		return
	}
	via, err := factorsViaClient(p, fp)
	if err != nil {
		t.Errorf("verify.New: %v", err)
		return
	}
	if err := r.check(t.Context(), fh, via, fh.lim); err != nil {
		t.Errorf("%v\nrule: %s", err, r.Text)
	}
}

// harnessFactors is the FactorHarness of a conformance Harness whose
// provider offers factors.
type harnessFactors struct {
	Harness
	fp  provider.FactorProvider
	now func() time.Time
	lim FactorLimits
}

func (h *harnessFactors) Factors() provider.FactorProvider { return h.fp }
func (h *harnessFactors) Now() time.Time                   { return h.now() }
func (h *harnessFactors) FactorLimits() FactorLimits       { return h.lim }

// factorHarnessOf adapts h, or says what it lacks.
func factorHarnessOf(h Harness, fp provider.FactorProvider) (*harnessFactors, error) {
	const offers = "providertest: the provider offers factors (provider.FactorProvider), so the harness must "
	nower, ok := h.(interface{ Now() time.Time })
	if hf, isFuncs := h.(*HarnessFuncs); !ok || isFuncs && hf.NowFunc == nil {
		return nil, errors.New(offers + "give its clock (HarnessFuncs.NowFunc, or a Now() time.Time method)")
	}
	lh, ok := h.(interface{ FactorLimits() FactorLimits })
	if !ok {
		return nil, errors.New(offers + "declare its factor limits (HarnessFuncs.DeclaredFactors, or a FactorLimits() FactorLimits method)")
	}
	lim := lh.FactorLimits()
	if lim.MaxWrong < 1 || lim.Window <= 0 {
		return nil, fmt.Errorf(offers+"declare its factor limits: %+v is incomplete, every field is required", lim)
	}
	return &harnessFactors{Harness: h, fp: fp, now: nower.Now, lim: lim}, nil
}

const (
	identity  = "user-0001-alpha"
	identity2 = "user-0002-bravo"
	unknownID = "YF00000000000000000000000000000000"
	foreignID = "0000000000000000000000000000000f" // another provider's shape
)

var factorRules = []FactorRule{
	{"EnrollIsUnverified", "EnrollFactor returns an unverified TOTP factor with an ID, a configuration with every field set (the provider's defaults, as its harness declares them), and — this once — a Base32 secret of at least 128 bits and an otpauth://totp/ URI carrying it.", checkEnroll},
	{"SecretNeverPrinted", "No way of printing an enrolment, a request or an error reveals the secret, the URI or a code; fetch and list return no secret.", checkSecretNeverPrinted},
	{"ConfirmWrongThenRight", "ConfirmFactor with a wrong code leaves the factor unverified with no error; the right code verifies it.", checkConfirm},
	{"ChallengeRightCodeApproves", "A challenge with the current code of a verified factor is approved, with its ID, factor and times set.", checkChallengeRight},
	{"ChallengeWrongCodeNotApproved", "A challenge with a wrong code is not approved and is not an error.", checkChallengeWrong},
	{"ReplayRefused", "A code approves at most once: the same code again, or a code of an earlier time step, is not approved (RFC 6238 §5.2), including the code that confirmed the factor.", checkReplay},
	{"ConcurrentReplayApprovesOnce", "Concurrent challenges with the same right code approve exactly once; the others are not approved and are not errors (a replay is not a guess and does not count against the wrong-code limit).", checkConcurrentReplay},
	{"SkewFollowsConfig", "Codes of the time steps within the factor's skew are accepted and others are not; skew 0 accepts only the current step.", checkSkew},
	{"ConfigHonoured", "A factor enrolled with 8 digits, a 60 s step and sha256 reports that configuration and accepts the codes it defines.", checkConfig},
	{"TooManyWrongCodes", "After the allowed wrong codes the next code, even right, fails with ErrTooManyChecks; once the window ends the right code works again.", checkTooManyWrong},
	{"UnverifiedCannotBeChallenged", "A challenge of an unverified factor fails with ErrInvalidRequest.", checkUnverifiedChallenge},
	{"UnknownIDsNotFound", "Fetch, confirm, challenge and delete of an unknown factor, or of another identity's factor, fail with ErrNotFound; an unknown challenge too.", checkUnknownIDs},
	{"DeletedFactorIsGone", "A deleted factor is gone: fetch, challenge and delete fail with ErrNotFound, list omits it, and its codes no longer work.", checkDeletedFactor},
	{"DeleteIdentityDeletesAll", "Deleting an identity deletes all its factors.", checkDeleteIdentity},
	{"ListFactors", "ListFactors returns the identity's factors, oldest first, and only them; an unknown identity has none.", checkListFactors},
	{"FetchChallenge", "FetchChallenge returns a challenge as ChallengeFactor reported it.", checkFetchChallenge},
	{"InvalidInputIsInvalidRequest", "A malformed identity, friendly name, configuration or code fails with ErrInvalidRequest before anything happens.", checkFactorInvalid},
	{"CanceledContext", "A canceled context returns the context's error.", checkFactorCanceled},
	{"ConcurrentUse", "Factor operations are safe for concurrent use (run with -race).", checkFactorConcurrent},
	{"ErrorsAs", "errors.As reaches the provider's own error type from a factor error.", checkFactorErrorsAs},
}

// --- an independent RFC 6238 implementation, the suite's oracle ---

func totpCode(secret string, cfg provider.TOTPConfig, t time.Time, stepOffset int64) (string, error) {
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		return "", fmt.Errorf("the secret is not Base32: %v", err)
	}
	if cfg.Digits < 1 || cfg.Digits > 9 || cfg.Period < time.Second {
		return "", fmt.Errorf("the factor's configuration %+v is not complete (the provider must report every field)", cfg)
	}
	var h func() hash.Hash
	switch cfg.Algorithm {
	case provider.AlgSHA256:
		h = sha256.New
	case provider.AlgSHA512:
		h = sha512.New
	default:
		h = sha1.New
	}
	period := int64(cfg.Period / time.Second)
	counter := t.Unix()/period + stepOffset
	mac := hmac.New(h, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0xf
	n := binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff
	mod := uint32(1)
	for range cfg.Digits {
		mod *= 10
	}
	s := strconv.FormatUint(uint64(n%mod), 10)
	return strings.Repeat("0", cfg.Digits-len(s)) + s, nil
}

// wrongCode returns a code of the same length that is none of the codes
// accepted around now.
func wrongCode(secret string, cfg provider.TOTPConfig, now time.Time) string {
	if cfg.Digits < 1 {
		return "000000" // an incomplete configuration: totpCode reports it
	}
	bad := map[string]bool{}
	for o := int64(-3); o <= 3; o++ {
		c, _ := totpCode(secret, cfg, now, o)
		bad[c] = true
	}
	for i := 0; ; i++ {
		c := strconv.Itoa(i)
		c = strings.Repeat("0", cfg.Digits-len(c)) + c
		if !bad[c] {
			return c
		}
	}
}

// enroll creates a factor with the defaults.
func enroll(ctx context.Context, fp provider.FactorProvider, id, name string) (provider.Enrollment, error) {
	e, err := fp.EnrollFactor(ctx, provider.EnrollRequest{Identity: id, Type: provider.FactorTOTP, FriendlyName: name})
	if err != nil {
		return e, fmt.Errorf("EnrollFactor(%s): unexpected error: %w", id, err)
	}
	return e, nil
}

// verified enrols a factor and confirms it, then advances the clock one
// step so that the next code is fresh.
func verified(ctx context.Context, h FactorHarness, fp provider.FactorProvider, id string) (provider.Enrollment, error) {
	e, err := enroll(ctx, fp, id, "phone")
	if err != nil {
		return e, err
	}
	code, err := totpCode(e.Secret, e.TOTP, h.Now(), 0)
	if err != nil {
		return e, err
	}
	f, err := fp.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: id, FactorID: e.ID, Code: code})
	if err != nil {
		return e, fmt.Errorf("ConfirmFactor with the right code: unexpected error: %w", err)
	}
	if f.Status != provider.FactorVerified {
		return e, fmt.Errorf("ConfirmFactor with the right code: status %q, want verified", f.Status)
	}
	h.Advance(e.TOTP.Period)
	return e, nil
}

func challenge(ctx context.Context, h FactorHarness, fp provider.FactorProvider, e provider.Enrollment, offset int64) (provider.Challenge, error) {
	code, err := totpCode(e.Secret, e.TOTP, h.Now(), offset)
	if err != nil {
		return provider.Challenge{}, err
	}
	return fp.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: e.Identity, FactorID: e.ID, Code: code})
}

func wantApproved(what string, c provider.Challenge, err error, want bool) error {
	if err != nil {
		return fmt.Errorf("%s: unexpected error: %w", what, err)
	}
	if c.Approved() != want {
		return fmt.Errorf("%s: approved = %v (status %q), want %v", what, c.Approved(), c.Status, want)
	}
	return nil
}

func checkEnroll(ctx context.Context, h FactorHarness, fp provider.FactorProvider, lim FactorLimits) error {
	e, err := enroll(ctx, fp, identity, "alice-phone")
	if err != nil {
		return err
	}
	want := lim.TOTP
	if want == (provider.TOTPConfig{}) {
		want = e.TOTP // undeclared: any complete configuration in range
	}
	switch {
	case e.TOTP.Digits == 0 || e.TOTP.Period == 0 || e.TOTP.Algorithm == "" || e.TOTP.Validate() != nil:
		return fmt.Errorf("EnrollFactor: config %+v, want every field set and in range", e.TOTP)
	case e.ID == "":
		return errors.New("EnrollFactor: empty factor ID")
	case e.Status != provider.FactorUnverified:
		return fmt.Errorf("EnrollFactor: status %q, want unverified", e.Status)
	case e.Type != provider.FactorTOTP:
		return fmt.Errorf("EnrollFactor: type %q, want totp", e.Type)
	case e.Identity != identity:
		return fmt.Errorf("EnrollFactor: identity %q, want %q", e.Identity, identity)
	case e.FriendlyName != "alice-phone":
		return fmt.Errorf("EnrollFactor: friendly name %q", e.FriendlyName)
	case e.TOTP != want:
		return fmt.Errorf("EnrollFactor: config %+v, want %+v", e.TOTP, want)
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(e.Secret, "=")))
	if err != nil || len(key) < 16 {
		return fmt.Errorf("EnrollFactor: the secret is not Base32 of at least 16 bytes (%d bytes, %v)", len(key), err)
	}
	u, err := url.Parse(e.URI)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		return errors.New("EnrollFactor: URI is not otpauth://totp/")
	}
	q := u.Query()
	if !strings.EqualFold(q.Get("secret"), strings.TrimRight(e.Secret, "=")) {
		return errors.New("EnrollFactor: the URI's secret parameter is not the factor's secret")
	}
	if !strings.Contains(u.Path, "alice-phone") {
		return errors.New("EnrollFactor: the URI's account name is not the friendly name")
	}
	f, err := fp.FetchFactor(ctx, identity, e.ID)
	if err != nil {
		return fmt.Errorf("FetchFactor after enrol: %w", err)
	}
	if f.Status != provider.FactorUnverified || f.ID != e.ID {
		return fmt.Errorf("FetchFactor after enrol: %v", f)
	}
	return nil
}

func checkSecretNeverPrinted(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	e, err := enroll(ctx, fp, identity, "phone")
	if err != nil {
		return err
	}
	code, _ := totpCode(e.Secret, e.TOTP, h.Now(), 0)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, v := range []any{e, &e, provider.ConfirmRequest{Code: code}, provider.ChallengeRequest{Code: code}, provider.EnrollRequest{Secret: e.Secret}} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, e.Secret) || strings.Contains(out, code) || strings.Contains(strings.ToLower(out), strings.ToLower(e.Secret[:16])) {
				return fmt.Errorf("fmt %s of %T reveals the secret or the code", verb, v)
			}
		}
	}
	f, err := fp.FetchFactor(ctx, identity, e.ID)
	if err != nil {
		return fmt.Errorf("FetchFactor: %w", err)
	}
	if s := fmt.Sprintf("%+v %#v", f, f.Detail); strings.Contains(s, e.Secret) {
		return errors.New("FetchFactor returns the secret")
	}
	list, err := fp.ListFactors(ctx, identity)
	if err != nil {
		return fmt.Errorf("ListFactors: %w", err)
	}
	for _, f := range list {
		if s := fmt.Sprintf("%+v %#v", f, f.Detail); strings.Contains(s, e.Secret) {
			return errors.New("ListFactors returns the secret")
		}
	}
	// An error caused by a code does not quote it.
	_, err = fp.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: code})
	if err == nil {
		return errors.New("ChallengeFactor of an unverified factor: no error")
	}
	if strings.Contains(err.Error(), code) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), code) {
		return errors.New("an error reveals the code")
	}
	return nil
}

func checkConfirm(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	e, err := enroll(ctx, fp, identity, "phone")
	if err != nil {
		return err
	}
	f, err := fp.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: identity, FactorID: e.ID, Code: wrongCode(e.Secret, e.TOTP, h.Now())})
	if err != nil {
		return fmt.Errorf("ConfirmFactor with a wrong code: unexpected error: %w", err)
	}
	if f.Status != provider.FactorUnverified {
		return fmt.Errorf("ConfirmFactor with a wrong code: status %q, want unverified", f.Status)
	}
	code, _ := totpCode(e.Secret, e.TOTP, h.Now(), 0)
	f, err = fp.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: identity, FactorID: e.ID, Code: code})
	if err != nil {
		return fmt.Errorf("ConfirmFactor with the right code: unexpected error: %w", err)
	}
	if f.Status != provider.FactorVerified {
		return fmt.Errorf("ConfirmFactor with the right code: status %q, want verified", f.Status)
	}
	f, err = fp.FetchFactor(ctx, identity, e.ID)
	if err != nil || f.Status != provider.FactorVerified {
		return fmt.Errorf("FetchFactor after confirming: %v, %v; want verified", f.Status, err)
	}
	return nil
}

func checkChallengeRight(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	e, err := verified(ctx, h, fp, identity)
	if err != nil {
		return err
	}
	c, err := challenge(ctx, h, fp, e, 0)
	if err := wantApproved("ChallengeFactor with the right code", c, err, true); err != nil {
		return err
	}
	if c.ID == "" || c.FactorID != e.ID || c.CreatedAt.IsZero() {
		return fmt.Errorf("ChallengeFactor: challenge %v lacks its ID, factor ID or creation time", c)
	}
	return nil
}

func checkChallengeWrong(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	e, err := verified(ctx, h, fp, identity)
	if err != nil {
		return err
	}
	c, err := fp.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: wrongCode(e.Secret, e.TOTP, h.Now())})
	if err := wantApproved("ChallengeFactor with a wrong code", c, err, false); err != nil {
		return err
	}
	c, err = challenge(ctx, h, fp, e, 0)
	return wantApproved("ChallengeFactor with the right code after a wrong one", c, err, true)
}

func checkReplay(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	e, err := enroll(ctx, fp, identity, "phone")
	if err != nil {
		return err
	}
	code, _ := totpCode(e.Secret, e.TOTP, h.Now(), 0)
	if _, err := fp.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: identity, FactorID: e.ID, Code: code}); err != nil {
		return fmt.Errorf("ConfirmFactor: %w", err)
	}
	c, err := fp.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: code})
	if err := wantApproved("ChallengeFactor with the code that confirmed the factor", c, err, false); err != nil {
		return err
	}
	h.Advance(e.TOTP.Period)
	c, err = challenge(ctx, h, fp, e, 0)
	if err := wantApproved("ChallengeFactor with the next step's code", c, err, true); err != nil {
		return err
	}
	c, err = challenge(ctx, h, fp, e, 0)
	if err := wantApproved("ChallengeFactor with the same code again", c, err, false); err != nil {
		return err
	}
	c, err = challenge(ctx, h, fp, e, -1)
	return wantApproved("ChallengeFactor with the previous step's code after a later one was accepted", c, err, false)
}

func checkConcurrentReplay(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	e, err := verified(ctx, h, fp, identity)
	if err != nil {
		return err
	}
	code, _ := totpCode(e.Secret, e.TOTP, h.Now(), 0)
	const n = 8
	var approved atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			c, err := fp.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: code})
			if err != nil {
				errs <- err
				return
			}
			if c.Approved() {
				approved.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return fmt.Errorf("concurrent ChallengeFactor: unexpected error: %w", err)
	}
	if got := approved.Load(); got != 1 {
		return fmt.Errorf("%d concurrent challenges with the same code: %d approved, want exactly 1", n, got)
	}
	return nil
}

func checkSkew(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	confirm := func(e provider.Enrollment, offset int64) (provider.Factor, error) {
		code, err := totpCode(e.Secret, e.TOTP, h.Now(), offset)
		if err != nil {
			return provider.Factor{}, err
		}
		return fp.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: e.Identity, FactorID: e.ID, Code: code})
	}
	want := func(what string, f provider.Factor, err error, verified bool) error {
		if err != nil {
			return fmt.Errorf("%s: unexpected error: %w", what, err)
		}
		if f.Verified() != verified {
			return fmt.Errorf("%s: status %q, want verified = %v", what, f.Status, verified)
		}
		return nil
	}
	a, err := enrollSkew1(ctx, fp, "skew-one")
	if err != nil {
		return err
	}
	f, err := confirm(a, -2)
	if err := want("code of two steps ago (skew 1)", f, err, false); err != nil {
		return err
	}
	a2, err := enrollSkew1(ctx, fp, "skew-one-c")
	if err != nil {
		return err
	}
	f, err = confirm(a2, 2)
	if err := want("code of two steps ahead (skew 1)", f, err, false); err != nil {
		return err
	}
	f, err = confirm(a, -1)
	if err := want("code of the previous step (skew 1)", f, err, true); err != nil {
		return err
	}
	b, err := enrollSkew1(ctx, fp, "skew-one-b")
	if err != nil {
		return err
	}
	f, err = confirm(b, 1)
	if err := want("code of the next step (skew 1)", f, err, true); err != nil {
		return err
	}
	// Skew 0: only the current step.
	c, err := fp.EnrollFactor(ctx, provider.EnrollRequest{Identity: identity2, Type: provider.FactorTOTP, FriendlyName: "strict", SkewSet: true})
	if err != nil {
		return fmt.Errorf("EnrollFactor with skew 0: %w", err)
	}
	if c.TOTP.Skew != 0 {
		return fmt.Errorf("EnrollFactor with skew 0: config reports skew %d", c.TOTP.Skew)
	}
	f, err = confirm(c, -1)
	if err := want("code of the previous step (skew 0)", f, err, false); err != nil {
		return err
	}
	c2, err := fp.EnrollFactor(ctx, provider.EnrollRequest{Identity: identity2, Type: provider.FactorTOTP, FriendlyName: "strict-b", SkewSet: true})
	if err != nil {
		return fmt.Errorf("EnrollFactor with skew 0: %w", err)
	}
	f, err = confirm(c2, 1)
	if err := want("code of the next step (skew 0)", f, err, false); err != nil {
		return err
	}
	f, err = confirm(c, 0)
	if err := want("code of the current step (skew 0)", f, err, true); err != nil {
		return err
	}
	// Challenges follow the same skew.
	h.Advance(3 * a.TOTP.Period)
	ch, err := challenge(ctx, h, fp, a, -1)
	return wantApproved("ChallengeFactor with the previous step's code (skew 1)", ch, err, true)
}

// enrollSkew1 enrols a factor of identity with a skew of one step and the
// provider's other defaults.
func enrollSkew1(ctx context.Context, fp provider.FactorProvider, name string) (provider.Enrollment, error) {
	e, err := fp.EnrollFactor(ctx, provider.EnrollRequest{Identity: identity, Type: provider.FactorTOTP, FriendlyName: name, TOTP: provider.TOTPConfig{Skew: 1}})
	if err != nil {
		return e, fmt.Errorf("EnrollFactor(%s, skew 1): unexpected error: %w", identity, err)
	}
	return e, nil
}

func checkConfig(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	cfg := provider.TOTPConfig{Digits: 8, Period: 60 * time.Second, Skew: 2, Algorithm: provider.AlgSHA256}
	e, err := fp.EnrollFactor(ctx, provider.EnrollRequest{Identity: identity, Type: provider.FactorTOTP, FriendlyName: "phone", TOTP: cfg})
	if err != nil {
		return fmt.Errorf("EnrollFactor with a configuration: %w", err)
	}
	if e.TOTP != cfg {
		return fmt.Errorf("EnrollFactor: config %+v, want %+v", e.TOTP, cfg)
	}
	u, _ := url.Parse(e.URI)
	if q := u.Query(); q.Get("digits") != "8" || q.Get("period") != "60" || !strings.EqualFold(q.Get("algorithm"), "sha256") {
		return errors.New("EnrollFactor: the URI does not carry digits=8, period=60 and algorithm=SHA256")
	}
	code, _ := totpCode(e.Secret, e.TOTP, h.Now(), -2)
	f, err := fp.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: identity, FactorID: e.ID, Code: code})
	if err != nil || !f.Verified() {
		return fmt.Errorf("ConfirmFactor with an 8-digit sha256 code two 60 s steps old (skew 2): %v, %v", f.Status, err)
	}
	return nil
}

func checkTooManyWrong(ctx context.Context, h FactorHarness, fp provider.FactorProvider, lim FactorLimits) error {
	e, err := verified(ctx, h, fp, identity)
	if err != nil {
		return err
	}
	for i := range lim.MaxWrong {
		c, err := fp.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: wrongCode(e.Secret, e.TOTP, h.Now())})
		if err := wantApproved(fmt.Sprintf("wrong code %d of %d", i+1, lim.MaxWrong), c, err, false); err != nil {
			return err
		}
	}
	_, err = challenge(ctx, h, fp, e, 0)
	if !errors.Is(err, provider.ErrTooManyChecks) {
		return fmt.Errorf("right code after %d wrong ones: got %v, want ErrTooManyChecks", lim.MaxWrong, err)
	}
	h.Advance(lim.Window)
	c, err := challenge(ctx, h, fp, e, 0)
	return wantApproved("right code once the window ended", c, err, true)
}

func checkUnverifiedChallenge(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	e, err := enroll(ctx, fp, identity, "phone")
	if err != nil {
		return err
	}
	_, err = challenge(ctx, h, fp, e, 0)
	if !errors.Is(err, provider.ErrInvalidRequest) {
		return fmt.Errorf("ChallengeFactor of an unverified factor: got %v, want ErrInvalidRequest", err)
	}
	return nil
}

func checkUnknownIDs(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	e, err := verified(ctx, h, fp, identity)
	if err != nil {
		return err
	}
	if _, err := enroll(ctx, fp, identity2, "other"); err != nil {
		return err
	}
	code, _ := totpCode(e.Secret, e.TOTP, h.Now(), 0)
	// IDs are opaque to callers: an ID the provider never issued is
	// unknown whatever its shape (a prefix and hex digits, or 32 bare hex
	// digits).
	for _, tc := range []struct{ id, fid string }{{identity, unknownID}, {identity, foreignID}, {identity2, e.ID}} {
		if _, err := fp.FetchFactor(ctx, tc.id, tc.fid); !errors.Is(err, provider.ErrNotFound) {
			return fmt.Errorf("FetchFactor(%s, %s): got %v, want ErrNotFound", tc.id, tc.fid, err)
		}
		if _, err := fp.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: tc.id, FactorID: tc.fid, Code: code}); !errors.Is(err, provider.ErrNotFound) {
			return fmt.Errorf("ConfirmFactor(%s, %s): got %v, want ErrNotFound", tc.id, tc.fid, err)
		}
		if _, err := fp.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: tc.id, FactorID: tc.fid, Code: code}); !errors.Is(err, provider.ErrNotFound) {
			return fmt.Errorf("ChallengeFactor(%s, %s): got %v, want ErrNotFound", tc.id, tc.fid, err)
		}
		if err := fp.DeleteFactor(ctx, tc.id, tc.fid); !errors.Is(err, provider.ErrNotFound) {
			return fmt.Errorf("DeleteFactor(%s, %s): got %v, want ErrNotFound", tc.id, tc.fid, err)
		}
	}
	for _, cid := range []string{"YC00000000000000000000000000000000", foreignID} {
		if _, err := fp.FetchChallenge(ctx, identity, cid); !errors.Is(err, provider.ErrNotFound) {
			return fmt.Errorf("FetchChallenge(%s) of an unknown challenge: got %v, want ErrNotFound", cid, err)
		}
	}
	// The factor still works: none of that touched it.
	c, err := challenge(ctx, h, fp, e, 0)
	return wantApproved("ChallengeFactor after the unknown-ID calls", c, err, true)
}

func checkDeletedFactor(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	e, err := verified(ctx, h, fp, identity)
	if err != nil {
		return err
	}
	if err := fp.DeleteFactor(ctx, identity, e.ID); err != nil {
		return fmt.Errorf("DeleteFactor: %w", err)
	}
	if _, err := fp.FetchFactor(ctx, identity, e.ID); !errors.Is(err, provider.ErrNotFound) {
		return fmt.Errorf("FetchFactor after delete: got %v, want ErrNotFound", err)
	}
	if _, err := challenge(ctx, h, fp, e, 0); !errors.Is(err, provider.ErrNotFound) {
		return fmt.Errorf("ChallengeFactor after delete: got %v, want ErrNotFound", err)
	}
	if err := fp.DeleteFactor(ctx, identity, e.ID); !errors.Is(err, provider.ErrNotFound) {
		return fmt.Errorf("DeleteFactor twice: got %v, want ErrNotFound", err)
	}
	list, err := fp.ListFactors(ctx, identity)
	if err != nil {
		return fmt.Errorf("ListFactors after delete: %w", err)
	}
	if len(list) != 0 {
		return fmt.Errorf("ListFactors after delete: %d factors, want 0", len(list))
	}
	return nil
}

func checkDeleteIdentity(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	a, err := verified(ctx, h, fp, identity)
	if err != nil {
		return err
	}
	if _, err := enroll(ctx, fp, identity, "second"); err != nil {
		return err
	}
	if err := fp.DeleteIdentity(ctx, identity); err != nil {
		return fmt.Errorf("DeleteIdentity: %w", err)
	}
	list, err := fp.ListFactors(ctx, identity)
	if err != nil {
		return fmt.Errorf("ListFactors after DeleteIdentity: %w", err)
	}
	if len(list) != 0 {
		return fmt.Errorf("ListFactors after DeleteIdentity: %d factors, want 0", len(list))
	}
	if _, err := challenge(ctx, h, fp, a, 0); !errors.Is(err, provider.ErrNotFound) {
		return fmt.Errorf("ChallengeFactor after DeleteIdentity: got %v, want ErrNotFound", err)
	}
	if err := fp.DeleteIdentity(ctx, identity); !errors.Is(err, provider.ErrNotFound) {
		return fmt.Errorf("DeleteIdentity twice: got %v, want ErrNotFound", err)
	}
	return nil
}

func checkListFactors(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	list, err := fp.ListFactors(ctx, identity)
	if err != nil || len(list) != 0 {
		return fmt.Errorf("ListFactors of an unknown identity: %d factors, %v; want none and no error", len(list), err)
	}
	var ids []string
	for _, name := range []string{"first", "second", "third"} {
		e, err := enroll(ctx, fp, identity, name)
		if err != nil {
			return err
		}
		ids = append(ids, e.ID)
		h.Advance(time.Second)
	}
	if _, err := enroll(ctx, fp, identity2, "other"); err != nil {
		return err
	}
	list, err = fp.ListFactors(ctx, identity)
	if err != nil {
		return fmt.Errorf("ListFactors: %w", err)
	}
	var got []string
	for _, f := range list {
		got = append(got, f.ID)
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		return fmt.Errorf("ListFactors: IDs %v, want %v (oldest first, only this identity's)", got, ids)
	}
	return nil
}

func checkFetchChallenge(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	e, err := verified(ctx, h, fp, identity)
	if err != nil {
		return err
	}
	c, err := challenge(ctx, h, fp, e, 0)
	if err := wantApproved("ChallengeFactor", c, err, true); err != nil {
		return err
	}
	got, err := fp.FetchChallenge(ctx, identity, c.ID)
	if err != nil {
		return fmt.Errorf("FetchChallenge: %w", err)
	}
	if got.ID != c.ID || got.Status != c.Status || got.FactorID != e.ID {
		return fmt.Errorf("FetchChallenge: %v, want %v", got, c)
	}
	return nil
}

func checkFactorInvalid(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	base := provider.EnrollRequest{Identity: identity, Type: provider.FactorTOTP, FriendlyName: "phone"}
	bad := map[string]func(*provider.EnrollRequest){
		"short identity":      func(r *provider.EnrollRequest) { r.Identity = "short" },
		"identity with @":     func(r *provider.EnrollRequest) { r.Identity = "alice@example.com" },
		"identity too long":   func(r *provider.EnrollRequest) { r.Identity = strings.Repeat("a", 65) },
		"empty friendly name": func(r *provider.EnrollRequest) { r.FriendlyName = "" },
		"long friendly name":  func(r *provider.EnrollRequest) { r.FriendlyName = strings.Repeat("n", 65) },
		"9 digits":            func(r *provider.EnrollRequest) { r.TOTP.Digits = 9 },
		"2 digits":            func(r *provider.EnrollRequest) { r.TOTP.Digits = 2 },
		"10 s period":         func(r *provider.EnrollRequest) { r.TOTP.Period = 10 * time.Second },
		"61 s period":         func(r *provider.EnrollRequest) { r.TOTP.Period = 61 * time.Second },
		"skew 3":              func(r *provider.EnrollRequest) { r.TOTP.Skew = 3 },
		"algorithm md5":       func(r *provider.EnrollRequest) { r.TOTP.Algorithm = "md5" },
		"secret not base32":   func(r *provider.EnrollRequest) { r.Secret = "not base32!" },
	}
	for name, mod := range bad {
		r := base
		mod(&r)
		if _, err := fp.EnrollFactor(ctx, r); !errors.Is(err, provider.ErrInvalidRequest) {
			return fmt.Errorf("EnrollFactor with %s: got %v, want ErrInvalidRequest", name, err)
		}
	}
	if list, err := fp.ListFactors(ctx, identity); err != nil || len(list) != 0 {
		return fmt.Errorf("refused enrolments created factors: %d, %v", len(list), err)
	}
	e, err := verified(ctx, h, fp, identity)
	if err != nil {
		return err
	}
	for _, code := range []string{"", "12", "abcdef", "123456789", "12*456"} {
		if _, err := fp.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: code}); !errors.Is(err, provider.ErrInvalidRequest) && code != "" {
			return fmt.Errorf("ChallengeFactor with code %q: got %v, want ErrInvalidRequest", code, err)
		}
	}
	c, err := challenge(ctx, h, fp, e, 0)
	return wantApproved("ChallengeFactor after malformed codes (they must not count as wrong)", c, err, true)
}

func checkFactorCanceled(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	e, err := verified(ctx, h, fp, identity)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	code, _ := totpCode(e.Secret, e.TOTP, h.Now(), 0)
	calls := map[string]func() error{
		"EnrollFactor": func() error {
			_, err := fp.EnrollFactor(cctx, provider.EnrollRequest{Identity: identity, Type: provider.FactorTOTP, FriendlyName: "x"})
			return err
		},
		"ChallengeFactor": func() error {
			_, err := fp.ChallengeFactor(cctx, provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: code})
			return err
		},
		"FetchFactor":    func() error { _, err := fp.FetchFactor(cctx, identity, e.ID); return err },
		"ListFactors":    func() error { _, err := fp.ListFactors(cctx, identity); return err },
		"DeleteFactor":   func() error { return fp.DeleteFactor(cctx, identity, e.ID) },
		"DeleteIdentity": func() error { return fp.DeleteIdentity(cctx, identity) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			return fmt.Errorf("%s with a canceled context: got %v, want context.Canceled", name, err)
		}
	}
	// Nothing happened: the code still approves.
	c, err := fp.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: code})
	return wantApproved("ChallengeFactor after the canceled calls", c, err, true)
}

func checkFactorConcurrent(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("concurrent-user-%02d", i)
			e, err := enroll(ctx, fp, id, "phone")
			if err != nil {
				errs <- err
				return
			}
			code, _ := totpCode(e.Secret, e.TOTP, h.Now(), 0)
			if f, err := fp.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: id, FactorID: e.ID, Code: code}); err != nil || !f.Verified() {
				errs <- fmt.Errorf("concurrent ConfirmFactor: %v, %v", f.Status, err)
				return
			}
			if _, err := fp.ListFactors(ctx, id); err != nil {
				errs <- err
				return
			}
			if err := fp.DeleteIdentity(ctx, id); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	return nil
}

func checkFactorErrorsAs(ctx context.Context, h FactorHarness, fp provider.FactorProvider, _ FactorLimits) error {
	_, err := fp.FetchFactor(ctx, identity, unknownID)
	if err == nil {
		return errors.New("FetchFactor of an unknown factor: no error")
	}
	if target := h.ErrorTarget(); !errors.As(err, target) {
		return fmt.Errorf("errors.As(%v, %T) is false", err, target)
	}
	return nil
}
