// Package engine is the one lifecycle of a verification, over a
// store.Store: validity from the first send, the same code re-sent and
// counted, the send and check limits, lock-out after the wrong codes, and
// gone after approval, cancellation or expiry ([Verifications]); and the
// one lifecycle of factors, in memory or over a store.Store
// ([FactorStore]): entities, enrolment, confirmation, challenges, and per
// kind the TOTP check with its wrong-code window and replay refusal, push
// devices' signed answers and passkeys ([Factors]). It knows no vendor
// and no wire: the code source, the clock, the limits and the shape of
// IDs are inputs (a [Config], a [FactorConfig]).
//
// Layers: fake (Verifications over a memory store + Factors + what
// application tests need), selfhosted (Verifications over its sealing
// store decorator, with derived codes through Config.Reveal, + senders;
// its factors are its own), vonagetest (Vonage's wire and workflow over
// Verifications) and twiliotest (Twilio's wire over Verifications, one per
// Verify Service, and Factors).
// Imports go one way: fake, selfhosted, twiliotest, vonagetest, fakeconf
// → engine → store, internal/totp, internal/pushsig, provider. The engine
// imports no layer. See docs/engine.md.
//
// Every step is a compare-and-swap on one record, the verification
// pending for a target, guarded by the version its rule ran on, so
// replicas that share the store never lose an update and approve a
// verification at most once. The version comes from a read, or from what
// this replica last read or wrote of the record (a bounded cache,
// Config.Cache): a step on the replica that took the previous one is then
// one round trip, and a stale cache costs a conflict, which returns the
// current record, on which the rule runs again. Without a Config.Store the
// records are State values in this process's memory, nothing encoded, and
// a step runs whole under the records' lock: the same rules
// run on both (records.go). An ID carries the target's name (Config.Name) and a
// nonce, so a lookup by ID reads that one record and compares the nonce.
package engine

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"time"
	"unsafe"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

// Config is what a layer gives the engine. Every field is read, never
// changed, by the engine; New checks them.
type Config struct {
	// Store holds the records, for replicas that share it; nil keeps them
	// in this process's memory as State values, nothing encoded, for one
	// process (the fake, the emulators).
	Store store.Store
	// Cache bounds how many records of Store a replica keeps, those it
	// last read or wrote, so that a step on the replica that took the
	// previous one starts from its version instead of reading it: a check
	// is then one round trip. 0 means 1<<14; negative, none.
	Cache int
	// Now is the clock. Required.
	Now func() time.Time
	// Validity is how long a code stays valid from the first send.
	Validity time.Duration
	// MaxSends is how many times one verification's code may be sent;
	// MaxChecks how many wrong codes it accepts.
	MaxSends, MaxChecks int
	// GoneAtMaxChecks ends a verification at its last wrong code, so the
	// next check finds nothing instead of failing with ErrTooManyChecks.
	GoneAtMaxChecks bool
	// KeyPrefix starts every store key.
	KeyPrefix string
	// IDPrefix and AttemptPrefix start verification and send-attempt IDs.
	IDPrefix, AttemptPrefix string
	// Name returns the target's name, its first NameLen bytes (at most
	// 16): the store key and every ID of its verifications carry it.
	// Required.
	Name    func(to string) [16]byte
	NameLen int
	// NonceLen is the length of a verification's nonce (8 to 16 bytes),
	// the rest of its ID.
	NonceLen int
	// Random fills b with the bytes of nonces and attempt IDs; nil means
	// crypto/rand.
	Random func(b []byte)
	// NewCode returns the code of a new verification, which is stored
	// with it (seeded, fixed). A start's custom code is stored instead.
	NewCode func() string
	// Reveal, when set, makes codes derived and never stored: what NewCode
	// returned is stored instead (what names the derivation key), and
	// Reveal returns the code it derives from that and the verification's
	// nonce. Start delivers and Check compares its result.
	Reveal func(nonce []byte, stored string) (string, error)
	// CreateFirst makes Start try to create a verification before reading
	// the pending one: one round trip when none is pending. NewCode must
	// then have no effect beyond its result: it is called on every Start.
	CreateFirst bool
	// SpentVisible keeps a verification whose wrong codes are spent
	// visible to Fetch and End until it expires (a layer reports it as
	// max_attempts_reached); otherwise neither finds it.
	SpentVisible bool
}

// Verifications runs the lifecycle. It is safe for concurrent use.
type Verifications struct {
	c     Config
	mem   *memRecords   // the records, when in memory
	store *storeRecords // the records, when in a store
	idLen int           // the length of an ID
}

// New checks c and returns the engine.
func New(c Config) (*Verifications, error) {
	switch {
	case c.Now == nil || c.Name == nil || c.NewCode == nil:
		return nil, errors.New("engine: Now, Name and NewCode are required")
	case c.Validity <= 0 || c.MaxSends < 1 || c.MaxChecks < 1:
		return nil, errors.New("engine: Validity must be positive, MaxSends and MaxChecks at least 1")
	case c.NameLen < 1 || c.NameLen > 16 || c.NonceLen < 8 || c.NonceLen > 16:
		return nil, errors.New("engine: NameLen must be 1 to 16 and NonceLen 8 to 16")
	}
	if c.Random == nil {
		c.Random = func(b []byte) { _, _ = rand.Read(b) }
	}
	e := &Verifications{c: c, idLen: len(c.IDPrefix) + 2*c.NameLen + 2*c.NonceLen}
	if c.Store == nil {
		e.mem = newMemRecords(c.Now)
	} else {
		if c.Cache == 0 {
			c.Cache = 1 << 14
		}
		e.store = &storeRecords{e: e, st: c.Store, nonceLen: c.NonceLen, cache: newRecordCache(c.Cache)}
	}
	return e, nil
}

// Len returns the number of pending verifications held in memory (none
// when Config.Store is set).
func (e *Verifications) Len() int {
	if e.mem == nil {
		return 0
	}
	return e.mem.len()
}

// The reasons of the engine's errors.
const (
	ReasonChecksSpent = "checks_spent" // a start while the pending code has had too many wrong codes
	ReasonCollision   = "collision"    // two targets with the same name (refused, never mixed up)
)

// Error is an engine refusal: Kind is the provider sentinel it matches.
// It never holds a code or a secret.
type Error struct {
	Op     string // the operation; empty for the verification operations
	Kind   error
	Reason string
	Wait   time.Duration // how long until trying again may work; zero: no advice
	Msg    string        // detail, or empty
	// Date is the engine's clock when a device's request JWT was used
	// outside its validity window (an HTTP layer sends it as the Date of
	// its 401); zero otherwise.
	Date time.Time
}

// ServerTime returns Date, for provider.ServerTime.
func (e *Error) ServerTime() time.Time { return e.Date }

// Error returns "engine: [OP: ]SENTINEL[: MSG] [(REASON)]".
func (e *Error) Error() string {
	s := "engine: "
	if e.Op != "" {
		s += e.Op + ": "
	}
	s += e.Kind.Error()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	return s
}

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

var errNotFound = &Error{Kind: provider.ErrNotFound}

// recKey is what keys a target's record: its name (Config.Name), zero
// beyond NameLen. A store's key is Config.KeyPrefix and the name in hex.
type recKey [16]byte

// keyOf returns the key of to's record.
func (e *Verifications) keyOf(to string) recKey {
	k := recKey(e.c.Name(to))
	clear(k[e.c.NameLen:])
	return k
}

// parseID returns the key and nonce an ID names (the nonce in the first
// NonceLen bytes of raw), decoding in place.
func (e *Verifications) parseID(id string, raw *[16]byte) (recKey, bool) {
	var k recKey
	p, n := len(e.c.IDPrefix), 2*e.c.NameLen
	if len(id) != p+n+2*e.c.NonceLen || id[:p] != e.c.IDPrefix {
		return k, false
	}
	ok := decodeHex(k[:n/2], id[p:p+n])
	return k, decodeHex(raw[:e.c.NonceLen], id[p+n:]) && ok
}

// decodeHex decodes the hex digits of h into dst (len(h)/2 bytes) and
// reports whether they were all lower-case hex: one spelling per ID.
func decodeHex(dst []byte, h string) bool {
	bad := byte(0)
	for i := range dst {
		hi, lo := hexValue[h[2*i]], hexValue[h[2*i+1]]
		bad |= (hi | lo) & 0x10
		dst[i] = hi<<4 | lo&0xf
	}
	return bad == 0
}

// hexValue is the value of a lower-case hex digit, and 0x10 for any other
// byte; hexPair is the two digits of a byte, the first in the low byte.
var hexValue, hexPair = func() (t [256]byte, p [256]uint16) {
	for c := range t {
		p[c] = uint16("0123456789abcdef"[c>>4]) | uint16("0123456789abcdef"[c&15])<<8
		switch {
		case '0' <= c && c <= '9':
			t[c] = byte(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = byte(c-'a') + 10
		default:
			t[c] = 0x10
		}
	}
	return t, p
}()

// appendHex appends src in lower-case hex to b.
func appendHex(b, src []byte) []byte {
	for _, c := range src {
		b = binary.LittleEndian.AppendUint16(b, hexPair[c])
	}
	return b
}

// appendID appends the ID of the verification of k with nonce to b.
func (e *Verifications) appendID(b []byte, k recKey, nonce []byte) []byte {
	b = append(b, e.c.IDPrefix...)
	b = appendHex(b, k[:e.c.NameLen])
	return appendHex(b, nonce)
}

// appendKey appends the store key of k to b: the prefix and the name in
// hex.
func (e *Verifications) appendKey(b []byte, k recKey) []byte {
	return appendHex(append(b, e.c.KeyPrefix...), k[:e.c.NameLen])
}

// appendAttemptID appends the ID of a send attempt to b.
func (e *Verifications) appendAttemptID(b []byte, a *attempt) []byte {
	return appendHex(append(b, e.c.AttemptPrefix...), a.id[:])
}

// Gate is called with the target of the verification an operation found
// (empty when none) before the operation changes anything; an error from
// it ends the operation unchanged. The fake's faults and magic numbers use
// it. It is called once per operation, with the record in memory locked:
// it must not call the engine.
type Gate func(to string) error

// Start sends the pending code of to again, counting a send, or starts a
// new verification over ch with custom (or a new code when custom is
// empty). It returns the state after the send and the code to deliver.
func (e *Verifications) Start(ctx context.Context, to string, ch provider.Channel, custom string) (State, string, error) {
	k := e.keyOf(to)
	from := cached
	if e.c.CreateFirst {
		from = cachedOrNone
	}
	var p, prev *State // the state written (which the records keep) and, after a re-send, the one it replaced
	err := e.step(ctx, k, from, func(cur *State, now time.Time, guessed bool) (*State, error) {
		prev = nil
		if cur != nil && now.Before(cur.Expires) {
			var refusal error
			switch {
			case cur.To != to:
				refusal = &Error{Kind: provider.ErrUnavailable, Reason: ReasonCollision}
			case cur.Checks >= e.c.MaxChecks:
				refusal = &Error{Kind: provider.ErrTooManySends, Reason: ReasonChecksSpent, Wait: cur.Expires.Sub(now)}
			case len(cur.attempts) >= e.c.MaxSends:
				refusal = &Error{Kind: provider.ErrTooManySends, Wait: cur.Expires.Sub(now)}
			}
			if refusal != nil && guessed {
				return nil, errStale
			}
			if refusal != nil {
				return nil, refusal
			}
			prev, p = cur, new(State)
			*p = *cur
			p.attempts = append(cur.attempts[:len(cur.attempts):len(cur.attempts)], attempt{at: now, channel: ch})
			a := &p.attempts[len(p.attempts)-1]
			e.c.Random(a.id[:])
			var buf [64]byte
			a.sid = string(e.appendAttemptID(buf[:0], a))
		} else { // none, or expired: replace it
			if custom == "" {
				custom = e.c.NewCode()
			}
			p = e.fresh(k, to, custom, ch, now)
		}
		p.Channel, p.Updated = ch, now
		p.seq++
		p.e, p.k = e, k
		return p, nil
	})
	if err != nil {
		return State{}, "", err
	}
	s := *p
	s.prev = prev
	if prev == nil && e.c.Reveal == nil {
		return s, custom, nil
	}
	code, err := e.reveal(p)
	if err != nil {
		return State{}, "", err
	}
	return s, code, nil
}

// freshState is a new verification and its first send, in one allocation
// with their IDs when they fit.
type freshState struct {
	s   State
	a   [1]attempt
	buf [72]byte // the emulators' IDs
}

// fresh returns a new verification of to with code and its first send
// over ch, its nonce and the send's ID drawn at once.
func (e *Verifications) fresh(k recKey, to, code string, ch provider.Channel, now time.Time) *State {
	f := &freshState{s: State{To: to, Expires: now.Add(e.c.Validity), code: code}}
	f.a[0] = attempt{at: now, channel: ch}
	f.s.attempts = f.a[:]
	b := f.buf[:e.c.NonceLen+16] // NonceLen is at most 16
	e.c.Random(b)
	copy(f.a[0].id[:], b[copy(f.s.nonce[:], b[:e.c.NonceLen]):])
	// The first attempt's ID, the verification's and, over a store, the
	// record's key, after it (the draw is copied out).
	b = e.appendAttemptID(f.buf[:0], &f.a[0])
	n := len(b)
	b = e.appendID(b, k, f.s.nonce[:e.c.NonceLen])
	if e.mem == nil {
		b = e.appendKey(b, k)
	}
	ids := unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again
	f.a[0].sid, f.s.id = ids[:n], ids[n:]
	return &f.s
}

// reveal returns the code of s.
func (e *Verifications) reveal(s *State) (string, error) {
	if e.c.Reveal == nil {
		return s.code, nil
	}
	return e.c.Reveal(s.nonce[:e.c.NonceLen], s.code)
}

// TakeBack undoes the send that Start returned s after, when the message
// certainly did not go out: it puts back the verification as it was
// before (a new one is deleted), unless something changed it since.
func (e *Verifications) TakeBack(ctx context.Context, s State) error {
	return e.step(ctx, s.k, read, func(cur *State, now time.Time, _ bool) (*State, error) {
		switch {
		case cur == nil || cur.version != s.version:
			return nil, store.ErrConflict
		case s.prev == nil || !now.Before(s.Expires):
			return nil, nil
		}
		p := *s.prev
		p.seq = s.seq + 1
		return &p, nil
	})
}

// match reports whether s is a pending verification with nonce (any,
// when nonce is nil) and target to (any, when to is empty) at now.
func (e *Verifications) match(s *State, nonce []byte, to string, now time.Time) bool {
	return s != nil && (nonce == nil || subtle.ConstantTimeCompare(nonce, s.nonce[:len(nonce)]) == 1) && (to == "" || s.To == to) && now.Before(s.Expires)
}

// finder finds, in a step, the verification an operation names.
type finder struct {
	e     *Verifications
	k     recKey
	nonce []byte // nil: any
	to    string // empty: any
	gate  Gate   // called once, on the first state found
}

// lookup returns the finder of the verification an ID (its nonce decoded
// into raw) or a To names, and false for an ID no verification has.
func (e *Verifications) lookup(id, to string, gate Gate, raw *[16]byte) (finder, bool) {
	f := finder{e: e, to: to, gate: gate}
	if id == "" {
		f.k = e.keyOf(to)
		return f, true
	}
	k, ok := e.parseID(id, raw)
	f.k, f.nonce = k, raw[:e.c.NonceLen]
	return f, ok
}

// find returns cur when it is the verification (nil otherwise), after
// calling the gate the first time, or errStale for a guessed state that is
// not. Once it has returned a state that was not guessed, it finds that
// verification only, so a step decides again on another caller's write
// to it.
func (f *finder) find(cur *State, now time.Time, guessed bool) (*State, error) {
	if !f.e.match(cur, f.nonce, f.to, now) {
		if guessed {
			return nil, errStale
		}
		cur = nil
	}
	if f.gate != nil {
		target := ""
		if cur != nil {
			target = cur.To
		}
		err := f.gate(target)
		if f.gate = nil; err != nil {
			return nil, err
		}
	}
	if cur != nil && !guessed {
		f.nonce, f.to = cur.nonce[:], ""
	}
	return cur, nil
}

// notFound is the error of an operation on an ID no verification has:
// errNotFound, or the gate's.
func (f *finder) notFound() error {
	_, err := f.find(nil, time.Time{}, false)
	return cmp.Or(err, error(errNotFound))
}

// Check checks code against the verification id (and to, when both are
// given) or to names. The right code approves and ends it; a wrong code
// is counted, and the state is pending. Of any number of concurrent
// checks exactly one approves.
func (e *Verifications) Check(ctx context.Context, id, to, code string, gate Gate) (State, provider.Status, error) {
	var raw [16]byte
	f, ok := e.lookup(id, to, gate, &raw)
	if !ok {
		return State{}, "", f.notFound()
	}
	var out State
	var p *State // a wrong code's state, written
	status := provider.StatusApproved
	err := e.step(ctx, f.k, cached, func(cur *State, now time.Time, guessed bool) (*State, error) {
		s, err := f.find(cur, now, guessed)
		switch {
		case err != nil:
			return nil, err
		case s == nil:
			return nil, errNotFound
		case s.Checks >= e.c.MaxChecks && guessed:
			return nil, errStale
		case s.Checks >= e.c.MaxChecks:
			return nil, &Error{Kind: provider.ErrTooManyChecks, Wait: s.Expires.Sub(now)}
		}
		out, p, status = *s, nil, provider.StatusApproved
		out.Updated = now
		if right, err := e.right(s, code); err != nil || right {
			return nil, err
		}
		status = provider.StatusPending
		out.Checks++
		out.seq++
		if e.c.GoneAtMaxChecks && out.Checks >= e.c.MaxChecks {
			return nil, nil
		}
		p = new(State) // the records keep it once written
		*p = out
		return p, nil
	})
	if err != nil {
		return State{}, "", err
	}
	if p != nil {
		out = *p
	}
	return out, status, nil
}

// right reports whether code is the code of s.
func (e *Verifications) right(s *State, code string) (bool, error) {
	if e.c.Reveal == nil {
		return subtle.ConstantTimeCompare([]byte(code), []byte(s.code)) == 1, nil
	}
	want, err := e.c.Reveal(s.nonce[:e.c.NonceLen], s.code)
	return subtle.ConstantTimeCompare([]byte(code), []byte(want)) == 1, err
}

// Fetch returns the pending verification id. One whose checks are spent
// is not found: it can no longer be approved.
func (e *Verifications) Fetch(ctx context.Context, id string, gate Gate) (State, error) {
	return e.byID(ctx, id, false, gate)
}

// End ends the pending verification id (a cancellation or an approval
// without a code) and returns its last state. One whose checks are spent
// is not found.
func (e *Verifications) End(ctx context.Context, id string, gate Gate) (State, error) {
	return e.byID(ctx, id, true, gate)
}

func (e *Verifications) byID(ctx context.Context, id string, end bool, gate Gate) (State, error) {
	var raw [16]byte
	f, ok := e.lookup(id, "", gate, &raw)
	if !ok {
		return State{}, f.notFound()
	}
	var out State
	err := e.step(ctx, f.k, read, func(cur *State, now time.Time, _ bool) (*State, error) {
		s, err := f.find(cur, now, false)
		switch {
		case err != nil:
			return nil, err
		case s == nil || s.Checks >= e.c.MaxChecks && !e.c.SpentVisible:
			return nil, errNotFound
		}
		out = *s
		if !end {
			return s, nil
		}
		out.Updated = now
		return nil, nil
	})
	return out, err
}

// Find returns the verification id (and to, when both are given) or to
// names, and whether one is pending (one whose checks are spent
// included). It changes nothing.
func (e *Verifications) Find(ctx context.Context, id, to string) (State, bool, error) {
	var raw [16]byte
	f, ok := e.lookup(id, to, nil, &raw)
	if !ok {
		return State{}, false, nil
	}
	var out *State
	err := e.step(ctx, f.k, read, func(cur *State, now time.Time, _ bool) (*State, error) {
		out, _ = f.find(cur, now, false)
		return cur, nil
	})
	if out == nil {
		return State{}, false, err
	}
	return *out, true, err
}
