package providertest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/verify"
)

// SNAHarness is implemented by harnesses whose provider offers silent
// network auth (provider.SNAChecker, with ChannelSNA among its
// channels): it plays the device's part, opening the URL a Start over
// ChannelSNA returned, so that the SNA section can run. HarnessFuncs
// implements it from OpenSNAFunc, FailSNAFunc and SNANeedsToken.
type SNAHarness interface {
	// OpenSNA opens url as the device would (pushdevice.OpenSNA over a
	// client that reaches the provider's test server) and returns what
	// the device passes on to the backend's check (pushdevice.SNAResult's
	// Token, empty when the provider hands out none), or the visit's
	// error.
	OpenSNA(ctx context.Context, url string) (token string, err error)
	// FailSNA makes the next visit of the SNA URL of a verification to
	// `to` fail, as the carrier reports a failure: with fallBack, one
	// another channel may overcome (no mobile data, Wi-Fi: Twilio's
	// 60510); without, one that says the number itself is bad (Twilio's
	// 60540). It returns provider.ErrUnsupported when the provider's test
	// server cannot simulate failures; the rule that needs it is then
	// skipped.
	FailSNA(to string, fallBack bool) error
	// SNANeedsToken reports whether the provider's check needs what the
	// device got back from the URL (a Vonage silent-auth code): such a
	// provider has no "not yet" outcome, since the backend cannot check
	// before the device has passed its token on.
	SNANeedsToken() bool
}

// OpenSNA calls h.OpenSNAFunc.
func (h *HarnessFuncs) OpenSNA(ctx context.Context, url string) (string, error) {
	return h.OpenSNAFunc(ctx, url)
}

// FailSNA calls h.FailSNAFunc, or returns provider.ErrUnsupported
// without one.
func (h *HarnessFuncs) FailSNA(to string, fallBack bool) error {
	if h.FailSNAFunc == nil {
		return provider.ErrUnsupported
	}
	return h.FailSNAFunc(to, fallBack)
}

// SNANeedsToken returns h.SNATokenRequired.
func (h *HarnessFuncs) SNANeedsToken() bool { return h.SNATokenRequired }

// NeedSNA names the silent network auth capability in skips.
const NeedSNA = "provider.SNAChecker with ChannelSNA"

// SNARule is one rule of the silent network auth contract.
type SNARule struct {
	// Name is the subtest's name.
	Name string
	// Text states the rule.
	Text string

	check func(context.Context, *snaEnv) error
}

// SNARules returns the rules of the silent network auth section.
func SNARules() []SNARule { return append([]SNARule(nil), snaRules...) }

var snaRules = []SNARule{
	{"StartGivesURL", "A Start over ChannelSNA gives a pending verification with the http or https URL the device must open; a Start over sms gives none.", checkSNAStart},
	{"NotYetUntilTheDevice", "A check before the device opened the URL fails with ErrNotYet, as an SNAError, not counted as a wrong code however often it is repeated (a provider whose check needs the device's token instead refuses a check without it with ErrInvalidRequest); once the device has opened the URL the check approves, and the verification is then gone.", checkSNANotYet},
	{"FallBackOrNot", "A visit the carrier failed makes the check fail with an SNAError: ErrUndeliverable when another channel may still reach the number (FallBack true), ErrInvalidRequest when the number itself is bad (FallBack false); neither approves.", checkSNAFallBack},
}

// errNoFailSNA skips the rule that needs failed visits.
var errNoFailSNA = errors.New("the harness cannot make a visit fail (SNAHarness.FailSNA, HarnessFuncs.FailSNAFunc)")

// snaEnv is what an SNA rule works with.
type snaEnv struct {
	c   *verify.Client
	h   SNAHarness
	lim Limits
}

// RunSNARuleOn checks one silent network auth rule against the provider
// of a conformance Harness, as Run does for every SNA rule, through
// verify.New. It skips t, naming the capability, when the provider does
// not implement provider.SNAChecker or does not list ChannelSNA among its
// channels, and, saying so, when h does not play the device
// (SNAHarness, HarnessFuncs.OpenSNAFunc).
func RunSNARuleOn(t testing.TB, r SNARule, h Harness) {
	t.Helper()
	p := h.Provider()
	if _, ok := p.(provider.SNAChecker); !ok || !provider.CapabilitiesOf(p).Supports(provider.ChannelSNA) {
		t.Skipf("rule SNA/%s needs %s, which the provider does not offer", r.Name, NeedSNA)
		return
	}
	sh, ok := h.(SNAHarness)
	if hf, isFuncs := h.(*HarnessFuncs); isFuncs && hf.OpenSNAFunc == nil {
		ok = false
	}
	if !ok {
		t.Skipf("rule SNA/%s: the provider offers silent network auth (%s) but the harness does not play the device (HarnessFuncs.OpenSNAFunc, or an SNAHarness)", r.Name, NeedSNA)
		return
	}
	c, err := verify.New(p)
	if err != nil {
		t.Errorf("verify.New: %v", err)
		return
	}
	if err := r.check(t.Context(), &snaEnv{c: c, h: sh, lim: h.Limits()}); errors.Is(err, errNoFailSNA) {
		t.Skipf("rule SNA/%s: %v", r.Name, err)
	} else if err != nil {
		t.Errorf("%v\nrule: %s", err, r.Text)
	}
}

// start begins a silent network auth verification of to.
func (e *snaEnv) start(ctx context.Context, to string) (verify.Verification, error) {
	v, err := e.c.Start(ctx, to, verify.ChannelSNA, nil)
	if err != nil {
		return v, fmt.Errorf("Start(sna): %v", err)
	}
	if v.ID == "" || v.Status != provider.StatusPending || v.SNAURL == "" {
		return v, fmt.Errorf("Start(sna) = %v (SNA URL given: %v); want a pending verification with an SNA URL", v, v.SNAURL != "")
	}
	return v, nil
}

// snaErr checks that err is an *provider.SNAError matching want and that
// FallBack says fallBack.
func snaErr(what string, v verify.Verification, err, want error, fallBack bool) error {
	var se *provider.SNAError
	switch {
	case v.Approved():
		return fmt.Errorf("%s approved", what)
	case !errors.Is(err, want) || !errors.As(err, &se):
		return fmt.Errorf("%s: err = %v, want an SNAError matching %v", what, err, want)
	case verify.FallBack(err) != fallBack:
		return fmt.Errorf("%s: FallBack(%v) = %v, want %v", what, err, !fallBack, fallBack)
	}
	return nil
}

func checkSNAStart(ctx context.Context, e *snaEnv) error {
	v, err := e.start(ctx, "+14155552671")
	if err != nil {
		return err
	}
	if u, err := url.Parse(v.SNAURL); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("Start(sna): the SNA URL is not an absolute http or https URL")
	}
	if v.Channel != provider.ChannelSNA {
		return fmt.Errorf("Start(sna) = %v: want channel sna", v)
	}
	sms, err := e.c.Start(ctx, "+14155552672", verify.ChannelSMS, nil)
	if err != nil {
		return fmt.Errorf("Start(sms): %v", err)
	}
	if sms.SNAURL != "" {
		return fmt.Errorf("Start(sms) gave an SNA URL")
	}
	return nil
}

func checkSNANotYet(ctx context.Context, e *snaEnv) error {
	v, err := e.start(ctx, "+14155552671")
	if err != nil {
		return err
	}
	if e.h.SNANeedsToken() {
		got, err := e.c.CheckSNA(ctx, v.ID, "", nil)
		if !errors.Is(err, provider.ErrInvalidRequest) || got.Approved() {
			return fmt.Errorf("a check without the device's token before its visit = %v, %v; want ErrInvalidRequest", got, err)
		}
	} else {
		// More checks than the wrong codes allowed: "not yet" is no wrong code.
		for i := range e.lim.MaxChecks + 1 {
			got, err := e.c.CheckSNA(ctx, v.ID, "", nil)
			if err := snaErr(fmt.Sprintf("check %d before the device's visit", i+1), got, err, provider.ErrNotYet, false); err != nil {
				return err
			}
		}
	}
	token, err := e.h.OpenSNA(ctx, v.SNAURL)
	if err != nil {
		return fmt.Errorf("the device's visit: %v", err)
	}
	got, err := e.c.CheckSNA(ctx, v.ID, token, nil)
	if err != nil || !got.Approved() || got.ID != v.ID {
		return fmt.Errorf("the check after the device's visit = %v, %v; want %s approved", got, err, v.ID)
	}
	if again, err := e.c.CheckSNA(ctx, v.ID, token, nil); err == nil || again.Approved() {
		return fmt.Errorf("a second check of the approved verification = %v, %v; want an error", again, err)
	}
	return nil
}

func checkSNAFallBack(ctx context.Context, e *snaEnv) error {
	for _, tc := range []struct {
		to       string
		fallBack bool
		want     error
	}{
		{"+14155552671", true, provider.ErrUndeliverable},
		{"+14155552673", false, provider.ErrInvalidRequest},
	} {
		if err := e.h.FailSNA(tc.to, tc.fallBack); errors.Is(err, provider.ErrUnsupported) {
			return errNoFailSNA
		} else if err != nil {
			return fmt.Errorf("FailSNA: %v", err)
		}
		v, err := e.start(ctx, tc.to)
		if err != nil {
			return err
		}
		token, verr := e.h.OpenSNA(ctx, v.SNAURL)
		if verr == nil {
			return fmt.Errorf("the device's visit that the carrier failed (fall back: %v) succeeded", tc.fallBack)
		}
		got, err := e.c.CheckSNA(ctx, v.ID, token, nil)
		if err := snaErr(fmt.Sprintf("the check after a failed visit (fall back: %v)", tc.fallBack), got, err, tc.want, tc.fallBack); err != nil {
			return err
		}
	}
	return nil
}
