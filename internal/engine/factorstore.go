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
	// factorRecordVersion starts an identity's record; one of another
	// version (0xf2 before 2026-12-08) is unreadable, not misread.
	factorRecordVersion = 0xf3
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
	return &Factors{c: x.c, scratch: true, entities: map[string]*entity{}, byID: map[string]*factor{}}
}

// stored runs fn (see run) on identity's record: it reads the record,
// decodes it into a scratch Factors, runs fn, and when fn changed the
// record writes it back by compare-and-swap; when another writer changed
// it first, it runs fn again on the current record, at most maxStoreTries
// times. ev is set anew for each run; fn's error is returned once the
// record is written (a wrong code is counted even when refused).
func (x *Factors) stored(ctx context.Context, identity string, fn func(*Factors, time.Time, *FactorEvent) error, ev *FactorEvent) error {
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

// verifiers keeps, by factor ID, the TOTP verifiers of the factors this
// process used last, so that a factor's next operation does not derive
// its HMAC keys again (the process holds the keys that open every record:
// it learns nothing more), and the last request JWT of a push factor's
// device that verified, so that its next calls with it are not verified
// again (as a factor in memory remembers it; nothing of it is stored). An
// operation takes its factors' verifiers out and puts them back when it
// is done: a Verifier serves one goroutine.
type verifiers struct {
	mu sync.Mutex
	m  map[string]keptVerifier
}

type keptVerifier struct {
	secret []byte
	cfg    provider.TOTPConfig
	v      *totp.Verifier
	push   *pushFactor // a push factor as an operation left it, with its key and last JWT
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

// auth returns the request JWT kept for push factor id, when its key is
// key, and its window.
func (c *verifiers) auth(id, key string) (string, time.Time, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.m[id].push; p != nil && p.key == key {
		return p.auth, p.nbf, p.exp
	}
	return "", time.Time{}, time.Time{}
}

// put keeps the verifiers of s's TOTP factors and its push factors with
// a request JWT that verified (s may be nil). What it keeps shares no
// memory with the decoded record, which holds every secret of the
// identity: decodeIdentity allocates IDs, algorithms, keys and secrets
// each.
func (c *verifiers) put(s *Factors) {
	if s == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, fa := range s.byID {
		if fa.ver == nil && (fa.push == nil || fa.push.auth == "") {
			continue
		}
		if len(c.m) >= maxVerifiers || c.m == nil {
			c.m = make(map[string]keptVerifier)
		}
		c.m[id] = keptVerifier{fa.secret, fa.cfg, fa.ver, fa.push}
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
// uvarints, strings and byte strings a uvarint length and the bytes, an
// ID its prefix (a string) and the 16 bytes its 32 hex digits spell, a
// status one byte (its index in statuses); maps and lists that may be
// nil a count plus one, 0 for nil; a time, see appendTime):
//
//	identity; 0 (no entity: only access tokens, after two zero counts)
//	  or 1, entity ID, created, updated
//	factors: count, then each: ID, name, status, created, updated, type
//	  (0 TOTP: digits, period in seconds, skew, algorithm, secret, last
//	  step + 1, wrong codes, window start;
//	  1 push: public key, platform, app ID, notification token, SDK
//	  version, credential ID, metadata (sorted), wrong signatures, since)
//	access tokens: count, then each: SHA-256 (32 bytes), ID, friendly
//	  name, created, expires
//	challenges: count, then each: ID, factor (1 + its index among the
//	  factors, or 0 and its ID), status, created, updated, expires,
//	  responded, push (0 none; 1, or 2 when its details carry the date:
//	  message, fields, hidden details (sorted))
//
// The later times of an entity, a factor, a token or a challenge are
// from its created time; the others from the Unix epoch. A deleted
// identity's record is empty.

// statuses are the factor and challenge statuses a record can hold.
var statuses = [...]string{string(provider.FactorVerified), string(provider.FactorUnverified), string(provider.ChallengeApproved),
	string(provider.ChallengePending), string(provider.ChallengeDenied), string(provider.ChallengeExpired)}

func appendStatus(b []byte, s string) []byte { return append(b, byte(slices.Index(statuses[:], s))) }

// appendID appends an ID, which newIDWith made: a prefix and 32
// lower-case hex digits.
func appendID(b []byte, id string) []byte {
	n := len(id) - 32
	b, _ = hex.AppendDecode(appendString(b, id[:n]), []byte(id[n:]))
	return b
}

var epoch = time.Unix(0, 0).UTC()

// origin is what a time is measured from: base, or the epoch for none.
func origin(base time.Time) time.Time {
	if base.IsZero() {
		return epoch
	}
	return base
}

// appendTime appends t as its distance from origin(base) in nanoseconds,
// zigzag-encoded plus one; 0 for a zero t.
func appendTime(b []byte, t, base time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	v := int64(t.Sub(origin(base)))
	return binary.AppendUvarint(b, uint64(v<<1^v>>63)+1)
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

// rdecoder decodes an identity's record. With src (what b is the end
// of, as a string), strings are cut from it rather than allocated each.
type rdecoder struct {
	decoder
	src string
}

func (d *rdecoder) string() string {
	if d.src == "" {
		return d.decoder.string()
	}
	n := len(d.raw())
	end := d.i
	return d.src[end-n : end]
}

// appendID appends the ID that appendID wrote to b.
func (d *rdecoder) appendID(b []byte) []byte {
	b = append(b, d.raw()...)
	return hex.AppendEncode(b, d.bytes(16))
}

func (d *rdecoder) id() string {
	var buf [8 + 32]byte
	return string(d.appendID(buf[:0]))
}

// uvarint64 decodes a uvarint of any size.
func (d *rdecoder) uvarint64() uint64 {
	n, k := binary.Uvarint(d.rest())
	if d.err != nil || k <= 0 {
		d.err = errRecord
		return 0
	}
	d.i += k
	return n
}

// time decodes what appendTime wrote.
func (d *rdecoder) time(base time.Time) time.Time {
	u := d.uvarint64()
	if u == 0 {
		return time.Time{}
	}
	u--
	return origin(base).Add(time.Duration(int64(u>>1) ^ -int64(u&1)))
}

func (d *rdecoder) status() string {
	if i := int(d.byte()); i < len(statuses) {
		return statuses[i]
	}
	d.err = errRecord
	return ""
}

func (d *rdecoder) optMap() map[string]string {
	n := d.uvarint()
	if n == 0 || d.err != nil {
		return nil
	}
	m := make(map[string]string, min(n-1, 64))
	for range n - 1 {
		if k := d.string(); d.err == nil {
			m[k] = d.string()
		}
	}
	return m
}

// pairs skips what appendMap wrote (or a push challenge's fields),
// returning its count plus one (0 for nil).
func (d *rdecoder) pairs() uint64 {
	n := d.uvarint()
	for i := uint64(1); i < n && d.err == nil; i++ {
		d.raw()
		d.raw()
	}
	return n
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
		b = appendTime(appendTime(b, e.CreatedAt, time.Time{}), e.UpdatedAt, e.CreatedAt)
	}
	b = binary.AppendUvarint(b, uint64(len(e.factors)))
	for _, fa := range e.factors {
		b = appendStatus(appendString(appendID(b, fa.id), fa.name), string(fa.status))
		b = appendTime(appendTime(b, fa.created, time.Time{}), fa.updated, fa.created)
		if p := fa.push; p != nil {
			b = append(b, 1)
			for _, s := range [...]string{p.key, string(p.cfg.Platform), p.cfg.AppID, p.cfg.NotificationToken, p.cfg.SDKVersion, p.cfg.CredentialID} {
				b = appendString(b, s)
			}
			b = binary.AppendUvarint(appendMap(b, p.cfg.Metadata), uint64(p.wrong))
			b = appendTime(b, p.since, time.Time{})
			continue
		}
		for _, n := range [...]int{0 /* TOTP */, fa.cfg.Digits, int(fa.cfg.Period / time.Second), fa.cfg.Skew} {
			b = binary.AppendUvarint(b, uint64(n))
		}
		b = appendString(appendString(b, string(fa.cfg.Algorithm)), string(fa.secret))
		b = binary.AppendUvarint(b, uint64(fa.guard.LastStep+1))
		b = binary.AppendUvarint(b, uint64(fa.guard.Wrong))
		b = appendTime(b, fa.guard.WindowStart, time.Time{})
	}
	b = binary.AppendUvarint(b, uint64(len(live)))
	for _, t := range live {
		b = appendString(appendID(append(b, t.h[:]...), t.t.ID), t.t.FactorFriendlyName)
		b = appendTime(appendTime(b, t.t.CreatedAt, time.Time{}), t.t.ExpiresAt, t.t.CreatedAt)
	}
	b = append(binary.AppendUvarint(b, uint64(e.rawN+len(e.challenges))), e.raw...)
	for _, c := range e.challenges {
		i := slices.IndexFunc(e.factors, func(fa *factor) bool { return fa.id == c.factorID })
		b = binary.AppendUvarint(appendID(b, c.c.ID), uint64(i+1))
		if i < 0 {
			b = appendID(b, c.factorID)
		}
		t0 := c.c.CreatedAt
		b = appendTime(appendTime(appendStatus(b, string(c.c.Status)), t0, time.Time{}), c.c.UpdatedAt, t0)
		b = appendTime(appendTime(b, c.c.ExpiresAt, t0), c.c.RespondedAt, t0)
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
	return b
}

// decodeIdentity decodes identity's record into x, a scratch Factors.
// An empty record (none, or a tombstone) holds nothing.
func (x *Factors) decodeIdentity(identity string, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	d := rdecoder{decoder: decoder{b: b}}
	if d.byte() != factorRecordVersion || string(d.raw()) != identity {
		return errRecord
	}
	e := &entity{Entity: Entity{Identity: identity}}
	hasEntity := d.byte()
	if hasEntity == 1 {
		e.ID = d.id()
		e.CreatedAt = d.time(time.Time{})
		e.UpdatedAt = d.time(e.CreatedAt)
	}
	n := d.uvarint()
	if d.err != nil || hasEntity > 1 || hasEntity == 0 && n != 0 || n > MaxFactorsPerIdentity {
		return errRecord
	}
	for range n {
		fa := &factor{identity: identity, id: d.id(), name: d.string()}
		fa.status = provider.FactorStatus(d.status())
		fa.created = d.time(time.Time{})
		fa.updated = d.time(fa.created)
		switch d.byte() {
		case 0:
			fa.cfg.Digits = int(d.uvarint())
			fa.cfg.Period = time.Duration(d.uvarint()) * time.Second
			fa.cfg.Skew = int(d.uvarint())
			fa.cfg.Algorithm = provider.Algorithm(d.string())
			fa.secret = bytes.Clone(d.raw())
			fa.guard.LastStep = int64(d.uvarint64()) - 1
			fa.guard.Wrong = int(d.uvarint())
			fa.guard.WindowStart = d.time(time.Time{})
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
			p.since = d.time(time.Time{})
			var err error
			if p.pub, err = pushsig.ParsePublicKey(p.key); d.err != nil || err != nil {
				return errRecord
			}
			p.auth, p.nbf, p.exp = x.c.Store.verifiers.auth(fa.id, p.key)
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
	if n > maxTokensStored {
		return errRecord
	}
	for range n {
		var h [32]byte
		copy(h[:], d.bytes(32))
		t := &accessToken{t: provider.AccessToken{Identity: identity, ID: d.id(), FactorFriendlyName: d.string()}}
		t.t.CreatedAt = d.time(time.Time{})
		t.t.ExpiresAt = d.time(t.t.CreatedAt)
		if ps := x.pushMaps(); d.err != nil || ps.tokens[h] != nil {
			return errRecord
		}
		x.push.tokens[h] = t
	}
	n = d.uvarint()
	if d.err != nil || hasEntity == 0 && (n != 0 || len(x.push.tokens) == 0) || n > uint64(max(x.keptChallenges(), maxChallengesKept)) {
		return errRecord
	}
	// The challenges, last, are checked here but decoded only when looked
	// at (allChallenges): most operations only add one.
	e.raw, e.rawN = d.rest(), int(n)
	var buf [maxChallengesKept][16]byte
	ids := buf[:0]
	for range n {
		id := d.skipChallenge(e.factors, x.byID)
		if slices.Contains(ids, id) {
			return errRecord
		}
		ids = append(ids, id)
	}
	if d.err != nil || len(d.rest()) != 0 {
		return errRecord
	}
	if hasEntity == 1 {
		x.entities[identity] = e
	}
	return nil
}

// skipChallenge reads a challenge without decoding it, checking what
// allChallenges requires of one: its factor index names one of factors,
// or its factor ID one of byID (if any) of its kind (push or TOTP). It
// returns the 16 bytes of its ID.
func (d *rdecoder) skipChallenge(factors []*factor, byID map[string]*factor) (id [16]byte) {
	d.raw()
	copy(id[:], d.bytes(16))
	var fa *factor
	if i := d.uvarint(); i == 0 {
		var buf [8 + 32]byte
		fa = byID[string(d.appendID(buf[:0]))]
	} else if i <= uint64(len(factors)) {
		fa = factors[i-1]
	} else {
		d.err = errRecord
	}
	d.status()
	for range 4 {
		d.uvarint64()
	}
	switch kind := d.byte(); {
	case kind == 1 || kind == 2:
		d.raw()
		if d.pairs() > provider.MaxPushFields+1 {
			d.err = errRecord
		}
		d.pairs()
		if fa != nil && fa.push == nil {
			d.err = errRecord // a push challenge of a TOTP factor
		}
	case kind != 0 || fa != nil && fa.push != nil:
		d.err = errRecord // or a TOTP challenge of a push factor
	}
	return id
}

// allChallenges returns e's challenges, oldest first, decoding those
// still encoded first.
func (e *entity) allChallenges() []*challenge {
	if e.rawN == 0 {
		return e.challenges
	}
	d := rdecoder{decoder: decoder{b: e.raw}, src: string(e.raw)}
	all := make([]challenge, e.rawN) // one allocation for all
	cs := make([]*challenge, e.rawN, e.rawN+len(e.challenges))
	for i := range all {
		c := &all[i]
		c.c.ID, c.c.Identity = d.id(), e.Identity
		if k := d.uvarint(); k == 0 {
			c.factorID = d.id()
		} else {
			c.factorID = e.factors[k-1].id
		}
		c.c.FactorID = c.factorID
		c.c.Status = provider.ChallengeStatus(d.status())
		t0 := d.time(time.Time{})
		c.c.CreatedAt, c.c.UpdatedAt, c.c.ExpiresAt, c.c.RespondedAt = t0, d.time(t0), d.time(t0), d.time(t0)
		if kind := d.byte(); kind != 0 {
			c.dated = kind == 2
			p := &provider.PushDetails{Message: d.string()}
			if k := d.uvarint(); k > 0 {
				p.Fields = make([]provider.PushField, k-1)
				for j := range p.Fields {
					p.Fields[j] = provider.PushField{Label: d.string(), Value: d.string()}
				}
			}
			p.Hidden = d.optMap()
			c.c.Push = p // its signed fields are decoded when answered (signedOf)
		}
		cs[i] = c
	}
	e.challenges = append(cs, e.challenges...)
	e.raw, e.rawN = nil, 0
	return e.challenges
}

// dropRaw drops the oldest of e's challenges still encoded.
func (e *entity) dropRaw() {
	d := rdecoder{decoder: decoder{b: e.raw}}
	d.skipChallenge(e.factors, nil)
	e.raw, e.rawN = d.rest(), e.rawN-1
}
