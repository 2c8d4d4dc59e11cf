package twilio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/provider/providertest"
	"github.com/verifykit/verifykit/pushdevice"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// twilioLimits are Twilio Verify's defaults, which the emulator follows:
// codes valid for 10 minutes, 5 sends and 5 wrong codes per verification,
// codes of 4 to 10 characters.
var twilioLimits = providertest.Limits{Validity: 10 * time.Minute, MaxSends: 5, MaxChecks: 5, MinCodeLength: 4, MaxCodeLength: 10}

// newEmulatorHarness runs the emulator on a fake clock that only the
// suite moves, so a TOTP code computed by the factors section stays valid
// for the whole rule.
func newEmulatorHarness(t *testing.T) providertest.Harness { return emulatorHarness(t, nil) }

// emulatorHarness is newEmulatorHarness with the emulator's handler
// wrapped by wrap (when not nil): every request of the client and of the
// device goes through it.
func emulatorHarness(t *testing.T, wrap func(http.Handler) http.Handler) *providertest.HarnessFuncs {
	clock := fake.NewClock(time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC))
	e := twiliotest.MustNew(twiliotest.WithClock(clock.Now))
	var h http.Handler = e
	if wrap != nil {
		h = wrap(e)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := twilio.New(twiliotest.DefaultServiceSID,
		twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL), twilio.WithRetryWait(0, 0), twilio.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	sub := &tokenRecorder{Client: c, identities: map[string]string{}}
	device, err := pushdevice.NewHTTPFor(srv.URL, twiliotest.DefaultServiceSID, sub.identityOf, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return &providertest.HarnessFuncs{
		Subject:        sub,
		PushDeviceFunc: func() provider.PushDeviceAPI { return device },
		OpenSNAFunc: func(ctx context.Context, url string) (string, error) {
			res, err := pushdevice.OpenSNA(ctx, srv.Client(), url)
			return res.Token, err
		},
		FailSNAFunc: func(to string, fallBack bool) error {
			code := 60540 // the number is bad: no fall back
			if fallBack {
				code = 60510 // SNA over Wi-Fi, say
			}
			return e.InjectFault(twiliotest.Fault{Op: "sna", To: to, Code: code})
		},
		LastCodeFunc:    e.LastCode,
		AdvanceFunc:     clock.Advance,
		ErrorTargetFunc: func() any { return new(*twilio.APIError) },
		Declared:        twilioLimits,
		NowFunc:         clock.Now,
		// The emulator's factor limits (Twilio documents 5 wrong codes to
		// confirm a factor; the window is the emulator's).
		DeclaredFactors: providertest.FactorLimits{MaxWrong: 5, Window: 10 * time.Minute,
			TOTP: provider.TOTPConfig{Digits: 6, Period: 30 * time.Second, Skew: 1, Algorithm: provider.AlgSHA1}}, // Twilio's defaults
	}
}

// TestConformance runs the provider conformance suite, the same one the
// fake passes, against the twilio provider talking to the emulator.
func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, newEmulatorHarness)
}

// tokenRecorder is the twilio client that remembers which identity each
// access token it issued is for, as an application tells its app with the
// token, so that one device transport serves the suite's identities.
type tokenRecorder struct {
	*twilio.Client
	mu         sync.Mutex
	identities map[string]string
}

func (r *tokenRecorder) CreateAccessToken(ctx context.Context, req provider.AccessTokenRequest) (provider.AccessToken, error) {
	t, err := r.Client.CreateAccessToken(ctx, req)
	if err == nil {
		r.mu.Lock()
		r.identities[t.Token] = t.Identity
		r.mu.Unlock()
	}
	return t, err
}

func (r *tokenRecorder) identityOf(token string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.identities[token]
	return id, ok
}
