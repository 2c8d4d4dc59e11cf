package twilio

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// NewFactor is the answer to a factor's creation
// (verify.v2.service.entity.new_factor): the Factor and its binding,
// which Twilio returns this once.
type NewFactor struct {
	Factor
	Binding FactorBinding `json:"binding"`
}

// FactorBinding is a new factor's binding: the shared secret and its
// otpauth URI for a totp factor, the device's public key and its
// algorithm for a push factor. Secret and URI are secrets: String,
// GoString and Format redact them.
type FactorBinding struct {
	Secret    string `json:"secret,omitempty"`
	URI       string `json:"uri,omitempty"`
	PublicKey string `json:"public_key,omitempty"` // base64 of the PKIX (SubjectPublicKeyInfo) DER key
	Alg       string `json:"alg,omitempty"`        // ES256
}

// String describes b with its secret redacted.
func (b FactorBinding) String() string {
	s := "twilio.FactorBinding{Alg:" + b.Alg + " PublicKey:" + strconv.Quote(b.PublicKey)
	if b.Secret != "" || b.URI != "" {
		s += " Secret:[redacted]"
	}
	return s + "}"
}

// GoString is like String.
func (b FactorBinding) GoString() string { return b.String() }

// Format prints String for every verb, so no verb shows the secret.
func (b FactorBinding) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, b.String()) }

// String describes the new factor with its identity masked and its secret
// redacted.
func (n *NewFactor) String() string { return n.Factor.String() + " " + n.Binding.String() }

// GoString is like String.
func (n *NewFactor) GoString() string { return n.String() }

// NewFactorParams are the parameters of CreateNewFactor, every one of the
// API's except the passkeys ones. Zero fields are not sent.
type NewFactorParams struct {
	// FriendlyName names the factor (1 to 64 bytes), such as the device's
	// name. Required.
	FriendlyName string
	// FactorType is push or totp. Required.
	FactorType provider.FactorType
	// PublicKey is a push factor's Binding.PublicKey: the device's P-256
	// public key, PKIX (SubjectPublicKeyInfo) DER, base64 with padding.
	// Required for push.
	PublicKey string
	// Alg is Binding.Alg; ES256 is sent for a push factor when it is empty.
	Alg string
	// AppID (Config.AppId, at most 100 bytes) is the app's ID, such as
	// its Android package name.
	AppID string
	// NotificationPlatform is apn, fcm or none (no push: the app polls
	// for challenges). Required for push.
	NotificationPlatform string
	// NotificationToken is the device's APNs or FCM token, 32 to 255
	// bytes; required unless NotificationPlatform is none.
	NotificationToken string
	// SdkVersion is the Verify Push SDK's version (Config.SdkVersion).
	SdkVersion string
	// Secret (Binding.Secret), TOTP (Config.*) and SkewSet configure a
	// totp factor, as in provider.EnrollRequest.
	Secret  string
	TOTP    provider.TOTPConfig
	SkewSet bool
	// Metadata is the factor's custom metadata (string values, at most
	// 1024 bytes as JSON).
	Metadata map[string]string
}

// String describes p with its secret redacted.
func (p NewFactorParams) String() string {
	s := "twilio.NewFactorParams{FriendlyName:" + strconv.Quote(p.FriendlyName) + " FactorType:" + string(p.FactorType) +
		" NotificationPlatform:" + p.NotificationPlatform
	if p.Secret != "" {
		s += " Secret:[redacted]"
	}
	return s + "}"
}

// GoString is like String.
func (p NewFactorParams) GoString() string { return p.String() }

// Format prints String for every verb, so no verb shows the secret.
func (p NewFactorParams) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, p.String()) }

const opCreateNewFactor = "create factor"

// form checks p and returns its form.
func (p NewFactorParams) form(op string) (url.Values, error) {
	if p.FriendlyName == "" || len(p.FriendlyName) > 64 {
		return nil, invalidInput(op, "friendly name must be 1 to 64 bytes")
	}
	f := url.Values{"FriendlyName": {p.FriendlyName}, "FactorType": {string(p.FactorType)}}
	switch p.FactorType {
	case provider.FactorPush:
		if p.Secret != "" || p.TOTP != (provider.TOTPConfig{}) || p.SkewSet {
			return nil, invalidInput(op, "a push factor has no secret and no TOTP configuration")
		}
		if err := checkPushBinding(op, p.PublicKey, p.Alg); err != nil {
			return nil, err
		}
		if err := checkPushConfig(op, p.NotificationPlatform, p.NotificationToken, true); err != nil {
			return nil, err
		}
		if len(p.AppID) > 100 {
			return nil, invalidInput(op, "app ID must be at most 100 bytes")
		}
		f.Set("Binding.PublicKey", p.PublicKey)
		f.Set("Binding.Alg", "ES256")
		setForm(f, "Config.AppId", p.AppID)
		setForm(f, "Config.NotificationPlatform", p.NotificationPlatform)
		setForm(f, "Config.NotificationToken", p.NotificationToken)
		setForm(f, "Config.SdkVersion", p.SdkVersion)
	case provider.FactorTOTP:
		if p.PublicKey != "" || p.Alg != "" || p.AppID != "" || p.NotificationPlatform != "" || p.NotificationToken != "" || p.SdkVersion != "" {
			return nil, invalidInput(op, "a totp factor has no public key and no push configuration")
		}
		if err := p.TOTP.Validate(); err != nil {
			return nil, invalidInput(op, err.Error())
		}
		if p.Secret != "" {
			if !validBase32(p.Secret) {
				return nil, invalidInput(op, "Binding.Secret must be Base32")
			}
			f.Set("Binding.Secret", p.Secret)
		}
		setTOTPConfig(f, p.TOTP, p.SkewSet)
	default:
		return nil, invalidInput(op, "factor type must be push or totp")
	}
	if p.Metadata != nil {
		b, err := json.Marshal(p.Metadata)
		if err != nil || len(b) > 1024 {
			return nil, invalidInput(op, "metadata must be at most 1024 bytes of JSON")
		}
		f.Set("Metadata", string(b))
	}
	return f, nil
}

// checkPushBinding checks a push factor's public key: base64 (standard,
// padded) of a PKIX DER key, as the SDKs send it, and the algorithm,
// ES256 or empty.
func checkPushBinding(op, publicKey, alg string) error {
	if alg != "" && alg != "ES256" {
		return invalidInput(op, "Binding.Alg must be ES256")
	}
	der, err := base64.StdEncoding.DecodeString(publicKey)
	if err != nil || len(der) < 64 || len(der) > 256 {
		return invalidInput(op, "Binding.PublicKey must be base64 of a PKIX DER P-256 key")
	}
	return nil
}

// checkPushConfig checks a push factor's notification platform and token
// (create: the platform is required).
func checkPushConfig(op, platform, token string, create bool) error {
	switch platform {
	case "apn", "fcm":
		if create && token == "" {
			return invalidInput(op, "a notification token is required for apn and fcm")
		}
	case "none":
	case "":
		if create {
			return invalidInput(op, "notification platform must be apn, fcm or none")
		}
	default:
		return invalidInput(op, "notification platform must be apn, fcm or none")
	}
	if token != "" && (len(token) < 32 || len(token) > 255) {
		return invalidInput(op, "notification token must be 32 to 255 bytes")
	}
	return nil
}

// CreateNewFactor creates a factor with every parameter of the API, with
// POST /v2/Services/{ServiceSid}/Entities/{Identity}/Factors. For a totp
// factor, EnrollFactor does the same through the provider contract. A push
// factor is normally created by the Verify Push SDK on the device, which
// authenticates with an access token (CreateAccessToken) rather than the
// account's credentials; this method sends what the SDK sends
// (Binding.PublicKey, Binding.Alg, Config.AppId, Config.NotificationPlatform,
// Config.NotificationToken, Config.SdkVersion, Metadata). The binding's
// secret, for a totp factor, is returned this once.
//
// Creating a factor is not idempotent: it is retried only when it
// provably did not reach Twilio.
//
// API: https://www.twilio.com/docs/verify/api/factor#create-a-factor-resource
func (c *Client) CreateNewFactor(ctx context.Context, identity string, p NewFactorParams) (NewFactor, error) {
	const op = opCreateNewFactor
	path, err := c.entityPath(op, identity)
	if err != nil {
		return NewFactor{}, err
	}
	f, err := p.form(op)
	if err != nil {
		return NewFactor{}, err
	}
	var nf NewFactor
	err = c.do(ctx, call{op: op, method: http.MethodPost, path: path + "/Factors", form: f, secret: p.Secret, ok: okCreated,
		check: func() error {
			switch {
			case !wire.ValidSID(nf.SID, "YF"):
				return errors.New("the answer has no factor SID")
			case nf.Identity != identity:
				return errors.New("the answer is about another identity")
			}
			return nil
		}}, &nf)
	return nf, err
}
