package selfhosted

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

var _ provider.FactorProvider = (*Provider)(nil)

// Factor limits.
const (
	// MaxFactors is how many factors one identity may have.
	MaxFactors = 20
	// keptChallenges is how many of an identity's latest challenges
	// FetchChallenge can return.
	keptChallenges = 20
	// challengeTTL is how long a pending challenge is reported valid.
	challengeTTL = 5 * time.Minute
)

// WithFactorLimits sets how many wrong codes a factor accepts in a window
// (from the first wrong code) before every code, right or wrong, fails
// with ErrTooManyChecks until the window ends: 1 to 20, and 1 minute to 24
// hours. The default is 5 in 10 minutes.
func WithFactorLimits(maxWrong int, window time.Duration) Option {
	return func(p *Provider) error {
		if maxWrong < 1 || maxWrong > 20 || window < time.Minute || window > 24*time.Hour {
			return errors.New("selfhosted: WithFactorLimits: want 1 to 20 wrong codes in 1m to 24h")
		}
		p.factorMaxWrong, p.factorWindow = maxWrong, window
		return nil
	}
}

// identityRec is the stored, sealed state of one identity: its factors
// (with their secrets) and its latest challenges. One record per identity
// makes every factor operation one compare-and-swap.
type identityRec struct {
	factors    []factorRec
	challenges []challengeRec
	tried      int // codes checked by the change being made; not stored
}

type factorRec struct {
	id          [16]byte
	name        string
	verified    bool
	digits      int
	period      int // seconds
	skew        int
	alg         provider.Algorithm
	secret      []byte
	created     time.Time
	updated     time.Time
	lastStep    int64 // the latest time step accepted; replays are refused
	wrong       int   // wrong codes in the current window
	windowStart time.Time
}

type challengeRec struct {
	id       [16]byte
	factor   [16]byte
	approved bool
	created  time.Time
}

func (f *factorRec) config() provider.TOTPConfig {
	return provider.TOTPConfig{Digits: f.digits, Period: time.Duration(f.period) * time.Second, Skew: f.skew, Algorithm: f.alg}
}

func (r *identityRec) encode(buf []byte) []byte {
	buf = append(buf, recordVersion, byte(len(r.factors)))
	for i := range r.factors {
		f := &r.factors[i]
		buf = append(buf, f.id[:]...)
		buf = appendString(buf, f.name)
		v := byte(0)
		if f.verified {
			v = 1
		}
		buf = append(buf, v, byte(f.digits), byte(f.period), byte(f.skew))
		buf = appendString(buf, string(f.alg))
		buf = appendString(buf, string(f.secret))
		buf = binary.BigEndian.AppendUint64(buf, uint64(f.created.UnixNano()))
		buf = binary.BigEndian.AppendUint64(buf, uint64(f.updated.UnixNano()))
		buf = binary.BigEndian.AppendUint64(buf, uint64(f.lastStep))
		buf = append(buf, byte(f.wrong))
		buf = binary.BigEndian.AppendUint64(buf, uint64(f.windowStart.UnixNano()))
	}
	buf = append(buf, byte(len(r.challenges)))
	for _, c := range r.challenges {
		buf = append(buf, c.id[:]...)
		buf = append(buf, c.factor[:]...)
		a := byte(0)
		if c.approved {
			a = 1
		}
		buf = append(buf, a)
		buf = binary.BigEndian.AppendUint64(buf, uint64(c.created.UnixNano()))
	}
	return buf
}

func (r *identityRec) decode(b []byte) error {
	d := decoder{b: b}
	if d.byte() != recordVersion {
		return errRecord
	}
	r.factors = make([]factorRec, d.byte())
	for i := range r.factors {
		f := &r.factors[i]
		copy(f.id[:], d.bytes(16))
		f.name = d.string()
		f.verified = d.byte() == 1
		f.digits, f.period, f.skew = int(d.byte()), int(d.byte()), int(d.byte())
		f.alg = provider.Algorithm(d.string())
		f.secret = []byte(d.string())
		f.created, f.updated = d.time(), d.time()
		f.lastStep = d.int64()
		f.wrong = int(d.byte())
		f.windowStart = d.time()
		if d.err != nil {
			return d.err
		}
	}
	r.challenges = make([]challengeRec, d.byte())
	for i := range r.challenges {
		c := &r.challenges[i]
		copy(c.id[:], d.bytes(16))
		copy(c.factor[:], d.bytes(16))
		c.approved = d.byte() == 1
		c.created = d.time()
	}
	if d.err != nil || len(d.b) != 0 {
		return errRecord
	}
	return nil
}

func (r *identityRec) find(factorID string) *factorRec {
	id, ok := parseRandID("YF", factorID)
	if !ok {
		return nil
	}
	for i := range r.factors {
		if r.factors[i].id == id {
			return &r.factors[i]
		}
	}
	return nil
}

// parseRandID parses a factor or challenge ID: prefix and 32 lower-case
// hex digits, its only spelling (see parseID).
func parseRandID(prefix, s string) (id [16]byte, ok bool) {
	if len(s) != 34 || s[:2] != prefix || !lowerHex(s[2:]) {
		return id, false
	}
	_, err := hex.Decode(id[:], []byte(s[2:]))
	return id, err == nil
}

// lowerHex reports whether s is made of the digits hex.Encode writes:
// 0-9 and a-f.
func lowerHex(s string) bool {
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func randID() (id [16]byte) {
	_, _ = rand.Read(id[:])
	return id
}

func (p *Provider) identityKey(identity string) string {
	var b [16]byte
	return p.prefix + "e:" + hex.EncodeToString(p.names.Load().name(b[:0], 'e', identity))
}

func (p *Provider) publicFactor(identity string, f *factorRec) provider.Factor {
	status := provider.FactorUnverified
	if f.verified {
		status = provider.FactorVerified
	}
	return provider.Factor{
		ID: "YF" + hex.EncodeToString(f.id[:]), Identity: identity, Type: provider.FactorTOTP, Status: status,
		FriendlyName: f.name, TOTP: f.config(), CreatedAt: f.created, UpdatedAt: f.updated,
	}
}

func publicChallenge(identity string, c *challengeRec) provider.Challenge {
	out := provider.Challenge{
		ID: "YC" + hex.EncodeToString(c.id[:]), Identity: identity, FactorID: "YF" + hex.EncodeToString(c.factor[:]),
		Status: provider.ChallengePending, CreatedAt: c.created, UpdatedAt: c.created, ExpiresAt: c.created.Add(challengeTTL),
	}
	if c.approved {
		out.Status, out.RespondedAt = provider.ChallengeApproved, c.created
	}
	return out
}

// identity is an identity's record as read from the store.
type identityRead struct {
	key string
	r   store.Record
	env *envelope    // nil: no record
	rec *identityRec // nil: no record, or a tombstone (see DeleteIdentity)
}

// load reads and opens an identity's record. An identity's record is the
// system of record for its factors: it is written without expiry, emptied
// (not deleted) by DeleteIdentity, and one that this replica has seen and
// that is missing gives ErrUnavailable, never "no factors".
func (p *Provider) load(ctx context.Context, op Op, identity string) (identityRead, error) {
	if err := ctx.Err(); err != nil {
		return identityRead{}, err
	}
	if !provider.ValidIdentity(identity) {
		return identityRead{}, newErr(op, provider.ErrInvalidRequest, "malformed identity")
	}
	if err := p.ensureKey(ctx, op); err != nil {
		return identityRead{}, err
	}
	key := p.identityKey(identity)
	tk := p.recall.ticket()
	r, err := p.st.Get(ctx, key)
	if err != nil {
		return identityRead{}, failure(op, err)
	}
	return p.openIdentity(op, key, r, tk)
}

// openIdentity opens an identity's record read at ticket tk.
func (p *Provider) openIdentity(op Op, key string, r store.Record, tk uint64) (identityRead, error) {
	env, err := p.openRecord(op, key, r, kindStable, tk)
	if err != nil {
		return identityRead{}, err
	}
	out := identityRead{key: key, r: r, env: env}
	if env == nil || len(env.payload) == 0 {
		return out, nil
	}
	out.rec = new(identityRec)
	if out.rec.decode(env.payload) != nil {
		return identityRead{}, unreadable(op)
	}
	return out, nil
}

// identitySize is the sealed size of an identity's record whose payload is
// n bytes: 2 KiB (room for several factors and all kept challenges), then
// whole KiB, so a dump tells little about an identity's factors and
// challenges.
func identitySize(n int) int {
	size := 2048
	for n+128 > size {
		size += 1024
	}
	return size
}

// write replaces the identity's record (read as id) with payload (a
// tombstone when empty), sealed under the primary key, and returns the
// current record on a conflict. tried is the number of codes the change
// checked (the envelope's spent count grows by it).
func (p *Provider) write(ctx context.Context, id identityRead, payload []byte, tried int, ttl time.Duration) (store.Record, error) {
	env := id.env.next()
	env.spent += uint64(tried)
	env.key = p.keys.primary
	sealed := sealEnvelope(env.key, id.key, env, payload, identitySize(len(payload)))
	cur, err := p.st.CompareAndSwap(ctx, id.key, id.r.Version, sealed, ttl)
	if err == nil {
		p.wrote(id.key, env, kindStable, cur.Version)
	}
	return cur, err
}

// mutate applies fn to an identity's record by compare-and-swap, deciding
// again on the current record after a conflict. fn gets nil when the
// identity has no record (and create is false: then ErrNotFound) or a new
// empty record (create is true). fn returns whether to write.
func (p *Provider) mutate(ctx context.Context, op Op, identity string, create bool, fn func(rec *identityRec, now time.Time) (bool, error)) error {
	id, err := p.load(ctx, op, identity)
	if err != nil {
		return err
	}
	for {
		rec := id.rec
		if rec == nil {
			if !create {
				return newErr(op, provider.ErrNotFound, "no such factor")
			}
			rec = new(identityRec)
		}
		write, err := fn(rec, p.now())
		if err != nil || !write {
			return err
		}
		tk := p.recall.ticket()
		cur, err := p.write(ctx, id, rec.encode(make([]byte, 0, 256)), rec.tried, store.NoExpiry)
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return failure(op, err)
		}
		// Another replica changed the record: decide again on it.
		if id, err = p.openIdentity(op, id.key, cur, tk); err != nil {
			return err
		}
	}
}

// EnrollFactor creates a TOTP factor. The secret is generated from
// crypto/rand (or taken from req.Secret), stored sealed, and returned this
// once with its otpauth URI. Zero fields of req.TOTP mean this provider's
// defaults: 6 digits, 30 s steps, SHA-1 and a skew of one step (unless
// req.SkewSet keeps a skew of 0).
func (p *Provider) EnrollFactor(ctx context.Context, req provider.EnrollRequest) (provider.Enrollment, error) {
	if err := ctx.Err(); err != nil {
		return provider.Enrollment{}, err
	}
	invalid := func(msg string) (provider.Enrollment, error) {
		return provider.Enrollment{}, newErr(OpEnroll, provider.ErrInvalidRequest, msg)
	}
	switch {
	case !provider.ValidIdentity(req.Identity):
		return invalid("malformed identity")
	case req.Type != provider.FactorTOTP:
		return provider.Enrollment{}, newErr(OpEnroll, provider.ErrUnsupported, "only totp factors are offered")
	case req.FriendlyName == "" || len(req.FriendlyName) > 64:
		return invalid("friendly name must be 1 to 64 bytes")
	}
	if err := req.TOTP.Validate(); err != nil {
		return invalid(err.Error())
	}
	cfg := totp.Fill(req.TOTP, req.SkewSet)
	var secret []byte
	if req.Secret != "" {
		s, err := totp.DecodeSecret(req.Secret)
		if err != nil {
			return invalid("secret: " + err.Error())
		}
		secret = s
	} else {
		secret = make([]byte, totp.SecretSize)
		_, _ = rand.Read(secret)
	}
	uri, err := totp.URI(p.appName, req.FriendlyName, secret, cfg)
	if err != nil {
		return invalid("the key URI cannot be built")
	}
	f := factorRec{id: randID(), name: req.FriendlyName, digits: cfg.Digits, period: int(cfg.Period / time.Second),
		skew: cfg.Skew, alg: cfg.Algorithm, secret: secret, lastStep: -1}
	err = p.mutate(ctx, OpEnroll, req.Identity, true, func(rec *identityRec, now time.Time) (bool, error) {
		if len(rec.factors) >= MaxFactors {
			return false, newErr(OpEnroll, provider.ErrInvalidRequest, "the identity has the maximum number of factors")
		}
		f.created, f.updated = now, now
		rec.factors = append(rec.factors, f)
		return true, nil
	})
	if err != nil {
		return provider.Enrollment{}, err
	}
	return provider.Enrollment{Factor: p.publicFactor(req.Identity, &f), Secret: totp.EncodeSecret(secret), URI: uri}, nil
}

// validTOTPCode reports whether s could be a TOTP code: 3 to 8 digits.
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

// attempt checks code for f at now, applying the wrong-code limit and
// refusing replays. It reports whether the code approves and whether f
// changed.
func (p *Provider) attempt(op Op, f *factorRec, code string, now time.Time) (ok, changed bool, err error) {
	g := totp.Guard{LastStep: f.lastStep, Wrong: f.wrong, WindowStart: f.windowStart}
	ok, changed, locked := g.Check(totp.NewVerifier(f.secret, f.config()), code, now, p.factorMaxWrong, p.factorWindow)
	if locked > 0 {
		return false, false, &Error{Op: op, Kind: provider.ErrTooManyChecks, Wait: locked, msg: "too many wrong codes for this factor"}
	}
	f.lastStep, f.wrong, f.windowStart = g.LastStep, g.Wrong, g.WindowStart
	if ok {
		f.updated = now
	}
	return ok, changed, nil
}

// ConfirmFactor verifies an unverified factor with its first code.
func (p *Provider) ConfirmFactor(ctx context.Context, req provider.ConfirmRequest) (provider.Factor, error) {
	if err := ctx.Err(); err != nil {
		return provider.Factor{}, err
	}
	if !validTOTPCode(req.Code) {
		return provider.Factor{}, newErr(OpConfirm, provider.ErrInvalidRequest, "malformed code")
	}
	var out provider.Factor
	err := p.mutate(ctx, OpConfirm, req.Identity, false, func(rec *identityRec, now time.Time) (bool, error) {
		f := rec.find(req.FactorID)
		if f == nil {
			return false, newErr(OpConfirm, provider.ErrNotFound, "no such factor")
		}
		ok, changed, err := p.attempt(OpConfirm, f, req.Code, now)
		if err != nil {
			return false, err
		}
		rec.tried++
		if ok && !f.verified {
			f.verified = true
		}
		out = p.publicFactor(req.Identity, f)
		return changed, nil
	})
	return out, err
}

// ChallengeFactor checks a code of a verified factor. A code approves at
// most once: the factor's last accepted time step is updated in the same
// compare-and-swap that approves, so of concurrent challenges with one
// code, on any replicas, exactly one is approved.
func (p *Provider) ChallengeFactor(ctx context.Context, req provider.ChallengeRequest) (provider.Challenge, error) {
	if err := ctx.Err(); err != nil {
		return provider.Challenge{}, err
	}
	if !validTOTPCode(req.Code) {
		return provider.Challenge{}, newErr(OpChallenge, provider.ErrInvalidRequest, "malformed code")
	}
	var out provider.Challenge
	err := p.mutate(ctx, OpChallenge, req.Identity, false, func(rec *identityRec, now time.Time) (bool, error) {
		f := rec.find(req.FactorID)
		if f == nil {
			return false, newErr(OpChallenge, provider.ErrNotFound, "no such factor")
		}
		if !f.verified {
			return false, newErr(OpChallenge, provider.ErrInvalidRequest, "the factor is not verified")
		}
		ok, _, err := p.attempt(OpChallenge, f, req.Code, now)
		if err != nil {
			return false, err
		}
		rec.tried++
		c := challengeRec{id: randID(), factor: f.id, approved: ok, created: now}
		rec.challenges = append(rec.challenges, c)
		if n := len(rec.challenges); n > keptChallenges {
			rec.challenges = slices.Delete(rec.challenges, 0, n-keptChallenges)
		}
		out = publicChallenge(req.Identity, &c)
		return true, nil
	})
	return out, err
}

// FetchChallenge returns one of the identity's latest challenges.
func (p *Provider) FetchChallenge(ctx context.Context, identity, challengeID string) (provider.Challenge, error) {
	id, err := p.load(ctx, OpFactor, identity)
	rec := id.rec
	if err != nil {
		return provider.Challenge{}, err
	}
	if id, ok := parseRandID("YC", challengeID); ok && rec != nil {
		for i := range rec.challenges {
			if rec.challenges[i].id == id {
				return publicChallenge(identity, &rec.challenges[i]), nil
			}
		}
	}
	return provider.Challenge{}, newErr(OpFactor, provider.ErrNotFound, "no such challenge")
}

// FetchFactor returns a factor without its secret.
func (p *Provider) FetchFactor(ctx context.Context, identity, factorID string) (provider.Factor, error) {
	id, err := p.load(ctx, OpFactor, identity)
	rec := id.rec
	if err != nil {
		return provider.Factor{}, err
	}
	if rec != nil {
		if f := rec.find(factorID); f != nil {
			return p.publicFactor(identity, f), nil
		}
	}
	return provider.Factor{}, newErr(OpFactor, provider.ErrNotFound, "no such factor")
}

// ListFactors returns the identity's factors, oldest first, without
// secrets.
func (p *Provider) ListFactors(ctx context.Context, identity string) ([]provider.Factor, error) {
	id, err := p.load(ctx, OpFactor, identity)
	rec := id.rec
	if err != nil || rec == nil {
		return []provider.Factor{}, err
	}
	out := make([]provider.Factor, len(rec.factors))
	for i := range rec.factors {
		out[i] = p.publicFactor(identity, &rec.factors[i])
	}
	return out, nil
}

// DeleteFactor deletes a factor; its codes no longer work.
func (p *Provider) DeleteFactor(ctx context.Context, identity, factorID string) error {
	return p.mutate(ctx, OpDelete, identity, false, func(rec *identityRec, _ time.Time) (bool, error) {
		f := rec.find(factorID)
		if f == nil {
			return false, newErr(OpDelete, provider.ErrNotFound, "no such factor")
		}
		i := slices.IndexFunc(rec.factors, func(g factorRec) bool { return g.id == f.id })
		rec.factors = slices.Delete(rec.factors, i, i+1)
		return true, nil
	})
}

// DeleteIdentity deletes the identity with all its factors and challenges.
// Its record is emptied rather than deleted (the empty record expires
// after 400 days), so that every replica can tell a deletion from a loss.
func (p *Provider) DeleteIdentity(ctx context.Context, identity string) error {
	id, err := p.load(ctx, OpDelete, identity)
	if err != nil {
		return err
	}
	for {
		if id.rec == nil {
			return newErr(OpDelete, provider.ErrNotFound, "no such identity")
		}
		tk := p.recall.ticket()
		cur, err := p.write(ctx, id, nil, 0, tombstoneTTL)
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return failure(OpDelete, err)
		}
		if id, err = p.openIdentity(OpDelete, id.key, cur, tk); err != nil {
			return err
		}
	}
}

// Rekey seals an identity's record again under the primary key, and the
// store's name key with it (see WithOlderKeys). Run it over every identity
// once every replica has the new key as primary, before dropping the older
// key. An identity without a record gives ErrNotFound.
func (p *Provider) Rekey(ctx context.Context, identity string) error {
	if err := p.ensureKey(ctx, OpFactor); err != nil {
		return err
	}
	if err := p.rekeyNames(ctx, OpFactor); err != nil {
		return err
	}
	return p.mutate(ctx, OpFactor, identity, false, func(*identityRec, time.Time) (bool, error) { return true, nil })
}
