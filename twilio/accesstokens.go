package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// AccessToken is Twilio's AccessToken resource
// (verify.v2.service.access_token): a short-lived token the backend hands
// to a device so that the Verify Push SDK can create a push factor for
// EntityIdentity. Token is a secret: String, GoString and Format redact
// it.
type AccessToken struct {
	SID                string    `json:"sid"` // YK…
	AccountSID         string    `json:"account_sid"`
	ServiceSID         string    `json:"service_sid"`
	EntityIdentity     string    `json:"entity_identity"`
	FactorType         string    `json:"factor_type"` // push
	FactorFriendlyName string    `json:"factor_friendly_name"`
	Token              string    `json:"token"`
	URL                string    `json:"url"`
	TTL                int       `json:"ttl"` // seconds
	DateCreated        time.Time `json:"date_created"`
}

// String describes t with the identity masked and the token redacted.
func (t AccessToken) String() string {
	s := "twilio.AccessToken{SID:" + t.SID + " EntityIdentity:" + mask.Target(t.EntityIdentity) +
		" FactorType:" + t.FactorType + " TTL:" + strconv.Itoa(t.TTL)
	if t.Token != "" {
		s += " Token:[redacted]"
	}
	return s + "}"
}

// GoString is like String.
func (t AccessToken) GoString() string { return t.String() }

// Format prints String for every verb, so no verb shows the token.
func (t AccessToken) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, t.String()) }

// AccessTokenParams are the parameters of IssueAccessToken, every one of
// the API's.
type AccessTokenParams struct {
	// Identity is the entity the factor will belong to; see
	// provider.ValidIdentity. Required.
	Identity string
	// FactorType is the type of the factor the token creates; Twilio
	// knows only push, which is sent when it is empty.
	FactorType provider.FactorType
	// FactorFriendlyName names the factor to be created (at most 64
	// bytes), such as the device's name.
	FactorFriendlyName string
	// TTL is how long the token is valid, 60 to 300 whole seconds; zero
	// means Twilio's default of 60 seconds.
	TTL time.Duration
}

const (
	opCreateAccessToken = "create access token"
	opFetchAccessToken  = "fetch access token"
)

// accessTokenCheck says why t is not an answer about the access token sid
// (any new one for identity when sid is empty) of the client's service.
func (c *Client) accessTokenCheck(t *AccessToken, sid, identity string) func() error {
	return func() error {
		switch {
		case !wire.ValidSID(t.SID, "YK"):
			return errors.New("the answer has no access token SID")
		case sid != "" && t.SID != sid:
			return errors.New("the answer is about another access token")
		case t.ServiceSID != c.serviceSID:
			return errors.New("the answer is about another service")
		case identity != "" && t.EntityIdentity != identity:
			return errors.New("the answer is about another identity")
		case sid == "" && t.Token == "":
			return errors.New("the answer has no token")
		}
		return nil
	}
}

// IssueAccessToken issues a token with which a device creates a push
// factor for p.Identity, with POST /v2/Services/{ServiceSid}/AccessTokens
// and Identity, FactorType, FactorFriendlyName and Ttl, and returns the
// whole resource. Hand the token, the service SID and the identity to the
// app; it is valid for p.TTL. CreateAccessToken is the same call through
// the provider contract.
//
// API: https://www.twilio.com/docs/verify/api/access-token
func (c *Client) IssueAccessToken(ctx context.Context, p AccessTokenParams) (AccessToken, error) {
	const op = opCreateAccessToken
	if _, err := c.entityPath(op, p.Identity); err != nil {
		return AccessToken{}, err
	}
	switch {
	case p.FactorType != "" && p.FactorType != provider.FactorPush:
		return AccessToken{}, invalidInput(op, "factor type must be push")
	case len(p.FactorFriendlyName) > 64:
		return AccessToken{}, invalidInput(op, "factor friendly name must be at most 64 bytes")
	case p.TTL != 0 && (p.TTL < time.Minute || p.TTL > 5*time.Minute || p.TTL%time.Second != 0):
		return AccessToken{}, invalidInput(op, "TTL must be 60 to 300 whole seconds")
	}
	f := url.Values{"Identity": {p.Identity}, "FactorType": {string(provider.FactorPush)}}
	setForm(f, "FactorFriendlyName", p.FactorFriendlyName)
	if p.TTL != 0 {
		f.Set("Ttl", strconv.Itoa(int(p.TTL/time.Second)))
	}
	var t AccessToken
	err := c.do(ctx, call{op: op, method: http.MethodPost, path: "/v2/Services/" + c.serviceSID + "/AccessTokens",
		form: f, ok: okCreated, check: c.accessTokenCheck(&t, "", p.Identity)}, &t)
	return t, err
}

// FetchAccessToken returns the access token sid (YK…), with GET
// /v2/Services/{ServiceSid}/AccessTokens/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/access-token
func (c *Client) FetchAccessToken(ctx context.Context, sid string) (AccessToken, error) {
	const op = opFetchAccessToken
	if !wire.ValidSID(sid, "YK") {
		return AccessToken{}, invalidInput(op, "access token SID must be YK followed by 32 hex digits")
	}
	var t AccessToken
	err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/v2/Services/" + c.serviceSID + "/AccessTokens/" + sid,
		ok: okOK, check: c.accessTokenCheck(&t, sid, "")}, &t)
	return t, err
}
