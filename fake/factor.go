package fake

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
)

// The factor operations of a Fake, in errors, faults and FactorEvents. For
// these operations a Fault's To field matches the identity.
const (
	OpCreateEntity    Op = "create entity"
	OpFetchEntity     Op = "fetch entity"
	OpListEntities    Op = "list entities"
	OpDeleteIdentity  Op = "delete identity"
	OpEnrollFactor    Op = "enroll factor"
	OpConfirmFactor   Op = "confirm factor"
	OpUpdateFactor    Op = "update factor"
	OpFetchFactor     Op = "fetch factor"
	OpListFactors     Op = "list factors"
	OpDeleteFactor    Op = "delete factor"
	OpChallengeFactor Op = "challenge factor"
	OpUpdateChallenge Op = "update challenge"
	OpFetchChallenge  Op = "fetch challenge"
	OpListChallenges  Op = "list challenges"
)

// The factor defaults of a Fake.
const (
	// DefaultFactorMaxChecks is how many wrong codes a factor accepts in
	// DefaultFactorCheckWindow (confirmations and challenges together);
	// the next code, right or wrong, fails with ErrTooManyChecks until the
	// window ends. Twilio allows 5 wrong codes to confirm a TOTP factor.
	DefaultFactorMaxChecks = 5
	// DefaultFactorCheckWindow is the window of DefaultFactorMaxChecks. It
	// starts with the first wrong code and ends 10 minutes later; a right
	// code also ends it.
	DefaultFactorCheckWindow = 10 * time.Minute
	// DefaultChallengeExpiry is how long a challenge stays pending,
	// Twilio's default.
	DefaultChallengeExpiry = 5 * time.Minute
	// MaxChallengeExpiry is the latest expiry a challenge may ask for.
	MaxChallengeExpiry = time.Hour
	// maxChallengesKept bounds the challenges kept per identity.
	maxChallengesKept = 100
	// MaxFactorsPerIdentity is how many factors one identity may hold;
	// enrolling one more fails with ErrInvalidRequest (delete one first).
	MaxFactorsPerIdentity = 20
	// MaxEntities bounds the identities a Fake holds, so that a fake (or
	// an emulator) reachable by strangers cannot be made to grow without
	// end; enrolling a factor for one more fails with ErrRateLimited.
	MaxEntities = 100_000
)

// factorConfig is the factor part of config; zero fields mean defaults.
type factorConfig struct {
	maxChecks int
	window    time.Duration
	issuer    string
	onFactor  func(context.Context, FactorEvent)
}

// Entity is an identity that has (or had) factors, as the fake holds it.
type Entity struct {
	// ID is the entity's opaque ID.
	ID string
	// Identity is the application's identity.
	Identity string
	// CreatedAt and UpdatedAt are the fake's timestamps.
	CreatedAt, UpdatedAt time.Time
}

// FactorEvent describes one factor operation of a Fake, for WithOnFactor.
// It never carries a secret or a code.
type FactorEvent struct {
	// Op is the operation.
	Op Op
	// Identity is the identity operated on.
	Identity string
	// FactorID and ChallengeID are set when the operation names them.
	FactorID, ChallengeID string
	// FactorStatus is the factor's status after the operation, when known.
	FactorStatus provider.FactorStatus
	// ChallengeStatus is a challenge's status after the operation.
	ChallengeStatus provider.ChallengeStatus
	// Err is the operation's error, or nil.
	Err error
	// At is the time of the operation by the fake's clock.
	At time.Time
}

// FactorUpdate changes a factor, for Fake.UpdateFactor. Zero fields change
// nothing.
type FactorUpdate struct {
	// Code, when set, confirms an unverified factor, as ConfirmFactor does.
	Code string
	// FriendlyName renames the factor.
	FriendlyName string
	// TOTP changes the configuration's non-zero fields (and Skew when
	// SkewSet).
	TOTP provider.TOTPConfig
	// SkewSet applies TOTP.Skew even when it is 0 (no codes of the
	// neighbouring time steps accepted); without it a zero Skew changes
	// nothing.
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

// GoString is like String.
func (u FactorUpdate) GoString() string { return u.String() }

// Format prints what String does for every verb, so no verb prints the
// code.
func (u FactorUpdate) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, u.String()) }

type factors struct {
	mu         sync.Mutex
	entities   map[string]*entity // by identity
	byID       map[string]*factor
	challenges map[string]*challenge
	seq        uint64
	secrets    uint64 // secrets generated, for the seeded generator
}

type entity struct {
	Entity
	factors    []*factor
	challenges []*challenge
}

type factor struct {
	id, identity, name string
	cfg                provider.TOTPConfig
	status             provider.FactorStatus
	ver                *totp.Verifier
	lastStep           int64 // the latest time step a code was accepted for, -1 before any
	failures           int
	windowStart        time.Time
	created, updated   time.Time
}

type challenge struct {
	c        provider.Challenge
	factorID string
}

func (fs *factors) init() {
	if fs.entities == nil {
		fs.entities = make(map[string]*entity)
		fs.byID = make(map[string]*factor)
		fs.challenges = make(map[string]*challenge)
	}
}

func (f *Fake) fcfg() factorConfig {
	c := f.cfg.factor
	if c.maxChecks == 0 {
		c.maxChecks = DefaultFactorMaxChecks
	}
	if c.window == 0 {
		c.window = DefaultFactorCheckWindow
	}
	if c.issuer == "" {
		c.issuer = f.cfg.friendlyName
	}
	return c
}

// factorErr builds the fake's error for a factor operation.
func factorErr(op Op, sentinel error, reason Reason, msg string) error {
	return &Error{Op: op, Err: sentinel, Reason: reason, msg: msg}
}

func invalidFactor(op Op, msg string) error {
	return factorErr(op, provider.ErrInvalidRequest, ReasonFactorInvalid, msg)
}

func notFound(op Op, what string) error {
	return factorErr(op, provider.ErrNotFound, "", what+" not found")
}

// begin runs the checks every factor operation starts with and takes the
// lock. On success the caller must call f.end.
func (f *Fake) begin(ctx context.Context, op Op, identity string) (*Fault, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !provider.ValidIdentity(identity) {
		return nil, invalidFactor(op, "identity must be 8 to 64 letters, digits or dashes")
	}
	f.factors.mu.Lock()
	f.factors.init()
	fault := f.takeFault(op, identity)
	if fault != nil && !fault.Processed {
		f.factors.mu.Unlock()
		err := fault.err(op)
		if on := f.cfg.factor.onFactor; on != nil {
			on(ctx, FactorEvent{Op: op, Identity: identity, Err: err, At: f.cfg.now()})
		}
		return nil, err
	}
	return fault, nil
}

// end releases the lock, applies a processed fault, and reports the event.
func (f *Fake) end(ctx context.Context, fault *Fault, ev FactorEvent, err error) error {
	f.factors.mu.Unlock()
	if fault != nil && err == nil {
		err = fault.err(ev.Op)
	}
	if on := f.cfg.factor.onFactor; on != nil {
		ev.Err = err
		on(ctx, ev)
	}
	return err
}

// The kinds of factor IDs, for newFactorID.
const (
	kindEntity = iota
	kindFactor
	kindChallenge
)

// newFactorID returns the ID of a new entity, factor or challenge: the
// kind's prefix (none by default; WithFactorIDPrefixes sets them) and 32
// hex digits, 16 of the fake's salt mixed with the kind, so that no two
// IDs of a Fake are equal whatever their kind, then 16 of a counter. The
// factors' lock must be held.
func (f *Fake) newFactorID(kind int) string {
	f.factors.seq++
	prefix := f.cfg.factorPrefixes[kind]
	var b [8 + 32]byte // a prefix is at most 8 bytes
	n := copy(b[:], prefix)
	salt := f.salt ^ splitmix(uint64(kind+1)*0x9e3779b97f4a7c15)
	for i, x := range [2]uint64{salt, f.factors.seq} {
		for j := range 16 {
			b[n+i*16+j] = hexDigits[(x>>(60-4*j))&0xf]
		}
	}
	return string(b[:n+32])
}

// newSecret returns a new TOTP secret: from crypto/rand with
// WithRandomCodes, otherwise a function of the seed and of how many secrets
// came before.
func (f *Fake) newSecret() []byte {
	b := make([]byte, totp.SecretSize)
	if f.cfg.source == codesCrypto {
		_, _ = rand.Read(b)
		return b
	}
	f.factors.secrets++
	x := splitmix(f.cfg.seed ^ 0x7f4a7c159e3779b9 + f.factors.secrets*0x9e3779b97f4a7c15)
	for i := range b {
		if i%8 == 0 && i > 0 {
			x = splitmix(x)
		}
		b[i] = byte(x >> (8 * (i % 8)))
	}
	return b
}

func (f *Fake) entityFor(identity string, now time.Time, create bool) *entity {
	e := f.factors.entities[identity]
	if e == nil && create {
		e = &entity{Entity: Entity{ID: f.newFactorID(kindEntity), Identity: identity, CreatedAt: now, UpdatedAt: now}}
		f.factors.entities[identity] = e
	}
	return e
}

// CreateEntity creates the entity of identity, or returns the existing one.
// EnrollFactor creates entities as needed, so calling it is optional.
func (f *Fake) CreateEntity(ctx context.Context, identity string) (Entity, error) {
	fault, err := f.begin(ctx, OpCreateEntity, identity)
	if err != nil {
		return Entity{}, err
	}
	now := f.cfg.now()
	if f.factors.entities[identity] == nil && len(f.factors.entities) >= MaxEntities {
		return Entity{}, f.end(ctx, nil, FactorEvent{Op: OpCreateEntity, Identity: identity, At: now},
			factorErr(OpCreateEntity, provider.ErrRateLimited, ReasonThrottled, "the fake holds the most identities it may"))
	}
	out := f.entityFor(identity, now, true).Entity
	return out, f.end(ctx, fault, FactorEvent{Op: OpCreateEntity, Identity: identity, At: now}, nil)
}

// FetchEntity returns the entity of identity.
func (f *Fake) FetchEntity(ctx context.Context, identity string) (Entity, error) {
	fault, err := f.begin(ctx, OpFetchEntity, identity)
	if err != nil {
		return Entity{}, err
	}
	var out Entity
	e := f.entityFor(identity, time.Time{}, false)
	if e == nil {
		err = notFound(OpFetchEntity, "entity")
	} else {
		out = e.Entity
	}
	return out, f.end(ctx, fault, FactorEvent{Op: OpFetchEntity, Identity: identity, At: f.cfg.now()}, err)
}

// ListEntities returns every entity, oldest first.
func (f *Fake) ListEntities(ctx context.Context) ([]Entity, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.factors.mu.Lock()
	f.factors.init()
	fault := f.takeFault(OpListEntities, "")
	if fault != nil && !fault.Processed {
		f.factors.mu.Unlock()
		return nil, fault.err(OpListEntities)
	}
	out := make([]Entity, 0, len(f.factors.entities))
	for _, e := range f.factors.entities {
		out = append(out, e.Entity)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, f.end(ctx, fault, FactorEvent{Op: OpListEntities, At: f.cfg.now()}, nil)
}

// DeleteIdentity deletes identity with its factors and challenges. An
// unknown identity gives ErrNotFound.
func (f *Fake) DeleteIdentity(ctx context.Context, identity string) error {
	fault, err := f.begin(ctx, OpDeleteIdentity, identity)
	if err != nil {
		return err
	}
	e := f.entityFor(identity, time.Time{}, false)
	if e == nil {
		err = notFound(OpDeleteIdentity, "entity")
	} else {
		for _, fa := range e.factors {
			delete(f.factors.byID, fa.id)
		}
		for _, c := range e.challenges {
			delete(f.factors.challenges, c.c.ID)
		}
		delete(f.factors.entities, identity)
	}
	return f.end(ctx, fault, FactorEvent{Op: OpDeleteIdentity, Identity: identity, At: f.cfg.now()}, err)
}

// EnrollFactor creates a TOTP factor for req.Identity (creating the identity
// if needed). The secret is generated from the fake's seed (the same calls
// in the same order give the same secrets), from crypto/rand with
// WithRandomCodes, or taken from req.Secret. The result carries the secret
// and its otpauth URI, with the issuer set by WithFactorIssuer; no later
// call returns them.
func (f *Fake) EnrollFactor(ctx context.Context, req provider.EnrollRequest) (provider.Enrollment, error) {
	const op = OpEnrollFactor
	if err := ctx.Err(); err != nil {
		return provider.Enrollment{}, err
	}
	cfg := req.TOTP
	var secret []byte
	var err error
	switch {
	case req.Type == provider.FactorPush:
		err = factorErr(op, provider.ErrUnsupported, ReasonFactorType, "push factors are not supported by the fake")
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
	fault, err := f.begin(ctx, op, req.Identity)
	if err != nil {
		return provider.Enrollment{}, err
	}
	now := f.cfg.now()
	if secret == nil {
		secret = f.newSecret()
	}
	uri, uerr := totp.URI(f.fcfg().issuer, req.FriendlyName, secret, cfg)
	if uerr != nil {
		return provider.Enrollment{}, f.end(ctx, nil, FactorEvent{Op: op, Identity: req.Identity, At: now}, invalidFactor(op, uerr.Error()))
	}
	e := f.factors.entities[req.Identity]
	switch {
	case e == nil && len(f.factors.entities) >= MaxEntities:
		return provider.Enrollment{}, f.end(ctx, nil, FactorEvent{Op: op, Identity: req.Identity, At: now},
			factorErr(op, provider.ErrRateLimited, ReasonThrottled, "the fake holds the most identities it may"))
	case e != nil && len(e.factors) >= MaxFactorsPerIdentity:
		return provider.Enrollment{}, f.end(ctx, nil, FactorEvent{Op: op, Identity: req.Identity, At: now},
			invalidFactor(op, "the identity has the most factors it may; delete one first"))
	}
	e = f.entityFor(req.Identity, now, true)
	fa := &factor{
		id: f.newFactorID(kindFactor), identity: req.Identity, name: req.FriendlyName, cfg: cfg,
		status: provider.FactorUnverified, ver: totp.NewVerifier(secret, cfg), lastStep: -1,
		created: now, updated: now,
	}
	e.factors = append(e.factors, fa)
	f.factors.byID[fa.id] = fa
	out := provider.Enrollment{Factor: fa.public(), Secret: totp.EncodeSecret(secret), URI: uri}
	err = f.end(ctx, fault, FactorEvent{Op: op, Identity: req.Identity, FactorID: fa.id, FactorStatus: fa.status, At: now}, nil)
	if err != nil {
		return provider.Enrollment{}, err
	}
	return out, nil
}

func (fa *factor) public() provider.Factor {
	return provider.Factor{
		ID: fa.id, Identity: fa.identity, Type: provider.FactorTOTP, Status: fa.status,
		FriendlyName: fa.name, TOTP: fa.cfg, CreatedAt: fa.created, UpdatedAt: fa.updated,
	}
}

// lookupFactor returns identity's factor id. The lock must be held.
func (f *Fake) lookupFactor(op Op, identity, id string) (*factor, error) {
	if id == "" {
		return nil, invalidFactor(op, "empty factor ID")
	}
	fa := f.factors.byID[id]
	if fa == nil || fa.identity != identity {
		return nil, notFound(op, "factor")
	}
	return fa, nil
}

// validCode reports whether s could be a TOTP code: 3 to 8 digits.
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

// attempt checks code against fa at now, applying the wrong-code limit and
// the replay rule. It reports whether the code was accepted. The lock must
// be held.
func (f *Fake) attempt(op Op, fa *factor, code string, now time.Time) (bool, error) {
	cfg := f.fcfg()
	if fa.failures > 0 && !now.Before(fa.windowStart.Add(cfg.window)) {
		fa.failures = 0
	}
	if fa.failures >= cfg.maxChecks {
		return false, &Error{Op: op, Err: provider.ErrTooManyChecks, Reason: ReasonFactorChecksSpent,
			Wait: fa.windowStart.Add(cfg.window).Sub(now), msg: "too many wrong codes for this factor"}
	}
	step, ok, used := fa.ver.Match(code, now, fa.lastStep)
	fa.updated = now
	if ok {
		fa.lastStep = step
		fa.failures = 0
		return true, nil
	}
	if used {
		// A replay of an accepted code is refused but is not a guess: it
		// does not count against the limit (a double submit must not lock
		// the user out).
		return false, nil
	}
	if fa.failures == 0 {
		fa.windowStart = now
	}
	fa.failures++
	return false, nil
}

// ConfirmFactor verifies an unverified factor with the first code from the
// app. A wrong code leaves it unverified, with no error.
func (f *Fake) ConfirmFactor(ctx context.Context, req provider.ConfirmRequest) (provider.Factor, error) {
	return f.UpdateFactor(ctx, req.Identity, req.FactorID, FactorUpdate{Code: req.Code})
}

// UpdateFactor confirms, renames or reconfigures a factor. A wrong u.Code leaves the factor unverified, with no
// error.
func (f *Fake) UpdateFactor(ctx context.Context, identity, id string, u FactorUpdate) (provider.Factor, error) {
	op := OpUpdateFactor
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
	fault, err := f.begin(ctx, op, identity)
	if err != nil {
		return provider.Factor{}, err
	}
	now := f.cfg.now()
	fa, err := f.lookupFactor(op, identity, id)
	var out provider.Factor
	if err == nil {
		if u.Code != "" {
			var ok bool
			if ok, err = f.attempt(op, fa, u.Code, now); ok {
				fa.status = provider.FactorVerified
			}
		}
		if err == nil {
			if u.FriendlyName != "" {
				fa.name = u.FriendlyName
			}
			if c := u.TOTP; c != (provider.TOTPConfig{}) || u.SkewSet {
				nc := fa.cfg
				if c.Digits != 0 {
					nc.Digits = c.Digits
				}
				if c.Period != 0 {
					nc.Period = c.Period
				}
				if c.Algorithm != "" {
					nc.Algorithm = c.Algorithm
				}
				if u.SkewSet || c.Skew != 0 {
					nc.Skew = c.Skew
				}
				if nc != fa.cfg {
					// The secret stays; the verifier is rebuilt from it. The
					// replay guard is kept in time steps of the new period.
					fa.ver = fa.ver.Reconfigure(nc)
					fa.cfg = nc
					fa.lastStep = fa.ver.Step(now)
				}
			}
			fa.updated = now
			out = fa.public()
		}
	}
	ev := FactorEvent{Op: op, Identity: identity, FactorID: id, At: now}
	if fa != nil {
		ev.FactorStatus = fa.status
	}
	if err = f.end(ctx, fault, ev, err); err != nil {
		return provider.Factor{}, err
	}
	return out, nil
}

// FetchFactor returns a factor without its secret.
func (f *Fake) FetchFactor(ctx context.Context, identity, id string) (provider.Factor, error) {
	fault, err := f.begin(ctx, OpFetchFactor, identity)
	if err != nil {
		return provider.Factor{}, err
	}
	fa, err := f.lookupFactor(OpFetchFactor, identity, id)
	var out provider.Factor
	if err == nil {
		out = fa.public()
	}
	if err = f.end(ctx, fault, FactorEvent{Op: OpFetchFactor, Identity: identity, FactorID: id, FactorStatus: out.Status, At: f.cfg.now()}, err); err != nil {
		return provider.Factor{}, err
	}
	return out, nil
}

// ListFactors returns identity's factors, oldest first, without secrets.
func (f *Fake) ListFactors(ctx context.Context, identity string) ([]provider.Factor, error) {
	fault, err := f.begin(ctx, OpListFactors, identity)
	if err != nil {
		return nil, err
	}
	out := []provider.Factor{}
	if e := f.entityFor(identity, time.Time{}, false); e != nil {
		for _, fa := range e.factors {
			out = append(out, fa.public())
		}
	}
	if err = f.end(ctx, fault, FactorEvent{Op: OpListFactors, Identity: identity, At: f.cfg.now()}, nil); err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteFactor deletes a factor; its codes no longer work.
func (f *Fake) DeleteFactor(ctx context.Context, identity, id string) error {
	fault, err := f.begin(ctx, OpDeleteFactor, identity)
	if err != nil {
		return err
	}
	fa, err := f.lookupFactor(OpDeleteFactor, identity, id)
	if err == nil {
		delete(f.factors.byID, id)
		e := f.factors.entities[identity]
		for i, x := range e.factors {
			if x == fa {
				e.factors = append(e.factors[:i:i], e.factors[i+1:]...)
				break
			}
		}
	}
	return f.end(ctx, fault, FactorEvent{Op: OpDeleteFactor, Identity: identity, FactorID: id, At: f.cfg.now()}, err)
}

// ChallengeFactor checks req.Code for a verified factor and records the
// challenge. The right code approves it; a wrong code, or a code of a time
// step already accepted for this factor (a replay), leaves it pending, with
// no error. A challenge of an unverified factor fails with
// ErrInvalidRequest ([ReasonFactorUnverified]).
func (f *Fake) ChallengeFactor(ctx context.Context, req provider.ChallengeRequest) (provider.Challenge, error) {
	const op = OpChallengeFactor
	if err := ctx.Err(); err != nil {
		return provider.Challenge{}, err
	}
	if req.Code != "" && !validTOTPCode(req.Code) {
		return provider.Challenge{}, invalidFactor(op, "code must be 3 to 8 digits")
	}
	fault, err := f.begin(ctx, op, req.Identity)
	if err != nil {
		return provider.Challenge{}, err
	}
	now := f.cfg.now()
	var out provider.Challenge
	fa, err := f.lookupFactor(op, req.Identity, req.FactorID)
	switch {
	case err != nil:
	case fa.status != provider.FactorVerified:
		err = factorErr(op, provider.ErrInvalidRequest, ReasonFactorUnverified, "factor is not verified")
	case !req.ExpiresAt.IsZero() && (!req.ExpiresAt.After(now) || req.ExpiresAt.After(now.Add(MaxChallengeExpiry))):
		err = invalidFactor(op, "expiration date must be within an hour from now")
	}
	if err == nil {
		exp := req.ExpiresAt
		if exp.IsZero() {
			exp = now.Add(DefaultChallengeExpiry)
		}
		c := &challenge{factorID: fa.id, c: provider.Challenge{
			ID: f.newFactorID(kindChallenge), Identity: req.Identity, FactorID: fa.id,
			Status:    provider.ChallengePending,
			CreatedAt: now, UpdatedAt: now, ExpiresAt: exp,
		}}
		if req.Code != "" {
			var ok bool
			if ok, err = f.attempt(op, fa, req.Code, now); ok {
				c.c.Status, c.c.RespondedAt = provider.ChallengeApproved, now
			}
		}
		if err == nil {
			e := f.factors.entities[req.Identity]
			e.challenges = append(e.challenges, c)
			f.factors.challenges[c.c.ID] = c
			if len(e.challenges) > maxChallengesKept {
				delete(f.factors.challenges, e.challenges[0].c.ID)
				n := copy(e.challenges, e.challenges[1:])
				e.challenges[n] = nil
				e.challenges = e.challenges[:n]
			}
			out = c.c
		}
	}
	if err = f.end(ctx, fault, FactorEvent{Op: op, Identity: req.Identity, FactorID: req.FactorID, ChallengeID: out.ID, ChallengeStatus: out.Status, At: now}, err); err != nil {
		return provider.Challenge{}, err
	}
	return out, nil
}

// UpdateChallenge answers a pending challenge with a code. A wrong code
// leaves it pending; an expired challenge fails with ErrNotFound
// ([ReasonChallengeExpired]), like an unknown one, and a challenge already
// answered with ErrInvalidRequest.
func (f *Fake) UpdateChallenge(ctx context.Context, identity, id, code string) (provider.Challenge, error) {
	const op = OpUpdateChallenge
	if !validTOTPCode(code) {
		return provider.Challenge{}, invalidFactor(op, "code must be 3 to 8 digits")
	}
	fault, err := f.begin(ctx, op, identity)
	if err != nil {
		return provider.Challenge{}, err
	}
	now := f.cfg.now()
	c, err := f.lookupChallenge(op, identity, id, now)
	var out provider.Challenge
	if err == nil {
		fa := f.factors.byID[c.factorID]
		switch {
		case c.c.Status == provider.ChallengeExpired:
			err = factorErr(op, provider.ErrNotFound, ReasonChallengeExpired, "challenge expired")
		case c.c.Status != provider.ChallengePending:
			err = factorErr(op, provider.ErrInvalidRequest, ReasonFactorInvalid, "challenge is "+string(c.c.Status))
		case fa == nil:
			err = notFound(op, "factor")
		default:
			var ok bool
			if ok, err = f.attempt(op, fa, code, now); ok {
				c.c.Status, c.c.RespondedAt = provider.ChallengeApproved, now
			}
			c.c.UpdatedAt = now
			out = c.c
		}
	}
	if err = f.end(ctx, fault, FactorEvent{Op: op, Identity: identity, ChallengeID: id, ChallengeStatus: out.Status, At: now}, err); err != nil {
		return provider.Challenge{}, err
	}
	return out, nil
}

// lookupChallenge finds a challenge and marks it expired when its time has
// passed. The lock must be held.
func (f *Fake) lookupChallenge(op Op, identity, id string, now time.Time) (*challenge, error) {
	c := f.factors.challenges[id]
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
func (f *Fake) FetchChallenge(ctx context.Context, identity, id string) (provider.Challenge, error) {
	fault, err := f.begin(ctx, OpFetchChallenge, identity)
	if err != nil {
		return provider.Challenge{}, err
	}
	now := f.cfg.now()
	c, err := f.lookupChallenge(OpFetchChallenge, identity, id, now)
	var out provider.Challenge
	if err == nil {
		out = c.c
	}
	if err = f.end(ctx, fault, FactorEvent{Op: OpFetchChallenge, Identity: identity, ChallengeID: id, ChallengeStatus: out.Status, At: now}, err); err != nil {
		return provider.Challenge{}, err
	}
	return out, nil
}

// ListChallenges returns identity's challenges, oldest first (the last 100
// are kept), optionally only those of factorID and with status.
func (f *Fake) ListChallenges(ctx context.Context, identity, factorID string, status provider.ChallengeStatus) ([]provider.Challenge, error) {
	fault, err := f.begin(ctx, OpListChallenges, identity)
	if err != nil {
		return nil, err
	}
	now := f.cfg.now()
	out := []provider.Challenge{}
	if e := f.entityFor(identity, time.Time{}, false); e != nil {
		for _, c := range e.challenges {
			c, _ := f.lookupChallenge(OpListChallenges, identity, c.c.ID, now)
			if (factorID == "" || c.factorID == factorID) && (status == "" || c.c.Status == status) {
				out = append(out, c.c)
			}
		}
	}
	if err = f.end(ctx, fault, FactorEvent{Op: OpListChallenges, Identity: identity, FactorID: factorID, At: now}, nil); err != nil {
		return nil, err
	}
	return out, nil
}

// FactorCode returns the code an authenticator app shows now, by the
// fake's clock, for a factor the fake holds. Tests use it as a user would
// read their phone. It is for tests only: the fake keeps no secret out of
// reach of its own caller.
func (f *Fake) FactorCode(identity, factorID string) (string, bool) {
	f.factors.mu.Lock()
	defer f.factors.mu.Unlock()
	fa := f.factors.byID[factorID]
	if fa == nil || fa.identity != identity {
		return "", false
	}
	return fa.ver.Code(fa.ver.Step(f.cfg.now())), true
}

var _ provider.FactorProvider = (*Fake)(nil)
