package engine

import (
	"context"
	"encoding/base64"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// Passkey factors: a factor whose credential is a WebAuthn public key
// credential, held with the TOTP factors of its identity (listed, fetched
// and deleted with them). The engine keeps the ceremony's state — the
// random challenge of a registration or an authentication, and the
// credential ID a verified factor is bound to — and leaves the checks of
// the authenticator's data to the layer above.

// FactorPasskeys is the type of a passkey factor, Twilio's name.
const FactorPasskeys provider.FactorType = "passkeys"

// PasskeyExpiry is how long a registration or authentication challenge
// may be answered: the WebAuthn timeout the options carry.
const PasskeyExpiry = 10 * time.Minute

// maxPasskeyCeremonies bounds the ceremonies waiting for an answer; the
// oldest is dropped first.
const maxPasskeyCeremonies = 10_000

// passkey is a passkey factor's state; guarded by Factors.mu.
type passkey struct {
	credential string // the credential ID, once verified
	nonce      string // the registration challenge, while unverified
}

// ceremony is a registration (factor set) or authentication challenge
// waiting for an answer; guarded by Factors.mu.
type ceremony struct {
	nonce    string
	factor   *factor    // a registration's factor
	c        *challenge // an authentication's challenge
	identity string     // of an authentication, "" for a discoverable one
	expires  time.Time
}

// passkeyState is the passkey part of Factors.
type passkeyState struct {
	byNonce map[string]*ceremony
	order   []string // nonces, oldest first
}

// PasskeyFactor is a passkey factor with what its ceremonies need.
type PasskeyFactor struct {
	Factor   provider.Factor
	EntityID string
	// Challenge is the base64url registration challenge while the factor
	// is unverified, else "".
	Challenge string
	// CredentialID is the credential the factor is bound to, once
	// verified.
	CredentialID string
}

// PasskeyChallenge is an authentication challenge with what its ceremony
// needs.
type PasskeyChallenge struct {
	Challenge provider.Challenge
	EntityID  string // "" for a discoverable challenge not yet answered
	// Nonce is the base64url challenge the authenticator signs.
	Nonce string
	// Credentials are the credential IDs that may answer (empty: any
	// discoverable one).
	Credentials []string
}

func (x *Factors) newNonce() string {
	return base64.RawURLEncoding.EncodeToString(x.c.NewSecret())
}

// addCeremony records c, dropping the oldest beyond the bound. x.mu must
// be held.
func (x *Factors) addCeremony(c *ceremony) {
	p := &x.passkeys
	if p.byNonce == nil {
		p.byNonce = map[string]*ceremony{}
	}
	if len(p.order) >= maxPasskeyCeremonies {
		delete(p.byNonce, p.order[0])
		p.order = append(p.order[:0:0], p.order[1:]...)
	}
	p.byNonce[c.nonce] = c
	p.order = append(p.order, c.nonce)
}

// takeCeremony removes and returns the ceremony of nonce. x.mu must be
// held.
func (x *Factors) takeCeremony(nonce string) *ceremony {
	p := &x.passkeys
	c := p.byNonce[nonce]
	if c == nil {
		return nil
	}
	delete(p.byNonce, nonce)
	for i, n := range p.order {
		if n == nonce {
			p.order = append(p.order[:i:i], p.order[i+1:]...)
			break
		}
	}
	return c
}

func (x *Factors) passkeyFactor(fa *factor) PasskeyFactor {
	out := PasskeyFactor{Factor: fa.public(), CredentialID: fa.passkey.credential, Challenge: fa.passkey.nonce}
	if e := x.entities[fa.identity]; e != nil {
		out.EntityID = e.ID
	}
	return out
}

// EnrollPasskey creates an unverified passkey factor named name for
// identity (creating the identity if needed), with a registration
// challenge that VerifyPasskey answers.
func (x *Factors) EnrollPasskey(ctx context.Context, identity, name string) (PasskeyFactor, error) {
	const op = "enroll passkey"
	if name == "" || len(name) > 64 {
		return PasskeyFactor{}, invalidFactor(op, "friendly name must be 1 to 64 bytes")
	}
	var out PasskeyFactor
	err := x.run(ctx, op, identity, false, func(x *Factors, now time.Time, ev *FactorEvent) error {
		e, err := x.entityFor(op, identity, now, 1)
		if err != nil {
			return err
		}
		fa := &factor{
			id: x.newID(kindFactor), identity: identity, name: name, status: provider.FactorUnverified,
			passkey: &passkey{nonce: x.newNonce()}, created: now, updated: now,
		}
		e.factors = append(e.factors, fa)
		x.byID[fa.id] = fa
		x.addCeremony(&ceremony{nonce: fa.passkey.nonce, factor: fa, expires: now.Add(PasskeyExpiry)})
		ev.FactorID, ev.FactorStatus = fa.id, fa.status
		out = x.passkeyFactor(fa)
		return nil
	})
	return out, err
}

// VerifyPasskey binds the unverified passkey factor whose registration
// challenge is nonce to the credential credentialID and verifies it, if
// check (when not nil) accepts the factor. An unknown, answered or expired
// challenge gives ErrNotFound.
func (x *Factors) VerifyPasskey(ctx context.Context, nonce, credentialID string, check func(provider.Factor) error) (PasskeyFactor, error) {
	const op = "verify passkey"
	if credentialID == "" {
		return PasskeyFactor{}, invalidFactor(op, "empty credential ID")
	}
	var out PasskeyFactor
	err := x.run(ctx, op, "", true, func(x *Factors, now time.Time, ev *FactorEvent) error {
		c := x.passkeys.byNonce[nonce]
		if c == nil || c.factor == nil || x.byID[c.factor.id] != c.factor {
			return factorErr(op, provider.ErrNotFound, ReasonChallengeNotFound, "registration challenge not found")
		}
		if !now.Before(c.expires) {
			x.takeCeremony(nonce)
			return factorErr(op, provider.ErrNotFound, ReasonChallengeExpired, "registration challenge expired")
		}
		if check != nil {
			if err := check(c.factor.public()); err != nil {
				return err
			}
		}
		for _, other := range x.byID {
			if other.passkey != nil && other.passkey.credential == credentialID {
				return invalidFactor(op, "the credential is bound to another factor")
			}
		}
		x.takeCeremony(nonce)
		fa := c.factor
		fa.passkey.credential, fa.passkey.nonce = credentialID, ""
		fa.status, fa.updated = provider.FactorVerified, now
		ev.Identity, ev.FactorID, ev.FactorStatus = fa.identity, fa.id, fa.status
		out = x.passkeyFactor(fa)
		return nil
	})
	return out, err
}

// ChallengePasskey creates an authentication challenge: of identity's
// verified passkeys (of factorID only when it is set), or, with identity
// empty, a discoverable one that any verified passkey may answer.
func (x *Factors) ChallengePasskey(ctx context.Context, identity, factorID string) (PasskeyChallenge, error) {
	const op = "challenge passkey"
	if identity == "" && factorID != "" {
		return PasskeyChallenge{}, invalidFactor(op, "a factor needs its identity")
	}
	var out PasskeyChallenge
	err := x.run(ctx, op, identity, identity == "", func(x *Factors, now time.Time, ev *FactorEvent) error {
		c := &challenge{c: provider.Challenge{
			ID: x.newID(kindChallenge), Identity: identity, Status: provider.ChallengePending,
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(PasskeyExpiry),
		}}
		out = PasskeyChallenge{Nonce: x.newNonce(), Credentials: []string{}}
		if identity != "" {
			e := x.entities[identity]
			if e == nil {
				return notFound(op, "entity")
			}
			out.Credentials = credentials(e, factorID)
			if factorID != "" {
				fa, err := x.lookupFactor(op, identity, factorID)
				switch {
				case err != nil:
					return err
				case fa.passkey == nil:
					return factorErr(op, provider.ErrInvalidRequest, ReasonFactorType, "not a passkey factor")
				case fa.status != provider.FactorVerified:
					return factorErr(op, provider.ErrInvalidRequest, ReasonFactorUnverified, "factor is not verified")
				}
				c.factorID, c.c.FactorID = fa.id, fa.id
			} else if len(out.Credentials) == 0 {
				return factorErr(op, provider.ErrInvalidRequest, ReasonFactorUnverified, "the identity has no verified passkey")
			}
			out.EntityID = e.ID
			x.keepChallenge(e, c)
		}
		x.addCeremony(&ceremony{nonce: out.Nonce, c: c, identity: identity, expires: c.c.ExpiresAt})
		out.Challenge = c.c
		ev.FactorID, ev.ChallengeID, ev.ChallengeStatus = c.factorID, c.c.ID, c.c.Status
		return nil
	})
	return out, err
}

// keepChallenge adds c to e's challenges, dropping the oldest beyond the
// bound. x.mu must be held.
func (x *Factors) keepChallenge(e *entity, c *challenge) {
	e.challenges = append(e.challenges, c)
	if !x.scratch { // over a store, lookupChallenge looks in e
		x.challenges[c.c.ID] = c
	}
	if e.rawN > 0 && e.rawN+len(e.challenges) > x.keptChallenges() {
		e.dropRaw()
		return
	}
	if len(e.challenges) > x.keptChallenges() {
		delete(x.challenges, e.challenges[0].c.ID)
		e.challenges[0] = nil
		e.challenges = e.challenges[1:] // moved by append when full: not each time
	}
}

// ApprovePasskey approves the authentication challenge whose nonce the
// authenticator signed, answered by the credential credentialID; a
// discoverable challenge takes the identity and factor of the credential.
// userHandle, when set, must be the credential's entity ID, and check
// (when not nil) must accept the credential's factor. An unknown, answered
// or expired challenge gives ErrNotFound; a credential that may not answer
// it, ErrInvalidRequest.
func (x *Factors) ApprovePasskey(ctx context.Context, nonce, credentialID, userHandle string, check func(provider.Factor) error) (PasskeyChallenge, error) {
	const op = "approve passkey"
	var out PasskeyChallenge
	err := x.run(ctx, op, "", true, func(x *Factors, now time.Time, ev *FactorEvent) error {
		cer := x.passkeys.byNonce[nonce]
		if cer == nil || cer.c == nil {
			return factorErr(op, provider.ErrNotFound, ReasonChallengeNotFound, "challenge not found")
		}
		if !now.Before(cer.expires) {
			x.takeCeremony(nonce)
			return factorErr(op, provider.ErrNotFound, ReasonChallengeExpired, "challenge expired")
		}
		var fa *factor
		for _, f := range x.byID {
			if f.passkey != nil && f.status == provider.FactorVerified && f.passkey.credential == credentialID {
				fa = f
				break
			}
		}
		c := cer.c
		e := (*entity)(nil)
		if fa != nil {
			e = x.entities[fa.identity]
		}
		switch {
		case fa == nil || e == nil:
			return invalidFactor(op, "no verified passkey has this credential")
		case cer.identity != "" && fa.identity != cer.identity:
			return invalidFactor(op, "the credential belongs to another identity")
		case c.factorID != "" && fa.id != c.factorID:
			return invalidFactor(op, "the credential belongs to another factor")
		case userHandle != "" && userHandle != e.ID:
			return invalidFactor(op, "the user handle is not the credential's entity")
		}
		if check != nil {
			if err := check(fa.public()); err != nil {
				return err
			}
		}
		x.takeCeremony(nonce)
		if cer.identity == "" {
			c.c.Identity = fa.identity
			x.keepChallenge(e, c)
		}
		c.factorID, c.c.FactorID = fa.id, fa.id
		c.c.Status, c.c.RespondedAt, c.c.UpdatedAt = provider.ChallengeApproved, now, now
		fa.updated = now
		ev.Identity, ev.FactorID, ev.ChallengeID, ev.ChallengeStatus = fa.identity, fa.id, c.c.ID, c.c.Status
		out = PasskeyChallenge{Challenge: c.c, EntityID: e.ID, Nonce: nonce, Credentials: []string{credentialID}}
		return nil
	})
	return out, err
}

// PasskeyCredentials returns the credential IDs of identity's verified
// passkey factors, oldest first.
func (x *Factors) PasskeyCredentials(identity string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return credentials(x.entities[identity], "")
}

// credentials returns the credential IDs of e's verified passkey factors
// (of factorID only, when set), oldest first; nil when e is.
func credentials(e *entity, factorID string) []string {
	if e == nil {
		return nil
	}
	out := []string{}
	for _, fa := range e.factors {
		if fa.passkey != nil && fa.status == provider.FactorVerified && (factorID == "" || fa.id == factorID) {
			out = append(out, fa.passkey.credential)
		}
	}
	return out
}
