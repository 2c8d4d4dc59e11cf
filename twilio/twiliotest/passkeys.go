package twiliotest

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// Passkeys: factors and challenges of type "passkeys", held by the
// service's factor engine with its TOTP factors (so the Entities, Factors
// and Challenges endpoints list, fetch and delete them too). The
// four Passkeys endpoints take JSON. The WebAuthn ceremony is simulated:
// the emulator checks what ties an answer to its request — the
// clientDataJSON's type, its challenge (which names the factor or
// challenge) and its origin (against the factor's relying party origins,
// when it has some), the credential ID a factor was verified with, and the
// user handle (the entity SID) — but does not parse the attestation
// object or verify the assertion's signature; they need only be present.

// passkeyConfigJSON is a passkey factor's config.
type passkeyConfigJSON struct {
	RelyingParty            *passkeyRPJSON `json:"relying_party"`
	AuthenticatorAttachment string         `json:"authenticator_attachment"`
	DiscoverableCredentials string         `json:"discoverable_credentials"`
	UserVerification        string         `json:"user_verification"`
}

type passkeyRPJSON struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Origins []string `json:"origins"`
}

type passkeyFactorJSON struct {
	SID          string             `json:"sid"`
	AccountSID   string             `json:"account_sid"`
	ServiceSID   string             `json:"service_sid"`
	EntitySID    string             `json:"entity_sid"`
	Identity     string             `json:"identity"`
	Binding      any                `json:"binding"`
	Options      any                `json:"options,omitempty"`
	DateCreated  string             `json:"date_created"`
	DateUpdated  string             `json:"date_updated"`
	FriendlyName string             `json:"friendly_name"`
	Status       string             `json:"status"`
	FactorType   string             `json:"factor_type"`
	Config       *passkeyConfigJSON `json:"config"`
	Metadata     any                `json:"metadata"`
	URL          string             `json:"url"`
}

type passkeyChallengeJSON struct {
	challengeJSON
	ExpirationDate *string `json:"expiration_date"`
	Options        any     `json:"options"`
}

func (e *Emulator) passkeyRoutes(m *http.ServeMux) {
	const pk = "/v2/Services/{service}/Passkeys/"
	m.HandleFunc("POST "+pk+"Factors", e.passkeyHandler(e.createPasskeyFactor))
	m.HandleFunc("POST "+pk+"VerifyFactor", e.passkeyHandler(e.verifyPasskeyFactor))
	m.HandleFunc("POST "+pk+"Challenges", e.passkeyHandler(e.createPasskeyChallenge))
	m.HandleFunc("POST "+pk+"ApproveChallenge", e.passkeyHandler(e.approvePasskeyChallenge))
}

// passkeyHandler finds the service and decodes the JSON body into a map
// for h, or answers the error.
func (e *Emulator) passkeyHandler(h func(http.ResponseWriter, *http.Request, *service, json.RawMessage)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := e.factorService(w, r)
		if s == nil {
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, twiliocode.InvalidParameter, "the Passkeys endpoints take a JSON body (Content-Type application/json)")
			return
		}
		raw, err := io.ReadAll(r.Body)
		if err != nil || !json.Valid(raw) {
			badFactorParam(w, "the body is not JSON")
			return
		}
		h(w, r, s, raw)
	}
}

// b64 decodes base64url with or without padding.
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// passkeyConfig returns the config of a passkey factor, by factor SID.
func (s *service) passkeyConfig(sid string) *passkeyConfigJSON {
	return load[*passkeyConfigJSON](&s.extras.passkeys, sid)
}

func (s *service) setPasskeyConfig(sid string, c *passkeyConfigJSON) { s.extras.passkeys.Store(sid, c) }

func (e *Emulator) passkeyFactorJSON(r *http.Request, s *service, pf engine.PasskeyFactor, options any) passkeyFactorJSON {
	f := pf.Factor
	return passkeyFactorJSON{
		SID: f.ID, AccountSID: s.AccountSID, ServiceSID: s.SID, EntitySID: pf.EntityID, Identity: f.Identity,
		Options: options, DateCreated: rfc3339(f.CreatedAt), DateUpdated: rfc3339(f.UpdatedAt), FriendlyName: f.FriendlyName,
		Status: string(f.Status), FactorType: string(f.Type), Config: s.passkeyConfig(f.ID),
		URL: e.base(r) + "/v2/Services/" + s.SID + "/Entities/" + f.Identity + "/Factors/" + f.ID,
	}
}

func oneOf(v string, allowed ...string) bool { return slices.Contains(allowed, v) }

func (e *Emulator) createPasskeyFactor(w http.ResponseWriter, r *http.Request, s *service, raw json.RawMessage) {
	var in struct {
		FriendlyName string             `json:"friendly_name"`
		Identity     string             `json:"identity"`
		Config       *passkeyConfigJSON `json:"config"`
	}
	if json.Unmarshal(raw, &in) != nil {
		badFactorParam(w, "the body is not a CreateNewPasskeysFactorRequest")
		return
	}
	cfg := passkeyConfigJSON{AuthenticatorAttachment: "platform", DiscoverableCredentials: "preferred", UserVerification: "preferred"}
	if in.Config != nil {
		if c := in.Config; c.RelyingParty != nil {
			cfg.RelyingParty = c.RelyingParty
		}
		for _, f := range []struct {
			dst     *string
			v, name string
			allowed []string
		}{
			{&cfg.AuthenticatorAttachment, in.Config.AuthenticatorAttachment, "config.authenticator_attachment", []string{"platform", "cross-platform", "any"}},
			{&cfg.DiscoverableCredentials, in.Config.DiscoverableCredentials, "config.discoverable_credentials", []string{"required", "preferred", "discouraged"}},
			{&cfg.UserVerification, in.Config.UserVerification, "config.user_verification", []string{"required", "preferred", "discouraged"}},
		} {
			if f.v == "" {
				continue
			}
			if !oneOf(f.v, f.allowed...) {
				badFactorParam(w, f.name)
				return
			}
			*f.dst = f.v
		}
	}
	if cfg.RelyingParty == nil {
		cfg.RelyingParty = &passkeyRPJSON{ID: "localhost", Name: s.FriendlyName, Origins: []string{}}
	}
	if cfg.RelyingParty.Origins == nil {
		cfg.RelyingParty.Origins = []string{}
	}
	pf, err := s.factors.EnrollPasskey(r.Context(), in.Identity, in.FriendlyName)
	if err != nil {
		e.writeFactorError(w, r, err)
		return
	}
	s.setPasskeyConfig(pf.Factor.ID, &cfg)
	sel := map[string]any{
		"requireResidentKey": cfg.DiscoverableCredentials == "required", "residentKey": cfg.DiscoverableCredentials,
		"userVerification": cfg.UserVerification,
	}
	if cfg.AuthenticatorAttachment != "any" {
		sel["authenticatorAttachment"] = cfg.AuthenticatorAttachment
	}
	options := map[string]any{"publicKey": map[string]any{
		"rp":                     map[string]string{"id": cfg.RelyingParty.ID, "name": cfg.RelyingParty.Name},
		"user":                   map[string]string{"id": base64.RawURLEncoding.EncodeToString([]byte(pf.EntityID)), "name": in.FriendlyName, "displayName": in.FriendlyName},
		"challenge":              pf.Challenge,
		"pubKeyCredParams":       map[string]any{"type": "public-key", "alg": -7},
		"timeout":                engine.PasskeyExpiry.Milliseconds(),
		"excludeCredentials":     e.credentialDescriptors(s, in.Identity),
		"authenticatorSelection": sel,
		"attestation":            "none",
	}}
	emuserver.WriteJSON(w, http.StatusCreated, e.passkeyFactorJSON(r, s, pf, options))
}

// credentialDescriptors lists the credentials of identity's verified
// passkey factors.
func (e *Emulator) credentialDescriptors(s *service, identity string) []map[string]string {
	out := []map[string]string{}
	for _, id := range s.factors.PasskeyCredentials(identity) {
		out = append(out, map[string]string{"type": "public-key", "id": id})
	}
	return out
}

// clientData decodes a clientDataJSON and checks its type.
func clientData(w http.ResponseWriter, enc, wantType string) (challenge, origin string, ok bool) {
	raw, err := b64(enc)
	var cd struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
		Origin    string `json:"origin"`
	}
	if err != nil || json.Unmarshal(raw, &cd) != nil {
		badFactorParam(w, "response.clientDataJSON")
		return "", "", false
	}
	if cd.Type != wantType || cd.Challenge == "" {
		badFactorParam(w, "response.clientDataJSON: type must be "+wantType+" with a challenge")
		return "", "", false
	}
	return cd.Challenge, cd.Origin, true
}

// errOrigin is the error of an answer from an origin the relying party
// does not list.
var errOrigin = &engine.Error{Op: "passkey", Kind: provider.ErrInvalidRequest, Reason: engine.ReasonFactorInvalid, Msg: "origin not allowed"}

// originCheck accepts a factor whose relying party lists origin, or lists
// none.
func (s *service) originCheck(origin string) func(provider.Factor) error {
	return func(f provider.Factor) error {
		c := s.passkeyConfig(f.ID)
		if c == nil || c.RelyingParty == nil || len(c.RelyingParty.Origins) == 0 || slices.Contains(c.RelyingParty.Origins, origin) {
			return nil
		}
		return errOrigin
	}
}

// credentialID returns the credential an answer names: its id, else its
// rawId.
func credentialID(id, rawID string) string {
	if id != "" {
		return id
	}
	return rawID
}

func (e *Emulator) verifyPasskeyFactor(w http.ResponseWriter, r *http.Request, s *service, raw json.RawMessage) {
	var in struct {
		ID, RawID               string
		AuthenticatorAttachment string
		Type                    string
		Response                *struct {
			AttestationObject string   `json:"attestationObject"`
			ClientDataJSON    string   `json:"clientDataJSON"`
			Transports        []string `json:"transports"`
		}
	}
	if json.Unmarshal(raw, &in) != nil || in.Response == nil {
		badFactorParam(w, "response")
		return
	}
	switch {
	case in.AuthenticatorAttachment != "" && !oneOf(in.AuthenticatorAttachment, "platform", "cross-platform"):
		badFactorParam(w, "authenticatorAttachment")
		return
	case in.Type != "" && in.Type != "public-key":
		badFactorParam(w, "type")
		return
	case credentialID(in.ID, in.RawID) == "":
		badFactorParam(w, "id")
		return
	}
	if _, err := b64(in.Response.AttestationObject); err != nil || in.Response.AttestationObject == "" {
		badFactorParam(w, "response.attestationObject")
		return
	}
	nonce, origin, ok := clientData(w, in.Response.ClientDataJSON, "webauthn.create")
	if !ok {
		return
	}
	pf, err := s.factors.VerifyPasskey(r.Context(), nonce, credentialID(in.ID, in.RawID), s.originCheck(origin))
	if err != nil {
		e.writeFactorError(w, r, err)
		return
	}
	emuserver.WriteJSON(w, http.StatusOK, e.passkeyFactorJSON(r, s, pf, nil))
}

func (e *Emulator) passkeyChallengeJSON(r *http.Request, s *service, pc engine.PasskeyChallenge, options any) passkeyChallengeJSON {
	c := pc.Challenge
	out := passkeyChallengeJSON{challengeJSON: e.challengeJSON(r, s, pc.EntityID, c), Options: options}
	out.FactorType = string(engine.FactorPasskeys)
	exp := rfc3339(c.ExpiresAt)
	out.ExpirationDate = &exp
	out.Links = nil
	if c.Identity == "" {
		out.URL = e.base(r) + "/v2/Services/" + s.SID + "/Passkeys/Challenges"
	}
	return out
}

func (e *Emulator) createPasskeyChallenge(w http.ResponseWriter, r *http.Request, s *service, raw json.RawMessage) {
	var in struct {
		Identity  string `json:"identity"`
		FactorSID string `json:"factor_sid"`
	}
	if json.Unmarshal(raw, &in) != nil {
		badFactorParam(w, "the body is not a CreatePasskeysChallengeRequest")
		return
	}
	pc, err := s.factors.ChallengePasskey(r.Context(), in.Identity, in.FactorSID)
	if err != nil {
		e.writeFactorError(w, r, err)
		return
	}
	allow := []map[string]string{}
	for _, id := range pc.Credentials {
		allow = append(allow, map[string]string{"type": "public-key", "id": id})
	}
	rpID := "localhost"
	if in.FactorSID != "" {
		if c := s.passkeyConfig(in.FactorSID); c != nil && c.RelyingParty != nil {
			rpID = c.RelyingParty.ID
		}
	}
	options := map[string]any{"publicKey": map[string]any{
		"challenge": pc.Nonce, "timeout": engine.PasskeyExpiry.Milliseconds(), "rpId": rpID,
		"allowCredentials": allow, "userVerification": "preferred",
	}}
	emuserver.WriteJSON(w, http.StatusCreated, e.passkeyChallengeJSON(r, s, pc, options))
}

func (e *Emulator) approvePasskeyChallenge(w http.ResponseWriter, r *http.Request, s *service, raw json.RawMessage) {
	var in struct {
		ID, RawID               string
		AuthenticatorAttachment string
		Type                    string
		Response                *struct {
			AuthenticatorData string `json:"authenticatorData"`
			ClientDataJSON    string `json:"clientDataJSON"`
			Signature         string `json:"signature"`
			UserHandle        string `json:"userHandle"`
		}
	}
	if json.Unmarshal(raw, &in) != nil || in.Response == nil {
		badFactorParam(w, "response")
		return
	}
	for _, f := range []struct{ v, name string }{
		{in.ID, "id"}, {in.RawID, "rawId"}, {in.AuthenticatorAttachment, "authenticatorAttachment"},
		{in.Response.AuthenticatorData, "response.authenticatorData"}, {in.Response.Signature, "response.signature"},
	} {
		if f.v == "" {
			badFactorParam(w, f.name)
			return
		}
	}
	switch {
	case !oneOf(in.AuthenticatorAttachment, "platform", "cross-platform"):
		badFactorParam(w, "authenticatorAttachment")
		return
	case in.Type != "" && in.Type != "public-key":
		badFactorParam(w, "type")
		return
	}
	for _, f := range []struct{ v, name string }{{in.Response.AuthenticatorData, "response.authenticatorData"}, {in.Response.Signature, "response.signature"}} {
		if _, err := b64(f.v); err != nil {
			badFactorParam(w, f.name)
			return
		}
	}
	var handle string
	if in.Response.UserHandle != "" {
		h, err := b64(in.Response.UserHandle)
		if err != nil {
			badFactorParam(w, "response.userHandle")
			return
		}
		handle = string(h)
	}
	nonce, origin, ok := clientData(w, in.Response.ClientDataJSON, "webauthn.get")
	if !ok {
		return
	}
	pc, err := s.factors.ApprovePasskey(r.Context(), nonce, credentialID(in.ID, in.RawID), handle, s.originCheck(origin))
	if err != nil {
		e.writeFactorError(w, r, err)
		return
	}
	emuserver.WriteJSON(w, http.StatusOK, e.passkeyChallengeJSON(r, s, pc, nil))
}
