package fake_test

import (
	"context"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/pushdevice"
)

// benchPush returns a fake with a verified push factor and its phone.
func benchPush(b *testing.B) (*fake.Fake, *pushdevice.Device, provider.PushChallengeRequest) {
	b.Helper()
	ctx := context.Background()
	clock := fake.NewClock(time.Unix(1_700_000_000, 0))
	f := fake.MustNew(fake.WithClock(clock.Now))
	tok, err := f.CreateAccessToken(ctx, provider.AccessTokenRequest{Identity: "user-00000001", FactorFriendlyName: "Phone"})
	if err != nil {
		b.Fatal(err)
	}
	d, _ := pushdevice.New(f.Device(), pushdevice.WithClock(clock.Now))
	fa, err := d.Enroll(ctx, tok.Token, nil)
	if err != nil {
		b.Fatal(err)
	}
	return f, d, provider.PushChallengeRequest{Identity: "user-00000001", FactorID: fa.ID,
		Details: provider.PushDetails{Message: "Log in?", Fields: []provider.PushField{{Label: "IP", Value: "192.0.2.1"}}}}
}

// BenchmarkPushApprove is a push login on the fake, server side: create
// a challenge, then check the device's answer and approve (one ECDSA
// verify; the request JWT was verified before and is remembered). The
// device's fetch and signing are outside the timer, in batches, so that
// stopping the timer (which reads the memory statistics) costs little
// per login.
func BenchmarkPushApprove(b *testing.B) {
	f, d, req := benchPush(b)
	b.ReportAllocs()
	logins(b, f, d, req, func(pause bool) {
		if pause {
			b.StopTimer()
		} else {
			b.StartTimer()
		}
	})
}

// logins runs b.N push logins in batches: each batch's challenges are
// created, then fetched and signed by the device between pause(true) and
// pause(false), then answered.
func logins(b *testing.B, f *fake.Fake, d *pushdevice.Device, req provider.PushChallengeRequest, pause func(bool)) {
	ctx := context.Background()
	api := f.Device()
	auth, _ := d.Auth()
	const batch = 50 // fewer than the challenges an identity keeps
	ids, payloads := make([]string, batch), make([]string, batch)
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		for i := range n {
			ch, err := f.CreatePushChallenge(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			ids[i] = ch.ID
		}
		pause(true)
		for i := range n {
			dc, _ := d.Fetch(ctx, ids[i])
			payloads[i], _ = d.SignAnswer(dc, true)
		}
		pause(false)
		for i := range n {
			if got, err := api.AnswerDeviceChallenge(ctx, auth, req.Identity, ids[i], payloads[i]); err != nil || !got.Approved() {
				b.Fatal(got, err)
			}
		}
		done += n
	}
}

// BenchmarkPushApproveRoundTrip is the whole login in process: create,
// the device fetches, signs (one ECDSA sign) and answers, the fake
// verifies (one ECDSA verify) and approves.
func BenchmarkPushApproveRoundTrip(b *testing.B) {
	ctx := context.Background()
	f, d, req := benchPush(b)
	b.ReportAllocs()
	for b.Loop() {
		ch, err := f.CreatePushChallenge(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if got, err := d.Approve(ctx, ch.ID); err != nil || !got.Approved() {
			b.Fatal(got, err)
		}
	}
}
