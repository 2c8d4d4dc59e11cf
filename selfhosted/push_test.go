package selfhosted_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/pushdevice"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
)

// notes is a push notifier that keeps what it is given.
type notes struct {
	mu   sync.Mutex
	sent []provider.PushNotification
	fail error
}

func (n *notes) Notify(_ context.Context, note provider.PushNotification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, note)
	return n.fail
}

// pushLogin enrols a phone (a pushdevice.Device on the provider's device
// side) for identity with an FCM token.
func pushLogin(t testing.TB, p *selfhosted.Provider, c *clock, identity string) *pushdevice.Device {
	t.Helper()
	ctx := context.Background()
	tok, err := p.CreateAccessToken(ctx, provider.AccessTokenRequest{Identity: identity, FactorFriendlyName: "Pixel"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := pushdevice.New(p.Device(), pushdevice.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Enroll(ctx, tok.Token, &pushdevice.EnrollOptions{Platform: provider.PlatformFCM, NotificationToken: "fcm-token-0123456789abcdef0123456789"}); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPushLoginNotifies: a push challenge is delivered through the
// WithPushNotifier notifier, with the factor's token and the challenge's
// message, and the phone's answer approves it, on another replica too.
func TestPushLoginNotifies(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	n := new(notes)
	p, _, c, rec := newRecorded(t, selfhosted.WithPushNotifier(n))
	const identity = "user-0001-push"
	d := pushLogin(t, p, c, identity)
	ch, err := p.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: identity, FactorID: d.Factor().ID,
		Details: provider.PushDetails{Message: "Log in to Example?"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []provider.PushNotification{{Identity: identity, FactorID: d.Factor().ID, ChallengeID: ch.ID, Platform: provider.PlatformFCM,
		Token: "fcm-token-0123456789abcdef0123456789", AppID: "com.example.verifykit", Message: "Log in to Example?", TTL: provider.DefaultNotificationTTL}}
	if diff := cmp.Diff(want, n.sent); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
	if got, err := d.Approve(ctx, ch.ID); err != nil || !got.Approved() {
		t.Fatalf("Approve = %v, %v", got, err)
	}
	// A second replica over the same store creates a challenge; the phone
	// answers it through the first; the second sees the answer.
	p2, err := selfhosted.New(rec, testKey, selfhosted.WithClock(c.Now), selfhosted.WithSender(new(selfhosted.Outbox), provider.ChannelSMS))
	if err != nil {
		t.Fatal(err)
	}
	ch1, err := p2.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: identity, FactorID: d.Factor().ID,
		Details: provider.PushDetails{Message: "On the other replica?"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.Deny(ctx, ch1.ID); err != nil || got.Status != provider.ChallengeDenied {
		t.Fatalf("Deny through the first replica = %v, %v", got, err)
	}
	if got, err := p2.FetchChallenge(ctx, identity, ch1.ID); err != nil || got.Status != provider.ChallengeDenied {
		t.Errorf("FetchChallenge on the second = %v, %v; want denied", got, err)
	}
	// A failed delivery does not fail the challenge; NotifyChallenge
	// returns it.
	n.fail = errors.New("fcm down")
	ch2, err := p.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: identity, FactorID: d.Factor().ID,
		Details: provider.PushDetails{Message: "Again?"}})
	if err != nil {
		t.Fatalf("CreatePushChallenge with the notifier failing: %v", err)
	}
	if err := p.NotifyChallenge(ctx, identity, ch2.ID, time.Minute); err == nil {
		t.Error("NotifyChallenge with the notifier failing: nil error")
	}
}

// TestPushWithoutNotifier: without WithPushNotifier a challenge is still
// created (the phone polls) and NotifyChallenge says ErrUnsupported.
func TestPushWithoutNotifier(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, _, c, _ := newRecorded(t)
	const identity = "user-0002-push"
	d := pushLogin(t, p, c, identity)
	ch, err := p.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: identity, FactorID: d.Factor().ID,
		Details: provider.PushDetails{Message: "Log in?"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.NotifyChallenge(ctx, identity, ch.ID, time.Minute); !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("NotifyChallenge without a notifier: %v, want ErrUnsupported", err)
	}
	if pending, err := d.Pending(ctx); err != nil || len(pending) != 1 {
		t.Errorf("the phone polls: %v, %v; want the challenge", pending, err)
	}
}

// TestDumpHoldsNoPushSecret: what the provider writes for a push factor
// and its access token holds neither the token, the device's key, its
// notification token, the identity nor a challenge's message.
func TestDumpHoldsNoPushSecret(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, _, c, rec := newRecorded(t)
	const identity = "user-0003-push-dump"
	tok, err := p.CreateAccessToken(ctx, provider.AccessTokenRequest{Identity: identity, FactorFriendlyName: "Pixel"})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := pushdevice.New(p.Device(), pushdevice.WithClock(c.Now))
	if _, err := d.Enroll(ctx, tok.Token, &pushdevice.EnrollOptions{Platform: provider.PlatformFCM, NotificationToken: "fcm-token-0123456789abcdef0123456789"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: identity, FactorID: d.Factor().ID,
		Details: provider.PushDetails{Message: "Log in to Example?"}}); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i, val := range rec.values {
		for _, s := range []string{tok.Token, d.PublicKey()[:40], "fcm-token-0123456789abcdef0123456789", identity, "Log in to Example?"} {
			if bytes.Contains(val, []byte(s)) {
				t.Errorf("stored value %d (key %s) contains %.12q…", i, rec.keys[i], s)
			}
		}
	}
}

// BenchmarkTOTPChallenge measures a TOTP login on the memory store: one
// ChallengeFactor with the right code (a new time step each time; the
// code's computation, about 1 µs, is timed too).
func BenchmarkTOTPChallenge(b *testing.B) {
	login := totpLogin(b)
	b.ReportAllocs()
	for b.Loop() {
		login()
	}
}

// totpLogin enrols a TOTP factor on the memory store and returns a login
// with it: a ChallengeFactor with the right code, a time step later.
func totpLogin(tb testing.TB) func() {
	ctx := context.Background()
	c := newClock()
	m, _ := store.NewMemory(store.WithClock(c.Now))
	p, err := selfhosted.New(m, testKey, selfhosted.WithClock(c.Now), selfhosted.WithSender(new(selfhosted.Outbox), provider.ChannelSMS))
	if err != nil {
		tb.Fatal(err)
	}
	const identity = "user-0004-bench"
	e, err := p.EnrollFactor(ctx, provider.EnrollRequest{Identity: identity, Type: provider.FactorTOTP, FriendlyName: "phone"})
	if err != nil {
		tb.Fatal(err)
	}
	secret, _ := totp.DecodeSecret(e.Secret)
	ver := totp.NewVerifier(secret, e.TOTP)
	code := func() string { return ver.Code(ver.Step(c.Now())) }
	if _, err := p.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: identity, FactorID: e.ID, Code: code()}); err != nil {
		tb.Fatal(err)
	}
	return func() {
		c.Advance(30 * time.Second) // a new time step: a code is accepted once
		req := provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: code()}
		if ch, err := p.ChallengeFactor(ctx, req); err != nil || !ch.Approved() {
			tb.Fatal(ch, err)
		}
	}
}

// BenchmarkPushApproveRoundTrip is a push login on the memory store, in
// process: create a challenge, the phone fetches, signs and answers, the
// provider verifies and approves.
func BenchmarkPushApproveRoundTrip(b *testing.B) {
	ctx := context.Background()
	c := newClock()
	m, _ := store.NewMemory(store.WithClock(c.Now))
	p, err := selfhosted.New(m, testKey, selfhosted.WithClock(c.Now), selfhosted.WithSender(new(selfhosted.Outbox), provider.ChannelSMS),
		selfhosted.WithPushNotifier(new(notes)))
	if err != nil {
		b.Fatal(err)
	}
	const identity = "user-0005-bench"
	d := pushLogin(b, p, c, identity)
	req := provider.PushChallengeRequest{Identity: identity, FactorID: d.Factor().ID, Details: provider.PushDetails{Message: "Log in?"}}
	b.ReportAllocs()
	for b.Loop() {
		ch, err := p.CreatePushChallenge(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if got, err := d.Approve(ctx, ch.ID); err != nil || !got.Approved() {
			b.Fatal(got, err)
		}
	}
}
