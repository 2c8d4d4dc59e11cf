package verify_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/pushdevice"
	"github.com/verifykit/verifykit/verify"
)

const pushUser = "user-00000001"

var pushDetails = verify.PushDetails{Message: "Log in?"}

// pushSetup returns a client on a fake and a phone enrolled on it.
func pushSetup(t *testing.T) (*verify.Client, *fake.Fake, *pushdevice.Device, verify.Factor) {
	t.Helper()
	clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := fake.MustNew(fake.WithClock(clock.Now))
	c, err := verify.New(f)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreatePushAccessToken(context.Background(), pushUser, &verify.AccessTokenOptions{FactorFriendlyName: "Phone"})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := pushdevice.New(f.Device(), pushdevice.WithClock(clock.Now))
	fa, err := d.Enroll(context.Background(), tok.Token, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, f, d, fa
}

func TestWaitChallenge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _, d, fa := pushSetup(t)
		ctx := context.Background()
		ch, err := c.StartPush(ctx, pushUser, fa.ID, pushDetails, nil)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		go func() {
			time.Sleep(2500 * time.Millisecond) // the user reads the phone (synctest time)
			if _, err := d.Deny(ctx, ch.ID); err != nil {
				t.Error(err)
			}
		}()
		got, err := c.WaitChallenge(ctx, pushUser, ch.ID, nil)
		if err != nil || got.Status != verify.ChallengeDenied {
			t.Fatalf("WaitChallenge = %v, %v", got, err)
		}
		if waited := time.Since(start); waited != 3*time.Second {
			t.Errorf("waited %v, want 3s (polls each second)", waited)
		}
	})
}

func TestWaitChallengeContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _, _, fa := pushSetup(t)
		ch, _ := c.StartPush(context.Background(), pushUser, fa.ID, pushDetails, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		got, err := c.WaitChallenge(ctx, pushUser, ch.ID, &verify.WaitOptions{Interval: 200 * time.Millisecond})
		if verify.CodeOf(err) != verify.CodeDeadlineExceeded || got.ID != ch.ID || got.Status != verify.ChallengePending {
			t.Fatalf("WaitChallenge = %v, %v (%s); want the pending challenge and deadline exceeded", got, err, verify.CodeOf(err))
		}
	})
}

func TestPushRefusals(t *testing.T) {
	c, f, _, fa := pushSetup(t)
	ctx := context.Background()
	tests := []struct {
		name string
		err  error
		want verify.Code
	}{
		{"no message", func() error { _, err := c.StartPush(ctx, pushUser, fa.ID, verify.PushDetails{}, nil); return err }(), verify.CodeInvalidRequest},
		{"expiry over an hour", func() error {
			_, err := c.StartPush(ctx, pushUser, fa.ID, pushDetails, &verify.PushOptions{ExpiresIn: 2 * time.Hour})
			return err
		}(), verify.CodeInvalidRequest},
		{"unknown factor", func() error { _, err := c.StartPush(ctx, pushUser, "YF0000", pushDetails, nil); return err }(), verify.CodeNotFound},
		{"bad identity", func() error { _, err := c.CreatePushAccessToken(ctx, "me", nil); return err }(), verify.CodeInvalidRequest},
		{"ttl", func() error {
			_, err := c.CreatePushAccessToken(ctx, pushUser, &verify.AccessTokenOptions{TTL: time.Hour})
			return err
		}(), verify.CodeInvalidRequest},
		{"control character in name", func() error {
			_, err := c.CreatePushAccessToken(ctx, pushUser, &verify.AccessTokenOptions{FactorFriendlyName: "a\x00b"})
			return err
		}(), verify.CodeInvalidRequest},
		{"interval", func() error {
			_, err := c.WaitChallenge(ctx, pushUser, "YC1", &verify.WaitOptions{Interval: time.Millisecond})
			return err
		}(), verify.CodeInvalidRequest},
		{"resend to a polling phone", func() error {
			ch, _ := c.StartPush(ctx, pushUser, fa.ID, pushDetails, nil)
			return c.ResendPush(ctx, pushUser, ch.ID, 0)
		}(), verify.CodeUnsupported},
	}
	for _, tt := range tests {
		var ve *verify.Error
		if got := verify.CodeOf(tt.err); got != tt.want || !errors.As(tt.err, &ve) {
			t.Errorf("%s: %v (%s), want a *verify.Error with %s", tt.name, tt.err, got, tt.want)
		}
	}
	// A TOTP-only provider has no push.
	c2, _ := verify.New(totpOnly{f})
	if _, err := c2.CreatePushAccessToken(ctx, pushUser, nil); !errors.Is(err, verify.ErrUnsupported) {
		t.Errorf("TOTP-only provider: %v, want ErrUnsupported", err)
	}
	l, err := c.ListChallenges(ctx, pushUser, verify.ChallengeQuery{FactorID: fa.ID, Status: verify.ChallengePending})
	if err != nil || len(l) != 1 {
		t.Errorf("ListChallenges = %v, %v", l, err)
	}
}

// totpOnly hides the fake's push methods.
type totpOnly struct{ f *fake.Fake }

func (p totpOnly) Start(ctx context.Context, r provider.StartRequest) (provider.Verification, error) {
	return p.f.Start(ctx, r)
}
func (p totpOnly) Check(ctx context.Context, r provider.CheckRequest) (provider.Verification, error) {
	return p.f.Check(ctx, r)
}
func (p totpOnly) EnrollFactor(ctx context.Context, r provider.EnrollRequest) (provider.Enrollment, error) {
	return p.f.EnrollFactor(ctx, r)
}
func (p totpOnly) ConfirmFactor(ctx context.Context, r provider.ConfirmRequest) (provider.Factor, error) {
	return p.f.ConfirmFactor(ctx, r)
}
func (p totpOnly) ChallengeFactor(ctx context.Context, r provider.ChallengeRequest) (provider.Challenge, error) {
	return p.f.ChallengeFactor(ctx, r)
}
func (p totpOnly) FetchChallenge(ctx context.Context, identity, id string) (provider.Challenge, error) {
	return p.f.FetchChallenge(ctx, identity, id)
}
func (p totpOnly) FetchFactor(ctx context.Context, identity, id string) (provider.Factor, error) {
	return p.f.FetchFactor(ctx, identity, id)
}
func (p totpOnly) ListFactors(ctx context.Context, identity string) ([]provider.Factor, error) {
	return p.f.ListFactors(ctx, identity)
}
func (p totpOnly) DeleteFactor(ctx context.Context, identity, id string) error {
	return p.f.DeleteFactor(ctx, identity, id)
}
func (p totpOnly) DeleteIdentity(ctx context.Context, identity string) error {
	return p.f.DeleteIdentity(ctx, identity)
}
