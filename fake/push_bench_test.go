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
// verify; the request JWT was verified before and is reused). The
// device's fetch and signing are outside the timer.
func BenchmarkPushApprove(b *testing.B) {
	ctx := context.Background()
	f, d, req := benchPush(b)
	api := f.Device()
	auth, _ := d.Auth()
	b.ReportAllocs()
	for b.Loop() {
		ch, err := f.CreatePushChallenge(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		dc, _ := d.Fetch(ctx, ch.ID)
		payload, _ := d.SignAnswer(dc, true)
		b.StartTimer()
		if got, err := api.AnswerDeviceChallenge(ctx, auth, req.Identity, ch.ID, payload); err != nil || !got.Approved() {
			b.Fatal(got, err)
		}
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
