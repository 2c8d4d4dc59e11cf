package pushdevice_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/pushdevice"
)

var ctx = context.Background()

const identity = "user-00000001"

func setup(t testing.TB, deviceClock func() time.Time) (*fake.Fake, *fake.Clock, *pushdevice.Device) {
	t.Helper()
	clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := fake.MustNew(fake.WithClock(clock.Now))
	if deviceClock == nil {
		deviceClock = clock.Now
	}
	d, err := pushdevice.New(f.Device(), pushdevice.WithClock(deviceClock))
	if err != nil {
		t.Fatal(err)
	}
	return f, clock, d
}

func enrol(t testing.TB, f *fake.Fake, d *pushdevice.Device) provider.Factor {
	t.Helper()
	tok, err := f.CreateAccessToken(ctx, provider.AccessTokenRequest{Identity: identity, FactorFriendlyName: "Phone"})
	if err != nil {
		t.Fatal(err)
	}
	fa, err := d.Enroll(ctx, tok.Token, nil)
	if err != nil || !fa.Verified() {
		t.Fatalf("Enroll = %v, %v", fa, err)
	}
	return fa
}

var details = provider.PushDetails{Message: "Log in?", Fields: []provider.PushField{{Label: "From", Value: "Paris"}}}

func TestApproveDenyPoll(t *testing.T) {
	f, _, d := setup(t, nil)
	fa := enrol(t, f, d)
	if fa.Push == nil || fa.Push.Platform != provider.PlatformNone || fa.FriendlyName != "Phone" {
		t.Fatalf("factor %+v", fa.Push)
	}
	a, _ := f.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: identity, FactorID: fa.ID, Details: details})
	b, _ := f.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: identity, FactorID: fa.ID, Details: details})
	pending, err := d.Pending(ctx)
	if err != nil || len(pending) != 2 || pending[0].ID != a.ID || pending[0].Push.Message != "Log in?" {
		t.Fatalf("Pending = %v, %v", pending, err)
	}
	if got, err := d.Approve(ctx, a.ID); err != nil || got.Status != provider.ChallengeApproved {
		t.Fatalf("Approve = %v, %v", got, err)
	}
	if got, err := d.Deny(ctx, b.ID); err != nil || got.Status != provider.ChallengeDenied {
		t.Fatalf("Deny = %v, %v", got, err)
	}
	for id, want := range map[string]provider.ChallengeStatus{a.ID: provider.ChallengeApproved, b.ID: provider.ChallengeDenied} {
		if got, _ := f.FetchChallenge(ctx, identity, id); got.Status != want {
			t.Errorf("backend sees %v, want %s", got, want)
		}
	}
	// The SDKs' pre-checks: an answered challenge is not signed again.
	if _, err := d.Approve(ctx, a.ID); !errors.Is(err, pushdevice.ErrAnswered) {
		t.Errorf("approve twice: %v, want ErrAnswered", err)
	}
	if l, _ := d.Pending(ctx); len(l) != 0 {
		t.Errorf("pending after answers: %v", l)
	}
}

func TestReplayRefusedByServer(t *testing.T) {
	f, _, d := setup(t, nil)
	fa := enrol(t, f, d)
	a, _ := f.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: identity, FactorID: fa.ID, Details: details})
	b, _ := f.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: identity, FactorID: fa.ID, Details: details})
	dc, _ := d.Fetch(ctx, a.ID)
	payload, err := d.SignAnswer(dc, true)
	if err != nil {
		t.Fatal(err)
	}
	auth, _ := d.Auth()
	api := f.Device()
	if _, err := api.AnswerDeviceChallenge(ctx, auth, identity, b.ID, payload); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("a's answer on b: %v, want ErrInvalidRequest", err)
	}
	if _, err := api.AnswerDeviceChallenge(ctx, auth, identity, a.ID, payload); err != nil {
		t.Fatal(err)
	}
	_, err = api.AnswerDeviceChallenge(ctx, auth, identity, a.ID, payload)
	if !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("replay: %v, want ErrInvalidRequest", err)
	}
	if s := fmt.Sprint(err); strings.Contains(s, payload) || strings.Contains(s, auth) {
		t.Errorf("error shows a secret: %s", s)
	}
	if got, _ := f.FetchChallenge(ctx, identity, b.ID); got.Status != provider.ChallengePending {
		t.Errorf("b is %s", got.Status)
	}
}

// A device whose clock is 20 minutes slow is refused once, learns the
// server's time from the refusal and succeeds, as the SDKs do.
func TestClockCorrection(t *testing.T) {
	clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var refusals int
	f2 := fake.MustNew(fake.WithClock(clock.Now), fake.WithOnFactor(func(_ context.Context, e fake.FactorEvent) {
		if e.Err != nil {
			if _, ok := provider.ServerTime(e.Err); ok {
				refusals++
			}
		}
	}))
	d, _ := pushdevice.New(f2.Device(), pushdevice.WithClock(func() time.Time { return clock.Now().Add(-20 * time.Minute) }))
	tok, _ := f2.CreateAccessToken(ctx, provider.AccessTokenRequest{Identity: identity, FactorFriendlyName: "Phone"})
	fa, err := d.Enroll(ctx, tok.Token, nil)
	if err != nil || !fa.Verified() {
		t.Fatalf("Enroll with a slow clock = %v, %v", fa, err)
	}
	if refusals != 1 {
		t.Errorf("%d refusals, want 1 (then the corrected clock)", refusals)
	}
	ch, _ := f2.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: identity, FactorID: fa.ID, Details: details})
	if got, err := d.Approve(ctx, ch.ID); err != nil || !got.Approved() {
		t.Fatalf("Approve = %v, %v", got, err)
	}
	if refusals != 1 {
		t.Errorf("%d refusals after the correction", refusals)
	}
}

func TestExpiredAndDeleted(t *testing.T) {
	f, clock, d := setup(t, nil)
	fa := enrol(t, f, d)
	ch, _ := f.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: identity, FactorID: fa.ID, Details: details, ExpiresIn: time.Minute})
	clock.Advance(time.Minute)
	if _, err := d.Approve(ctx, ch.ID); !errors.Is(err, pushdevice.ErrExpired) {
		t.Errorf("approve expired: %v, want ErrExpired", err)
	}
	if err := d.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if l, _ := f.ListFactors(ctx, identity); len(l) != 0 {
		t.Errorf("factors after delete: %v", l)
	}
	if _, err := d.Pending(ctx); !errors.Is(err, pushdevice.ErrNotEnrolled) {
		t.Errorf("after delete: %v", err)
	}
}

func TestNewRefuses(t *testing.T) {
	f := fake.MustNew()
	if _, err := pushdevice.New(nil); err == nil {
		t.Error("nil api accepted")
	}
	if _, err := pushdevice.New(f.Device(), pushdevice.WithKey(nil)); err == nil {
		t.Error("nil key accepted")
	}
	d, _ := pushdevice.New(f.Device())
	if _, err := d.Verify(ctx); !errors.Is(err, pushdevice.ErrNotEnrolled) {
		t.Errorf("Verify before Create: %v", err)
	}
	if _, err := d.Create(ctx, "not-a-token", nil); !errors.Is(err, provider.ErrUnauthorized) {
		t.Errorf("Create with a bad token: %v", err)
	}
}
