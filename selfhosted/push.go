package selfhosted

import (
	"context"
	"errors"
	"time"

	"github.com/verifykit/verifykit/provider"
)

var _ provider.PushProvider = (*Provider)(nil)

// The push operations, in errors.
const (
	OpAccessToken   Op = "access token"
	OpPushChallenge Op = "push challenge"
	OpNotify        Op = "notify"
	OpDevice        Op = "device"
)

const (
	// pushAccount is what a device's request JWTs carry as "sub": the
	// account ID a new device factor is told.
	pushAccount = "selfhosted"
	// pushLeeway is the clock difference allowed around a request JWT's
	// window: none; a device whose clock is off gets a 401 with the
	// provider's time (provider.ServerTime) and corrects it, as the SDKs
	// do.
	pushLeeway = 0
)

// WithPushNotifier delivers push challenges' notifications through n,
// typically pushnotify.Platforms{FCM: …, APN: …}. Without it a factor
// whose platform is apn or fcm gets no notification (its challenge is
// created; NotifyChallenge fails with ErrUnsupported) and its device
// must poll; platform none never needs one.
func WithPushNotifier(n provider.PushNotifier) Option {
	return func(p *Provider) error {
		if n == nil {
			return errors.New("selfhosted: WithPushNotifier: nil notifier")
		}
		p.notifier = n
		return nil
	}
}

func (p *Provider) notify(ctx context.Context, n provider.PushNotification) error {
	if p.notifier == nil {
		return newErr(OpNotify, provider.ErrUnsupported, "no push notifier: use WithPushNotifier")
	}
	return p.notifier.Notify(ctx, n)
}

// CreateAccessToken issues a push enrolment token for req.Identity: give
// it to the device app, which creates its factor with it (through
// Device), once, within req.TTL (default 1 minute). Only its SHA-256 is
// stored.
func (p *Provider) CreateAccessToken(ctx context.Context, req provider.AccessTokenRequest) (provider.AccessToken, error) {
	out, err := p.factors.CreateAccessToken(ctx, req)
	return out, factorFail(OpAccessToken, err)
}

// CreatePushChallenge creates a pending challenge of a verified push
// factor and notifies its device through the WithPushNotifier notifier
// (unless its platform is none). A failed notification does not fail the
// call; NotifyChallenge tries again.
func (p *Provider) CreatePushChallenge(ctx context.Context, req provider.PushChallengeRequest) (provider.Challenge, error) {
	out, err := p.factors.CreatePushChallenge(ctx, req)
	return out, factorFail(OpPushChallenge, err)
}

// NotifyChallenge sends a pending push challenge's notification again and
// returns the notifier's error.
func (p *Provider) NotifyChallenge(ctx context.Context, identity, challengeID string, ttl time.Duration) error {
	err := p.factors.NotifyChallenge(ctx, identity, challengeID, ttl)
	var e *Error
	if errors.As(err, &e) && e.Op == OpNotify {
		return err // the notifier's, already the provider's
	}
	return factorFail(OpNotify, err)
}

// ListChallenges returns identity's challenges, oldest first (the latest
// 20 are kept), filtered by q.
func (p *Provider) ListChallenges(ctx context.Context, identity string, q provider.ChallengeQuery) ([]provider.Challenge, error) {
	out, err := p.factors.ListChallenges(ctx, identity, q.FactorID, q.Status)
	return out, factorFail(OpFactor, err)
}

// Device returns the device side of the push protocol, in process: what
// a phone calls, through the application's own HTTP endpoints (see
// internal/pushwire's shape in docs/selfhosted.md) or, in tests, a
// pushdevice.Device. It checks access tokens, request JWTs and signatures;
// a request JWT used outside its window reports the provider's clock
// through provider.ServerTime.
func (p *Provider) Device() provider.PushDeviceAPI { return device{p} }

type device struct{ p *Provider }

func (d device) CreateDeviceFactor(ctx context.Context, token string, req provider.DeviceFactorRequest) (provider.DeviceFactor, error) {
	out, err := d.p.factors.CreateDeviceFactor(ctx, token, req)
	return out, factorFail(OpDevice, err)
}

func (d device) VerifyDeviceFactor(ctx context.Context, auth, identity, factorID, payload string) (provider.Factor, error) {
	out, err := d.p.factors.VerifyDeviceFactor(ctx, auth, identity, factorID, payload)
	return out, factorFail(OpDevice, err)
}

func (d device) FetchDeviceChallenge(ctx context.Context, auth, identity, id string) (provider.DeviceChallenge, error) {
	out, err := d.p.factors.FetchDeviceChallenge(ctx, auth, identity, id)
	return out, factorFail(OpDevice, err)
}

func (d device) ListDeviceChallenges(ctx context.Context, auth, identity, factorID string, status provider.ChallengeStatus) ([]provider.DeviceChallenge, error) {
	out, err := d.p.factors.ListDeviceChallenges(ctx, auth, identity, factorID, status)
	return out, factorFail(OpDevice, err)
}

func (d device) AnswerDeviceChallenge(ctx context.Context, auth, identity, id, payload string) (provider.Challenge, error) {
	out, err := d.p.factors.AnswerDeviceChallenge(ctx, auth, identity, id, payload)
	return out, factorFail(OpDevice, err)
}

func (d device) UpdateDeviceFactor(ctx context.Context, auth, identity, factorID string, req provider.DeviceFactorUpdate) (provider.Factor, error) {
	out, err := d.p.factors.UpdateDeviceFactor(ctx, auth, identity, factorID, req)
	return out, factorFail(OpDevice, err)
}

func (d device) DeleteDeviceFactor(ctx context.Context, auth, identity, factorID string) error {
	return factorFail(OpDevice, d.p.factors.DeleteDeviceFactor(ctx, auth, identity, factorID))
}
