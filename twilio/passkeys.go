package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// Passkeys: factors whose credential is a WebAuthn public key credential
// (factor type "passkeys"). CreatePasskeyFactor returns the options for
// navigator.credentials.create(); VerifyPasskeyFactor sends the
// authenticator's answer. CreatePasskeyChallenge returns the options for
// navigator.credentials.get(); ApprovePasskeyChallenge sends the answer.
// The four operations take and answer JSON, not forms.

// PasskeyRelyingParty is the party a passkey is for: its ID (a domain),
// its name, and the origins its pages are served from.
type PasskeyRelyingParty struct {
	ID      string   `json:"id,omitempty"`
	Name    string   `json:"name,omitempty"`
	Origins []string `json:"origins,omitempty"`
}

// PasskeyConfig is a passkey factor's configuration.
type PasskeyConfig struct {
	RelyingParty *PasskeyRelyingParty `json:"relying_party,omitempty"`
	// AuthenticatorAttachment is platform, cross-platform or any.
	AuthenticatorAttachment string `json:"authenticator_attachment,omitempty"`
	// DiscoverableCredentials and UserVerification are required,
	// preferred or discouraged.
	DiscoverableCredentials string `json:"discoverable_credentials,omitempty"`
	UserVerification        string `json:"user_verification,omitempty"`
}

// PasskeyFactorParams are the parameters of CreatePasskeyFactor.
type PasskeyFactorParams struct {
	FriendlyName string         `json:"friendly_name"` // required
	Identity     string         `json:"identity"`      // required
	Config       *PasskeyConfig `json:"config,omitempty"`
}

// PasskeyOptions are the WebAuthn options Twilio answers, for the
// browser's navigator.credentials.create() or get().
type PasskeyOptions struct {
	PublicKey PublicKeyOptions `json:"publicKey"`
}

// PublicKeyOptions are WebAuthn's PublicKeyCredentialCreationOptions or
// PublicKeyCredentialRequestOptions, as Twilio fills them.
type PublicKeyOptions struct {
	RP *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"rp,omitempty"`
	RPID string `json:"rpId,omitempty"`
	User *struct {
		ID          string `json:"id"` // base64url
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
	} `json:"user,omitempty"`
	// Challenge is the base64url challenge the authenticator signs.
	Challenge string `json:"challenge"`
	// PubKeyCredParams is kept raw: Twilio documents one object where
	// WebAuthn has a list.
	PubKeyCredParams       json.RawMessage               `json:"pubKeyCredParams,omitempty"`
	Timeout                int                           `json:"timeout,omitempty"` // milliseconds
	ExcludeCredentials     []PasskeyCredentialDescriptor `json:"excludeCredentials,omitempty"`
	AllowCredentials       []PasskeyCredentialDescriptor `json:"allowCredentials,omitempty"`
	AuthenticatorSelection *struct {
		AuthenticatorAttachment string `json:"authenticatorAttachment,omitempty"`
		RequireResidentKey      bool   `json:"requireResidentKey"`
		ResidentKey             string `json:"residentKey,omitempty"`
		UserVerification        string `json:"userVerification,omitempty"`
	} `json:"authenticatorSelection,omitempty"`
	UserVerification string `json:"userVerification,omitempty"`
	Attestation      string `json:"attestation,omitempty"`
}

// PasskeyCredentialDescriptor names a credential in WebAuthn options.
type PasskeyCredentialDescriptor struct {
	Type       string   `json:"type"` // public-key
	ID         string   `json:"id"`   // base64url
	Transports []string `json:"transports,omitempty"`
}

// PasskeyFactor is a passkey factor as the Passkeys operations answer it.
type PasskeyFactor struct {
	SID          string          `json:"sid"` // YF…
	AccountSID   string          `json:"account_sid"`
	ServiceSID   string          `json:"service_sid"`
	EntitySID    string          `json:"entity_sid"`
	Identity     string          `json:"identity"`
	Binding      json.RawMessage `json:"binding"`
	Options      *PasskeyOptions `json:"options"` // on creation
	DateCreated  time.Time       `json:"date_created"`
	DateUpdated  time.Time       `json:"date_updated"`
	FriendlyName string          `json:"friendly_name"`
	Status       string          `json:"status"`      // unverified, verified
	FactorType   string          `json:"factor_type"` // passkeys
	Config       *PasskeyConfig  `json:"config"`
	Metadata     json.RawMessage `json:"metadata"`
	URL          string          `json:"url"`
}

// PasskeyChallenge is a challenge as the Passkeys operations answer it.
type PasskeyChallenge struct {
	SID             string            `json:"sid"` // YC…
	AccountSID      string            `json:"account_sid"`
	ServiceSID      string            `json:"service_sid"`
	EntitySID       string            `json:"entity_sid"` // "" for a discoverable challenge before its answer
	Identity        string            `json:"identity"`
	FactorSID       string            `json:"factor_sid"`
	DateCreated     time.Time         `json:"date_created"`
	DateUpdated     time.Time         `json:"date_updated"`
	DateResponded   *time.Time        `json:"date_responded"`
	ExpirationDate  *time.Time        `json:"expiration_date"`
	Status          string            `json:"status"`           // pending, expired, approved, denied
	RespondedReason string            `json:"responded_reason"` // none, not_needed, not_requested
	Details         json.RawMessage   `json:"details"`
	HiddenDetails   json.RawMessage   `json:"hidden_details"`
	Metadata        json.RawMessage   `json:"metadata"`
	FactorType      string            `json:"factor_type"`
	URL             string            `json:"url"`
	Links           map[string]string `json:"links"`
	Options         *PasskeyOptions   `json:"options"`
}

// PasskeyAttestation is the browser's answer to
// navigator.credentials.create(): a PublicKeyCredential with an
// AuthenticatorAttestationResponse, as VerifyPasskeyFactor sends it.
type PasskeyAttestation struct {
	ID                      string `json:"id,omitempty"`                      // base64url of RawID
	RawID                   string `json:"rawId,omitempty"`                   // the credential ID
	AuthenticatorAttachment string `json:"authenticatorAttachment,omitempty"` // platform, cross-platform
	Type                    string `json:"type,omitempty"`                    // public-key
	Response                struct {
		AttestationObject string   `json:"attestationObject"` // base64url
		ClientDataJSON    string   `json:"clientDataJSON"`    // base64url
		Transports        []string `json:"transports,omitempty"`
	} `json:"response"`
}

// PasskeyAssertion is the browser's answer to navigator.credentials.get():
// a PublicKeyCredential with an AuthenticatorAssertionResponse, as
// ApprovePasskeyChallenge sends it.
type PasskeyAssertion struct {
	ID                      string `json:"id"`
	RawID                   string `json:"rawId"`
	AuthenticatorAttachment string `json:"authenticatorAttachment"`
	Type                    string `json:"type,omitempty"`
	Response                struct {
		AuthenticatorData string `json:"authenticatorData"` // base64url
		ClientDataJSON    string `json:"clientDataJSON"`    // base64url
		Signature         string `json:"signature"`         // base64url
		UserHandle        string `json:"userHandle,omitempty"`
	} `json:"response"`
}

const (
	opCreatePasskeyFactor    = "create passkey factor"
	opVerifyPasskeyFactor    = "verify passkey factor"
	opCreatePasskeyChallenge = "create passkey challenge"
	opApprovePasskey         = "approve passkey challenge"
)

func (c *Client) passkeysPath(res string) string {
	return "/v2/Services/" + c.serviceSID + "/Passkeys/" + res
}

// passkeyJSON posts v as JSON to the Passkeys resource res.
func (c *Client) passkeyJSON(ctx context.Context, op, res string, v any, ok []int, out any, check func() error) error {
	body, err := json.Marshal(v)
	if err != nil {
		return invalidInput(op, "encoding the body: "+err.Error())
	}
	return c.do(ctx, call{op: op, method: http.MethodPost, path: c.passkeysPath(res), body: body, json: true, ok: ok, check: check}, out)
}

func (c *Client) passkeyFactorCheck(f *PasskeyFactor, identity string) func() error {
	return func() error {
		switch {
		case !wire.ValidSID(f.SID, "YF"):
			return errors.New("the answer has no factor SID")
		case f.ServiceSID != c.serviceSID:
			return errors.New("the answer is about another service")
		case identity != "" && f.Identity != identity:
			return errors.New("the answer is about another identity")
		}
		return nil
	}
}

func (c *Client) passkeyChallengeCheck(ch *PasskeyChallenge) func() error {
	return func() error {
		switch {
		case !wire.ValidSID(ch.SID, "YC"):
			return errors.New("the answer has no challenge SID")
		case ch.ServiceSID != c.serviceSID:
			return errors.New("the answer is about another service")
		}
		return nil
	}
}

// CreatePasskeyFactor creates an unverified passkey factor for p.Identity,
// with POST /v2/Services/{ServiceSid}/Passkeys/Factors. Its Options are
// for navigator.credentials.create(); VerifyPasskeyFactor sends the
// browser's answer.
//
// API: https://www.twilio.com/docs/verify/api/passkeys
func (c *Client) CreatePasskeyFactor(ctx context.Context, p PasskeyFactorParams) (PasskeyFactor, error) {
	if p.FriendlyName == "" || !provider.ValidIdentity(p.Identity) {
		return PasskeyFactor{}, invalidInput(opCreatePasskeyFactor, "FriendlyName and an Identity of 8 to 64 letters, digits or dashes are required")
	}
	var f PasskeyFactor
	err := c.passkeyJSON(ctx, opCreatePasskeyFactor, "Factors", p, okCreated, &f, c.passkeyFactorCheck(&f, p.Identity))
	return f, err
}

// VerifyPasskeyFactor sends the browser's answer to a passkey factor's
// creation options, with POST /v2/Services/{ServiceSid}/Passkeys/VerifyFactor;
// the factor it names (by the challenge inside ClientDataJSON) becomes
// verified.
//
// API: https://www.twilio.com/docs/verify/api/passkeys
func (c *Client) VerifyPasskeyFactor(ctx context.Context, a PasskeyAttestation) (PasskeyFactor, error) {
	if a.Response.AttestationObject == "" || a.Response.ClientDataJSON == "" {
		return PasskeyFactor{}, invalidInput(opVerifyPasskeyFactor, "the response's attestationObject and clientDataJSON are required")
	}
	var f PasskeyFactor
	err := c.passkeyJSON(ctx, opVerifyPasskeyFactor, "VerifyFactor", a, okOK, &f, c.passkeyFactorCheck(&f, ""))
	return f, err
}

// CreatePasskeyChallenge creates a passkey challenge, with POST
// /v2/Services/{ServiceSid}/Passkeys/Challenges: of identity's passkeys
// (of the factor factorSID only, when set), or, with both empty, a
// discoverable one that any of the service's passkeys may answer. Its
// Options are for navigator.credentials.get().
//
// API: https://www.twilio.com/docs/verify/api/passkeys
func (c *Client) CreatePasskeyChallenge(ctx context.Context, identity, factorSID string) (PasskeyChallenge, error) {
	switch {
	case identity != "" && !provider.ValidIdentity(identity):
		return PasskeyChallenge{}, invalidInput(opCreatePasskeyChallenge, "identity must be 8 to 64 letters, digits or dashes")
	case factorSID != "" && (identity == "" || !wire.ValidSID(factorSID, "YF")):
		return PasskeyChallenge{}, invalidInput(opCreatePasskeyChallenge, "a factor SID is YF followed by 32 hex digits and needs its identity")
	}
	body := map[string]string{}
	if identity != "" {
		body["identity"] = identity
	}
	if factorSID != "" {
		body["factor_sid"] = factorSID
	}
	var ch PasskeyChallenge
	err := c.passkeyJSON(ctx, opCreatePasskeyChallenge, "Challenges", body, okCreated, &ch, c.passkeyChallengeCheck(&ch))
	return ch, err
}

// ApprovePasskeyChallenge sends the browser's answer to a passkey
// challenge's options, with POST
// /v2/Services/{ServiceSid}/Passkeys/ApproveChallenge; the challenge it
// names (by the challenge inside ClientDataJSON) becomes approved.
//
// API: https://www.twilio.com/docs/verify/api/passkeys
func (c *Client) ApprovePasskeyChallenge(ctx context.Context, a PasskeyAssertion) (PasskeyChallenge, error) {
	r := a.Response
	if a.ID == "" || a.RawID == "" || a.AuthenticatorAttachment == "" || r.AuthenticatorData == "" || r.ClientDataJSON == "" || r.Signature == "" {
		return PasskeyChallenge{}, invalidInput(opApprovePasskey, "id, rawId, authenticatorAttachment and the response's authenticatorData, clientDataJSON and signature are required")
	}
	var ch PasskeyChallenge
	err := c.passkeyJSON(ctx, opApprovePasskey, "ApproveChallenge", a, okOK, &ch, c.passkeyChallengeCheck(&ch))
	return ch, err
}
