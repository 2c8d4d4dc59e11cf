package engine

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/verifykit/verifykit/internal/pushsig"
	"github.com/verifykit/verifykit/provider"
)

// The push operations, in errors, hooks and events. The device's
// operations start with "device".
const (
	OpCreateAccessToken   = "create access token"
	OpCreatePushChallenge = "create push challenge"
	OpNotifyChallenge     = "notify challenge"
	OpDeviceCreateFactor  = "device create factor"
	OpDeviceVerifyFactor  = "device verify factor"
	OpDeviceFetch         = "device fetch challenge"
	OpDeviceList          = "device list challenges"
	OpDeviceAnswer        = "device answer challenge"
	OpDeviceDeleteFactor  = "device delete factor"
	OpDeviceUpdateFactor  = "device update factor"
)

// The reasons of the push errors.
const (
	ReasonDeviceAuth        = "device_auth"        // an access token or request JWT refused
	ReasonDeviceClock       = "device_clock"       // a request JWT used outside its window: Error.Date is the server's time
	ReasonBadSignature      = "bad_signature"      // a payload's signature does not verify (counted)
	ReasonChallengeAnswered = "challenge_answered" // an answer to a challenge no longer pending (a replay; counted)
	ReasonNoNotification    = "no_notification"    // a factor whose platform is none has no notification
)

// PushConfig configures a Factors' push factors. Its zero value works.
type PushConfig struct {
	// Account is the "sub" a device's request JWTs must carry, and the
	// account ID a new device factor is told.
	Account string
	// TokenPrefix, CredentialPrefix and NotificationPrefix start the IDs
	// of access tokens, credentials (the "kid" of request JWTs) and
	// notifications.
	TokenPrefix, CredentialPrefix, NotificationPrefix string
	// Leeway is the clock difference allowed either side of a request
	// JWT's window.
	Leeway time.Duration
	// Notify delivers a challenge's notification, after the operation,
	// without a lock held. Nil: notifications are only reported as events
	// (OpNotifyChallenge). A failure does not fail creating the
	// challenge; it is reported in the event and returned by
	// NotifyChallenge.
	Notify func(context.Context, provider.PushNotification) error
	// Random fills b with the bytes of access tokens; nil means
	// crypto/rand.
	Random func(b []byte)
	// IncludeDate reports whether a push challenge's details carry its
	// creation time as "date" (Twilio's service setting Push.IncludeDate),
	// in what the device fetches and signs; nil means never. It is called
	// with the engine's lock held and must not call the engine.
	IncludeDate func() bool
}

// maxAccessTokens bounds the unexpired access tokens held.
const maxAccessTokens = 10_000

// pushState is the push part of a Factors. x.mu guards it.
type pushState struct {
	tokens       map[[32]byte]*accessToken // by the token's SHA-256
	byCredential map[string]*factor
}

type accessToken struct {
	t provider.AccessToken // without the Token
}

type pushFactor struct {
	pub   *ecdsa.PublicKey
	key   string // pub as the device gave it, for the store's record
	cfg   provider.PushFactorConfig
	wrong int       // wrong or replayed signatures in the current window
	since time.Time // the first of them
	// auth is the last request JWT that verified, valid from nbf until
	// exp: the same token again is not verified again.
	auth     string
	nbf, exp time.Time
}

func (x *Factors) pushMaps() *pushState {
	if x.push.tokens == nil {
		x.push.tokens = map[[32]byte]*accessToken{}
		x.push.byCredential = map[string]*factor{}
	}
	return &x.push
}

func (fa *factor) pushPublic() provider.Factor {
	cfg := fa.push.cfg
	cfg.Metadata = maps.Clone(cfg.Metadata)
	return provider.Factor{
		ID: fa.id, Identity: fa.identity, Type: provider.FactorPush, Status: fa.status,
		FriendlyName: fa.name, Push: &cfg, CreatedAt: fa.created, UpdatedAt: fa.updated,
	}
}

// Lifecycle returns the lifecycle event of e, when its operation made a
// transition (e.Kind is set) and succeeded.
func (e FactorEvent) Lifecycle(providerName string) (provider.LifecycleEvent, bool) {
	if e.Kind == "" || e.Err != nil {
		return provider.LifecycleEvent{}, false
	}
	status := string(e.ChallengeStatus)
	if e.ChallengeID == "" {
		status = string(e.FactorStatus)
	}
	return provider.LifecycleEvent{
		Kind: e.Kind, Provider: providerName, Identity: e.Identity, FactorID: e.FactorID, FactorType: e.FactorType,
		ChallengeID: e.ChallengeID, Status: status, Time: e.At,
	}, true
}

// CreateAccessToken issues a push enrolment token for req.Identity. The
// token is returned this once; only its SHA-256 is kept. It creates one
// factor, once, before it expires.
func (x *Factors) CreateAccessToken(ctx context.Context, req provider.AccessTokenRequest) (provider.AccessToken, error) {
	const op = OpCreateAccessToken
	if err := req.Validate(); err != nil {
		return provider.AccessToken{}, invalidFactor(op, err.Error())
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = provider.DefaultAccessTokenTTL
	}
	var raw [32]byte
	if x.c.Push.Random != nil {
		x.c.Push.Random(raw[:])
	} else {
		_, _ = rand.Read(raw[:])
	}
	secret := base64.RawURLEncoding.EncodeToString(raw[:])
	var out provider.AccessToken
	err := x.run(ctx, op, req.Identity, false, func(x *Factors, now time.Time, _ *FactorEvent) error {
		ps := x.pushMaps()
		limit := maxAccessTokens
		if x.scratch {
			limit = maxTokensStored // of this identity
		}
		if len(ps.tokens) >= limit {
			for k, t := range ps.tokens {
				if !now.Before(t.t.ExpiresAt) {
					delete(ps.tokens, k)
				}
			}
			if len(ps.tokens) >= limit && x.scratch {
				// An identity's record keeps its latest tokens.
				var oldest [32]byte
				var at time.Time
				for k, t := range ps.tokens {
					if at.IsZero() || t.t.CreatedAt.Before(at) {
						oldest, at = k, t.t.CreatedAt
					}
				}
				delete(ps.tokens, oldest)
			}
			if len(ps.tokens) >= limit {
				return factorErr(op, provider.ErrRateLimited, ReasonThrottled, "the most access tokens are held")
			}
		}
		t := provider.AccessToken{
			ID: x.newIDWith(kindToken, x.c.Push.TokenPrefix), Identity: req.Identity,
			FactorFriendlyName: req.FactorFriendlyName, CreatedAt: now, ExpiresAt: now.Add(ttl),
		}
		ps.tokens[sha256.Sum256([]byte(secret))] = &accessToken{t: t}
		out = t
		return nil
	})
	if err == nil {
		err = x.storeToken(ctx, secret, out)
	}
	if err != nil {
		return provider.AccessToken{}, err
	}
	out.Token = secret
	return out, nil
}

// The kinds of the push IDs, after kindChallenge.
const (
	kindToken = kindChallenge + 1 + iota
	kindCredential
	kindNotification
)

func deviceAuthErr(op, msg string) error {
	return factorErr(op, provider.ErrUnauthorized, ReasonDeviceAuth, msg)
}

// CreateDeviceFactor creates an unverified push factor with a device's
// key, for the identity accessToken was issued for, and spends the token.
func (x *Factors) CreateDeviceFactor(ctx context.Context, accessToken string, req provider.DeviceFactorRequest) (provider.DeviceFactor, error) {
	const op = OpDeviceCreateFactor
	if err := ctx.Err(); err != nil {
		return provider.DeviceFactor{}, err
	}
	if err := req.Validate(); err != nil {
		return provider.DeviceFactor{}, invalidFactor(op, err.Error())
	}
	pub, err := pushsig.ParsePublicKey(req.PublicKey)
	if err != nil {
		return provider.DeviceFactor{}, invalidFactor(op, "Binding.PublicKey must be the base64 PKIX DER of a P-256 key")
	}
	hash := sha256.Sum256([]byte(accessToken))
	identity, err := x.tokenIdentity(ctx, hash)
	if err != nil {
		return provider.DeviceFactor{}, err
	}
	var out provider.DeviceFactor
	err = x.run(ctx, op, identity, identity == "", func(x *Factors, now time.Time, ev *FactorEvent) error {
		ps := x.pushMaps()
		t := ps.tokens[hash]
		if t == nil || !now.Before(t.t.ExpiresAt) {
			return deviceAuthErr(op, "access token unknown, spent or expired")
		}
		e := x.entities[t.t.Identity]
		switch {
		case e == nil && len(x.entities) >= maxEntities:
			return factorErr(op, provider.ErrRateLimited, ReasonThrottled, "the most identities are held")
		case e != nil && len(e.factors) >= MaxFactorsPerIdentity:
			return invalidFactor(op, "the identity has the most factors it may; delete one first")
		}
		name := req.FriendlyName
		if name == "" {
			name = t.t.FactorFriendlyName
		}
		if name == "" {
			return invalidFactor(op, "friendly name is required when the access token names none")
		}
		delete(ps.tokens, hash)
		e, _ = x.entityFor(op, t.t.Identity, now, 1) // room checked above
		fa := &factor{
			id: x.newID(kindFactor), identity: t.t.Identity, name: name, status: provider.FactorUnverified,
			created: now, updated: now,
			push: &pushFactor{pub: pub, key: req.PublicKey, cfg: provider.PushFactorConfig{
				Platform: req.Platform, AppID: req.AppID, NotificationToken: req.NotificationToken,
				SDKVersion: req.SDKVersion, Metadata: maps.Clone(req.Metadata),
				CredentialID: x.newIDWith(kindCredential, x.c.Push.CredentialPrefix),
			}},
		}
		e.factors = append(e.factors, fa)
		x.byID[fa.id] = fa
		ps.byCredential[fa.push.cfg.CredentialID] = fa
		ev.FactorID, ev.FactorStatus, ev.FactorType, ev.Kind = fa.id, fa.status, provider.FactorPush, provider.EventFactorCreated
		out = provider.DeviceFactor{Factor: fa.public(), AccountID: x.c.Push.Account, CredentialID: fa.push.cfg.CredentialID}
		return nil
	})
	return result(out, err)
}

// preCheck is what a device operation verified without x.mu held: the
// request JWT and the payload's signature, against the key pub of the
// factor the JWT named and, for an answer, challenge c. Under x.mu it is
// used only when the factor still has key pub (and c is the challenge
// answered); otherwise the signatures are verified again there.
type preCheck struct {
	pub     *ecdsa.PublicKey
	auth    string
	kid     string // auth's, not yet trusted
	claims  pushsig.RequestClaims
	authErr error // nil or a *pushsig.TimeError: claims verified
	authBad bool  // the request JWT does not verify
	c       *challenge
	status  string // the answer's
	err     error  // the payload's signature check
}

// precheck verifies, without x.mu held, the request JWT auth and, via
// payload, the payload of the factor the JWT names, when it belongs to
// identity. payload gets the factor's key and the challenge id names (nil
// when none). It returns nil when nothing could be checked.
func (x *Factors) precheck(auth, identity, id string, payload func(*ecdsa.PublicKey, *challenge) (string, error)) *preCheck {
	if x.c.Store != nil {
		return nil // over a store, everything is checked on the record read
	}
	kid, err := pushsig.KeyID(auth)
	if err != nil {
		return nil
	}
	x.mu.Lock()
	fa := x.push.byCredential[kid]
	if fa == nil || fa.identity != identity {
		x.mu.Unlock()
		return nil
	}
	p := &preCheck{pub: fa.push.pub, auth: auth, kid: kid}
	cached := len(auth) == len(fa.push.auth) && subtle.ConstantTimeCompare([]byte(auth), []byte(fa.push.auth)) == 1
	if c := x.challenges[id]; id != "" && c != nil && c.factorID == fa.id && c.signed != nil {
		p.c = c // c.signed never changes
	}
	x.mu.Unlock()
	if !cached {
		p.claims, p.authErr = pushsig.VerifyRequest(auth, p.pub, x.c.Now(), x.c.Push.Leeway)
		p.authBad = p.authErr != nil && !errors.Is(p.authErr, pushsig.ErrTime)
	}
	p.status, p.err = payload(p.pub, p.c)
	if x.afterVerify != nil {
		x.afterVerify()
	}
	return p
}

// deviceAuth checks a request JWT and returns the factor whose key signed
// it, which must belong to identity. pre, when not nil, is its check made
// without x.mu held. x.mu must be held.
func (x *Factors) deviceAuth(op, auth, identity string, now time.Time, pre *preCheck) (*factor, error) {
	var c pushsig.RequestClaims
	var err error
	if pre != nil && pre.auth == auth {
		c.KeyID = pre.kid // read once, by precheck
	} else if c.KeyID, err = pushsig.KeyID(auth); err != nil {
		return nil, deviceAuthErr(op, "request token malformed")
	}
	fa := x.pushMaps().byCredential[c.KeyID]
	if fa == nil || fa.identity != identity {
		return nil, deviceAuthErr(op, "request token names no factor of this identity")
	}
	p := fa.push
	if len(auth) == len(p.auth) && subtle.ConstantTimeCompare([]byte(auth), []byte(p.auth)) == 1 &&
		!now.Before(p.nbf.Add(-x.c.Push.Leeway)) && now.Before(p.exp.Add(x.c.Push.Leeway)) {
		return fa, nil // verified before, still in its window; sub was checked then
	}
	switch {
	case pre != nil && pre.pub == p.pub && pre.auth == auth && pre.authBad:
		err = pre.authErr
	case pre != nil && pre.pub == p.pub && pre.auth == auth && pre.claims.KeyID != "":
		if c = pre.claims; now.Before(c.NotBefore.Add(-x.c.Push.Leeway)) || !now.Before(c.Expires.Add(x.c.Push.Leeway)) {
			err = pushsig.ErrTime
		}
	default:
		c, err = pushsig.VerifyRequest(auth, p.pub, now, x.c.Push.Leeway)
	}
	switch {
	case errors.Is(err, pushsig.ErrTime):
		return nil, &Error{Op: op, Kind: provider.ErrUnauthorized, Reason: ReasonDeviceClock, Date: now,
			Msg: "request token used outside its validity window"}
	case errors.Is(err, pushsig.ErrMalformed):
		return nil, deviceAuthErr(op, "request token malformed")
	case err != nil:
		return nil, deviceAuthErr(op, "request token signature does not verify")
	}
	if c.Subject != x.c.Push.Account {
		return nil, deviceAuthErr(op, "request token is for another account")
	}
	p.auth, p.nbf, p.exp = auth, c.NotBefore, c.Expires
	return fa, nil
}

// deviceFactor is deviceAuth for an operation on factorID, which must be
// the factor whose key signed. x.mu must be held.
func (x *Factors) deviceFactor(op, auth, identity, factorID string, now time.Time, pre *preCheck) (*factor, error) {
	fa, err := x.deviceAuth(op, auth, identity, now, pre)
	if err == nil && fa.id != factorID {
		return nil, deviceAuthErr(op, "request token is another factor's")
	}
	return fa, err
}

// deviceChallenge is deviceAuth for an operation on challenge id, which
// must be a challenge of the factor whose key signed. x.mu must be held.
func (x *Factors) deviceChallenge(op, auth, identity, id string, now time.Time, ev *FactorEvent, pre *preCheck) (*factor, *challenge, error) {
	fa, err := x.deviceAuth(op, auth, identity, now, pre)
	if err != nil {
		return nil, nil, err
	}
	ev.FactorID = fa.id
	c, err := x.lookupChallenge(op, identity, id, now)
	if err != nil {
		return nil, nil, err
	}
	if c.factorID != fa.id {
		return nil, nil, factorErr(op, provider.ErrNotFound, ReasonChallengeNotFound, "challenge not found")
	}
	return fa, c, nil
}

// spent reports the lock-out of a push factor: once MaxWrong wrong or
// replayed signatures fell within Window (from the first), every answer is
// refused until the window ends. x.mu must be held.
func (x *Factors) spent(op string, fa *factor, now time.Time) error {
	p := fa.push
	end := p.since.Add(x.c.Window)
	if p.wrong > 0 && !now.Before(end) {
		p.wrong = 0
	}
	if x.c.MaxWrong > 0 && p.wrong >= x.c.MaxWrong {
		return &Error{Op: op, Kind: provider.ErrTooManyChecks, Reason: ReasonFactorChecksSpent, Wait: end.Sub(now),
			Msg: "too many wrong signatures for this factor"}
	}
	return nil
}

// wrongSignature counts a wrong or replayed signature and returns the
// refusal. x.mu must be held.
func wrongSignature(op, reason, msg string, fa *factor, now time.Time) error {
	p := fa.push
	if p.wrong == 0 {
		p.since = now
	}
	p.wrong++
	return factorErr(op, provider.ErrInvalidRequest, reason, msg)
}

// VerifyDeviceFactor verifies a new push factor with authPayload, the
// DER signature over its ID, from the device that auth (a request JWT)
// authenticates. A wrong signature is refused and counted.
func (x *Factors) VerifyDeviceFactor(ctx context.Context, auth, identity, factorID, authPayload string) (provider.Factor, error) {
	const op = OpDeviceVerifyFactor
	if err := ctx.Err(); err != nil {
		return provider.Factor{}, err
	}
	pre := x.precheck(auth, identity, "", func(pub *ecdsa.PublicKey, _ *challenge) (string, error) {
		return "", pushsig.VerifyFactor(pub, factorID, authPayload)
	})
	return x.deviceFactorOp(ctx, op, auth, identity, factorID, pre, func(fa *factor, now time.Time, ev *FactorEvent) error {
		if err := x.spent(op, fa, now); err != nil {
			return err
		}
		if pre == nil || pre.pub != fa.push.pub {
			pre = &preCheck{err: pushsig.VerifyFactor(fa.push.pub, fa.id, authPayload)}
		}
		switch err := pre.err; {
		case errors.Is(err, pushsig.ErrMalformed):
			return invalidFactor(op, "AuthPayload must be the base64 DER signature over the factor ID")
		case err != nil:
			return wrongSignature(op, ReasonBadSignature, "AuthPayload signature does not verify", fa, now)
		}
		fa.push.wrong = 0
		if fa.status != provider.FactorVerified {
			fa.status, ev.Kind = provider.FactorVerified, provider.EventFactorVerified
		}
		return nil
	})
}

// deviceFactorOp runs op on factorID, which must be the factor whose key
// signed auth: change changes it, then its update time is set and it is
// returned.
func (x *Factors) deviceFactorOp(ctx context.Context, op, auth, identity, factorID string, pre *preCheck, change func(fa *factor, now time.Time, ev *FactorEvent) error) (provider.Factor, error) {
	var out provider.Factor
	err := x.run(ctx, op, identity, false, func(x *Factors, now time.Time, ev *FactorEvent) error {
		ev.FactorID, ev.FactorType = factorID, provider.FactorPush
		fa, err := x.deviceFactor(op, auth, identity, factorID, now, pre)
		if err != nil {
			return err
		}
		if err := change(fa, now, ev); err != nil {
			return err
		}
		fa.updated = now
		ev.FactorStatus = fa.status
		out = fa.public()
		return nil
	})
	return result(out, err)
}

// challengeView is a push challenge as the device fetches it. The signed
// fields (pushsig.DefaultSignatureFields) are rendered by signFields, the
// same way, so that a value signed is a value stored.
type challengeView struct {
	Sid             string            `json:"sid"`
	AccountSid      string            `json:"account_sid"`
	Identity        string            `json:"identity"`
	FactorSid       string            `json:"factor_sid"`
	DateCreated     string            `json:"date_created"`
	DateUpdated     string            `json:"date_updated"`
	DateResponded   *string           `json:"date_responded"`
	ExpirationDate  string            `json:"expiration_date"`
	Status          string            `json:"status"`
	RespondedReason string            `json:"responded_reason"`
	Details         detailsView       `json:"details"`
	HiddenDetails   map[string]string `json:"hidden_details"`
	FactorType      string            `json:"factor_type"`
}

type detailsView struct {
	Message string      `json:"message"`
	Fields  []fieldView `json:"fields"`
	Date    string      `json:"date,omitempty"`
}

type fieldView struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// jsonTime is how the device protocol writes times: RFC 3339 in UTC, to
// the second (Twilio's form).
func jsonTime(t time.Time) string { return t.UTC().Format(time.RFC3339) } // "Z" in UTC; Format has a fast path for it

// detailsOf renders c's details, with its creation time when c is dated
// (see signChallenge).
func detailsOf(c *challenge) detailsView {
	d := c.c.Push
	v := detailsView{Message: d.Message, Fields: make([]fieldView, len(d.Fields))}
	for i, f := range d.Fields {
		v.Fields[i] = fieldView(f)
	}
	if c.dated {
		v.Date = jsonTime(c.c.CreatedAt)
	}
	return v
}

// deviceView renders c for its device. x.mu must be held.
func (x *Factors) deviceView(c *challenge) provider.DeviceChallenge {
	v := challengeView{
		Sid: c.c.ID, AccountSid: x.c.Push.Account, Identity: c.c.Identity, FactorSid: c.factorID,
		DateCreated: jsonTime(c.c.CreatedAt), DateUpdated: jsonTime(c.c.UpdatedAt),
		ExpirationDate: jsonTime(c.c.ExpiresAt), Status: string(c.c.Status), RespondedReason: "none",
		Details: detailsOf(c), HiddenDetails: c.c.Push.Hidden, FactorType: string(provider.FactorPush),
	}
	if !c.c.RespondedAt.IsZero() {
		r := jsonTime(c.c.RespondedAt)
		v.DateResponded = &r
	}
	b, _ := json.Marshal(v) // strings and maps of strings: cannot fail
	out := provider.DeviceChallenge{Challenge: publicChallenge(c), JSON: b}
	if c.c.Status == provider.ChallengePending {
		out.SignatureFields = slices.Clone(pushsig.DefaultSignatureFields)
	}
	return out
}

// publicChallenge returns a copy of c's challenge that shares nothing
// mutable with it.
func publicChallenge(c *challenge) provider.Challenge {
	out := c.c
	if out.Push != nil {
		d := *out.Push
		d.Fields, d.Hidden = slices.Clone(d.Fields), maps.Clone(d.Hidden)
		out.Push = &d
	}
	return out
}

// CreatePushChallenge creates a pending challenge of a verified push
// factor and notifies its device (see PushConfig.Notify).
func (x *Factors) CreatePushChallenge(ctx context.Context, req provider.PushChallengeRequest) (provider.Challenge, error) {
	const op = OpCreatePushChallenge
	if err := ctx.Err(); err != nil {
		return provider.Challenge{}, err
	}
	if err := req.Details.Validate(); err != nil {
		return provider.Challenge{}, invalidFactor(op, err.Error())
	}
	var out provider.Challenge
	var note *provider.PushNotification
	err := x.run(ctx, op, req.Identity, false, func(x *Factors, now time.Time, ev *FactorEvent) error {
		ev.FactorID, ev.FactorType = req.FactorID, provider.FactorPush
		fa, err := x.lookupFactor(op, req.Identity, req.FactorID)
		switch {
		case err != nil:
			return err
		case fa.push == nil:
			return invalidFactor(op, "a push challenge needs a push factor")
		case fa.status != provider.FactorVerified:
			return factorErr(op, provider.ErrInvalidRequest, ReasonFactorUnverified, "factor is not verified")
		}
		var at time.Time
		if req.ExpiresIn != 0 {
			at = now.Add(req.ExpiresIn)
		}
		exp, err := challengeExpiry(op, at, now)
		if err != nil {
			return err
		}
		d := req.Details
		d.Fields, d.Hidden = slices.Clone(d.Fields), maps.Clone(d.Hidden)
		c := &challenge{factorID: fa.id, c: provider.Challenge{
			ID: x.newID(kindChallenge), Identity: req.Identity, FactorID: fa.id, Status: provider.ChallengePending,
			CreatedAt: now, UpdatedAt: now, ExpiresAt: exp, Push: &d,
		}}
		// Decoded once here, not for each answer.
		if c.signed, err = x.signChallenge(c); err != nil {
			return err // cannot happen: signFields gives the default fields
		}
		x.keepChallenge(x.entities[c.c.Identity], c)
		out = publicChallenge(c)
		ev.ChallengeID, ev.ChallengeStatus = out.ID, out.Status
		note = x.notification(fa, c, provider.DefaultNotificationTTL)
		return nil
	})
	if err != nil {
		return provider.Challenge{}, err
	}
	if note != nil {
		_ = x.deliver(ctx, *note)
	}
	return out, nil
}

// signChallenge returns the signed fields of push challenge c, decoded:
// what its device's answer signs. It decides, once for c, whether c's
// details carry the date (PushConfig.IncludeDate), so that what the device
// fetches is what it signs. x.mu must be held.
func (x *Factors) signChallenge(c *challenge) (*pushsig.Challenge, error) {
	inc := x.c.Push.IncludeDate
	c.dated = inc != nil && inc()
	return signFields(c)
}

// signFields returns the signed fields of push challenge c, decoded:
// the JSON values of pushsig.DefaultSignatureFields, in its order.
func signFields(c *challenge) (*pushsig.Challenge, error) {
	d, _ := json.Marshal(detailsOf(c)) // strings and maps of strings: cannot fail
	h, _ := json.Marshal(c.c.Push.Hidden)
	b := make([]byte, 0, 128) // the IDs and times, quoted (nothing to escape) in one array
	q := func(s string) json.RawMessage {
		n := len(b)
		b = append(append(append(b, '"'), s...), '"')
		return b[n:len(b):len(b)]
	}
	return pushsig.ChallengeOf(pushsig.DefaultSignatureFields, q(c.c.ID), q(c.factorID), q(jsonTime(c.c.CreatedAt)), q(jsonTime(c.c.ExpiresAt)), d, h)
}

// signedOf returns c.signed, decoding it first when c was read from a
// store.
func signedOf(c *challenge) (*pushsig.Challenge, error) {
	if c.signed != nil {
		return c.signed, nil
	}
	var err error
	c.signed, err = signFields(c)
	return c.signed, err
}

// notification returns the notification of c, or nil when its factor's
// platform is none. x.mu must be held.
func (x *Factors) notification(fa *factor, c *challenge, ttl time.Duration) *provider.PushNotification {
	if fa.push.cfg.Platform == provider.PlatformNone {
		return nil
	}
	return &provider.PushNotification{
		Identity: c.c.Identity, FactorID: fa.id, ChallengeID: c.c.ID, Platform: fa.push.cfg.Platform,
		Token: fa.push.cfg.NotificationToken, AppID: fa.push.cfg.AppID, Message: c.c.Push.Message, TTL: ttl,
	}
}

// deliver hands n to the notifier and reports it as an OpNotifyChallenge
// event. No lock is held.
func (x *Factors) deliver(ctx context.Context, n provider.PushNotification) error {
	var err error
	if x.c.Push.Notify != nil {
		err = x.c.Push.Notify(ctx, n)
	}
	if x.c.OnEvent != nil {
		x.c.OnEvent(ctx, FactorEvent{Op: OpNotifyChallenge, Identity: n.Identity, FactorID: n.FactorID, ChallengeID: n.ChallengeID,
			ChallengeStatus: provider.ChallengePending, FactorType: provider.FactorPush, Err: err, At: x.c.Now()})
	}
	return err
}

// NotifyChallenge sends a pending push challenge's notification again,
// with ttl (negative: provider.DefaultNotificationTTL), and returns the
// notifier's error.
func (x *Factors) NotifyChallenge(ctx context.Context, identity, id string, ttl time.Duration) error {
	const op = OpNotifyChallenge
	if ttl < 0 {
		ttl = provider.DefaultNotificationTTL
	}
	if ttl > provider.MaxNotificationTTL || ttl%time.Second != 0 {
		return invalidFactor(op, "notification TTL must be 0 to 300 whole seconds")
	}
	if !provider.ValidIdentity(identity) {
		return invalidFactor(op, "identity must be 8 to 64 letters, digits or dashes")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var note *provider.PushNotification
	err := x.view(ctx, identity, func(x *Factors, now time.Time) error {
		c, err := x.lookupChallenge(op, identity, id, now)
		if err != nil {
			return err
		}
		fa := x.byID[c.factorID]
		switch {
		case c.c.Push == nil:
			return invalidFactor(op, "not a push challenge")
		case c.c.Status != provider.ChallengePending:
			return invalidFactor(op, "challenge is "+string(c.c.Status))
		case fa == nil:
			return notFound(op, "factor")
		case fa.push.cfg.Platform == provider.PlatformNone:
			return factorErr(op, provider.ErrUnsupported, ReasonNoNotification, "the factor's platform is none: its device polls")
		}
		note = x.notification(fa, c, ttl)
		return nil
	})
	if err != nil {
		return err
	}
	return x.deliver(ctx, *note)
}

// FetchDeviceChallenge returns a challenge of the device's factor as the
// device sees it.
func (x *Factors) FetchDeviceChallenge(ctx context.Context, auth, identity, id string) (out provider.DeviceChallenge, err error) {
	const op = OpDeviceFetch
	err = x.run(ctx, op, identity, false, func(x *Factors, now time.Time, ev *FactorEvent) error {
		ev.ChallengeID, ev.FactorType = id, provider.FactorPush
		_, c, err := x.deviceChallenge(op, auth, identity, id, now, ev, nil)
		if err != nil {
			return err
		}
		out = x.deviceView(c)
		ev.ChallengeStatus = c.c.Status
		return nil
	})
	return result(out, err)
}

// ListDeviceChallenges returns the challenges of the device's factor,
// oldest first, optionally only those with status.
func (x *Factors) ListDeviceChallenges(ctx context.Context, auth, identity, factorID string, status provider.ChallengeStatus) (out []provider.DeviceChallenge, err error) {
	const op = OpDeviceList
	err = x.run(ctx, op, identity, false, func(x *Factors, now time.Time, ev *FactorEvent) error {
		ev.FactorID, ev.FactorType = factorID, provider.FactorPush
		fa, err := x.deviceFactor(op, auth, identity, factorID, now, nil)
		if err != nil {
			return err
		}
		out = []provider.DeviceChallenge{}
		for _, c := range x.entities[identity].allChallenges() {
			c, _ := x.lookupChallenge(op, identity, c.c.ID, now)
			if c.factorID == fa.id && (status == "" || c.c.Status == status) {
				out = append(out, x.deviceView(c))
			}
		}
		return nil
	})
	return result(out, err)
}

// AnswerDeviceChallenge approves or denies a pending challenge of the
// device's factor with authPayload, the challenge-response JWT. A wrong
// signature, an answer signed for another challenge or for other details,
// and an answer to a challenge no longer pending (a replay) are refused
// and counted; an expired challenge gives ErrNotFound
// (ReasonChallengeExpired).
func (x *Factors) AnswerDeviceChallenge(ctx context.Context, auth, identity, id, authPayload string) (provider.Challenge, error) {
	const op = OpDeviceAnswer
	if err := ctx.Err(); err != nil {
		return provider.Challenge{}, err
	}
	pre := x.precheck(auth, identity, id, func(pub *ecdsa.PublicKey, c *challenge) (string, error) {
		if c == nil {
			return "", nil
		}
		return c.signed.Verify(authPayload, pub)
	})
	var out provider.Challenge
	err := x.run(ctx, op, identity, false, func(x *Factors, now time.Time, ev *FactorEvent) error {
		ev.ChallengeID, ev.FactorType = id, provider.FactorPush
		fa, c, err := x.deviceChallenge(op, auth, identity, id, now, ev, pre)
		if err != nil {
			return err
		}
		if err := x.spent(op, fa, now); err != nil {
			return err
		}
		switch c.c.Status {
		case provider.ChallengeExpired:
			return factorErr(op, provider.ErrNotFound, ReasonChallengeExpired, "challenge expired")
		case provider.ChallengePending:
		default:
			return wrongSignature(op, ReasonChallengeAnswered, "challenge is already "+string(c.c.Status), fa, now)
		}
		// The status was checked under x.mu just now: of answers verified
		// at once, only the first applies; the others are replays.
		if pre == nil || pre.pub != fa.push.pub || pre.c != c {
			pre = &preCheck{}
			signed, err := signedOf(c)
			if err != nil {
				return err // cannot happen: signFields gives the default fields
			}
			pre.status, pre.err = signed.Verify(authPayload, fa.push.pub)
		}
		status, err := pre.status, pre.err
		switch {
		case errors.Is(err, pushsig.ErrMalformed):
			return invalidFactor(op, "AuthPayload must be a challenge-response JWT over the signature fields")
		case err != nil:
			return wrongSignature(op, ReasonBadSignature, "AuthPayload signature does not verify for this challenge", fa, now)
		}
		fa.push.wrong = 0
		c.c.Status, ev.Kind = provider.ChallengeApproved, provider.EventChallengeApproved
		if status == pushsig.StatusDenied {
			c.c.Status, ev.Kind = provider.ChallengeDenied, provider.EventChallengeDenied
		}
		c.c.RespondedAt, c.c.UpdatedAt = now, now
		ev.ChallengeStatus = c.c.Status
		out = publicChallenge(c)
		return nil
	})
	return result(out, err)
}

// DeleteDeviceFactor deletes the device's own factor.
func (x *Factors) DeleteDeviceFactor(ctx context.Context, auth, identity, factorID string) error {
	const op = OpDeviceDeleteFactor
	return x.run(ctx, op, identity, false, func(x *Factors, now time.Time, ev *FactorEvent) error {
		ev.FactorID, ev.FactorType = factorID, provider.FactorPush
		fa, err := x.deviceFactor(op, auth, identity, factorID, now, nil)
		if err != nil {
			return err
		}
		x.removeFactor(fa, ev)
		return nil
	})
}

// UpdateDeviceFactor changes the notification configuration (and, when
// set, the SDK version and name) of the device's own factor: only a
// request JWT signed by that factor's key is accepted, and the platform
// and token are checked as on creation. The next notification goes to
// the new token.
func (x *Factors) UpdateDeviceFactor(ctx context.Context, auth, identity, factorID string, req provider.DeviceFactorUpdate) (provider.Factor, error) {
	const op = OpDeviceUpdateFactor
	if err := ctx.Err(); err != nil {
		return provider.Factor{}, err
	}
	if err := req.Validate(); err != nil {
		return provider.Factor{}, invalidFactor(op, err.Error())
	}
	return x.deviceFactorOp(ctx, op, auth, identity, factorID, nil, func(fa *factor, _ time.Time, _ *FactorEvent) error {
		cfg := &fa.push.cfg
		cfg.Platform, cfg.NotificationToken = req.Platform, req.NotificationToken
		if req.SDKVersion != "" {
			cfg.SDKVersion = req.SDKVersion
		}
		if req.FriendlyName != "" {
			fa.name = req.FriendlyName
		}
		return nil
	})
}

var _ provider.PushDeviceAPI = (*Factors)(nil)
