package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// Factor is Twilio's Factor resource, with every field of the API's
// verify.v2.service.entity.factor. provider.Factor.Detail holds one for
// every factor the client returns. It never holds the secret: Twilio
// returns the binding only when the factor is created, and the client
// passes it on only in the provider.Enrollment.
type Factor struct {
	SID          string            `json:"sid"` // YF…
	AccountSID   string            `json:"account_sid"`
	ServiceSID   string            `json:"service_sid"`
	EntitySID    string            `json:"entity_sid"`
	Identity     string            `json:"identity"`
	DateCreated  time.Time         `json:"date_created"`
	DateUpdated  time.Time         `json:"date_updated"`
	FriendlyName string            `json:"friendly_name"`
	Status       string            `json:"status"`      // unverified, verified
	FactorType   string            `json:"factor_type"` // totp, push
	Config       FactorConfig      `json:"config"`
	Metadata     map[string]string `json:"metadata"`
	URL          string            `json:"url"`
}

// FactorConfig is a factor's config object: the TOTP fields for a totp
// factor, the push fields for a push factor.
type FactorConfig struct {
	// TOTP.
	Alg        string `json:"alg,omitempty"`
	Skew       int    `json:"skew,omitempty"`
	CodeLength int    `json:"code_length,omitempty"`
	TimeStep   int    `json:"time_step,omitempty"`
	// Push.
	SdkVersion           string `json:"sdk_version,omitempty"`
	AppID                string `json:"app_id,omitempty"`
	NotificationPlatform string `json:"notification_platform,omitempty"`
	NotificationToken    string `json:"notification_token,omitempty"`
	// CredentialSID is the key ID ("kid") of the device's request JWTs,
	// in the answer to a push factor's creation.
	CredentialSID string `json:"credential_sid,omitempty"`
}

// String describes the factor with its identity masked.
func (f *Factor) String() string { return f.public().String() }

// GoString is like String.
func (f *Factor) GoString() string { return f.String() }

func (f *Factor) public() provider.Factor {
	out := provider.Factor{
		ID: f.SID, Identity: f.Identity, Type: provider.FactorType(f.FactorType),
		Status: provider.FactorStatus(f.Status), FriendlyName: f.FriendlyName,
		CreatedAt: f.DateCreated, UpdatedAt: f.DateUpdated, Detail: f,
	}
	if out.Type == provider.FactorTOTP {
		out.TOTP = provider.TOTPConfig{
			Digits: f.Config.CodeLength, Period: time.Duration(f.Config.TimeStep) * time.Second,
			Skew: f.Config.Skew, Algorithm: provider.Algorithm(f.Config.Alg),
		}
	}
	if out.Type == provider.FactorPush {
		out.Push = f.pushConfig()
	}
	return out
}

// FactorParams are Twilio-specific parameters of a factor's creation, as a
// provider.Extension of an EnrollRequest (or verify.EnrollOptions).
type FactorParams struct {
	// Metadata is the factor's custom metadata (string values, at most
	// 1024 bytes as JSON).
	Metadata map[string]string
}

// ExtensionFor returns "twilio".
func (FactorParams) ExtensionFor() string { return Name }

// FactorUpdate are the parameters of UpdateFactor, every one of the API's.
// Zero fields are not sent.
type FactorUpdate struct {
	// AuthPayload verifies an unverified factor with a code. It is a secret
	// and is never printed.
	AuthPayload string
	// FriendlyName renames the factor (at most 64 bytes).
	FriendlyName string
	// TOTP sets Config.CodeLength, Config.TimeStep, Config.Skew (when not
	// zero, or when SkewSet) and Config.Alg.
	TOTP provider.TOTPConfig
	// SkewSet sends TOTP.Skew even when it is 0 (accept no neighbouring
	// time step); without it a zero Skew is not sent.
	SkewSet bool
	// Push: Config.NotificationToken, Config.SdkVersion and
	// Config.NotificationPlatform (apn, fcm or none).
	NotificationToken, SdkVersion, NotificationPlatform string
}

// String describes the update with AuthPayload redacted.
func (u FactorUpdate) String() string {
	s := "FactorUpdate{FriendlyName:" + strconv.Quote(u.FriendlyName)
	if u.AuthPayload != "" {
		s += " AuthPayload:[redacted]"
	}
	return s + "}"
}

// GoString is like String.
func (u FactorUpdate) GoString() string { return u.String() }

// Format prints what String does for every verb, so no verb prints the
// AuthPayload.
func (u FactorUpdate) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, u.String()) }

// setTOTPConfig adds the Config.* fields of cfg to f.
func setTOTPConfig(f url.Values, cfg provider.TOTPConfig, skewSet bool) {
	if cfg.Digits != 0 {
		f.Set("Config.CodeLength", strconv.Itoa(cfg.Digits))
	}
	if cfg.Period != 0 {
		f.Set("Config.TimeStep", strconv.Itoa(int(cfg.Period/time.Second)))
	}
	if cfg.Skew != 0 || skewSet {
		f.Set("Config.Skew", strconv.Itoa(cfg.Skew))
	}
	if cfg.Algorithm != "" {
		f.Set("Config.Alg", string(cfg.Algorithm))
	}
}

func (c *Client) factorPath(op, identity, sid string) (string, error) {
	path, err := c.entityPath(op, identity)
	if err != nil {
		return "", err
	}
	switch {
	case sid == "":
		return "", invalidInput(op, "empty factor SID")
	case !wire.ValidSID(sid, "YF"):
		return "", unknownFactorSID(op, "factor")
	}
	return path + "/Factors/" + sid, nil
}

func validTOTPCode(s string) bool {
	if len(s) < 3 || len(s) > 8 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// EnrollFactor creates a TOTP factor, with POST
// /v2/Services/{ServiceSid}/Entities/{Identity}/Factors and FactorType=totp,
// FriendlyName, Binding.Secret (when req.Secret is set) and Config.* (the
// non-zero fields of req.TOTP). The enrolment carries the binding's secret
// and URI, which Twilio returns only now. Push factors are created by the
// device SDK, not here: they give ErrUnsupported.
//
// API: https://www.twilio.com/docs/verify/api/factor#create-a-factor-resource
func (c *Client) EnrollFactor(ctx context.Context, req provider.EnrollRequest) (provider.Enrollment, error) {
	const op = opEnrollFactor
	path, err := c.entityPath(op, req.Identity)
	if err != nil {
		return provider.Enrollment{}, err
	}
	switch {
	case req.Type == provider.FactorPush:
		return provider.Enrollment{}, &RequestError{Op: op, Err: errors.New("push factors are created by the Verify Push SDK on the device"), kind: provider.ErrUnsupported}
	case req.Type != provider.FactorTOTP:
		return provider.Enrollment{}, invalidInput(op, "factor type must be totp")
	case req.FriendlyName == "" || len(req.FriendlyName) > 64:
		return provider.Enrollment{}, invalidInput(op, "friendly name must be 1 to 64 bytes")
	case req.TOTP.Validate() != nil:
		return provider.Enrollment{}, invalidInput(op, req.TOTP.Validate().Error())
	}
	f := url.Values{"FactorType": {"totp"}, "FriendlyName": {req.FriendlyName}}
	var secrets []string
	if req.Secret != "" {
		if !validBase32(req.Secret) {
			return provider.Enrollment{}, invalidInput(op, "Binding.Secret must be Base32")
		}
		f.Set("Binding.Secret", req.Secret)
		secrets = append(secrets, req.Secret)
	}
	setTOTPConfig(f, req.TOTP, req.SkewSet)
	for _, ext := range req.Extensions {
		var p *FactorParams
		switch e := ext.(type) {
		case FactorParams:
			p = &e
		case *FactorParams:
			p = e
		}
		if p != nil && p.Metadata != nil {
			b, err := json.Marshal(p.Metadata)
			if err != nil || len(b) > 1024 {
				return provider.Enrollment{}, invalidInput(op, "metadata must be at most 1024 bytes of JSON")
			}
			f.Set("Metadata", string(b))
		}
	}
	var nf NewFactor
	err = c.do(ctx, call{op: op, method: http.MethodPost, path: path + "/Factors", form: f, secrets: secrets,
		ok: []int{http.StatusCreated, http.StatusOK}}, &nf)
	if err != nil {
		return provider.Enrollment{}, err
	}
	fa := nf.Factor
	return provider.Enrollment{Factor: fa.public(), Secret: nf.Binding.Secret, URI: nf.Binding.URI}, nil
}

func validBase32(s string) bool {
	if len(s) < 16 || len(s) > 256 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '2' <= c && c <= '7' || c == '=') {
			return false
		}
	}
	return true
}

// ConfirmFactor verifies a new factor with its first code, with POST
// /v2/Services/{ServiceSid}/Entities/{Identity}/Factors/{Sid} and
// AuthPayload. A wrong code gives the factor, still unverified, and no
// error: Twilio answers 200 with status unverified, or (before its change
// of 2021-10-27) 403 with error 60311, which the client turns into the same
// outcome.
//
// API: https://www.twilio.com/docs/verify/api/factor#update-a-factor-resource
func (c *Client) ConfirmFactor(ctx context.Context, req provider.ConfirmRequest) (provider.Factor, error) {
	if !validTOTPCode(req.Code) {
		return provider.Factor{}, invalidInput(opConfirmFactor, "code must be 3 to 8 digits")
	}
	f, err := c.updateFactor(ctx, opConfirmFactor, req.Identity, req.FactorID, FactorUpdate{AuthPayload: req.Code})
	if CodeOf(err) == twiliocode.FactorVerifyFailed {
		return provider.Factor{ID: req.FactorID, Identity: req.Identity, Type: provider.FactorTOTP, Status: provider.FactorUnverified}, nil
	}
	return f, err
}

// UpdateFactor changes a factor, with POST
// /v2/Services/{ServiceSid}/Entities/{Identity}/Factors/{Sid}: every
// parameter of the API (see FactorUpdate). A wrong AuthPayload gives the
// factor still unverified (or Twilio's 60311 error, as an *APIError).
//
// API: https://www.twilio.com/docs/verify/api/factor#update-a-factor-resource
func (c *Client) UpdateFactor(ctx context.Context, identity, sid string, u FactorUpdate) (provider.Factor, error) {
	if len(u.AuthPayload) > 5456 {
		return provider.Factor{}, invalidInput(opUpdateFactor, "AuthPayload too long")
	}
	return c.updateFactor(ctx, opUpdateFactor, identity, sid, u)
}

func (c *Client) updateFactor(ctx context.Context, op, identity, sid string, u FactorUpdate) (provider.Factor, error) {
	path, err := c.factorPath(op, identity, sid)
	if err != nil {
		return provider.Factor{}, err
	}
	if len(u.FriendlyName) > 64 {
		return provider.Factor{}, invalidInput(op, "friendly name must be at most 64 bytes")
	}
	if err := u.TOTP.Validate(); err != nil {
		return provider.Factor{}, invalidInput(op, err.Error())
	}
	if err := checkPushConfig(op, u.NotificationPlatform, u.NotificationToken, false); err != nil {
		return provider.Factor{}, err
	}
	f := url.Values{}
	setForm(f, "AuthPayload", u.AuthPayload)
	setForm(f, "FriendlyName", u.FriendlyName)
	setTOTPConfig(f, u.TOTP, u.SkewSet)
	setForm(f, "Config.NotificationToken", u.NotificationToken)
	setForm(f, "Config.SdkVersion", u.SdkVersion)
	setForm(f, "Config.NotificationPlatform", u.NotificationPlatform)
	var fa Factor
	err = c.do(ctx, call{op: op, method: http.MethodPost, path: path, form: f, secrets: []string{u.AuthPayload},
		ok: []int{http.StatusOK}}, &fa)
	if err != nil {
		return provider.Factor{}, err
	}
	return fa.public(), nil
}

// FetchFactor returns a factor, with GET
// /v2/Services/{ServiceSid}/Entities/{Identity}/Factors/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/factor#fetch-a-factor-resource
func (c *Client) FetchFactor(ctx context.Context, identity, sid string) (provider.Factor, error) {
	path, err := c.factorPath(opFetchFactor, identity, sid)
	if err != nil {
		return provider.Factor{}, err
	}
	var fa Factor
	if err := c.do(ctx, call{op: opFetchFactor, method: http.MethodGet, path: path, ok: []int{http.StatusOK}}, &fa); err != nil {
		return provider.Factor{}, err
	}
	return fa.public(), nil
}

// ListFactors returns identity's factors, with GET
// /v2/Services/{ServiceSid}/Entities/{Identity}/Factors, following every
// page. An identity Twilio does not know has none.
//
// API: https://www.twilio.com/docs/verify/api/factor#read-multiple-factor-resources
func (c *Client) ListFactors(ctx context.Context, identity string) ([]provider.Factor, error) {
	path, err := c.entityPath(opListFactors, identity)
	if err != nil {
		return nil, err
	}
	out := []provider.Factor{}
	err = c.list(ctx, opListFactors, path+"/Factors", "factors", nil, 0, 0, func(raw json.RawMessage) (int, error) {
		var page []Factor
		err := json.Unmarshal(raw, &page)
		for i := range page {
			out = append(out, page[i].public())
		}
		return len(out), err
	})
	if errors.Is(err, provider.ErrNotFound) {
		return []provider.Factor{}, nil // no entity: no factors
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteFactor deletes a factor, with DELETE
// /v2/Services/{ServiceSid}/Entities/{Identity}/Factors/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/factor#delete-a-factor-resource
func (c *Client) DeleteFactor(ctx context.Context, identity, sid string) error {
	path, err := c.factorPath(opDeleteFactor, identity, sid)
	if err != nil {
		return err
	}
	return c.do(ctx, call{op: opDeleteFactor, method: http.MethodDelete, path: path, ok: []int{http.StatusNoContent, http.StatusOK}}, nil)
}

var _ provider.FactorProvider = (*Client)(nil)
