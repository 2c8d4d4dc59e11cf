package twilio

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// The push provider contract (provider.PushProvider): the calls a backend
// makes. The device's calls (creating and verifying its factor, fetching
// and answering challenges) are made by Twilio's Verify Push SDK on the
// phone, or by package pushdevice in tests.

// WithClock makes the client read time from now instead of time.Now: the
// expiry it sends for a push challenge (Twilio takes a date) and the dates
// of Retry-After headers. Give it the emulator's clock in tests that move
// it (twiliotest.WithClock).
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("twilio: WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// CreateAccessToken issues the token a device creates its push factor
// with, as IssueAccessToken does, for provider.PushProvider. The token's
// ExpiresAt is its creation plus its TTL, as Twilio reports them.
func (c *Client) CreateAccessToken(ctx context.Context, req provider.AccessTokenRequest) (provider.AccessToken, error) {
	if err := req.Validate(); err != nil {
		return provider.AccessToken{}, invalidInput(opCreateAccessToken, err.Error())
	}
	t, err := c.IssueAccessToken(ctx, AccessTokenParams{Identity: req.Identity, FactorFriendlyName: req.FactorFriendlyName, TTL: req.TTL})
	if err != nil {
		return provider.AccessToken{}, err
	}
	return provider.AccessToken{
		ID: t.SID, Identity: t.EntityIdentity, FactorFriendlyName: t.FactorFriendlyName, Token: t.Token,
		CreatedAt: t.DateCreated, ExpiresAt: t.DateCreated.Add(time.Duration(t.TTL) * time.Second),
	}, nil
}

// CreatePushChallenge creates a pending challenge of a verified push
// factor, with POST /v2/Services/{ServiceSid}/Entities/{Identity}/Challenges
// and FactorSid, ExpirationDate (the client's clock plus req.ExpiresIn,
// when set), Details.Message, Details.Fields and HiddenDetails; Twilio
// pushes it to the device. Like ChallengeFactor it
// is not retried once it may have reached Twilio.
//
// API: https://www.twilio.com/docs/verify/api/challenge#create-a-challenge-resource
func (c *Client) CreatePushChallenge(ctx context.Context, req provider.PushChallengeRequest) (provider.Challenge, error) {
	if err := req.Details.Validate(); err != nil {
		return provider.Challenge{}, invalidInput(opCreateChallenge, err.Error())
	}
	d := &ChallengeDetails{Message: req.Details.Message}
	for _, f := range req.Details.Fields {
		d.Fields = append(d.Fields, ChallengeField{Label: f.Label, Value: f.Value})
	}
	if req.ExpiresIn < 0 || req.ExpiresIn > time.Hour {
		return provider.Challenge{}, invalidInput(opCreateChallenge, "a push challenge expires within an hour")
	}
	var exp time.Time
	if req.ExpiresIn > 0 {
		exp = c.now().Add(req.ExpiresIn)
	}
	ext := append(slices.Clip(req.Extensions), ChallengeParams{Details: d, HiddenDetails: req.Details.Hidden})
	return c.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: req.Identity, FactorID: req.FactorID, ExpiresAt: exp, Extensions: ext})
}

// NotifyChallenge sends a pending push challenge's notification again,
// with CreateNotification; a negative ttl sends no Ttl (Twilio's default
// of 5 minutes).
func (c *Client) NotifyChallenge(ctx context.Context, identity, challengeID string, ttl time.Duration) error {
	p := NotificationParams{TTL: ttl, TTLSet: true}
	if ttl < 0 {
		p = NotificationParams{}
	}
	_, err := c.CreateNotification(ctx, identity, challengeID, p)
	return err
}

// pushDetails returns what a push challenge shows, or nil for another.
func (ch *Challenge) pushDetails() *provider.PushDetails {
	if ch.FactorType != string(provider.FactorPush) || ch.Details == nil {
		return nil
	}
	d := &provider.PushDetails{Message: ch.Details.Message, Hidden: maps.Clone(ch.HiddenDetails)}
	for _, f := range ch.Details.Fields {
		d.Fields = append(d.Fields, provider.PushField{Label: f.Label, Value: f.Value})
	}
	return d
}

// pushConfig returns a push factor's configuration.
func (f *Factor) pushConfig() *provider.PushFactorConfig {
	return &provider.PushFactorConfig{
		Platform: provider.NotificationPlatform(f.Config.NotificationPlatform), AppID: f.Config.AppID,
		NotificationToken: f.Config.NotificationToken, SDKVersion: f.Config.SdkVersion,
		CredentialID: f.Config.CredentialSID, Metadata: maps.Clone(f.Metadata),
	}
}

var _ provider.PushProvider = (*Client)(nil)
