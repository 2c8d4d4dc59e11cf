package route_test

import (
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider/providertest"
	"github.com/verifykit/verifykit/route"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

var fakeLimits = providertest.Limits{Validity: 10 * time.Minute, MaxSends: 5, MaxChecks: 5, MinCodeLength: 4, MaxCodeLength: 10}

// lastOf returns the code most recently delivered to a target by any of
// the sources; each source's outbox is searched newest first, and the
// sources are in route order (only one of them serves a target here).
func lastOf(sources ...func(string) (string, bool)) func(string) (string, bool) {
	return func(to string) (string, bool) {
		for _, s := range sources {
			if c, ok := s(to); ok {
				return c, ok
			}
		}
		return "", false
	}
}

// newFakeHarness is a Router over two fakes on one clock, checking by To
// through its memory when checkByTo, and keeping that memory in a store
// when shared.
func newFakeHarness(checkByTo, shared bool) func(t *testing.T) providertest.Harness {
	return func(t *testing.T) providertest.Harness {
		clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		a := fake.MustNew(fake.WithClock(clock.Now))
		b := fake.MustNew(fake.WithClock(clock.Now))
		opts := []route.Option{route.WithClock(clock.Now)}
		if checkByTo {
			opts = append(opts, route.WithCheckByTo())
		}
		if shared {
			st, err := store.NewMemory(store.WithClock(clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			opts = append(opts, route.WithStore(st))
		}
		r, err := route.New([]route.Route{{Name: "a", Provider: a}, {Name: "b", Provider: b}}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return &providertest.HarnessFuncs{
			Subject:         r,
			LastCodeFunc:    lastOf(a.LastCode, b.LastCode),
			AdvanceFunc:     clock.Advance,
			ErrorTargetFunc: func() any { return new(*route.Error) },
			Declared:        fakeLimits,
		}
	}
}

// TestConformance runs the provider conformance suite against Routers:
// over two fakes, checking by ID only and by To through the Router's
// memory; over two twilio emulators; and over two vonage emulators.
func TestConformance(t *testing.T) {
	t.Parallel()
	t.Run("fakes", func(t *testing.T) { providertest.Run(t, newFakeHarness(false, false)) })
	t.Run("fakes-checkbyto", func(t *testing.T) { providertest.Run(t, newFakeHarness(true, false)) })
	t.Run("fakes-store", func(t *testing.T) { providertest.Run(t, newFakeHarness(true, true)) })
	t.Run("twilio", func(t *testing.T) {
		providertest.Run(t, func(t *testing.T) providertest.Harness {
			var routes []route.Route
			var codes []func(string) (string, bool)
			// One clock for both emulators and the Router: the harness's
			// Advance is the only time that passes, however slow the machine.
			clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			for _, name := range []string{"us", "eu"} {
				srv := twiliotest.NewServer(twiliotest.WithClock(clock.Now))
				t.Cleanup(srv.Close)
				c, err := twilio.New(twiliotest.DefaultServiceSID, twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
					twilio.WithBaseURL(srv.URL), twilio.WithRetryWait(0, 0))
				if err != nil {
					t.Fatal(err)
				}
				routes = append(routes, route.Route{Name: name, Provider: c})
				codes = append(codes, srv.LastCode)
			}
			r, err := route.New(routes, route.WithCheckByTo(), route.WithClock(clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			return &providertest.HarnessFuncs{
				Subject:         r,
				LastCodeFunc:    lastOf(codes...),
				AdvanceFunc:     clock.Advance,
				ErrorTargetFunc: func() any { return new(*route.Error) },
				Declared:        fakeLimits,
			}
		})
	})
	t.Run("vonage", func(t *testing.T) {
		providertest.Run(t, func(t *testing.T) providertest.Harness {
			var routes []route.Route
			var codes []func(string) (string, bool)
			// One clock for both emulators, both clients (their JWTs) and
			// the Router: the harness's Advance is the only time that
			// passes, so a slow machine cannot cross the 180 s expiry.
			clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			for _, name := range []string{"primary", "fallback"} {
				srv := vonagetest.NewServer(vonagetest.WithClock(clock.Now))
				t.Cleanup(srv.Close)
				c, err := vonage.New("Acme", vonage.Application(vonagetest.DefaultApplicationID, vonagetest.DefaultPrivateKeyPEM()),
					vonage.WithBaseURL(srv.URL), vonage.WithRetryWait(0, 0), vonage.WithClock(clock.Now))
				if err != nil {
					t.Fatal(err)
				}
				routes = append(routes, route.Route{Name: name, Provider: c})
				codes = append(codes, srv.LastCode)
			}
			r, err := route.New(routes, route.WithClock(clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			return &providertest.HarnessFuncs{
				Subject:         r, // vonage cannot fetch: the Fetch rules skip
				LastCodeFunc:    lastOf(codes...),
				AdvanceFunc:     clock.Advance,
				ErrorTargetFunc: func() any { return new(*route.Error) },
				Declared:        providertest.Limits{Validity: 180 * time.Second, MaxSends: 1, MaxChecks: vonagetest.DefaultMaxChecks, MinCodeLength: 4, MaxCodeLength: 10},
			}
		})
	})
}
