package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// Push factors: a phone app holds a P-256 key and approves or denies
// logins by signing them. The application issues a short-lived access
// token (CreatePushAccessToken) that the app uses, once, to enrol its key
// with the provider; at each login it creates a challenge (StartPush),
// which the provider pushes to the phone; the app shows its message and
// fields and the user approves or denies; the application learns the
// answer by polling (WaitChallenge, FetchChallenge) or from a signed
// event. Only the device's key can approve: there is no call here that
// does. Package pushdevice plays the phone in tests. See docs/factors.md.

// AccessToken is a push enrolment token, as CreatePushAccessToken returns
// it; the same type as provider.AccessToken. Its Token is a secret that
// no fmt verb prints.
type AccessToken = provider.AccessToken

// PushDetails is what a push challenge shows on the phone (a message and
// labelled fields) and carries unseen (Hidden); the same type as
// provider.PushDetails.
type PushDetails = provider.PushDetails

// PushField is a labelled value a push challenge shows; the same type as
// provider.PushField.
type PushField = provider.PushField

// NotificationPlatform is how a push factor's phone is notified (apn,
// fcm or none); the same type as provider.NotificationPlatform.
type NotificationPlatform = provider.NotificationPlatform

// The notification platforms.
const (
	PlatformAPN  = provider.PlatformAPN
	PlatformFCM  = provider.PlatformFCM
	PlatformNone = provider.PlatformNone
)

// ChallengeQuery filters ListChallenges; the same type as
// provider.ChallengeQuery.
type ChallengeQuery = provider.ChallengeQuery

// AccessTokenOptions are the optional parameters of
// CreatePushAccessToken. A nil *AccessTokenOptions means all defaults.
type AccessTokenOptions struct {
	// FactorFriendlyName names the factor the device will create, when
	// the device does not name it (1 to 64 bytes, no control characters).
	FactorFriendlyName string
	// TTL is the token's life, 1 to 5 minutes; zero means 1 minute.
	TTL time.Duration
}

// PushOptions are the optional parameters of StartPush. A nil
// *PushOptions means all defaults.
type PushOptions struct {
	// ExpiresIn is how long the challenge waits for an answer: up to an
	// hour; zero means 5 minutes.
	ExpiresIn time.Duration
	// Extensions carries provider-specific parameters.
	Extensions []Extension
}

// WaitOptions are the optional parameters of WaitChallenge. A nil
// *WaitOptions means all defaults.
type WaitOptions struct {
	// Interval is the time between two fetches: at least 100 ms; zero
	// means one second.
	Interval time.Duration
}

// pushCall is factorCall for a push provider.
func pushCall[T any](ctx context.Context, c *Client, op, identity string, id *string, status func(T) string, call func(context.Context, provider.PushProvider) (T, error)) (T, error) {
	return factorCall(ctx, c, op, identity, id, nil, status, func(ctx context.Context, fp provider.FactorProvider) (T, error) {
		pp, ok := fp.(provider.PushProvider)
		if !ok {
			var zero T
			return zero, fmt.Errorf("%w: provider %s does not offer push factors", ErrUnsupported, c.cfg.name)
		}
		return call(ctx, pp)
	})
}

// CreatePushAccessToken issues the short-lived token with which a phone
// app enrols a push factor for identity. Hand the token, with the
// identity, to the app (in a QR code or the app's own session); it works
// once, before it expires, and is never printed by fmt.
//
// # Errors
//
// ErrInvalidRequest: a malformed identity, name or TTL (nothing is asked
// of the provider). ErrUnsupported: the provider has no push factors.
func (c *Client) CreatePushAccessToken(ctx context.Context, identity string, opts *AccessTokenOptions) (AccessToken, error) {
	if opts == nil {
		opts = &AccessTokenOptions{}
	}
	req := provider.AccessTokenRequest{Identity: identity, FactorFriendlyName: opts.FactorFriendlyName, TTL: opts.TTL}
	return pushCall(ctx, c, "create access token", identity, nil, nil, func(ctx context.Context, pp provider.PushProvider) (AccessToken, error) {
		if err := req.Validate(); err != nil {
			return AccessToken{}, invalid(err.Error())
		}
		if !printable(req.FactorFriendlyName) {
			return AccessToken{}, invalid("factor friendly name must be UTF-8 without control characters")
		}
		return pp.CreateAccessToken(ctx, req)
	})
}

// StartPush creates a push challenge of a verified push factor, shown on
// the phone as details, and has the provider notify the phone (unless its
// platform is none: the app then polls). The challenge is
// ChallengePending until the phone's key approves or denies it, or it
// expires; learn which with WaitChallenge or FetchChallenge, or from an
// event.
//
// # Errors
//
// ErrInvalidRequest: malformed details or expiry, or a factor that is not
// a verified push factor. ErrNotFound: no such factor. ErrUnsupported:
// the provider has no push factors. ErrOutcomeUnknown: the challenge may
// exist; create another rather than telling the user it failed.
func (c *Client) StartPush(ctx context.Context, identity, factorID string, details PushDetails, opts *PushOptions) (Challenge, error) {
	if opts == nil {
		opts = &PushOptions{}
	}
	return pushCall(ctx, c, "start push", identity, &factorID, challengeStatus, func(ctx context.Context, pp provider.PushProvider) (Challenge, error) {
		if err := details.Validate(); err != nil {
			return Challenge{}, invalid(err.Error())
		}
		if opts.ExpiresIn < 0 || opts.ExpiresIn > time.Hour {
			return Challenge{}, invalid("ExpiresIn must be at most an hour")
		}
		req := provider.PushChallengeRequest{Identity: identity, FactorID: factorID, Details: details, Extensions: opts.Extensions}
		req.ExpiresIn = opts.ExpiresIn
		return pp.CreatePushChallenge(ctx, req)
	})
}

// ResendPush has the provider notify the phone of a pending push
// challenge again, for a user who says nothing arrived. ttl is how long
// the notification service may hold it (0 to 5 minutes; 0: deliver now
// or never; negative: the provider's default).
//
// # Errors
//
// ErrInvalidRequest: the challenge is no longer pending. ErrUnsupported:
// the factor's platform is none (its app polls), or the provider has no
// push factors. ErrNotFound: no such challenge.
func (c *Client) ResendPush(ctx context.Context, identity, challengeID string, ttl time.Duration) error {
	_, err := pushCall(ctx, c, "resend push", identity, &challengeID, nil, func(ctx context.Context, pp provider.PushProvider) (struct{}, error) {
		if ttl > provider.MaxNotificationTTL {
			return struct{}{}, invalid("ttl must be at most 5 minutes")
		}
		return struct{}{}, pp.NotifyChallenge(ctx, identity, challengeID, ttl)
	})
	return err
}

// ListChallenges returns identity's challenges, oldest first, filtered by
// q (for example the pending ones of one factor).
func (c *Client) ListChallenges(ctx context.Context, identity string, q ChallengeQuery) ([]Challenge, error) {
	return pushCall(ctx, c, "list challenges", identity, nil, nil, func(ctx context.Context, pp provider.PushProvider) ([]Challenge, error) {
		return pp.ListChallenges(ctx, identity, q)
	})
}

// WaitChallenge fetches a challenge every opts.Interval until it is no
// longer ChallengePending (approved, denied or expired: the result's
// Status says which; none of them is an error) or ctx is done. A login
// page typically calls it with a context that ends when the page is
// closed or after the challenge's expiry.
//
// # Errors
//
// Those of FetchChallenge; when ctx ends first, the last challenge
// fetched (still pending) and an error matching ctx's
// (CodeOf gives CodeCanceled or CodeDeadlineExceeded).
func (c *Client) WaitChallenge(ctx context.Context, identity, challengeID string, opts *WaitOptions) (Challenge, error) {
	interval := time.Second
	if opts != nil && opts.Interval != 0 {
		if opts.Interval < 100*time.Millisecond {
			masked, _ := checkIdentity(identity)
			return Challenge{}, c.factorDone(ctx, "wait challenge", factorTarget(masked, challengeID), time.Now(), "",
				invalid("WaitOptions.Interval must be at least 100 ms"))
		}
		interval = opts.Interval
	}
	var timer *time.Timer
	for {
		ch, err := c.FetchChallenge(ctx, identity, challengeID)
		if err != nil || ch.Status != ChallengePending {
			return ch, err
		}
		if timer == nil {
			timer = time.NewTimer(interval)
			defer timer.Stop()
		} else {
			timer.Reset(interval)
		}
		select {
		case <-ctx.Done():
			masked, _ := checkIdentity(identity)
			return ch, c.factorDone(ctx, "wait challenge", factorTarget(masked, challengeID), time.Now(), "", ctx.Err())
		case <-timer.C:
		}
	}
}
