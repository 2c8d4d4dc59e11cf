package fake

import (
	"context"
	"time"

	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/provider"
)

// lifecycle returns the lifecycle event of a factor operation, or nil.
func lifecycle(ev engine.FactorEvent) *provider.LifecycleEvent {
	if le, ok := ev.Lifecycle("fake"); ok {
		return &le
	}
	return nil
}

// CreateAccessToken issues a push enrolment token for req.Identity: give
// it to the device (package pushdevice), which creates its factor with
// it, once, within req.TTL (default 1 minute).
func (f *Fake) CreateAccessToken(ctx context.Context, req provider.AccessTokenRequest) (provider.AccessToken, error) {
	t, err := f.factors.CreateAccessToken(ctx, req)
	return t, factorErr(err)
}

// CreatePushChallenge creates a pending challenge of a verified push
// factor. Its notification, when the factor's platform is apn or fcm, is
// reported to WithOnFactor as an OpNotifyChallenge event; nothing is sent.
// Only the device's key answers it (Device).
func (f *Fake) CreatePushChallenge(ctx context.Context, req provider.PushChallengeRequest) (provider.Challenge, error) {
	c, err := f.factors.CreatePushChallenge(ctx, req)
	return c, factorErr(err)
}

// NotifyChallenge reports a pending push challenge's notification again.
func (f *Fake) NotifyChallenge(ctx context.Context, identity, challengeID string, ttl time.Duration) error {
	return factorErr(f.factors.NotifyChallenge(ctx, identity, challengeID, ttl))
}

// ListChallenges returns identity's challenges, oldest first (the last 100
// are kept), filtered by q.
func (f *Fake) ListChallenges(ctx context.Context, identity string, q provider.ChallengeQuery) ([]provider.Challenge, error) {
	l, err := f.factors.ListChallenges(ctx, identity, q.FactorID, q.Status)
	return l, factorErr(err)
}

// Device returns the fake's device side of the push protocol, in process:
// what a phone calls. Give it to a pushdevice.Device to play the phone in
// tests. It checks access tokens, request JWTs and signatures exactly as a
// server must; its errors are the fake's (*Error), and a request JWT used
// outside its window reports the fake's clock through
// provider.ServerTime.
func (f *Fake) Device() provider.PushDeviceAPI { return fakeDevice{f} }

type fakeDevice struct{ f *Fake }

func (d fakeDevice) CreateDeviceFactor(ctx context.Context, token string, req provider.DeviceFactorRequest) (provider.DeviceFactor, error) {
	out, err := d.f.factors.CreateDeviceFactor(ctx, token, req)
	return out, factorErr(err)
}

func (d fakeDevice) VerifyDeviceFactor(ctx context.Context, auth, identity, factorID, payload string) (provider.Factor, error) {
	out, err := d.f.factors.VerifyDeviceFactor(ctx, auth, identity, factorID, payload)
	return out, factorErr(err)
}

func (d fakeDevice) FetchDeviceChallenge(ctx context.Context, auth, identity, id string) (provider.DeviceChallenge, error) {
	out, err := d.f.factors.FetchDeviceChallenge(ctx, auth, identity, id)
	return out, factorErr(err)
}

func (d fakeDevice) ListDeviceChallenges(ctx context.Context, auth, identity, factorID string, status provider.ChallengeStatus) ([]provider.DeviceChallenge, error) {
	out, err := d.f.factors.ListDeviceChallenges(ctx, auth, identity, factorID, status)
	return out, factorErr(err)
}

func (d fakeDevice) AnswerDeviceChallenge(ctx context.Context, auth, identity, id, payload string) (provider.Challenge, error) {
	out, err := d.f.factors.AnswerDeviceChallenge(ctx, auth, identity, id, payload)
	return out, factorErr(err)
}

func (d fakeDevice) UpdateDeviceFactor(ctx context.Context, auth, identity, factorID string, req provider.DeviceFactorUpdate) (provider.Factor, error) {
	out, err := d.f.factors.UpdateDeviceFactor(ctx, auth, identity, factorID, req)
	return out, factorErr(err)
}

func (d fakeDevice) DeleteDeviceFactor(ctx context.Context, auth, identity, factorID string) error {
	return factorErr(d.f.factors.DeleteDeviceFactor(ctx, auth, identity, factorID))
}

var _ provider.PushProvider = (*Fake)(nil)
