package route_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/provider/providertest"
	"github.com/verifykit/verifykit/pushdevice"
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
		// Each fake's SNA URLs are served by its own test server.
		var fakes [2]*fake.Fake
		var hc *http.Client
		for i := range fakes {
			mux := http.NewServeMux()
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			fakes[i] = fake.MustNew(fake.WithClock(clock.Now), fake.WithSNABaseURL(srv.URL))
			mux.Handle("/", fakes[i].SNAHandler())
			hc = srv.Client()
		}
		a, b := fakes[0], fakes[1]
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
			OpenSNAFunc: func(ctx context.Context, url string) (string, error) {
				res, err := pushdevice.OpenSNA(ctx, hc, url)
				return res.Token, err
			},
			FailSNAFunc: func(to string, fallBack bool) error {
				kind := provider.ErrInvalidRequest
				if fallBack {
					kind = provider.ErrUndeliverable
				}
				for _, f := range fakes {
					f.InjectFault(fake.Fault{Op: fake.OpSNA, To: to, Err: kind})
				}
				return nil
			},
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
			var servers []*twiliotest.Server
			// One clock for both emulators and the Router: the harness's
			// Advance is the only time that passes, however slow the machine.
			clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			for _, name := range []string{"us", "eu"} {
				srv := twiliotest.NewServer(twiliotest.WithClock(clock.Now))
				t.Cleanup(srv.Close)
				servers = append(servers, srv)
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
				// The device opens whichever emulator's URL the Router's
				// start gave; a carrier failure is set up on both.
				OpenSNAFunc: func(ctx context.Context, url string) (string, error) {
					res, err := pushdevice.OpenSNA(ctx, servers[0].Client(), url)
					return res.Token, err
				},
				FailSNAFunc: func(to string, fallBack bool) error {
					code := 60540
					if fallBack {
						code = 60510
					}
					for _, srv := range servers {
						if err := srv.InjectFault(twiliotest.Fault{Op: "sna", To: to, Code: code}); err != nil {
							return err
						}
					}
					return nil
				},
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
				// Silent auth as on the vonage client: the check needs the
				// device's code, and no carrier failure is simulated.
				OpenSNAFunc: func(ctx context.Context, url string) (string, error) {
					res, err := pushdevice.OpenSNA(ctx, &http.Client{}, url)
					return res.Token, err
				},
				SNATokenRequired: true,
			}
		})
	})
}
