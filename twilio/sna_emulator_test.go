package twilio_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/pushdevice"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// TestEmulatorSNAOutcomes runs silent network auth through the client,
// the emulator and the device helper, one row per outcome: the device's
// visit (succeeding, failing with each documented SNA error code, too
// late, or not made) and what CheckSNA then answers.
func TestEmulatorSNAOutcomes(t *testing.T) {
	t.Parallel()
	type row struct {
		name      string
		code      int           // an "sna" fault's code, 0 for none
		late      time.Duration // how long after the start the device comes
		noVisit   bool
		token     bool   // the start asks for a client token
		badToken  bool   // ... and the check carries another one
		wantVisit error  // the device's error: nil, or pushdevice.ErrSNAFailed
		want      error  // CheckSNA's sentinel; nil: approved
		wantCode  string // the SNAError's code
	}
	rows := []row{
		{name: "approved"},
		{name: "approved with a client token", token: true},
		{name: "client token mismatch", token: true, badToken: true, want: provider.ErrInvalidRequest},
		{name: "not yet (60519)", noVisit: true, want: provider.ErrNotYet, wantCode: "60519"},
		{name: "expired", late: 11 * time.Minute, wantVisit: errors.New("404"), want: provider.ErrNotFound},
		{name: "60540 bad number: no fallback", code: 60540, wantVisit: pushdevice.ErrSNAFailed, want: provider.ErrInvalidRequest, wantCode: "60540"},
	}
	for _, code := range []int{60510, 60511, 60517, 60520, 60533, 60534} {
		rows = append(rows, row{name: strconv.Itoa(code) + ": fall back", code: code, wantVisit: pushdevice.ErrSNAFailed, want: provider.ErrUndeliverable, wantCode: strconv.Itoa(code)})
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := twiliotest.NewServer()
			defer srv.Close()
			c := emulatorClient(t, srv)
			ctx := context.Background()
			const to = "+14155552671"
			if tc.code != 0 {
				if err := srv.InjectFault(twiliotest.Fault{Op: "sna", To: to, Code: tc.code}); err != nil {
					t.Fatal(err)
				}
			}
			req := provider.StartRequest{To: to, Channel: provider.ChannelSNA}
			if tc.token {
				req.Extensions = []provider.Extension{twilio.StartParams{EnableSNAClientToken: true}}
			}
			v, err := c.Start(ctx, req)
			if err != nil || v.SNAURL == "" {
				t.Fatalf("Start = %v, %v; want an SNA URL", v, err)
			}
			srv.Advance(tc.late)
			var res pushdevice.SNAResult
			if !tc.noVisit {
				res, err = pushdevice.OpenSNA(ctx, srv.Client(), v.SNAURL)
				switch {
				case tc.wantVisit == nil && (err != nil || res.Carrier != "EMU" || (res.Token != "") != tc.token):
					t.Fatalf("Open = %v, %v; want success from EMU, a token: %v", res, err, tc.token)
				case tc.wantVisit != nil && err == nil:
					t.Fatalf("Open = %v, want an error", res)
				case errors.Is(tc.wantVisit, pushdevice.ErrSNAFailed):
					var e *pushdevice.SNAError
					if !errors.As(err, &e) || e.Code != strconv.Itoa(tc.code) {
						t.Errorf("Open = %v, want the error code %d", err, tc.code)
					}
				}
			}
			token := res.Token
			if tc.badToken {
				token = "not-the-token"
			}
			got, err := c.CheckSNA(ctx, provider.CheckRequest{ID: v.ID, Code: token})
			if tc.want == nil {
				if err != nil || !got.Approved() {
					t.Fatalf("CheckSNA = %v, %v; want approved", got, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || got.Approved() {
				t.Fatalf("CheckSNA = %v, %v; want %v", got, err, tc.want)
			}
			var se *provider.SNAError
			if tc.wantCode != "" && (!errors.As(err, &se) || se.Code != tc.wantCode) {
				t.Errorf("CheckSNA = %v, want an SNAError with code %s", err, tc.wantCode)
			}
		})
	}
}

// TestEmulatorSNAFaultValidation: an "sna" fault needs an SNA error code
// and takes no HTTP status.
func TestEmulatorSNAFaultValidation(t *testing.T) {
	t.Parallel()
	srv := twiliotest.NewServer()
	defer srv.Close()
	for _, f := range []twiliotest.Fault{{Op: "sna"}, {Op: "sna", Code: 20503}, {Op: "sna", Code: 60510, Status: 500}, {Op: "sna", Code: 60510, Drop: true}} {
		if err := srv.InjectFault(f); err == nil {
			t.Errorf("InjectFault(%+v) accepted", f)
		}
	}
}
