package fake_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
)

// TestSNA walks silent network auth on the fake, one row per way it can
// go: the device's visit (or none, or a failed one) and what CheckSNA
// answers.
func TestSNA(t *testing.T) {
	t.Parallel()
	const to = "+14155552671"
	for _, tc := range []struct {
		name      string
		fault     error         // an OpSNA fault, nil for none
		visit     bool          // the device opens the URL
		badToken  bool          // ... with a token the fake did not issue
		advance   time.Duration // before the visit
		wantVisit int           // the visit's HTTP status
		wantBody  string
		want      error // CheckSNA's sentinel, nil: approved
	}{
		{name: "approved", visit: true, wantVisit: 200, wantBody: "ErrorCode=0&ErrorDescription=Success&Carrier=FAKE"},
		{name: "not yet", want: provider.ErrNotYet},
		{name: "wrong token", visit: true, badToken: true, wantVisit: 404, want: provider.ErrNotYet},
		{name: "expired", visit: true, advance: 11 * time.Minute, wantVisit: 404, want: provider.ErrNotFound},
		{name: "carrier failed: fall back", fault: provider.ErrUndeliverable, visit: true, wantVisit: 200, wantBody: "ErrorCode=1", want: provider.ErrUndeliverable},
		{name: "bad number: no fall back", fault: provider.ErrInvalidRequest, visit: true, wantVisit: 200, wantBody: "ErrorCode=1", want: provider.ErrInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := fake.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			mux := http.NewServeMux()
			srv := httptest.NewServer(mux)
			defer srv.Close()
			f := fake.MustNew(fake.WithClock(clock.Now), fake.WithSNABaseURL(srv.URL))
			mux.Handle("/", f.SNAHandler())
			ctx := context.Background()
			if tc.fault != nil {
				f.InjectFault(fake.Fault{Op: fake.OpSNA, To: to, Err: tc.fault})
			}
			v, err := f.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSNA})
			if err != nil || !strings.HasPrefix(v.SNAURL, srv.URL+"/sna/"+v.ID+"/") {
				t.Fatalf("Start = %v (URL %q), %v", v, v.SNAURL, err)
			}
			clock.Advance(tc.advance)
			if tc.visit {
				u := v.SNAURL
				if tc.badToken {
					u = u[:len(u)-1] + string('0'+(u[len(u)-1]-'0'+1)%10)
				}
				resp, err := srv.Client().Get(u)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.wantVisit || !strings.HasPrefix(string(body), tc.wantBody) {
					t.Errorf("visit = %d %q, want %d %q", resp.StatusCode, body, tc.wantVisit, tc.wantBody)
				}
			}
			got, err := f.CheckSNA(ctx, provider.CheckRequest{ID: v.ID})
			if tc.want == nil {
				if err != nil || !got.Approved() || got.ID != v.ID {
					t.Fatalf("CheckSNA = %v, %v; want approved", got, err)
				}
				if _, err := f.CheckSNA(ctx, provider.CheckRequest{ID: v.ID}); !errors.Is(err, provider.ErrNotFound) {
					t.Errorf("second CheckSNA = %v, want ErrNotFound", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || got.Approved() {
				t.Fatalf("CheckSNA = %v, %v; want %v", got, err, tc.want)
			}
			if errors.Is(tc.want, provider.ErrNotYet) {
				// Not yet uses no attempt: the device may still come.
				if _, err := f.CheckSNA(ctx, provider.CheckRequest{ID: v.ID}); !errors.Is(err, provider.ErrNotYet) {
					t.Errorf("second CheckSNA = %v, want ErrNotYet again", err)
				}
			}
		})
	}
}

// TestSNARefusals: CheckSNA needs an ID, and a verification started over
// silent network auth.
func TestSNARefusals(t *testing.T) {
	t.Parallel()
	f := fake.MustNew()
	ctx := context.Background()
	v, err := f.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	if err != nil || v.SNAURL != "" {
		t.Fatalf("Start(sms) = %v (URL %q), %v", v, v.SNAURL, err)
	}
	for _, req := range []provider.CheckRequest{{To: "+14155552671"}, {ID: v.ID}} {
		if _, err := f.CheckSNA(ctx, req); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("CheckSNA(%v) = %v, want ErrInvalidRequest", req, err)
		}
	}
	if _, err := fake.New(fake.WithSNABaseURL("ftp://x")); err == nil {
		t.Error("WithSNABaseURL(ftp://x) accepted")
	}
}
