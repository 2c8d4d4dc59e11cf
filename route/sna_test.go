package route_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/pushdevice"
	"github.com/verifykit/verifykit/route"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// sends counts what a fake sent, by channel.
func sends(f *fake.Fake) map[provider.Channel]int {
	n := map[provider.Channel]int{}
	for _, m := range f.Messages() {
		n[m.Channel]++
	}
	return n
}

// TestSNAFallbackMatrix is the table of when a silent network auth start
// falls back to SMS: only after failures that prove nothing was sent and
// say nothing against the number, once, and only with WithSNAFallback.
func TestSNAFallbackMatrix(t *testing.T) {
	t.Parallel()
	const to = "+14155552671"
	for _, tc := range []struct {
		name      string
		fault     *fake.Fault // on the sna route's start
		noOption  bool
		wantSMS   int
		wantSNA   int   // sends over sna
		want      error // the start's error, nil for success
		wantRoute string
	}{
		{name: "sna works", wantSNA: 1, wantRoute: "silent"},
		{name: "undeliverable", fault: &fake.Fault{Err: provider.ErrUndeliverable}, wantSMS: 1, wantRoute: "sms"},
		{name: "unsupported", fault: &fake.Fault{Err: provider.ErrUnsupported}, wantSMS: 1, wantRoute: "sms"},
		{name: "unavailable", fault: &fake.Fault{Err: provider.ErrUnavailable}, wantSMS: 1, wantRoute: "sms"},
		{name: "bad number", fault: &fake.Fault{Err: provider.ErrInvalidRequest}, want: provider.ErrInvalidRequest},
		{name: "undeliverable, and the number is bad", fault: &fake.Fault{Err: errors.Join(provider.ErrUndeliverable, provider.ErrInvalidRequest)}, want: provider.ErrInvalidRequest},
		{name: "outcome unknown", fault: &fake.Fault{Err: provider.ErrOutcomeUnknown, Processed: true}, wantSNA: 1, want: provider.ErrOutcomeUnknown},
		{name: "rate limited", fault: &fake.Fault{Err: provider.ErrRateLimited}, want: provider.ErrRateLimited},
		{name: "too many sends", fault: &fake.Fault{Err: provider.ErrTooManySends}, want: provider.ErrTooManySends},
		{name: "undeliverable without the option", fault: &fake.Fault{Err: provider.ErrUndeliverable}, noOption: true, want: provider.ErrUndeliverable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			silent, sms := fake.MustNew(), fake.MustNew()
			if tc.fault != nil {
				ft := *tc.fault
				ft.Op = fake.OpStart
				silent.InjectFault(ft)
			}
			var opts []route.Option
			if !tc.noOption {
				opts = append(opts, route.WithSNAFallback(provider.ChannelSMS))
			}
			r, err := route.New([]route.Route{
				{Name: "silent", Provider: silent, Channels: []provider.Channel{provider.ChannelSNA}},
				{Name: "sms", Provider: sms, Channels: []provider.Channel{provider.ChannelSMS}},
			}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			v, err := r.Start(context.Background(), provider.StartRequest{To: to, Channel: provider.ChannelSNA})
			if tc.want == nil {
				if err != nil || route.ServedBy(v.ID) != tc.wantRoute {
					t.Fatalf("Start = %v, %v; want one served by %s", v, err, tc.wantRoute)
				}
			} else if !errors.Is(err, tc.want) {
				t.Fatalf("Start = %v, %v; want %v", v, err, tc.want)
			}
			if got := sends(sms)[provider.ChannelSMS]; got != tc.wantSMS {
				t.Errorf("%d SMS sent, want %d", got, tc.wantSMS)
			}
			if got := sends(silent)[provider.ChannelSNA]; got != tc.wantSNA {
				t.Errorf("%d sna sends, want %d", got, tc.wantSNA)
			}
		})
	}
}

// TestSNAFallbackTwilio60540: Twilio refusing a silent start because the
// number is invalid (60540) must not fall back: SMS would fail too.
func TestSNAFallbackTwilio60540(t *testing.T) {
	t.Parallel()
	srv := twiliotest.NewServer()
	defer srv.Close()
	if err := srv.InjectFault(twiliotest.Fault{Op: "start", Status: 400, Code: 60540}); err != nil {
		t.Fatal(err)
	}
	tw, err := twilio.New(twiliotest.DefaultServiceSID, twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	sms := fake.MustNew()
	r, err := route.New([]route.Route{
		{Name: "twilio", Provider: tw, Channels: []provider.Channel{provider.ChannelSNA}},
		{Name: "sms", Provider: sms, Channels: []provider.Channel{provider.ChannelSMS}},
	}, route.WithSNAFallback(provider.ChannelSMS))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Start(context.Background(), provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSNA})
	if !errors.Is(err, provider.ErrInvalidRequest) || len(sms.Messages()) != 0 {
		t.Fatalf("Start = %v with %d SMS; want ErrInvalidRequest and none", err, len(sms.Messages()))
	}
}

// TestSNACheckFallbackMatrix is the table of what an application does
// after the silent check: start again over SMS only when
// provider.FallBack says so, through the Router, which sends it to the
// route of the silent attempt; the provider re-sends on the same
// verification, so exactly one SMS goes out, and none otherwise.
func TestSNACheckFallbackMatrix(t *testing.T) {
	t.Parallel()
	const to = "+14155552671"
	for _, tc := range []struct {
		name      string
		visit     *fake.Fault // an OpSNA fault on the device's visit; nil: a good visit
		noVisit   bool
		check     *fake.Fault // an OpCheck fault
		want      error       // CheckSNA's sentinel; nil: approved
		wantSMS   int
		wantSameV bool // the SMS goes out on the silent attempt's verification
	}{
		{name: "approved"},
		{name: "carrier failed", visit: &fake.Fault{Err: provider.ErrUndeliverable}, want: provider.ErrUndeliverable, wantSMS: 1, wantSameV: true},
		{name: "bad number", visit: &fake.Fault{Err: provider.ErrInvalidRequest}, want: provider.ErrInvalidRequest},
		{name: "not yet", noVisit: true, want: provider.ErrNotYet},
		{name: "outcome unknown", check: &fake.Fault{Err: provider.ErrOutcomeUnknown, Processed: true}, want: provider.ErrOutcomeUnknown},
		{name: "unavailable at the check", check: &fake.Fault{Err: provider.ErrUnavailable}, want: provider.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux := http.NewServeMux()
			srv := httptest.NewServer(mux)
			defer srv.Close()
			f := fake.MustNew(fake.WithSNABaseURL(srv.URL))
			mux.Handle("/", f.SNAHandler())
			other := fake.MustNew()
			r, err := route.New([]route.Route{{Name: "main", Provider: f}, {Name: "other", Provider: other}}, route.WithSNAFallback(provider.ChannelSMS))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			v, err := r.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSNA})
			if err != nil {
				t.Fatal(err)
			}
			if tc.visit != nil {
				ft := *tc.visit
				ft.Op = fake.OpSNA
				f.InjectFault(ft)
			}
			if !tc.noVisit {
				pushdevice.OpenSNA(ctx, srv.Client(), v.SNAURL) // a failed visit is the backend's to judge
			}
			if tc.check != nil {
				ft := *tc.check
				ft.Op = fake.OpCheck
				f.InjectFault(ft)
			}
			got, err := r.CheckSNA(ctx, provider.CheckRequest{ID: v.ID})
			switch {
			case tc.want == nil && (err != nil || !got.Approved() || got.ID != v.ID):
				t.Fatalf("CheckSNA = %v, %v; want approved", got, err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("CheckSNA = %v, %v; want %v", got, err, tc.want)
			}
			if provider.FallBack(err) {
				sms, err := r.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
				if err != nil || sms.Channel != provider.ChannelSMS || (sms.ID == v.ID) != tc.wantSameV {
					t.Fatalf("fallback Start = %v, %v; want an SMS on the same verification: %v", sms, err, tc.wantSameV)
				}
			}
			if n := sends(f)[provider.ChannelSMS] + sends(other)[provider.ChannelSMS]; n != tc.wantSMS {
				t.Errorf("%d SMS sent, want %d", n, tc.wantSMS)
			}
		})
	}
}

// TestCheckSNAUnsupported: a route whose provider cannot check silent
// network auth answers ErrUnsupported.
func TestCheckSNAUnsupported(t *testing.T) {
	t.Parallel()
	r, err := route.New([]route.Route{{Name: "plain", Provider: struct{ provider.Provider }{fake.MustNew()}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CheckSNA(context.Background(), provider.CheckRequest{ID: "plain:x"}); !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("CheckSNA = %v, want ErrUnsupported", err)
	}
}
