package engine

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/verifykit/verifykit/internal/pushsig"
	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
)

// The factor operations, in errors, hooks and events.
const (
	OpDeleteIdentity  = "delete identity"
	OpEnrollFactor    = "enroll factor"
	OpConfirmFactor   = "confirm factor"
	OpFetchFactor     = "fetch factor"
	OpListFactors     = "list factors"
	OpDeleteFactor    = "delete factor"
	OpChallengeFactor = "challenge factor"
	OpFetchChallenge  = "fetch challenge"
)

// The reasons of the factor errors.
const (
	ReasonThrottled         = "throttled"           // the most identities are held
	ReasonFactorInvalid     = "factor_invalid"      // a factor parameter is malformed
	ReasonFactorType        = "factor_type"         // a factor type not offered
	ReasonFactorUnverified  = "factor_unverified"   // a challenge of a factor not yet verified
	ReasonFactorChecksSpent = "factor_checks_spent" // too many wrong codes for a factor
	ReasonChallengeNotFound = "challenge_not_found" // no such challenge
	ReasonChallengeExpired  = "challenge_expired"   // the challenge expired before it was answered
)

// The factor bounds.
const (
	// defaultChallengeExpiry is how long a challenge stays pending.
	defaultChallengeExpiry = 5 * time.Minute
	// maxChallengeExpiry is the latest expiry a challenge may ask for.
	maxChallengeExpiry = time.Hour
	// MaxFactorsPerIdentity is how many factors one identity may hold.
	MaxFactorsPerIdentity = 20
	// maxEntities bounds the identities held, so that a fake or an
	// emulator reachable by strangers cannot be made to grow without end.
	maxEntities = 100_000
	// maxChallengesKept bounds the challenges kept per identity.
	maxChallengesKept = 100
)

// FactorConfig is what a layer gives the factor engine.
type FactorConfig struct {
	Now func() time.Time // required
	// MaxWrong wrong codes within Window (confirmations and challenges
	// together) make the next code, right or wrong, fail with
	// ErrTooManyChecks until the window ends. The window starts at the
	// first wrong code; a right code ends it.
	MaxWrong int
	Window   time.Duration
	Issuer   string    // named in otpauth URIs
	Prefixes [3]string // of entity, factor and challenge IDs
	Salt     uint64    // the first 16 hex digits of IDs, mixed with the kind
	// NewSecret returns the secret of a factor enrolled without one.
	NewSecret func() []byte
	// Hook is called before every operation with its name and identity:
	// a non-nil pre ends the operation unchanged with pre; a non-nil post
	// lets it take effect, then fails it with post.
	Hook func(ctx context.Context, op, identity string) (pre, post error)
	// OnEvent is called after every operation, without a lock held.
	OnEvent func(context.Context, FactorEvent)
	// Push configures push factors (push.go); its zero value works.
	Push PushConfig
	// Store, when set, keeps every identity's factors in a store.Store
	// (factorstore.go) rather than in this process's memory.
	Store *FactorStore
}

// Entity is an identity that has (or had) factors.
type Entity struct {
	// ID is the entity's opaque ID.
	ID string
	// Identity is the application's identity.
	Identity string
	// CreatedAt and UpdatedAt are the engine's timestamps.
	CreatedAt, UpdatedAt time.Time
}

// FactorEvent describes one factor operation. It never carries a secret
// or a code.
type FactorEvent struct {
	Op                    string
	Identity              string
	FactorID, ChallengeID string
	FactorStatus          provider.FactorStatus
	ChallengeStatus       provider.ChallengeStatus
	Err                   error
	At                    time.Time
	// Kind is the lifecycle transition the operation made (a factor
	// created, verified or deleted, a challenge approved or denied), or
	// empty; see Lifecycle.
	Kind provider.LifecycleKind
	// FactorType is the type of the factor operated on, when known.
	FactorType provider.FactorType
}

// FactorUpdate changes a factor. Zero fields change nothing.
type FactorUpdate struct {
	// Code, when set, confirms an unverified factor.
	Code string
	// FriendlyName renames the factor.
	FriendlyName string
	// TOTP changes the configuration's non-zero fields (and Skew when
	// SkewSet).
	TOTP    provider.TOTPConfig
	SkewSet bool
}

// String describes the update with the code redacted.
func (u FactorUpdate) String() string {
	s := "FactorUpdate{FriendlyName:" + u.FriendlyName
	if u.Code != "" {
		s += " Code:[redacted]"
	}
	return s + "}"
}

// Format prints what String does for every verb (%#v too), so no verb
// prints the code.
func (u FactorUpdate) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, u.String()) }

// Factors holds entities, TOTP factors and challenges in memory: the
// wrong-code window, the replay refusal and the TOTP check, once. It is
// safe for concurrent use.
type Factors struct {
	c FactorConfig

	mu         sync.Mutex
	entities   map[string]*entity // by identity
	byID       map[string]*factor
	challenges map[string]*challenge
	seq        uint64
	ev         FactorEvent  // what the running operation fills in; see locked
	passkeys   passkeyState // passkeys.go
	push       pushState
	// afterVerify, when set (by tests), runs after a device's signatures
	// are verified outside the lock and before their result is applied.
	afterVerify func()
	// scratch marks a Factors made for one operation over a store: it
	// holds one identity's record (see stored).
	scratch bool
}

type entity struct {
	Entity
	factors    []*factor
	challenges []*challenge
	// Over a store, the oldest rawN challenges as read, still encoded
	// (raw), which come before challenges: decoded when looked at
	// (allChallenges), else written back as they are.
	raw  []byte
	rawN int
}

type factor struct {
	id, identity, name string
	cfg                provider.TOTPConfig
	status             provider.FactorStatus
	ver                *totp.Verifier
	secret             []byte     // the TOTP secret, for the store's record; nil for passkeys and push
	guard              totp.Guard // replays and the wrong-code window
	created, updated   time.Time
	passkey            *passkey    // a passkey factor's state (passkeys.go); nil for TOTP
	push               *pushFactor // a push factor's key and configuration; nil for TOTP
}

type challenge struct {
	c        provider.Challenge
	factorID string
	signed   *pushsig.Challenge // a push challenge's signed fields, decoded; nil for TOTP
	dated    bool               // its details carry the date (see signChallenge)
}

// NewFactors returns an empty factor engine.
func NewFactors(c FactorConfig) *Factors {
	return &Factors{c: c, entities: map[string]*entity{}, byID: map[string]*factor{}, challenges: map[string]*challenge{}}
}

func factorErr(op string, kind error, reason, msg string) error {
	return &Error{Op: op, Kind: kind, Reason: reason, Msg: msg}
}

func invalidFactor(op, msg string) error {
	return factorErr(op, provider.ErrInvalidRequest, ReasonFactorInvalid, msg)
}

// result returns out, or T's zero value with err: fn may have set out in
// a run that a later run over a store replaced (see run).
func result[T any](out T, err error) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

func notFound(op, what string) error {
	return factorErr(op, provider.ErrNotFound, "", what+" not found")
}

// run checks ctx and identity (unless any), calls the hook, then fn, and
// reports the event. fn fills in the event. fn gets the Factors to work
// on, which its parameter names x, shadowing the receiver: in memory, the
// receiver itself with its lock held; over a store (FactorStore), a
// scratch Factors holding the identity's record alone, written back when
// fn changed it, and fn is run again on the current record when another
// writer changed it first (see stored), so fn must set every result it
// gives anew.
func (x *Factors) run(ctx context.Context, op, identity string, any bool, fn func(x *Factors, now time.Time, ev *FactorEvent) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !any && !provider.ValidIdentity(identity) {
		return invalidFactor(op, "identity must be 8 to 64 letters, digits or dashes")
	}
	ev := FactorEvent{Op: op, Identity: identity}
	var pre, post error
	if x.c.Hook != nil {
		pre, post = x.c.Hook(ctx, op, identity)
	}
	err := pre
	if pre == nil && x.c.Store != nil && strings.HasSuffix(op, " passkey") { // passkeys.go's operations
		err = factorErr(op, provider.ErrUnsupported, ReasonFactorType, "passkey factors are kept in memory only")
	} else if pre == nil {
		if x.c.Store != nil {
			e := ev // a copy: were ev given to fn, it would escape to the heap in memory too
			err = x.stored(ctx, identity, fn, &e)
			ev = e
		} else {
			err = x.locked(fn, &ev)
		}
		if post != nil && err == nil {
			err = post
		}
	}
	if ev.At.IsZero() {
		ev.At = x.c.Now()
	}
	if x.c.OnEvent != nil {
		ev.Err = err
		x.c.OnEvent(ctx, ev)
	}
	return err
}

func (x *Factors) locked(fn func(*Factors, time.Time, *FactorEvent) error, ev *FactorEvent) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	// fn fills in x.ev rather than ev, which a function value would make
	// escape to the heap: one allocation less per operation.
	x.ev = *ev
	x.ev.At = x.c.Now()
	err := fn(x, x.ev.At, &x.ev)
	*ev, x.ev = x.ev, FactorEvent{}
	return err
}

// The kinds of IDs, for newID.
const (
	kindEntity = iota
	kindFactor
	kindChallenge
)

// newID returns the ID of a new entity, factor or challenge: the kind's
// prefix and 32 hex digits, 16 of the salt mixed with the kind, so that no
// two IDs are equal whatever their kind, then 16 of a counter; over a
// store, the prefix and 32 random hex digits. x.mu must be held.
func (x *Factors) newID(kind int) string { return x.newIDWith(kind, x.c.Prefixes[kind]) }

// newIDWith is newID with the given prefix, for the kinds that have none
// in Prefixes.
func (x *Factors) newIDWith(kind int, prefix string) string {
	var raw [16]byte
	if x.scratch {
		// Over a store, where other replicas make IDs too: random.
		_, _ = rand.Read(raw[:])
	} else {
		x.seq++
		binary.BigEndian.PutUint64(raw[:8], x.c.Salt^splitmix(uint64(kind+1)*0x9e3779b97f4a7c15))
		binary.BigEndian.PutUint64(raw[8:], x.seq)
	}
	var b [8 + 32]byte // a prefix is at most 8 bytes
	return string(appendHex(append(b[:0], prefix...), raw[:]))
}

// splitmix is the SplitMix64 finaliser: a bijection of uint64 that mixes
// every input bit into every output bit.
func splitmix(x uint64) uint64 {
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// entityFor returns identity's entity, created unless the most
// identities are held, when it may hold room more factors.
func (x *Factors) entityFor(op, identity string, now time.Time, room int) (*entity, error) {
	e := x.entities[identity]
	switch {
	case e == nil && len(x.entities) >= maxEntities:
		return nil, factorErr(op, provider.ErrRateLimited, ReasonThrottled, "the most identities are held")
	case e != nil && len(e.factors)+room > MaxFactorsPerIdentity:
		return nil, invalidFactor(op, "the identity has the most factors it may; delete one first")
	case e == nil:
		e = &entity{Entity: Entity{ID: x.newID(kindEntity), Identity: identity, CreatedAt: now, UpdatedAt: now}}
		x.entities[identity] = e
	}
	return e, nil
}

// CreateEntity creates the entity of identity, or returns the existing one.
func (x *Factors) CreateEntity(ctx context.Context, identity string) (out Entity, err error) {
	const op = "create entity"
	err = x.run(ctx, op, identity, false, func(x *Factors, now time.Time, _ *FactorEvent) error {
		e, err := x.entityFor(op, identity, now, 0)
		if err == nil {
			out = e.Entity
		}
		return err
	})
	return result(out, err)
}

// FetchEntity returns the entity of identity.
func (x *Factors) FetchEntity(ctx context.Context, identity string) (out Entity, err error) {
	err = x.run(ctx, "fetch entity", identity, false, func(x *Factors, _ time.Time, _ *FactorEvent) error {
		e := x.entities[identity]
		if e == nil {
			return notFound("fetch entity", "entity")
		}
		out = e.Entity
		return nil
	})
	return out, err
}

// ListEntities returns every entity in the order of their IDs. Over a
// store it fails with ErrUnsupported.
func (x *Factors) ListEntities(ctx context.Context) (out []Entity, err error) {
	if x.c.Store != nil {
		return nil, factorErr("list entities", provider.ErrUnsupported, "", "entities are not listed over a store")
	}
	err = x.run(ctx, "list entities", "", true, func(x *Factors, _ time.Time, _ *FactorEvent) error {
		out = make([]Entity, 0, len(x.entities))
		for _, e := range x.entities {
			out = append(out, e.Entity)
		}
		slices.SortFunc(out, func(a, b Entity) int { return strings.Compare(a.ID, b.ID) })
		return nil
	})
	return result(out, err)
}

// DeleteIdentity deletes identity with its factors and challenges. An
// unknown identity gives ErrNotFound.
func (x *Factors) DeleteIdentity(ctx context.Context, identity string) error {
	return x.run(ctx, OpDeleteIdentity, identity, false, func(x *Factors, _ time.Time, _ *FactorEvent) error {
		e := x.entities[identity]
		if e == nil {
			return notFound(OpDeleteIdentity, "entity")
		}
		for _, fa := range e.factors {
			x.forget(fa)
		}
		for _, c := range e.challenges {
			delete(x.challenges, c.c.ID)
		}
		delete(x.entities, identity)
		return nil
	})
}

// EnrollFactor creates a TOTP factor for req.Identity (creating the
// identity if needed), with req.Secret or a new secret. The result carries
// the secret and its otpauth URI; no later call returns them.
func (x *Factors) EnrollFactor(ctx context.Context, req provider.EnrollRequest) (provider.Enrollment, error) {
	const op = OpEnrollFactor
	if err := ctx.Err(); err != nil {
		return provider.Enrollment{}, err
	}
	cfg := req.TOTP
	var secret []byte
	var err error
	switch {
	case req.Type == provider.FactorPush:
		err = factorErr(op, provider.ErrUnsupported, ReasonFactorType, "a push factor is created by its device, with an access token")
	case req.Type != provider.FactorTOTP:
		err = factorErr(op, provider.ErrInvalidRequest, ReasonFactorType, "factor type must be totp or push")
	case req.FriendlyName == "" || len(req.FriendlyName) > 64:
		err = invalidFactor(op, "friendly name must be 1 to 64 bytes")
	case cfg.Validate() != nil:
		err = invalidFactor(op, cfg.Validate().Error())
	case req.Secret != "":
		if secret, err = totp.DecodeSecret(req.Secret); err != nil {
			err = invalidFactor(op, "Binding.Secret: "+err.Error())
		}
	}
	if err != nil {
		return provider.Enrollment{}, err
	}
	cfg = totp.Fill(cfg, req.SkewSet)
	var out provider.Enrollment
	err = x.run(ctx, op, req.Identity, false, func(x *Factors, now time.Time, ev *FactorEvent) error {
		if secret == nil {
			secret = x.c.NewSecret()
		}
		uri, err := totp.URI(x.c.Issuer, req.FriendlyName, secret, cfg)
		if err != nil {
			return invalidFactor(op, err.Error())
		}
		e, err := x.entityFor(op, req.Identity, now, 1)
		if err != nil {
			return err
		}
		fa := &factor{
			id: x.newID(kindFactor), identity: req.Identity, name: req.FriendlyName, cfg: cfg,
			status: provider.FactorUnverified, ver: totp.NewVerifier(secret, cfg), secret: secret, guard: totp.Guard{LastStep: -1},
			created: now, updated: now,
		}
		e.factors = append(e.factors, fa)
		x.byID[fa.id] = fa
		ev.FactorID, ev.FactorStatus, ev.FactorType, ev.Kind = fa.id, fa.status, provider.FactorTOTP, provider.EventFactorCreated
		out = provider.Enrollment{Factor: fa.public(), Secret: totp.EncodeSecret(secret), URI: uri}
		return nil
	})
	return result(out, err)
}

func (fa *factor) public() provider.Factor {
	if fa.push != nil {
		return fa.pushPublic()
	}
	f := provider.Factor{
		ID: fa.id, Identity: fa.identity, Type: provider.FactorTOTP, Status: fa.status,
		FriendlyName: fa.name, TOTP: fa.cfg, CreatedAt: fa.created, UpdatedAt: fa.updated,
	}
	if fa.passkey != nil {
		f.Type = FactorPasskeys
	}
	return f
}

// lookupFactor returns identity's factor id. x.mu must be held.
func (x *Factors) lookupFactor(op, identity, id string) (*factor, error) {
	if id == "" {
		return nil, invalidFactor(op, "empty factor ID")
	}
	fa := x.byID[id]
	if fa == nil || fa.identity != identity {
		return nil, notFound(op, "factor")
	}
	return fa, nil
}

// validTOTPCode reports whether s could be a TOTP code: 3 to 8 digits.
func validTOTPCode(s string) bool {
	return len(s) >= 3 && len(s) <= 8 && strings.Trim(s, "0123456789") == ""
}

// attempt checks code against fa at now, applying the wrong-code window
// and the replay rule. It reports whether the code was accepted. x.mu
// must be held.
func (x *Factors) attempt(op string, fa *factor, code string, now time.Time) (bool, error) {
	if fa.ver == nil {
		return false, factorErr(op, provider.ErrInvalidRequest, ReasonFactorType, "a passkey factor takes no code")
	}
	ok, _, locked := fa.guard.Check(fa.ver, code, now, x.c.MaxWrong, x.c.Window)
	if locked > 0 {
		return false, &Error{Op: op, Kind: provider.ErrTooManyChecks, Reason: ReasonFactorChecksSpent,
			Wait: locked, Msg: "too many wrong codes for this factor"}
	}
	fa.updated = now
	return ok, nil
}

// UpdateFactor confirms (u.Code), renames or reconfigures a factor. A
// wrong code leaves the factor unverified, with no error.
func (x *Factors) UpdateFactor(ctx context.Context, identity, id string, u FactorUpdate) (provider.Factor, error) {
	op := "update factor"
	if u.Code != "" {
		op = OpConfirmFactor
	}
	switch {
	case u.Code != "" && !validTOTPCode(u.Code):
		return provider.Factor{}, invalidFactor(op, "code must be 3 to 8 digits")
	case len(u.FriendlyName) > 64:
		return provider.Factor{}, invalidFactor(op, "friendly name must be at most 64 bytes")
	case u.TOTP.Validate() != nil:
		return provider.Factor{}, invalidFactor(op, u.TOTP.Validate().Error())
	}
	var out provider.Factor
	err := x.run(ctx, op, identity, false, func(x *Factors, now time.Time, ev *FactorEvent) error {
		ev.FactorID = id
		fa, err := x.lookupFactor(op, identity, id)
		if err != nil {
			return err
		}
		if fa.passkey != nil && (u.TOTP != (provider.TOTPConfig{}) || u.SkewSet) {
			return factorErr(op, provider.ErrInvalidRequest, ReasonFactorType, "a passkey factor has no TOTP configuration")
		}
		if fa.push != nil && (u.Code != "" || u.TOTP != (provider.TOTPConfig{}) || u.SkewSet) {
			return invalidFactor(op, "a push factor has no code and no TOTP configuration")
		}
		wasVerified := fa.status == provider.FactorVerified
		defer func() {
			ev.FactorStatus, ev.FactorType = fa.status, fa.public().Type
			if !wasVerified && fa.status == provider.FactorVerified {
				ev.Kind = provider.EventFactorVerified
			}
		}()
		if u.Code != "" {
			ok, err := x.attempt(op, fa, u.Code, now)
			if err != nil {
				return err
			}
			if ok {
				fa.status = provider.FactorVerified
			}
		}
		if u.FriendlyName != "" {
			fa.name = u.FriendlyName
		}
		if c := u.TOTP; c != (provider.TOTPConfig{}) || u.SkewSet {
			nc := fa.cfg
			nc.Digits, nc.Period, nc.Algorithm = cmp.Or(c.Digits, nc.Digits), cmp.Or(c.Period, nc.Period), cmp.Or(c.Algorithm, nc.Algorithm)
			if u.SkewSet || c.Skew != 0 {
				nc.Skew = c.Skew
			}
			if nc != fa.cfg {
				// The secret stays; the verifier is rebuilt from it. The
				// replay guard is kept in time steps of the new period.
				fa.ver = fa.ver.Reconfigure(nc)
				fa.cfg = nc
				fa.guard.LastStep = fa.ver.Step(now)
			}
		}
		fa.updated = now
		out = fa.public()
		return nil
	})
	return result(out, err)
}

// FetchFactor returns a factor without its secret.
func (x *Factors) FetchFactor(ctx context.Context, identity, id string) (out provider.Factor, err error) {
	err = x.run(ctx, OpFetchFactor, identity, false, func(x *Factors, _ time.Time, ev *FactorEvent) error {
		ev.FactorID = id
		fa, err := x.lookupFactor(OpFetchFactor, identity, id)
		if err == nil {
			out = fa.public()
			ev.FactorStatus = out.Status
		}
		return err
	})
	return result(out, err)
}

// ListFactors returns identity's factors, oldest first, without secrets.
func (x *Factors) ListFactors(ctx context.Context, identity string) (out []provider.Factor, err error) {
	err = x.run(ctx, OpListFactors, identity, false, func(x *Factors, _ time.Time, _ *FactorEvent) error {
		out = []provider.Factor{}
		if e := x.entities[identity]; e != nil {
			for _, fa := range e.factors {
				out = append(out, fa.public())
			}
		}
		return nil
	})
	return result(out, err)
}

// DeleteFactor deletes a factor; its codes no longer work.
func (x *Factors) DeleteFactor(ctx context.Context, identity, id string) error {
	return x.run(ctx, OpDeleteFactor, identity, false, func(x *Factors, _ time.Time, ev *FactorEvent) error {
		ev.FactorID = id
		fa, err := x.lookupFactor(OpDeleteFactor, identity, id)
		if err != nil {
			return err
		}
		x.removeFactor(fa, ev)
		return nil
	})
}

// ChallengeFactor checks req.Code for a verified factor and records the
// challenge. The right code approves it; a wrong code, or a code of a time
// step already accepted for this factor (a replay), leaves it pending,
// with no error. A challenge of an unverified factor fails with
// ErrInvalidRequest (ReasonFactorUnverified).
func (x *Factors) ChallengeFactor(ctx context.Context, req provider.ChallengeRequest) (provider.Challenge, error) {
	const op = OpChallengeFactor
	if err := ctx.Err(); err != nil {
		return provider.Challenge{}, err
	}
	if req.Code != "" && !validTOTPCode(req.Code) {
		return provider.Challenge{}, invalidFactor(op, "code must be 3 to 8 digits")
	}
	var out provider.Challenge
	err := x.run(ctx, op, req.Identity, false, func(x *Factors, now time.Time, ev *FactorEvent) error {
		ev.FactorID = req.FactorID
		fa, err := x.lookupFactor(op, req.Identity, req.FactorID)
		switch {
		case err != nil:
			return err
		case fa.push != nil:
			return invalidFactor(op, "a push factor is challenged with a push challenge")
		case fa.status != provider.FactorVerified:
			return factorErr(op, provider.ErrInvalidRequest, ReasonFactorUnverified, "factor is not verified")
		}
		exp, err := challengeExpiry(op, req.ExpiresAt, now)
		if err != nil {
			return err
		}
		c := &challenge{factorID: fa.id, c: provider.Challenge{
			ID: x.newID(kindChallenge), Identity: req.Identity, FactorID: fa.id,
			Status:    provider.ChallengePending,
			CreatedAt: now, UpdatedAt: now, ExpiresAt: exp,
		}}
		if req.Code != "" {
			ok, err := x.attempt(op, fa, req.Code, now)
			if err != nil {
				return err
			}
			if ok {
				c.c.Status, c.c.RespondedAt = provider.ChallengeApproved, now
			}
		}
		x.keepChallenge(x.entities[c.c.Identity], c)
		out = c.c
		ev.ChallengeID, ev.ChallengeStatus, ev.FactorType = out.ID, out.Status, provider.FactorTOTP
		if out.Approved() {
			ev.Kind = provider.EventChallengeApproved
		}
		return nil
	})
	return result(out, err)
}

// UpdateChallenge answers a pending challenge with a code. A wrong code
// leaves it pending; an expired challenge fails with ErrNotFound
// (ReasonChallengeExpired), like an unknown one, and a challenge already
// answered with ErrInvalidRequest.
func (x *Factors) UpdateChallenge(ctx context.Context, identity, id, code string) (provider.Challenge, error) {
	const op = "update challenge"
	if !validTOTPCode(code) {
		return provider.Challenge{}, invalidFactor(op, "code must be 3 to 8 digits")
	}
	var out provider.Challenge
	err := x.run(ctx, op, identity, false, func(x *Factors, now time.Time, ev *FactorEvent) error {
		ev.ChallengeID = id
		c, err := x.lookupChallenge(op, identity, id, now)
		if err != nil {
			return err
		}
		fa := x.byID[c.factorID]
		switch {
		case c.c.Status == provider.ChallengeExpired:
			return factorErr(op, provider.ErrNotFound, ReasonChallengeExpired, "challenge expired")
		case c.c.Status != provider.ChallengePending:
			return factorErr(op, provider.ErrInvalidRequest, ReasonFactorInvalid, "challenge is "+string(c.c.Status))
		case fa == nil:
			return notFound(op, "factor")
		case fa.push != nil:
			return invalidFactor(op, "a push challenge is answered by its device")
		}
		ok, err := x.attempt(op, fa, code, now)
		if err != nil {
			return err
		}
		if ok {
			c.c.Status, c.c.RespondedAt = provider.ChallengeApproved, now
			ev.Kind, ev.FactorType = provider.EventChallengeApproved, provider.FactorTOTP
		}
		c.c.UpdatedAt = now
		out = c.c
		ev.ChallengeStatus = out.Status
		return nil
	})
	return result(out, err)
}

// lookupChallenge finds a challenge and marks it expired when its time
// has passed. x.mu must be held.
func (x *Factors) lookupChallenge(op, identity, id string, now time.Time) (*challenge, error) {
	c := x.challenges[id]
	if e := x.entities[identity]; c == nil && x.scratch && e != nil {
		if i := slices.IndexFunc(e.allChallenges(), func(c *challenge) bool { return c.c.ID == id }); i >= 0 {
			c = e.challenges[i]
		}
	}
	if c == nil || c.c.Identity != identity {
		return nil, factorErr(op, provider.ErrNotFound, ReasonChallengeNotFound, "challenge not found")
	}
	if c.c.Status == provider.ChallengePending && !now.Before(c.c.ExpiresAt) {
		c.c.Status = provider.ChallengeExpired
		c.c.UpdatedAt = c.c.ExpiresAt
	}
	return c, nil
}

// FetchChallenge returns a challenge of identity.
func (x *Factors) FetchChallenge(ctx context.Context, identity, id string) (out provider.Challenge, err error) {
	err = x.run(ctx, OpFetchChallenge, identity, false, func(x *Factors, now time.Time, ev *FactorEvent) error {
		ev.ChallengeID = id
		c, err := x.lookupChallenge(OpFetchChallenge, identity, id, now)
		if err == nil {
			out = publicChallenge(c)
			ev.ChallengeStatus = out.Status
		}
		return err
	})
	return result(out, err)
}

// ListChallenges returns identity's challenges, oldest first (the last
// 100 are kept), optionally only those of factorID and with status.
func (x *Factors) ListChallenges(ctx context.Context, identity, factorID string, status provider.ChallengeStatus) (out []provider.Challenge, err error) {
	const op = "list challenges"
	err = x.run(ctx, op, identity, false, func(x *Factors, now time.Time, ev *FactorEvent) error {
		ev.FactorID = factorID
		out = []provider.Challenge{}
		if e := x.entities[identity]; e != nil {
			for _, c := range e.allChallenges() {
				c, _ := x.lookupChallenge(op, identity, c.c.ID, now)
				if (factorID == "" || c.factorID == factorID) && (status == "" || c.c.Status == status) {
					out = append(out, publicChallenge(c))
				}
			}
		}
		return nil
	})
	return result(out, err)
}

// Code returns the code an authenticator app shows now for a factor held
// here, for tests.
func (x *Factors) Code(identity, factorID string) (string, bool) {
	var code string
	_ = x.view(context.Background(), identity, func(x *Factors, now time.Time) error {
		if fa := x.byID[factorID]; fa != nil && fa.identity == identity && fa.ver != nil {
			code = fa.ver.Code(fa.ver.Step(now))
		}
		return nil
	})
	return code, code != ""
}

// challengeExpiry returns the expiry of a challenge created at now that
// asked for exp (zero: the default).
func challengeExpiry(op string, exp, now time.Time) (time.Time, error) {
	switch {
	case exp.IsZero():
		return now.Add(defaultChallengeExpiry), nil
	case !exp.After(now) || exp.After(now.Add(maxChallengeExpiry)):
		return time.Time{}, invalidFactor(op, "expiration date must be within an hour from now")
	}
	return exp, nil
}

// removeFactor deletes fa. x.mu must be held.
func (x *Factors) removeFactor(fa *factor, ev *FactorEvent) {
	x.forget(fa)
	e := x.entities[fa.identity]
	e.allChallenges() // before the factor indexes they are encoded with change
	for i, f := range e.factors {
		if f == fa {
			e.factors = append(e.factors[:i:i], e.factors[i+1:]...)
			break
		}
	}
	ev.Kind, ev.FactorType = provider.EventFactorDeleted, fa.public().Type
}

// forget drops fa from the indexes. x.mu must be held.
func (x *Factors) forget(fa *factor) {
	delete(x.byID, fa.id)
	if fa.push != nil {
		delete(x.push.byCredential, fa.push.cfg.CredentialID)
	}
}
