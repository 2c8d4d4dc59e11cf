// Package pushdevice is a phone in Go: it holds a P-256 key, enrols a push
// factor, verifies it, and approves or denies challenges, signing exactly
// as Twilio's official Verify Android and iOS SDKs sign (the key as
// base64 PKIX DER, the factor's verification as a DER ECDSA signature
// over its ID, an ES256 request JWT on every later call, and an ES256
// JWT over the challenge's signature fields to answer it). Applications
// use it to test "approve on your phone" end to end without a phone.
// It also plays the phone's part of silent network auth ([OpenSNA]).
//
// A Device talks to a server through a [provider.PushDeviceAPI]: the
// fake's, in process (fake.Fake.Device), or an HTTP transport speaking a
// server's device endpoints. Like the SDKs, a Device corrects its clock by
// the server's time when a request JWT is refused as outside its window
// (provider.ServerTime, the Date of a 401) and retries once.
//
// # Adding a transport
//
// A transport is any provider.PushDeviceAPI; add it in its own file of
// this package (http.go for Twilio's device endpoints, for example) and
// pass it to New. It receives the credentials as strings to send as they
// are: the access token, and the request JWT as HTTP Basic auth with the
// user "token"; and the payloads (AuthPayload) as they are. It maps the
// server's answers onto the provider sentinels (401 → ErrUnauthorized,
// carrying the 401's Date through a ServerTime() time.Time method when
// the JWT's time was refused), returns a DeviceChallenge's JSON exactly
// as received, with SignatureFields from the
// Twilio-Verify-Signature-Fields header, and never puts a token, JWT or
// signature in an error.
package pushdevice

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/verifykit/verifykit/internal/pushsig"
	"github.com/verifykit/verifykit/provider"
)

// The errors a Device finds itself, before asking the server, as the
// official SDKs do.
var (
	// ErrNotEnrolled: the device has no factor yet (Create first), or
	// it was deleted.
	ErrNotEnrolled = errors.New("pushdevice: no factor enrolled")
	// ErrExpired: the challenge expired before it was answered.
	ErrExpired = errors.New("pushdevice: challenge expired")
	// ErrAnswered: the challenge is no longer pending.
	ErrAnswered = errors.New("pushdevice: challenge already answered")
	// ErrOtherFactor: the challenge is another factor's.
	ErrOtherFactor = errors.New("pushdevice: challenge of another factor")
	// ErrNotUpdated: the server answered with another status than the
	// one the device sent.
	ErrNotUpdated = errors.New("pushdevice: challenge not updated")
)

// Device is a simulated phone with one push factor. It is safe for
// concurrent use.
type Device struct {
	api provider.PushDeviceAPI
	key *ecdsa.PrivateKey
	now func() time.Time

	mu     sync.Mutex
	skew   time.Duration         // server time - local time, learned from refusals
	factor provider.DeviceFactor // zero until Create
	auth   string                // the last request JWT, reused until near its end
	authAt time.Time             // its nbf (device time)
}

// Option configures a Device.
type Option func(*Device) error

// WithClock sets the device's clock; the default is time.Now. Give it the
// fake's clock (fake.Clock.Now) to keep device and server in step, or
// another to test clock correction.
func WithClock(now func() time.Time) Option {
	return func(d *Device) error {
		if now == nil {
			return errors.New("pushdevice: WithClock: nil clock")
		}
		d.now = now
		return nil
	}
}

// WithKey sets the device's key, which must be a P-256 key; the default
// is a new one.
func WithKey(key *ecdsa.PrivateKey) Option {
	return func(d *Device) error {
		if key == nil {
			return errors.New("pushdevice: WithKey: nil key")
		}
		if _, err := pushsig.EncodePublicKey(&key.PublicKey); err != nil {
			return errors.New("pushdevice: WithKey: not a P-256 key")
		}
		d.key = key
		return nil
	}
}

// New returns a device that talks to api.
func New(api provider.PushDeviceAPI, opts ...Option) (*Device, error) {
	if api == nil {
		return nil, errors.New("pushdevice: nil PushDeviceAPI")
	}
	d := &Device{api: api, now: time.Now}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("pushdevice: nil option")
		}
		if err := o(d); err != nil {
			return nil, err
		}
	}
	if d.key == nil {
		k, err := pushsig.GenerateKey()
		if err != nil {
			return nil, fmt.Errorf("pushdevice: key: %w", err)
		}
		d.key = k
	}
	return d, nil
}

// String describes the device without its key.
func (d *Device) String() string {
	f := d.Factor()
	return "pushdevice.Device{FactorID:" + f.ID + " Status:" + string(f.Status) + "}"
}

// PublicKey returns the device's public key as a factor's
// Binding.PublicKey: the standard base64 of its PKIX DER.
func (d *Device) PublicKey() string {
	s, _ := pushsig.EncodePublicKey(&d.key.PublicKey) // checked in New
	return s
}

// Factor returns the device's factor as it last learned it (zero before
// Create).
func (d *Device) Factor() provider.DeviceFactor {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.factor
}

// EnrollOptions describe the device's factor. A nil *EnrollOptions
// enrols a factor named by the access token, platform none (the app
// polls), app ID "com.example.verifykit".
type EnrollOptions struct {
	// FriendlyName names the factor; empty takes the token's name. Twilio's
	// API requires it on CreateNewFactor (its SDKs always send one), so
	// against Twilio give the name the app got with the access token;
	// HTTP leaves an empty one out.
	FriendlyName string
	// Platform and NotificationToken say how the server notifies the
	// device; an empty Platform means none.
	Platform          provider.NotificationPlatform
	NotificationToken string
	// AppID is the app's bundle or package ID.
	AppID string
	// Metadata describes the device.
	Metadata map[string]string
}

// SDKVersion is the Config.SdkVersion a Device reports.
const SDKVersion = "verifykit-pushdevice-1"

// Create creates the device's factor with an access token from the
// application, as the SDK's createFactor does. The factor is
// FactorUnverified until Verify.
func (d *Device) Create(ctx context.Context, accessToken string, opts *EnrollOptions) (provider.Factor, error) {
	if opts == nil {
		opts = &EnrollOptions{}
	}
	req := provider.DeviceFactorRequest{
		FriendlyName: opts.FriendlyName, PublicKey: d.PublicKey(), Alg: pushsig.Alg, Platform: opts.Platform,
		NotificationToken: opts.NotificationToken, AppID: opts.AppID, SDKVersion: SDKVersion, Metadata: opts.Metadata,
	}
	if req.Platform == "" {
		req.Platform = provider.PlatformNone
	}
	if req.AppID == "" {
		req.AppID = "com.example.verifykit"
	}
	f, err := d.api.CreateDeviceFactor(ctx, accessToken, req)
	if err != nil {
		return provider.Factor{}, err
	}
	d.mu.Lock()
	d.factor, d.auth = f, ""
	d.mu.Unlock()
	return f.Factor, nil
}

// Verify verifies the device's new factor by signing its ID, as the SDK's
// verifyFactor does.
func (d *Device) Verify(ctx context.Context) (provider.Factor, error) {
	f := d.Factor()
	payload, err := d.VerificationPayload()
	if err != nil {
		return provider.Factor{}, err
	}
	return d.factorCall(ctx, func(auth string) (provider.Factor, error) {
		return d.api.VerifyDeviceFactor(ctx, auth, f.Identity, f.ID, payload)
	})
}

// factorCall makes call with a request JWT and keeps the factor it
// answers, when it is still the device's.
func (d *Device) factorCall(ctx context.Context, call func(auth string) (provider.Factor, error)) (provider.Factor, error) {
	out, err := withAuth(ctx, d, call)
	if err == nil {
		d.mu.Lock()
		if d.factor.ID == out.ID {
			d.factor.Factor = out
		}
		d.mu.Unlock()
	}
	return out, err
}

// VerificationPayload returns the AuthPayload that Verify sends (the
// DER signature over the factor's ID, standard base64), without sending
// it, for tests that send it themselves.
func (d *Device) VerificationPayload() (string, error) {
	f := d.Factor()
	if f.ID == "" {
		return "", ErrNotEnrolled
	}
	return pushsig.SignFactor(d.key, f.ID)
}

// Enroll is Create then Verify.
func (d *Device) Enroll(ctx context.Context, accessToken string, opts *EnrollOptions) (provider.Factor, error) {
	if _, err := d.Create(ctx, accessToken, opts); err != nil {
		return provider.Factor{}, err
	}
	return d.Verify(ctx)
}

// Auth returns a request JWT for the device's factor, as the SDKs send
// with every call after Create: ES256, kid the credential ID, sub the
// account, valid for 10 minutes from the device's (corrected) clock. A
// Device reuses one until a minute before its end, where the SDKs sign one
// per request; the server cannot tell the difference.
func (d *Device) Auth() (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.factor.ID == "" {
		return "", ErrNotEnrolled
	}
	now := d.now().Add(d.skew)
	if d.auth != "" && !now.Before(d.authAt) && now.Before(d.authAt.Add(pushsig.RequestLifetime-time.Minute)) {
		return d.auth, nil
	}
	s, err := pushsig.SignRequest(d.key, d.factor.CredentialID, d.factor.AccountID, now)
	if err != nil {
		return "", err
	}
	d.auth, d.authAt = s, now.Truncate(time.Second)
	return s, nil
}

// withAuth calls call with a request JWT and, when the server refused its
// time and said its own (provider.ServerTime), corrects the clock and
// calls once more, as the SDKs do.
func withAuth[T any](ctx context.Context, d *Device, call func(auth string) (T, error)) (T, error) {
	for try := 0; ; try++ {
		auth, err := d.Auth()
		if err != nil {
			var zero T
			return zero, err
		}
		out, err := call(auth)
		st, skewed := provider.ServerTime(err)
		if !skewed || try > 0 || ctx.Err() != nil {
			return out, err
		}
		d.mu.Lock()
		d.skew, d.auth = st.Sub(d.now()), ""
		d.mu.Unlock()
	}
}

// Pending returns the factor's pending challenges, oldest first, as an
// app whose platform is none polls for them.
func (d *Device) Pending(ctx context.Context) ([]provider.DeviceChallenge, error) {
	f := d.Factor()
	if f.ID == "" {
		return nil, ErrNotEnrolled
	}
	return withAuth(ctx, d, func(auth string) ([]provider.DeviceChallenge, error) {
		return d.api.ListDeviceChallenges(ctx, auth, f.Identity, f.ID, provider.ChallengePending)
	})
}

// Fetch returns a challenge as the device sees it.
func (d *Device) Fetch(ctx context.Context, challengeID string) (provider.DeviceChallenge, error) {
	f := d.Factor()
	if f.ID == "" {
		return provider.DeviceChallenge{}, ErrNotEnrolled
	}
	return withAuth(ctx, d, func(auth string) (provider.DeviceChallenge, error) {
		return d.api.FetchDeviceChallenge(ctx, auth, f.Identity, challengeID)
	})
}

// Approve approves a challenge: it fetches it, checks it as the SDKs do
// (this factor's, pending, with signature fields), signs and sends the
// answer, and checks that the server took it.
func (d *Device) Approve(ctx context.Context, challengeID string) (provider.Challenge, error) {
	return d.answer(ctx, challengeID, pushsig.StatusApproved)
}

// Deny denies a challenge, like Approve.
func (d *Device) Deny(ctx context.Context, challengeID string) (provider.Challenge, error) {
	return d.answer(ctx, challengeID, pushsig.StatusDenied)
}

func (d *Device) answer(ctx context.Context, challengeID, status string) (provider.Challenge, error) {
	dc, err := d.Fetch(ctx, challengeID)
	if err != nil {
		return provider.Challenge{}, err
	}
	payload, err := d.SignAnswer(dc, status == pushsig.StatusApproved)
	if err != nil {
		return provider.Challenge{}, err
	}
	f := d.Factor()
	out, err := withAuth(ctx, d, func(auth string) (provider.Challenge, error) {
		return d.api.AnswerDeviceChallenge(ctx, auth, f.Identity, challengeID, payload)
	})
	if err == nil && string(out.Status) != status {
		return out, ErrNotUpdated
	}
	return out, err
}

// SignAnswer returns the AuthPayload that approves (or denies) dc, after
// the SDKs' checks, without sending it: for tests that send it
// themselves, twice or to another challenge.
func (d *Device) SignAnswer(dc provider.DeviceChallenge, approve bool) (string, error) {
	f := d.Factor()
	switch {
	case f.ID == "":
		return "", ErrNotEnrolled
	case dc.FactorID != f.ID:
		return "", ErrOtherFactor
	case dc.Status == provider.ChallengeExpired:
		return "", ErrExpired
	case dc.Status != provider.ChallengePending:
		return "", ErrAnswered
	case len(dc.SignatureFields) == 0:
		return "", errors.New("pushdevice: the challenge names no signature fields")
	}
	status := pushsig.StatusDenied
	if approve {
		status = pushsig.StatusApproved
	}
	return pushsig.SignChallengeResponse(d.key, dc.JSON, dc.SignatureFields, status)
}

// UpdateNotification sends the device's new notification platform and
// token (a rotated APNs or FCM token; none and "" to stop notifications),
// as the SDKs' updateFactor does. The server's next notification goes to
// the new token.
func (d *Device) UpdateNotification(ctx context.Context, platform provider.NotificationPlatform, token string) (provider.Factor, error) {
	f := d.Factor()
	if f.ID == "" {
		return provider.Factor{}, ErrNotEnrolled
	}
	req := provider.DeviceFactorUpdate{Platform: platform, NotificationToken: token, SDKVersion: SDKVersion}
	return d.factorCall(ctx, func(auth string) (provider.Factor, error) {
		return d.api.UpdateDeviceFactor(ctx, auth, f.Identity, f.ID, req)
	})
}

// Delete deletes the device's factor; a factor the server no longer
// knows counts as deleted, as in the SDKs.
func (d *Device) Delete(ctx context.Context) error {
	f := d.Factor()
	if f.ID == "" {
		return ErrNotEnrolled
	}
	_, err := withAuth(ctx, d, func(auth string) (struct{}, error) {
		return struct{}{}, d.api.DeleteDeviceFactor(ctx, auth, f.Identity, f.ID)
	})
	if err != nil && !errors.Is(err, provider.ErrNotFound) {
		return err
	}
	d.mu.Lock()
	d.factor, d.auth = provider.DeviceFactor{}, ""
	d.mu.Unlock()
	return nil
}
