package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
	"github.com/verifykit/verifykit/verify"
)

func emulatorClient(t testing.TB, srv *twiliotest.Server) *twilio.Client {
	c, err := twilio.New(twiliotest.DefaultServiceSID,
		twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL), twilio.WithRetryWait(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEmulatorConcurrentUsers runs many users at once through verify →
// twilio → emulator: each starts, types a wrong code, then the right one.
// Run with -race. Afterwards the emulator holds no verification.
func TestEmulatorConcurrentUsers(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	client, err := verify.New(emulatorClient(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	const users = 64
	var approved atomic.Int32
	var wg sync.WaitGroup
	for i := range users {
		wg.Go(func() {
			ctx := context.Background()
			to := fmt.Sprintf("+1415555%04d", 2000+i)
			v, err := client.Start(ctx, to, verify.ChannelSMS, nil)
			if err != nil {
				t.Errorf("start %s: %v", to, err)
				return
			}
			code, _ := srv.LastCode(to)
			if r, err := client.CheckID(ctx, v.ID, "0000000", nil); err != nil || r.Approved() {
				t.Errorf("wrong code %s: %v, %v", to, r, err)
			}
			if r, err := client.Check(ctx, to, code, nil); err != nil || !r.Approved() {
				t.Errorf("right code %s: %v, %v", to, r, err)
				return
			}
			approved.Add(1)
		})
	}
	wg.Wait()
	if approved.Load() != users {
		t.Errorf("%d of %d approved", approved.Load(), users)
	}
	if n := srv.Pending(); n != 0 {
		t.Errorf("%d verifications held after every one was approved", n)
	}
}

// BenchmarkEmulatorStartCheck is a Start and a Check through the twilio
// client and the emulator over loopback, from GOMAXPROCS goroutines; it
// reports requests per second.
func BenchmarkEmulatorStartCheck(b *testing.B) {
	// One fixed code, not LastCode: a goroutine descheduled between its
	// Start and its LastCode can find its message already pushed out of
	// the outbox by the others' starts.
	const code = "246810"
	srv := twiliotest.NewServer(twiliotest.WithOutboxLimit(64), twiliotest.WithFixedCode(code))
	defer srv.Close()
	c := emulatorClient(b, srv)
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			to := fmt.Sprintf("+1415%07d", 1000000+n.Add(1)%8000000)
			if _, err := c.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS}); err != nil {
				b.Error(err)
				return
			}
			if v, err := c.Check(ctx, provider.CheckRequest{To: to, Code: code}); err != nil || !v.Approved() {
				b.Error(v, err)
				return
			}
		}
	})
	b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "req/s")
}

// TestEmulatorSNA runs a silent network auth through the client and the
// emulator: start with channel sna, the device visits the sna.url, then a
// check without a code approves.
func TestEmulatorSNA(t *testing.T) {
	t.Parallel()
	srv := twiliotest.NewServer()
	defer srv.Close()
	c := emulatorClient(t, srv)
	ctx := context.Background()
	v, err := c.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSNA})
	if err != nil {
		t.Fatal(err)
	}
	d := v.Detail.(*twilio.Verification)
	if d.SNA == nil || d.SNA.URL == "" {
		t.Fatalf("Start(sna) = %v with no sna.url", v)
	}
	if v.SNAURL != d.SNA.URL {
		t.Errorf("SNAURL is not the sna.url")
	}
	if got, err := c.CheckSNA(ctx, provider.CheckRequest{ID: v.ID}); !errors.Is(err, provider.ErrNotYet) || got.Approved() {
		t.Fatalf("CheckSNA before the device step = %v, %v; want ErrNotYet", got, err)
	}
	resp, err := srv.Client().Get(d.SNA.URL) // the device step
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("visiting sna.url: %s", resp.Status)
	}
	got, err := c.CheckSNA(ctx, provider.CheckRequest{ID: v.ID})
	if err != nil || !got.Approved() {
		t.Fatalf("CheckSNA after the device step = %v, %v; want approved", got, err)
	}
}

// TestEmulatorProxy503AfterProcessing: a proxy answers 503 after the check
// reached Twilio and approved the code. The default policy does not repeat
// the check (a repeat would find the verification gone and say
// ErrNotFound) and reports ErrOutcomeUnknown; POSTRetryAny503, which
// trusts the proxy, shows the failure the default avoids.
func TestEmulatorProxy503AfterProcessing(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		policy twilio.POSTRetryPolicy
		want   error
	}{
		{twilio.POSTRetryTwilio, provider.ErrOutcomeUnknown},
		{twilio.POSTRetryOff, provider.ErrOutcomeUnknown},
		{twilio.POSTRetryAny503, provider.ErrNotFound},
	} {
		srv := twiliotest.NewServer()
		c, err := twilio.New(twiliotest.DefaultServiceSID,
			twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
			twilio.WithBaseURL(srv.URL), twilio.WithRetryWait(0, 0), twilio.WithPOSTRetry(tt.policy))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		v, err := c.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
		if err != nil {
			t.Fatal(err)
		}
		code, _ := srv.LastCode("+14155552671")
		if err := srv.InjectFault(twiliotest.Fault{Op: "check", Status: 503, Processed: true}); err != nil {
			t.Fatal(err)
		}
		_, err = c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
		if !errors.Is(err, tt.want) {
			t.Errorf("policy %d: Check = %v, want %v", tt.policy, err, tt.want)
		}
		if got := srv.Approvals(); len(got) != 1 || got[0] != v.ID {
			t.Errorf("policy %d: the emulator granted %v", tt.policy, got)
		}
		srv.Close()
	}
}
