package engine

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/verifykit/verifykit/internal/pushsig"
	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

// FactorStore keeps a Factors' state in a store.Store, which any number of
// replicas may share. The unit of consistency is the identity: one record
// holds its entity, its factors (TOTP secrets and check state, push keys
// and configuration), its latest challenges and its unspent access tokens,
// and every operation reads it, runs the same rules as in memory on it,
// and writes it back with one compare-and-swap when they changed it. An
// access token also has a small record naming its identity, for the
// device that presents it without one.
//
// The identity's record is the system of record for its factors: it is
// written with store.NoExpiry, and a deleted identity's record is emptied
// (a tombstone kept TombstoneTTL), not deleted, so that a store decorator
// can tell a deletion from a loss; the record of an identity that holds
// access tokens alone is kept TombstoneTTL too. Passkey factors are kept in memory
// only: over a store their operations fail with ErrUnsupported; so does
// ListEntities.
type FactorStore struct {
	// Store holds the records.
	Store store.Store
	// Key returns the store key of an identity's record (kind
	// KeyIdentity, name the identity) or of an access token's (kind
	// KeyToken, name the hex SHA-256 of the token).
	Key func(ctx context.Context, kind byte, name string) (string, error)
	// Head is how many leading bytes of every record Store (a decorator)
	// owns: the engine writes them back as it read them, zeros for a new
	// record.
	Head int
	// TombstoneTTL is how long the emptied record of a deleted identity
	// is kept; zero: 400 days.
	TombstoneTTL time.Duration
	// ChallengesKept is how many of an identity's latest challenges are
	// kept; zero: 100, as in memory.
	ChallengesKept int

	verifiers verifiers
}

// The kinds of store keys, for FactorStore.Key.
const (
	KeyIdentity byte = 'e'
	KeyToken    byte = 't'
)

const (
	// maxStoreTries bounds the compare-and-swaps of one operation that
	// other writers win: each lost one is another operation done, so the
	// bound is only a guard against an identity changed without pause by
	// many callers at once (ErrUnavailable, reasonContention). 64 was too
	// few for 24 callers on one identity over Redis (servertest's
	// scale-out test).
	maxStoreTries = 1000
	// maxTokensStored bounds the unspent access tokens of one identity
	// over a store; the oldest is dropped first.
	maxTokensStored = 10
	// factorRecordVersion starts an identity's record.
	factorRecordVersion = 0xf2
	// reasonContention: an operation lost its compare-and-swap to other
	// writers of the identity maxStoreTries times.
	reasonContention = "contention"
	// reasonUnreadable: an identity's record does not decode.
	reasonUnreadable = "record_unreadable"
)

func (x *Factors) keptChallenges() int {
	if x.c.Store != nil && x.c.Store.ChallengesKept > 0 {
		return x.c.Store.ChallengesKept
	}
	return maxChallengesKept
}

// newScratch returns an empty Factors for one operation over the store.
func (x *Factors) newScratch() *Factors {
	return &Factors{c: x.c, scratch: true, auths: x.auths, entities: map[string]*entity{}, byID: map[string]*factor{}, challenges: map[string]*challenge{}}
}

// authCache remembers, over a store, the request JWTs that verified, by
// the key that signed them, until they expire: a device's next calls with
// the same token are not verified again, as a factor in memory remembers
// its last one. It is this process's; nothing of it is stored.
type authCache struct {
	mu sync.Mutex
	m  map[[32]byte]authSeen // by SHA-256 of the key and the token
}

type authSeen struct{ nbf, exp time.Time }

// maxAuthsRemembered bounds an authCache.
const maxAuthsRemembered = 10_000

func authKey(key, auth string) [32]byte {
	h := sha256.New()
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(auth))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// get returns auth and its window when it verified with key, else "".
func (a *authCache) get(key, auth string) (string, time.Time, time.Time) {
	k := authKey(key, auth)
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.m[k]; ok {
		return auth, s.nbf, s.exp
	}
	return "", time.Time{}, time.Time{}
}

// put remembers that auth verified with key, valid from nbf to exp.
func (a *authCache) put(key, auth string, nbf, exp, now time.Time) {
	k := authKey(key, auth)
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.m) >= maxAuthsRemembered {
		for k, s := range a.m {
			if !now.Before(s.exp) {
				delete(a.m, k)
			}
		}
		if len(a.m) >= maxAuthsRemembered {
			clear(a.m)
		}
	}
	a.m[k] = authSeen{nbf, exp}
}

// stored runs fn (see run) on identity's record: it reads the record,
// decodes it into a scratch Factors, runs fn, and when fn changed the
// record writes it back by compare-and-swap; when another writer changed
// it first, it runs fn again on the current record, at most maxStoreTries
// times. ev is set anew for each run; fn's error is returned once the
// record is written (a wrong code is counted even when refused).
func (x *Factors) stored(ctx context.Context, identity string, fn func(*Factors, time.Time, *FactorEvent) error, ev *FactorEvent) error {
	// fn gets a copy: were ev given to fn, run's event would escape to
	// the heap in memory too.
	e := *ev
	err := x.storedOn(ctx, identity, fn, &e)
	*ev = e
	return err
}

func (x *Factors) storedOn(ctx context.Context, identity string, fn func(*Factors, time.Time, *FactorEvent) error, ev *FactorEvent) error {
	fs := x.c.Store
	base := *ev
	if identity == "" {
		// An operation that found no identity (an unknown access token):
		// fn refuses it on an empty record, which is not written.
		ev.At = x.c.Now()
		return fn(x.newScratch(), ev.At, ev)
	}
	key, r, err := x.read(ctx, identity)
	buf := encBufs.Get().(*[]byte)
	var s *Factors
	defer func() { clear((*buf)[:cap(*buf)]); encBufs.Put(buf); fs.verifiers.put(s) }() // a retry may leave a longer record's tail
	for try := 1; err == nil; try++ {
		if s, err = x.decode(base.Op, identity, r); err != nil {
			break
		}
		*ev = base
		ev.At = x.c.Now()
		ferr := fn(s, ev.At, ev)
		// The head as read (zeros for a new record), then the body, into
		// a reused buffer, cleared after (it holds secrets): a Store keeps
		// no slice it was given.
		out := append((*buf)[:0], make([]byte, fs.Head)...)
		copy(out, r.Value)
		out = s.encodeIdentity(out, identity, ev.At)
		*buf = out
		if bytes.Equal(out[fs.Head:], r.Value[min(fs.Head, len(r.Value)):]) {
			return ferr
		}
		ttl := store.NoExpiry
		if s.entities[identity] == nil {
			// Emptied, or access tokens alone: kept as a tombstone.
			ttl = fs.TombstoneTTL
			if ttl == 0 {
				ttl = 400 * 24 * time.Hour
			}
		}
		cur, err := fs.Store.CompareAndSwap(ctx, key, r.Version, out, ttl)
		switch {
		case err == nil:
			return ferr
		case !errors.Is(err, store.ErrConflict):
			return err
		case try == maxStoreTries:
			return &Error{Op: base.Op, Kind: provider.ErrUnavailable, Reason: reasonContention, Msg: "too many concurrent changes of this identity; try again"}
		}
		r = cur
	}
	return err
}

// read returns the key and the record of identity.
func (x *Factors) read(ctx context.Context, identity string) (string, store.Record, error) {
	key, err := x.c.Store.Key(ctx, KeyIdentity, identity)
	if err != nil {
		return "", store.Record{}, err
	}
	r, err := x.c.Store.Store.Get(ctx, key)
	return key, r, err
}

// decode returns a scratch Factors holding identity's record r.
func (x *Factors) decode(op, identity string, r store.Record) (*Factors, error) {
	s := x.newScratch()
	if r.Found() && (len(r.Value) < x.c.Store.Head || s.decodeIdentity(identity, r.Value[x.c.Store.Head:]) != nil) {
		return nil, &Error{Op: op, Kind: provider.ErrUnavailable, Reason: reasonUnreadable, Msg: "an identity's record is unreadable"}
	}
	return s, nil
}

var encBufs = sync.Pool{New: func() any { return new([]byte) }}

// verifiers keeps the TOTP verifiers of the factors this process used
// last, by factor ID, so that a factor's next operation does not derive
// its HMAC keys again (the process holds the keys that open every record:
// it learns nothing more). An operation takes its factors' verifiers out
// and puts them back when it is done: a Verifier serves one goroutine.
type verifiers struct {
	mu sync.Mutex
	m  map[string]keptVerifier
}

type keptVerifier struct {
	secret []byte
	cfg    provider.TOTPConfig
	v      *totp.Verifier
}

// maxVerifiers bounds a verifiers; when full, it starts again empty.
const maxVerifiers = 1024

// take returns the verifier of factor id for secret and cfg: the one kept,
// if it was made for them, else a new one.
func (c *verifiers) take(id string, secret []byte, cfg provider.TOTPConfig) *totp.Verifier {
	c.mu.Lock()
	k, ok := c.m[id]
	delete(c.m, id)
	c.mu.Unlock()
	if ok && k.cfg == cfg && bytes.Equal(k.secret, secret) {
		return k.v
	}
	return totp.NewVerifier(secret, cfg)
}

// put keeps the verifiers of s's TOTP factors (s may be nil), with copies
// of the strings that share the decoded record's memory, which holds
// every secret of the identity.
func (c *verifiers) put(s *Factors) {
	if s == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, fa := range s.byID {
		if fa.ver != nil {
			if len(c.m) >= maxVerifiers || c.m == nil {
				c.m = make(map[string]keptVerifier)
			}
			cfg := fa.cfg
			cfg.Algorithm = provider.Algorithm(strings.Clone(string(cfg.Algorithm)))
			c.m[strings.Clone(id)] = keptVerifier{fa.secret, cfg, fa.ver}
		}
	}
}

// view runs fn on identity's factors without changing them: in memory
// with the lock held, over a store on a scratch copy of its record.
func (x *Factors) view(ctx context.Context, identity string, fn func(x *Factors, now time.Time) error) error {
	if x.c.Store == nil {
		x.mu.Lock()
		defer x.mu.Unlock()
		return fn(x, x.c.Now())
	}
	_, r, err := x.read(ctx, identity)
	if err != nil {
		return err
	}
	s, err := x.decode("", identity, r)
	if err != nil {
		return err
	}
	defer x.c.Store.verifiers.put(s)
	return fn(s, x.c.Now())
}

// tokenIdentity returns the identity an access token was issued for, or
// "" when it is unknown.
func (x *Factors) tokenIdentity(ctx context.Context, hash [32]byte) (string, error) {
	if x.c.Store == nil {
		x.mu.Lock()
		defer x.mu.Unlock()
		if t := x.push.tokens[hash]; t != nil {
			return t.t.Identity, nil
		}
		return "", nil
	}
	key, err := x.c.Store.Key(ctx, KeyToken, hex.EncodeToString(hash[:]))
	if err != nil {
		return "", err
	}
	r, err := x.c.Store.Store.Get(ctx, key)
	if err != nil || !r.Found() || len(r.Value) < x.c.Store.Head {
		return "", err
	}
	if id := string(r.Value[x.c.Store.Head:]); provider.ValidIdentity(id) {
		return id, nil
	}
	return "", nil
}

// storeToken writes the record that names t's identity, for the device
// that presents the token, over a store.
func (x *Factors) storeToken(ctx context.Context, secret string, t provider.AccessToken) error {
	if x.c.Store == nil {
		return nil
	}
	hash := sha256.Sum256([]byte(secret))
	key, err := x.c.Store.Key(ctx, KeyToken, hex.EncodeToString(hash[:]))
	if err != nil {
		return err
	}
	v := append(make([]byte, x.c.Store.Head, x.c.Store.Head+len(t.Identity)), t.Identity...)
	_, err = x.c.Store.Store.CompareAndSwap(ctx, key, 0, v, t.ExpiresAt.Sub(t.CreatedAt))
	return err
}

// The record of an identity, after factorRecordVersion (integers are
// uvarints unless said otherwise, strings and byte strings a uvarint
// length and the bytes; a time is 8 bytes of Unix nanoseconds, 0 for
// none, and a later time of the same thing (updated, expires, responded)
// its distance from the first, zigzag plus one, 0 for none (appendSince);
// an ID is compact when it ends in 32 lower-case hex digits (appendID); a
// status is 1 + its index among the known ones, or 0 and the string
// (appendKnown); maps and lists that may be nil a count plus one, 0 for
// nil):
//
//	identity; 0 (no entity: only access tokens, after two zero counts)
//	  or 1, entity ID, created, updated
//	factors: count, then each: ID, name, status, created, updated, type
//	  (0 TOTP: digits, period in seconds, skew, algorithm, secret, last
//	  step (a varint), wrong codes, window start;
//	  1 push: public key, platform, app ID, notification token, SDK
//	  version, credential ID, metadata (sorted), wrong signatures, since)
//	challenges: count, then each: ID, factor (1 + its index among the
//	  factors, or 0 and its ID), status, created, updated, expires,
//	  responded, push (0 none; 1, or 2 when its details carry the date:
//	  message, fields, hidden details (sorted))
//	access tokens: count, then each: SHA-256 (32 bytes), ID, friendly
//	  name, created, expires
//
// A deleted identity's record is empty.

func appendTime(b []byte, t time.Time) []byte {
	var n uint64
	if !t.IsZero() {
		n = uint64(t.UnixNano())
	}
	return binary.BigEndian.AppendUint64(b, n)
}

func (d *decoder) optTime() time.Time {
	if n := d.uint64(); n != 0 {
		return time.Unix(0, int64(n)).UTC()
	}
	return time.Time{}
}

var (
	factorStatuses    = [...]string{string(provider.FactorVerified), string(provider.FactorUnverified)}
	challengeStatuses = [...]string{string(provider.ChallengeApproved), string(provider.ChallengePending),
		string(provider.ChallengeDenied), string(provider.ChallengeExpired)}
)

// rdecoder decodes an identity's record: the strings of its challenges
// share one copy of them (src), rather than one allocation each; without
// src, each string is one.
type rdecoder struct {
	decoder
	src string          // the challenges, as a string
	ids strings.Builder // the compact IDs, spelled out (see id)
}

func (d *rdecoder) string() string {
	if d.src == "" {
		return d.decoder.string()
	}
	n := d.uvarint()
	off := len(d.src) - len(d.b)
	if d.bytes(int(n)) == nil {
		return ""
	}
	return d.src[off : off+int(n)]
}

// optMap decodes what appendMap wrote, checking its keys are sorted.
func (d *rdecoder) optMap() map[string]string {
	r := rdecoder{decoder: decoder{b: d.b}, src: d.src} // reads again what skipMap checks
	n := r.uvarint()
	if d.skipMap(); n == 0 || d.err != nil {
		return nil
	}
	m := make(map[string]string, min(n-1, 64))
	for range n - 1 {
		k := r.string()
		m[k] = r.string()
	}
	return m
}

// appendKnown appends s: 1 + its index in known, or 0 and s.
func appendKnown(b []byte, s string, known []string) []byte {
	if i := slices.Index(known, s); i >= 0 {
		return append(b, byte(i+1))
	}
	return appendString(append(b, 0), s)
}

// known decodes what appendKnown wrote.
func (d *rdecoder) known(known []string) string {
	switch i := int(d.byte()); {
	case i == 0:
		return d.string()
	case i <= len(known):
		return known[i-1]
	}
	d.err = errRecord
	return ""
}

// appendID appends an ID: 1, its prefix (up to 8 bytes) and the 16 bytes
// that its 32 trailing lower-case hex digits spell; or 0 and the ID.
func appendID(b []byte, id string) []byte {
	if raw, ok := compactID(id); ok {
		return append(appendString(append(b, 1), id[:len(id)-32]), raw[:]...)
	}
	return appendString(append(b, 0), id)
}

// compactID returns the 16 bytes that id's 32 trailing lower-case hex
// digits spell, if at most 8 bytes come before them.
func compactID(id string) (raw [16]byte, ok bool) {
	if n := len(id) - 32; n >= 0 && n <= 8 && !strings.ContainsAny(id[n:], "ABCDEF") {
		_, err := hex.Decode(raw[:], []byte(id[n:]))
		return raw, err == nil
	}
	return raw, false
}

// id decodes what appendID wrote.
func (d *rdecoder) id() string {
	if len(d.b) > 0 && d.b[0] == 0 {
		d.byte()
		return d.string()
	}
	var buf [8 + 32]byte
	id := d.appendID(buf[:0])
	if d.err != nil {
		return ""
	}
	// Into one buffer for the record's IDs: a Builder never changes the
	// bytes of a string it returned.
	if d.ids.Cap() == 0 {
		d.ids.Grow(40 * 8) // the entity's and its factors' IDs
	}
	start := d.ids.Len()
	d.ids.Write(id)
	return d.ids.String()[start:]
}

// appendSince appends t as its distance from base, zigzag-encoded plus
// one; 0 for a zero t.
func appendSince(b []byte, t, base time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	v := int64(t.Sub(base))
	return binary.AppendUvarint(b, uint64(v<<1^v>>63)+1)
}

// since decodes what appendSince wrote.
func (d *rdecoder) since(base time.Time) time.Time {
	u := d.uvarint64()
	if u == 0 {
		return time.Time{}
	}
	u--
	return base.Add(time.Duration(int64(u>>1) ^ -int64(u&1)))
}

// uvarint64 decodes a uvarint of any size.
func (d *rdecoder) uvarint64() uint64 {
	n, k := binary.Uvarint(d.b)
	if d.err != nil || k <= 0 {
		d.err = errRecord
		return 0
	}
	d.b = d.b[k:]
	return n
}

func appendMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(m))+1)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b = appendString(appendString(b, k), m[k])
	}
	return b
}

// encodeIdentity appends identity's record to b; only b when the identity
// has no entity. Expired access tokens are dropped.
func (x *Factors) encodeIdentity(b []byte, identity string, now time.Time) []byte {
	type hashed struct {
		h [32]byte
		t *provider.AccessToken
	}
	var live []hashed
	for h, t := range x.push.tokens {
		if now.Before(t.t.ExpiresAt) {
			live = append(live, hashed{h, &t.t})
		}
	}
	// Oldest first, then by ID and hash, so that a record's encoding is one.
	slices.SortFunc(live, func(a, b hashed) int {
		return cmp.Or(a.t.CreatedAt.Compare(b.t.CreatedAt), strings.Compare(a.t.ID, b.t.ID), bytes.Compare(a.h[:], b.h[:]))
	})
	e := x.entities[identity]
	if e == nil && len(live) == 0 {
		return b
	}
	b = appendString(append(b, factorRecordVersion), identity)
	if e == nil {
		e = &entity{}
		b = append(b, 0) // no entity, and below no factors or challenges
	} else {
		b = appendID(append(b, 1), e.ID)
		b = appendSince(appendTime(b, e.CreatedAt), e.UpdatedAt, e.CreatedAt)
	}
	b = binary.AppendUvarint(b, uint64(len(e.factors)))
	for _, fa := range e.factors {
		b = appendString(appendID(b, fa.id), fa.name)
		b = appendKnown(b, string(fa.status), factorStatuses[:])
		b = appendSince(appendTime(b, fa.created), fa.updated, fa.created)
		if p := fa.push; p != nil {
			b = append(b, 1)
			for _, s := range [...]string{p.key, string(p.cfg.Platform), p.cfg.AppID, p.cfg.NotificationToken, p.cfg.SDKVersion, p.cfg.CredentialID} {
				b = appendString(b, s)
			}
			b = appendMap(b, p.cfg.Metadata)
			b = binary.AppendUvarint(b, uint64(p.wrong))
			b = appendTime(b, p.since)
			continue
		}
		b = append(b, 0)
		b = binary.AppendUvarint(b, uint64(fa.cfg.Digits))
		b = binary.AppendUvarint(b, uint64(fa.cfg.Period/time.Second))
		b = binary.AppendUvarint(b, uint64(fa.cfg.Skew))
		b = appendString(appendString(b, string(fa.cfg.Algorithm)), string(fa.secret))
		b = binary.AppendVarint(b, fa.guard.LastStep)
		b = binary.AppendUvarint(b, uint64(fa.guard.Wrong))
		b = appendTime(b, fa.guard.WindowStart)
	}
	if e.rawN > 0 && !slices.Equal(e.rawFactors, e.factors[:min(len(e.rawFactors), len(e.factors))]) {
		e.allChallenges() // the indexes of its factors changed
	}
	b = binary.AppendUvarint(b, uint64(e.rawN+len(e.challenges)))
	b = append(b, e.raw...)
	for _, c := range e.challenges {
		b = appendID(b, c.c.ID)
		// Its factor: 1 + its index when kept, else 0 and its ID.
		i := slices.IndexFunc(e.factors, func(fa *factor) bool { return fa.id == c.factorID })
		b = binary.AppendUvarint(b, uint64(i+1))
		if i < 0 {
			b = appendID(b, c.factorID)
		}
		b = appendKnown(b, string(c.c.Status), challengeStatuses[:])
		t0 := c.c.CreatedAt
		b = appendSince(appendSince(appendSince(appendTime(b, t0), c.c.UpdatedAt, t0), c.c.ExpiresAt, t0), c.c.RespondedAt, t0)
		d := c.c.Push
		if d == nil {
			b = append(b, 0)
			continue
		}
		kind := byte(1)
		if c.dated {
			kind = 2
		}
		b = appendString(append(b, kind), d.Message)
		if d.Fields == nil {
			b = append(b, 0)
		} else {
			b = binary.AppendUvarint(b, uint64(len(d.Fields))+1)
			for _, f := range d.Fields {
				b = appendString(appendString(b, f.Label), f.Value)
			}
		}
		b = appendMap(b, d.Hidden)
	}
	b = binary.AppendUvarint(b, uint64(len(live)))
	for _, t := range live {
		b = append(b, t.h[:]...)
		b = appendString(appendID(b, t.t.ID), t.t.FactorFriendlyName)
		b = appendSince(appendTime(b, t.t.CreatedAt), t.t.ExpiresAt, t.t.CreatedAt)
	}
	return b
}

// decodeIdentity decodes identity's record into x, a scratch Factors.
// An empty record (none, or a tombstone) holds nothing.
func (x *Factors) decodeIdentity(identity string, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	d := &rdecoder{decoder: decoder{b: b}}
	if d.byte() != factorRecordVersion || string(d.raw()) != identity {
		return errRecord
	}
	e := &entity{Entity: Entity{Identity: identity}}
	hasEntity := d.byte()
	if hasEntity == 1 {
		e.ID = d.id()
		e.CreatedAt = d.optTime()
		e.UpdatedAt = d.since(e.CreatedAt)
	}
	if d.err != nil || hasEntity > 1 {
		return errRecord
	}
	n := d.uvarint()
	if hasEntity == 0 && n != 0 {
		return errRecord
	}
	for range n {
		if d.err != nil || len(e.factors) >= MaxFactorsPerIdentity {
			return errRecord
		}
		fa := &factor{identity: identity}
		fa.id, fa.name = d.id(), d.string()
		fa.status = provider.FactorStatus(d.known(factorStatuses[:]))
		fa.created = d.optTime()
		fa.updated = d.since(fa.created)
		switch d.byte() {
		case 0:
			fa.cfg.Digits = int(d.uvarint())
			fa.cfg.Period = time.Duration(d.uvarint()) * time.Second
			fa.cfg.Skew = int(d.uvarint())
			fa.cfg.Algorithm = provider.Algorithm(d.string())
			fa.secret = bytes.Clone(d.raw())
			u := d.uvarint64() // binary.AppendVarint's zigzag
			fa.guard.LastStep = int64(u>>1) ^ -int64(u&1)
			fa.guard.Wrong = int(d.uvarint())
			fa.guard.WindowStart = d.optTime()
			if d.err != nil || fa.cfg.Validate() != nil || fa.cfg.Period <= 0 || len(fa.secret) == 0 {
				return errRecord
			}
			fa.ver = x.c.Store.verifiers.take(fa.id, fa.secret, fa.cfg)
		case 1:
			p := &pushFactor{key: d.string()}
			p.cfg.Platform = provider.NotificationPlatform(d.string())
			p.cfg.AppID, p.cfg.NotificationToken, p.cfg.SDKVersion, p.cfg.CredentialID = d.string(), d.string(), d.string(), d.string()
			p.cfg.Metadata = d.optMap()
			p.wrong = int(d.uvarint())
			p.since = d.optTime()
			if d.err != nil {
				return errRecord
			}
			var err error
			if p.pub, err = pushsig.ParsePublicKey(p.key); err != nil {
				return errRecord
			}
			fa.push = p
			x.pushMaps().byCredential[p.cfg.CredentialID] = fa
		default:
			return errRecord
		}
		if x.byID[fa.id] != nil {
			return errRecord
		}
		e.factors = append(e.factors, fa)
		x.byID[fa.id] = fa
	}
	n = d.uvarint()
	if hasEntity == 0 && n != 0 || n > uint64(max(x.keptChallenges(), maxChallengesKept)) {
		return errRecord
	}
	// The challenges are checked here but decoded only when looked at
	// (allChallenges): most operations only add one.
	start := len(b) - len(d.b)
	var idsBuf [maxChallengesKept][]byte
	ids := idsBuf[:0]
	for range n {
		if d.err != nil {
			return errRecord
		}
		id := d.skipChallenge(e.factors, x.byID)
		for _, o := range ids { // the last byte first: most differ there
			if len(o) == len(id) && o[len(o)-1] == id[len(id)-1] && string(o) == string(id) {
				return errRecord
			}
		}
		ids = append(ids, id)
	}
	if d.err != nil {
		return errRecord
	}
	e.raw, e.rawN = b[start:len(b)-len(d.b)], int(n)
	e.rawFactors = e.factors[:len(e.factors):len(e.factors)]
	n = d.uvarint()
	for range n {
		ps := x.pushMaps()
		if d.err != nil || len(ps.tokens) >= maxTokensStored {
			return errRecord
		}
		var h [32]byte
		copy(h[:], d.bytes(32))
		t := &accessToken{t: provider.AccessToken{Identity: identity}}
		t.t.ID, t.t.FactorFriendlyName = d.id(), d.string()
		t.t.CreatedAt = d.optTime()
		t.t.ExpiresAt = d.since(t.t.CreatedAt)
		if d.err != nil || ps.tokens[h] != nil {
			return errRecord
		}
		ps.tokens[h] = t
	}
	if d.err != nil || len(d.b) != 0 || hasEntity == 0 && len(x.push.tokens) == 0 {
		return errRecord
	}
	if hasEntity == 1 {
		x.entities[identity] = e
	}
	return nil
}

// allChallenges returns e's challenges, oldest first, decoding those
// still encoded first.
func (e *entity) allChallenges() []*challenge {
	if e.rawN == 0 {
		return e.challenges
	}
	d := &rdecoder{decoder: decoder{b: e.raw}, src: string(e.raw)}
	all := make([]challenge, e.rawN) // one allocation for all
	cs := make([]*challenge, e.rawN, e.rawN+len(e.challenges))
	for i := range all {
		d.challenge(&all[i], e.Identity, e.rawFactors)
		cs[i] = &all[i]
	}
	e.challenges = append(cs, e.challenges...)
	e.raw, e.rawN, e.rawFactors = nil, 0, nil
	return e.challenges
}

// dropRaw drops the oldest of e's challenges still encoded.
func (e *entity) dropRaw() {
	d := rdecoder{decoder: decoder{b: e.raw}}
	d.skipChallenge(e.rawFactors, nil)
	k := len(e.raw) - len(d.b)
	e.raw, e.rawN = e.raw[k:], e.rawN-1
}

// challenge decodes into c a challenge that skipChallenge checked, of
// identity, whose factor index names one of factors.
func (d *rdecoder) challenge(c *challenge, identity string, factors []*factor) {
	c.c.ID = d.id()
	if i := d.uvarint(); i == 0 {
		c.factorID = d.id()
	} else if i <= uint64(len(factors)) {
		c.factorID = factors[i-1].id
	}
	c.c.Identity, c.c.FactorID = identity, c.factorID
	c.c.Status = provider.ChallengeStatus(d.known(challengeStatuses[:]))
	t0 := d.optTime()
	c.c.CreatedAt, c.c.UpdatedAt, c.c.ExpiresAt, c.c.RespondedAt = t0, d.since(t0), d.since(t0), d.since(t0)
	if kind := d.byte(); kind == 1 || kind == 2 {
		c.dated = kind == 2
		p := &provider.PushDetails{Message: d.string()}
		if k := d.uvarint(); k > 0 {
			p.Fields = make([]provider.PushField, min(k-1, provider.MaxPushFields))
			for i := range p.Fields {
				p.Fields[i] = provider.PushField{Label: d.string(), Value: d.string()}
			}
		}
		p.Hidden = d.optMap()
		c.c.Push = p // its signed fields are decoded when answered (signedOf)
	}
}

// skipChallenge reads a challenge without decoding it, checking what
// decodeIdentity requires of one but for a unique ID: its factor index
// names one of factors, or its factor ID one of byID (if any) of its
// kind (push or TOTP). It returns the challenge's ID as encoded: one
// encoding per ID, as a compact ID written out is refused.
func (d *rdecoder) skipChallenge(factors []*factor, byID map[string]*factor) (id []byte) {
	rest := d.b
	switch d.byte() {
	case 0:
		if _, ok := compactID(string(d.raw())); ok {
			d.err = errRecord
		}
	case 1:
		if len(d.raw()) > 8 || d.bytes(16) == nil {
			d.err = errRecord
		}
	default:
		d.err = errRecord
	}
	id = rest[:len(rest)-len(d.b)]
	var fa *factor
	switch i := d.uvarint(); {
	case i == 0:
		var buf [64]byte
		fa = byID[string(d.appendID(buf[:0]))]
	case i <= uint64(len(factors)):
		fa = factors[i-1]
	default:
		d.err = errRecord
	}
	if i := int(d.byte()); i == 0 {
		d.raw() // a status not among the known ones
	} else if i > len(challengeStatuses) {
		d.err = errRecord
	}
	d.bytes(8)
	for range 3 {
		d.uvarint64()
	}
	push := false
	switch d.byte() {
	case 0:
	case 1, 2:
		push = true
		d.raw()
		if k := d.uvarint(); k > 0 {
			if k-1 > provider.MaxPushFields {
				d.err = errRecord
				return id
			}
			for range 2 * (k - 1) {
				d.raw()
			}
		}
		d.skipMap()
	default:
		d.err = errRecord
	}
	if fa != nil && (fa.push != nil) != push {
		d.err = errRecord // a push challenge of a TOTP factor, or the reverse
	}
	return id
}

// appendID appends to b the ID that appendID wrote, spelled out.
func (d *rdecoder) appendID(b []byte) []byte {
	switch d.byte() {
	case 0:
		return append(b, d.raw()...)
	case 1:
		prefix := d.raw()
		raw := d.bytes(16)
		if raw == nil || len(prefix) > 8 {
			d.err = errRecord
			return b
		}
		return hex.AppendEncode(append(b, prefix...), raw)
	}
	d.err = errRecord
	return b
}

// skipMap reads what appendMap wrote, checking its keys are sorted.
func (d *rdecoder) skipMap() {
	n := d.uvarint()
	if n == 0 || d.err != nil {
		return
	}
	var last []byte
	for i := range n - 1 {
		k := d.raw()
		d.raw()
		if d.err != nil || (i > 0 && string(k) <= string(last)) {
			d.err = errRecord
			return
		}
		last = k
	}
}
