// Package recovery gives users a way back when they lose a factor: a set
// of single-use recovery codes, generated once and shown once, that work
// beside any provider (fake, twilio, vonage, selfhosted, route) because
// they live in the application's own [store.Store], not at the provider.
//
// It is a subpackage of verify rather than part of it because it needs a
// store.Store and its own options, whereas a verify.Client needs only a
// provider; an application that does not offer recovery codes imports
// nothing of it.
//
// # Codes
//
// A set has 10 codes (WithCount: 5 to 20). A code is 12 characters of
// Crockford's base32 alphabet, lowercase ("0123456789abcdefghjkmnpqrstvwxyz":
// digits and letters without i, l, o and u), 60 bits from crypto/rand,
// shown in groups of four ("7k2m-q9xd-4hfa"). Input is forgiving: case,
// spaces and dashes are ignored, and o is read as 0, i and l as 1.
//
// # Storage
//
// Only slow hashes are stored: PBKDF2-HMAC-SHA256 (crypto/pbkdf2) with a
// 16-byte random salt per code and 10,000 iterations by default
// (WithIterations), 32-byte keys. The cost protects a stolen store dump;
// because each code has 60 random bits (not a password, so the 600,000
// iterations advised for passwords are not needed), 10,000 iterations put
// an offline search of one code at about 2^74 SHA-256 compressions. A
// check hashes every code of the set (used ones too, so its duration does
// not tell which code matched) and compares with crypto/subtle: 10 hashes,
// measured at 2 to 5 ms each on one server core, so 20 to 50 ms a check
// (BenchmarkUse; docs/factors.md has the figures).
//
// The set is one record per identity, stored with store.NoExpiry and
// changed only by compare-and-swap, so a code is accepted at most once even
// when several requests (or replicas) race to use it: exactly one wins.
//
// # Regeneration
//
// [Codes.Issue] creates the first set of an identity and refuses when one
// exists. [Codes.Regenerate] replaces it and needs a [Proof]: the ID of a
// challenge of the identity's current factor that the user has just
// approved (verify.Client.CheckFactor). What counts is checked again at the
// provider, not taken from the caller: the challenge must be approved, of
// this identity, answered at most WithProofMaxAge ago (5 minutes by
// default), of a factor that still exists and is verified, and not used as
// a proof before. A recovery code is not a proof.
//
// # Events and secrecy
//
// Using a code and issuing a set are reported as a verify.LifecycleEvent
// (EventRecoveryCodeUsed, EventRecoveryCodesIssued) to WithOnEvent. No
// code appears in any error, event or formatted value: [Set] prints only
// how many codes it holds, for every fmt verb.
package recovery

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
)

// Alphabet is the code alphabet: Crockford's base32, lowercase.
const Alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// CodeLength is the number of alphabet characters in a code (60 bits).
const CodeLength = 12

// DefaultIterations is the default PBKDF2 iteration count.
const DefaultIterations = 10000

const (
	defaultCount    = 10
	defaultMaxAge   = 5 * time.Minute
	defaultMaxTries = 10
	defaultWindow   = time.Hour
	saltLen         = 16
	hashLen         = 32
	// futureSkew is how far in the future a proof's timestamp may be (the
	// provider's clock against ours).
	futureSkew = time.Minute
	// maxRetries bounds the compare-and-swap loops.
	maxRetries = 32
)

// FactorSource looks up the challenge and factor a [Proof] names.
// *verify.Client implements it.
type FactorSource interface {
	FetchChallenge(ctx context.Context, identity, challengeID string) (verify.Challenge, error)
	FetchFactor(ctx context.Context, identity, factorID string) (verify.Factor, error)
}

// Proof is a fresh proof that the caller holds the identity's current
// factor: the ID of a challenge the user has just approved with
// verify.Client.CheckFactor. See the package documentation for what is
// checked.
type Proof struct {
	// ChallengeID is the approved challenge's ID.
	ChallengeID string
}

// Errors. None of them carries a code.
var (
	// ErrAlreadyIssued: Issue was called for an identity that has a set;
	// use Regenerate with a Proof.
	ErrAlreadyIssued = errors.New("recovery: codes already issued for this identity")
	// ErrBadProof: the Proof given to Regenerate does not prove a fresh
	// approval of the identity's current factor. The error's text says
	// which check failed.
	ErrBadProof = errors.New("recovery: not a fresh proof of the current factor")
	// ErrInvalid matches provider.ErrInvalidRequest: an identity that is
	// not valid (see verify.ValidIdentity) or a bad option.
	ErrInvalid = fmt.Errorf("recovery: invalid argument (%w)", provider.ErrInvalidRequest)
)

// limitError is the error of too many attempts; it matches
// provider.ErrTooManyChecks and reports when to try again.
type limitError struct{ wait time.Duration }

func (e *limitError) Error() string {
	return "recovery: too many recovery code attempts; retry in " + e.wait.Round(time.Second).String()
}
func (e *limitError) Unwrap() error             { return provider.ErrTooManyChecks }
func (e *limitError) RetryAfter() time.Duration { return e.wait }

// quietError matches errs but prints only msg.
type quietError struct {
	msg  string
	errs []error
}

func (e *quietError) Error() string   { return e.msg }
func (e *quietError) Unwrap() []error { return e.errs }

// Option configures Codes.
type Option func(*config) error

type config struct {
	now        func() time.Time
	iterations int
	count      int
	maxAge     time.Duration
	maxTries   int
	window     time.Duration
	prefix     string
	onEvent    func(context.Context, verify.LifecycleEvent)
}

// WithClock sets the clock (for tests).
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return fmt.Errorf("%w: WithClock(nil)", ErrInvalid)
		}
		c.now = now
		return nil
	}
}

// WithIterations sets the PBKDF2 iteration count of new sets: 1,000 to
// 1,000,000; DefaultIterations by default. Existing sets keep the count
// they were stored with. Low counts are for tests.
func WithIterations(n int) Option {
	return func(c *config) error {
		if n < 1000 || n > 1_000_000 {
			return fmt.Errorf("%w: WithIterations wants 1000 to 1000000", ErrInvalid)
		}
		c.iterations = n
		return nil
	}
}

// WithCount sets how many codes a set has: 5 to 20; 10 by default.
func WithCount(n int) Option {
	return func(c *config) error {
		if n < 5 || n > 20 {
			return fmt.Errorf("%w: WithCount wants 5 to 20", ErrInvalid)
		}
		c.count = n
		return nil
	}
}

// WithProofMaxAge sets how long ago a Proof's challenge may have been
// approved: 30 seconds to 30 minutes; 5 minutes by default.
func WithProofMaxAge(d time.Duration) Option {
	return func(c *config) error {
		if d < 30*time.Second || d > 30*time.Minute {
			return fmt.Errorf("%w: WithProofMaxAge wants 30s to 30m", ErrInvalid)
		}
		c.maxAge = d
		return nil
	}
}

// WithAttemptLimit sets how many codes, right or wrong, an identity may
// try in a window (from the first attempt): 3 to 100 in 1 minute to 24
// hours; 10 an hour by default. Beyond it Use fails with an error
// matching verify.ErrTooManyChecks, with verify.RetryAfter set.
func WithAttemptLimit(n int, window time.Duration) Option {
	return func(c *config) error {
		if n < 3 || n > 100 || window < time.Minute || window > 24*time.Hour {
			return fmt.Errorf("%w: WithAttemptLimit wants 3 to 100 in 1m to 24h", ErrInvalid)
		}
		c.maxTries, c.window = n, window
		return nil
	}
}

// WithKeyPrefix sets the prefix of the store keys ("recovery:" by
// default), to share a store with other users of it.
func WithKeyPrefix(p string) Option {
	return func(c *config) error {
		if p == "" {
			return fmt.Errorf("%w: WithKeyPrefix(\"\")", ErrInvalid)
		}
		c.prefix = p
		return nil
	}
}

// WithOnEvent sets a function called after a code was accepted
// (EventRecoveryCodeUsed) and after a set was issued
// (EventRecoveryCodesIssued). It runs on the caller's goroutine.
func WithOnEvent(fn func(ctx context.Context, e verify.LifecycleEvent)) Option {
	return func(c *config) error {
		c.onEvent = fn
		return nil
	}
}

// Codes issues and checks recovery codes. It is safe for concurrent use,
// and several processes may share one store.
type Codes struct {
	st      store.Store
	factors FactorSource
	cfg     config
}

// New returns Codes keeping its sets in st and checking proofs with
// factors (usually the application's *verify.Client).
func New(st store.Store, factors FactorSource, opts ...Option) (*Codes, error) {
	if st == nil || factors == nil {
		return nil, fmt.Errorf("%w: New needs a store and a FactorSource", ErrInvalid)
	}
	c := &Codes{st: st, factors: factors, cfg: config{
		now: time.Now, iterations: DefaultIterations, count: defaultCount, maxAge: defaultMaxAge,
		maxTries: defaultMaxTries, window: defaultWindow, prefix: "recovery:",
	}}
	for _, o := range opts {
		if err := o(&c.cfg); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Set is a freshly generated set of codes, to show the user once. Only
// Codes returns them; every fmt verb prints just their number.
type Set struct {
	codes []string
}

// Codes returns the codes, grouped for reading ("7k2m-q9xd-4hfa").
func (s Set) Codes() []string { return append([]string(nil), s.codes...) }

// Len is the number of codes.
func (s Set) Len() int { return len(s.codes) }

// String describes the set without its codes.
func (s Set) String() string { return "recovery.Set{Len:" + strconv.Itoa(len(s.codes)) + "}" }

// GoString is like String.
func (s Set) GoString() string { return s.String() }

// Format prints what String does for every verb, so no verb prints a code.
func (s Set) Format(f fmt.State, verb rune) {
	str := s.String()
	if verb == 'q' {
		str = strconv.Quote(str)
	}
	_, _ = f.Write([]byte(str))
}

// Result is the outcome of Use.
type Result struct {
	// Accepted reports whether the code was one of the identity's unused
	// codes; it is now used.
	Accepted bool
	// Remaining is how many unused codes the identity has left (after this
	// one, when accepted). 0 for an identity without codes.
	Remaining int
}

// record is the stored set.
type record struct {
	V          int     `json:"v"`
	Iterations int     `json:"iter"`
	IssuedAt   int64   `json:"issued"`
	Codes      []entry `json:"codes"`
}

type entry struct {
	Salt   []byte `json:"s"`
	Hash   []byte `json:"h"`
	UsedAt int64  `json:"u,omitempty"`
}

func (r *record) remaining() int {
	n := 0
	for _, e := range r.Codes {
		if e.UsedAt == 0 {
			n++
		}
	}
	return n
}

func (c *Codes) key(kind, s string) string {
	sum := sha256.Sum256([]byte(s))
	return c.cfg.prefix + kind + ":" + hex.EncodeToString(sum[:16])
}

func checkIdentity(identity string) error {
	if !provider.ValidIdentity(identity) {
		return fmt.Errorf("%w: identity must be 8 to 64 letters, digits and dashes", ErrInvalid)
	}
	return nil
}

// Issue generates the identity's first set of codes. It fails with
// ErrAlreadyIssued when the identity has a set (used up or not): replacing
// one needs Regenerate and a Proof. Call it where the user has just
// confirmed a factor, and show the codes once.
func (c *Codes) Issue(ctx context.Context, identity string) (Set, error) {
	if err := checkIdentity(identity); err != nil {
		return Set{}, err
	}
	return c.store(ctx, identity, 0, true)
}

// Regenerate replaces the identity's set (or creates one) after checking
// proof; the old codes stop working. See the package documentation for
// what counts as a proof. A proof is accepted once.
func (c *Codes) Regenerate(ctx context.Context, identity string, proof Proof) (Set, error) {
	if err := checkIdentity(identity); err != nil {
		return Set{}, err
	}
	if err := c.checkProof(ctx, identity, proof); err != nil {
		return Set{}, err
	}
	rec, err := c.st.Get(ctx, c.key("set", identity))
	if err != nil {
		return Set{}, err
	}
	return c.store(ctx, identity, rec.Version, false)
}

func (c *Codes) checkProof(ctx context.Context, identity string, p Proof) error {
	if p.ChallengeID == "" || len(p.ChallengeID) > 128 {
		return fmt.Errorf("%w: no challenge ID", ErrBadProof)
	}
	ch, err := c.factors.FetchChallenge(ctx, identity, p.ChallengeID)
	if err != nil {
		// The cause's text quotes the ID, which a confused caller may
		// have filled with a recovery code: keep it out of the text.
		if errors.Is(err, provider.ErrNotFound) {
			return &quietError{msg: ErrBadProof.Error() + ": no such challenge", errs: []error{ErrBadProof, err}}
		}
		return &quietError{msg: "recovery: fetching the proof's challenge failed (" + string(verify.CodeOf(err)) + ")", errs: []error{err}}
	}
	if ch.Identity != "" && ch.Identity != identity {
		return fmt.Errorf("%w: the challenge is another identity's", ErrBadProof)
	}
	if !ch.Approved() {
		return fmt.Errorf("%w: the challenge is %s, not approved", ErrBadProof, ch.Status)
	}
	at := ch.RespondedAt
	if at.IsZero() {
		at = ch.UpdatedAt
	}
	if at.IsZero() {
		at = ch.CreatedAt
	}
	now := c.cfg.now()
	if at.IsZero() || now.Sub(at) > c.cfg.maxAge || at.Sub(now) > futureSkew {
		return fmt.Errorf("%w: the challenge was not approved within the last %s", ErrBadProof, c.cfg.maxAge)
	}
	f, err := c.factors.FetchFactor(ctx, identity, ch.FactorID)
	if err != nil {
		if errors.Is(err, provider.ErrNotFound) {
			return &quietError{msg: ErrBadProof.Error() + ": the challenge's factor no longer exists", errs: []error{ErrBadProof, err}}
		}
		return err
	}
	if !f.Verified() {
		return fmt.Errorf("%w: the challenge's factor is not verified", ErrBadProof)
	}
	// A proof is spent once: a record per (identity, challenge) that
	// outlives the proof's freshness.
	if _, err := c.st.CompareAndSwap(ctx, c.key("proof", identity+"\x00"+p.ChallengeID), 0, []byte{1}, 2*c.cfg.maxAge+futureSkew); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%w: the challenge was already used as a proof", ErrBadProof)
		}
		return err
	}
	return nil
}

// store generates a set and stores it over version old (0: absent).
func (c *Codes) store(ctx context.Context, identity string, old uint64, first bool) (Set, error) {
	codes := make([]string, c.cfg.count)
	rec := record{V: 1, Iterations: c.cfg.iterations, IssuedAt: c.cfg.now().Unix(), Codes: make([]entry, c.cfg.count)}
	for i := range codes {
		raw, err := newCode()
		if err != nil {
			return Set{}, err
		}
		salt := make([]byte, saltLen)
		if _, err := rand.Read(salt); err != nil {
			return Set{}, err
		}
		h, err := hash(raw, salt, rec.Iterations)
		if err != nil {
			return Set{}, err
		}
		rec.Codes[i] = entry{Salt: salt, Hash: h}
		codes[i] = raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12]
	}
	val, err := json.Marshal(rec)
	if err != nil {
		return Set{}, err
	}
	key := c.key("set", identity)
	for range maxRetries {
		cur, err := c.st.CompareAndSwap(ctx, key, old, val, store.NoExpiry)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) {
			return Set{}, err
		}
		if first && cur.Found() {
			return Set{}, ErrAlreadyIssued
		}
		// Regenerate raced another change: the proof stands, replace
		// what is there now.
		old = cur.Version
	}
	c.emit(ctx, verify.LifecycleEvent{Kind: verify.EventRecoveryCodesIssued, Identity: identity, Remaining: len(codes)})
	return Set{codes: codes}, nil
}

func (c *Codes) emit(ctx context.Context, e verify.LifecycleEvent) {
	if c.cfg.onEvent == nil {
		return
	}
	e.Provider = "recovery"
	if e.Time.IsZero() {
		e.Time = c.cfg.now()
	}
	c.cfg.onEvent(ctx, e)
}

// Use checks code against the identity's unused codes. A right code is
// accepted once, also under concurrent use: of several requests racing
// with the same code exactly one is accepted. A wrong, used or malformed
// code is an outcome (Accepted false), not an error. More than the attempt
// limit fails with an error matching verify.ErrTooManyChecks.
func (c *Codes) Use(ctx context.Context, identity, code string) (Result, error) {
	if err := checkIdentity(identity); err != nil {
		return Result{}, err
	}
	n, resetAt, err := c.st.Incr(ctx, c.key("tries", identity), c.cfg.window)
	if err != nil {
		return Result{}, err
	}
	if n > int64(c.cfg.maxTries) {
		wait := resetAt.Sub(c.cfg.now())
		if wait < time.Second {
			wait = time.Second
		}
		return Result{}, &limitError{wait: wait}
	}
	norm, wellFormed := normalize(code)
	key := c.key("set", identity)
	cur, err := c.st.Get(ctx, key)
	if err != nil {
		return Result{}, err
	}
	for range maxRetries {
		if !cur.Found() {
			return Result{}, nil
		}
		var rec record
		if err := json.Unmarshal(cur.Value, &rec); err != nil || rec.V != 1 {
			return Result{}, fmt.Errorf("recovery: stored set is not readable")
		}
		match := -1
		// Hash against every entry, used ones too, so the duration does
		// not depend on which code matched.
		for i, e := range rec.Codes {
			h, err := hash(norm, e.Salt, rec.Iterations)
			if err != nil {
				return Result{}, err
			}
			if subtle.ConstantTimeCompare(h, e.Hash) == 1 && wellFormed && e.UsedAt == 0 {
				match = i
			}
		}
		if match < 0 {
			return Result{Remaining: rec.remaining()}, nil
		}
		rec.Codes[match].UsedAt = c.cfg.now().Unix()
		val, err := json.Marshal(rec)
		if err != nil {
			return Result{}, err
		}
		next, err := c.st.CompareAndSwap(ctx, key, cur.Version, val, store.NoExpiry)
		if err == nil {
			left := rec.remaining()
			c.emit(ctx, verify.LifecycleEvent{Kind: verify.EventRecoveryCodeUsed, Identity: identity, Remaining: left})
			return Result{Accepted: true, Remaining: left}, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return Result{}, err
		}
		cur = next // someone else changed the set: decide again on it
	}
	return Result{}, fmt.Errorf("recovery: the set kept changing (%w)", provider.ErrUnavailable)
}

// Remaining reports how many unused codes the identity has (0 without a
// set).
func (c *Codes) Remaining(ctx context.Context, identity string) (int, error) {
	if err := checkIdentity(identity); err != nil {
		return 0, err
	}
	cur, err := c.st.Get(ctx, c.key("set", identity))
	if err != nil || !cur.Found() {
		return 0, err
	}
	var rec record
	if err := json.Unmarshal(cur.Value, &rec); err != nil {
		return 0, fmt.Errorf("recovery: stored set is not readable")
	}
	return rec.remaining(), nil
}

// Delete removes the identity's set, as when the account is deleted;
// afterwards Issue may create a new one. Deleting an absent set is not an
// error.
func (c *Codes) Delete(ctx context.Context, identity string) error {
	if err := checkIdentity(identity); err != nil {
		return err
	}
	key := c.key("set", identity)
	cur, err := c.st.Get(ctx, key)
	for range maxRetries {
		if err != nil || !cur.Found() {
			return err
		}
		cur, err = c.st.CompareAndDelete(ctx, key, cur.Version)
		if err == nil {
			return nil
		}
		if errors.Is(err, store.ErrConflict) {
			err = nil
		}
	}
	return fmt.Errorf("recovery: the set kept changing (%w)", provider.ErrUnavailable)
}

// newCode returns CodeLength characters of Alphabet from crypto/rand:
// each byte's low 5 bits, which are uniform because 256 is a multiple of 32.
func newCode() (string, error) {
	var b [CodeLength]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = Alphabet[b[i]&31]
	}
	return string(b[:]), nil
}

// normalize reads a code as typed: case, spaces and dashes ignored, o as
// 0, i and l as 1. It reports whether the result is a well-formed code;
// when not, it still returns CodeLength bytes so a check costs the same.
func normalize(s string) (string, bool) {
	var b strings.Builder
	ok := true
	for _, r := range strings.ToLower(s) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			continue
		case r == 'o':
			r = '0'
		case r == 'i' || r == 'l':
			r = '1'
		}
		if r > 0x7f || strings.IndexByte(Alphabet, byte(r)) < 0 || b.Len() >= CodeLength {
			ok = false
			break
		}
		b.WriteByte(byte(r))
	}
	if b.Len() != CodeLength {
		ok = false
	}
	if !ok {
		return strings.Repeat("0", CodeLength), false
	}
	return b.String(), true
}

func hash(code string, salt []byte, iterations int) ([]byte, error) {
	return pbkdf2.Key(sha256.New, code, salt, iterations, hashLen)
}
