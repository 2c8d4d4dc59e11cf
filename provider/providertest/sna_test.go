package providertest

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/pushdevice"
)

// snaBroken is the fake with its silent network auth check broken one
// way.
type snaBroken struct {
	*fake.Fake
	flaw string
}

func (b snaBroken) CheckSNA(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	v, err := b.Fake.CheckSNA(ctx, req)
	switch {
	case b.flaw == "not-yet-is-pending" && errors.Is(err, provider.ErrNotYet):
		// "not yet" reported as a wrong code would be.
		return provider.Verification{ID: req.ID, Status: provider.StatusPending}, nil
	case b.flaw == "always-fall-back" && errors.Is(err, provider.ErrInvalidRequest):
		return v, &provider.SNAError{Op: "broken", Kind: provider.ErrUndeliverable}
	case b.flaw == "untyped" && err != nil && !errors.Is(err, provider.ErrNotYet):
		return v, errors.New("the carrier said no")
	}
	return v, err
}

// noSNA hides the fake's CheckSNA.
type noSNA struct{ provider.Provider }

// snaHarness returns a harness of p (built on f) that plays the device
// over a server of f's SNA handler, unless noDevice.
func snaHarness(t *testing.T, p provider.Provider, f *fake.Fake, clock *fake.Clock, noDevice bool) *HarnessFuncs {
	h := harness(p, f, clock)
	if noDevice {
		return h
	}
	srv := httptest.NewServer(f.SNAHandler())
	t.Cleanup(srv.Close)
	h.OpenSNAFunc = func(ctx context.Context, url string) (string, error) {
		res, err := pushdevice.OpenSNA(ctx, srv.Client(), strings.Replace(url, fake.DefaultSNABaseURL, srv.URL, 1))
		return res.Token, err
	}
	h.FailSNAFunc = func(to string, fallBack bool) error {
		kind := provider.ErrInvalidRequest
		if fallBack {
			kind = provider.ErrUndeliverable
		}
		f.InjectFault(fake.Fault{Op: fake.OpSNA, To: to, Err: kind})
		return nil
	}
	return h
}

// TestSNASectionCatchesBrokenProviders runs the SNA rules against the
// fake with one flaw each and checks which rules fail; a provider without
// SNA, and a harness that does not play the device, are skipped, naming
// what is missing.
func TestSNASectionCatchesBrokenProviders(t *testing.T) {
	t.Parallel()
	self := func(f *fake.Fake) provider.Provider { return f }
	flawed := func(flaw string) func(*fake.Fake) provider.Provider {
		return func(f *fake.Fake) provider.Provider { return snaBroken{f, flaw} }
	}
	for _, tt := range []struct {
		name     string
		mk       func(*fake.Fake) provider.Provider
		noDevice bool
		failed   []string
		skip     string // what every skip names
	}{
		{name: "correct", mk: self},
		{name: "not yet is a pending check", mk: flawed("not-yet-is-pending"), failed: []string{"NotYetUntilTheDevice"}},
		{name: "a bad number falls back", mk: flawed("always-fall-back"), failed: []string{"FallBackOrNot"}},
		{name: "untyped failures", mk: flawed("untyped"), failed: []string{"FallBackOrNot"}},
		{name: "no SNA", mk: func(f *fake.Fake) provider.Provider { return noSNA{f} }, skip: NeedSNA},
		{name: "no device", mk: self, noDevice: true, skip: "OpenSNAFunc"},
	} {
		var failed []string
		for _, r := range SNARules() {
			clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 7, 0, time.UTC))
			f := fake.MustNew(fake.WithClock(clock.Now))
			rec := &recorder{TB: t}
			RunSNARuleOn(rec, r, snaHarness(t, tt.mk(f), f, clock, tt.noDevice))
			if len(rec.msgs) > 0 {
				failed = append(failed, r.Name)
			}
			if rec.skipped != (tt.skip != "") || !strings.Contains(rec.skipMsg, tt.skip) {
				t.Errorf("%s: %s skipped %v (%q), want a skip naming %q", tt.name, r.Name, rec.skipped, rec.skipMsg, tt.skip)
			}
		}
		if diff := cmp.Diff(tt.failed, failed); diff != "" {
			t.Errorf("%s: failed rules (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestSNAFallBackSkipsWithoutFailures: a harness that cannot fail a
// visit skips the fall-back rule, saying so, and runs the others.
func TestSNAFallBackSkipsWithoutFailures(t *testing.T) {
	t.Parallel()
	for _, r := range SNARules() {
		clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 7, 0, time.UTC))
		f := fake.MustNew(fake.WithClock(clock.Now))
		h := snaHarness(t, f, f, clock, false)
		h.FailSNAFunc = nil
		rec := &recorder{TB: t}
		RunSNARuleOn(rec, r, h)
		if want := r.Name == "FallBackOrNot"; rec.skipped != want || len(rec.msgs) > 0 || want && !strings.Contains(rec.skipMsg, "FailSNAFunc") {
			t.Errorf("%s: skipped %v (%q), failures %q", r.Name, rec.skipped, rec.skipMsg, rec.msgs)
		}
	}
}
