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
// Every step is one read and one compare-and-swap on one record, the
// verification pending for a target, so replicas that share the store
// never lose an update and approve a verification at most once. An ID
// carries the target's name (Config.Name) and a nonce, so a lookup by ID
// reads that one record and compares the nonce.
package engine

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

// Config is what a layer gives the engine. Every field is read, never
// changed, by the engine; New checks them.
type Config struct {
	// Store holds the records. Required.
	Store store.Store
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
	Reveal func(nonce, stored []byte) (string, error)
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
type Verifications struct{ c Config }

// New checks c and returns the engine.
func New(c Config) (*Verifications, error) {
	switch {
	case c.Store == nil || c.Now == nil || c.Name == nil || c.NewCode == nil:
		return nil, errors.New("engine: Store, Now, Name and NewCode are required")
	case c.Validity <= 0 || c.MaxSends < 1 || c.MaxChecks < 1:
		return nil, errors.New("engine: Validity must be positive, MaxSends and MaxChecks at least 1")
	case c.NameLen < 1 || c.NameLen > 16 || c.NonceLen < 8 || c.NonceLen > 16:
		return nil, errors.New("engine: NameLen must be 1 to 16 and NonceLen 8 to 16")
	}
	if c.Random == nil {
		c.Random = func(b []byte) { _, _ = rand.Read(b) }
	}
	return &Verifications{c: c}, nil
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

// key returns the store key of a target.
func (e *Verifications) key(to string) string {
	var buf [96]byte
	name := e.c.Name(to)
	b := append(buf[:0], e.c.KeyPrefix...)
	return string(hex.AppendEncode(b, name[:e.c.NameLen]))
}

// parseID returns the store key and nonce an ID names (the nonce in the
// first NonceLen bytes of raw), decoding in place.
func (e *Verifications) parseID(id string, raw *[16]byte) (string, bool) {
	p, n := len(e.c.IDPrefix), 2*e.c.NameLen
	if len(id) != p+n+2*e.c.NonceLen || id[:p] != e.c.IDPrefix {
		return "", false
	}
	for i := p; i < len(id); i++ { // one spelling per ID: lower-case hex only
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	for i, h := range id[p+n:] {
		v := byte(h - '0')
		if h >= 'a' {
			v = byte(h-'a') + 10
		}
		raw[i/2] = raw[i/2]<<4 | v
	}
	return e.c.KeyPrefix + id[p:p+n], true
}

// Gate is called with the target of the verification an operation found
// (empty when none) before the operation changes anything; an error from
// it ends the operation unchanged. The fake's faults and magic numbers use
// it. It is called once per operation.
type Gate func(to string) error

// Start sends the pending code of to again, counting a send, or starts a
// new verification over ch with custom (or a new code when custom is
// empty). It returns the state after the send and the code to deliver.
func (e *Verifications) Start(ctx context.Context, to string, ch provider.Channel, custom string) (State, string, error) {
	key := e.key(to)
	var r store.Record
	var err error
	if !e.c.CreateFirst {
		r, err = e.c.Store.Get(ctx, key)
	}
	var fresh State // the new verification, made once when needed
	for {
		if err != nil {
			return State{}, "", err
		}
		now := e.c.Now()
		var s State
		pending := r.Found()
		if pending {
			if derr := s.decode(r.Value, e.c.NonceLen); derr != nil {
				return State{}, "", derr
			}
			switch {
			case s.To != to && now.Before(s.Expires):
				return State{}, "", &Error{Kind: provider.ErrUnavailable, Reason: ReasonCollision}
			case !now.Before(s.Expires):
				pending = false // expired: replace it
			case s.Checks >= e.c.MaxChecks:
				return State{}, "", &Error{Kind: provider.ErrTooManySends, Reason: ReasonChecksSpent, Wait: s.Expires.Sub(now)}
			case len(s.attempts) >= e.c.MaxSends:
				return State{}, "", &Error{Kind: provider.ErrTooManySends, Wait: s.Expires.Sub(now)}
			}
		}
		if !pending {
			if fresh.nonce == nil {
				if custom == "" {
					custom = e.c.NewCode()
				}
				buf := make([]byte, e.c.NonceLen+len(custom)) // one allocation for both
				copy(buf[e.c.NonceLen:], custom)
				fresh = State{To: to, Created: now, Expires: now.Add(e.c.Validity), nonce: buf[:e.c.NonceLen:e.c.NonceLen], code: buf[e.c.NonceLen:]}
				e.c.Random(fresh.nonce)
			}
			s = fresh
		}
		var a attempt
		e.c.Random(a.id[:])
		a.at, a.channel = now, ch
		s.attempts = append(s.attempts[:len(s.attempts):len(s.attempts)], a)
		s.prevUpdated = s.Updated
		s.Channel, s.Updated = ch, now
		s.seq++
		old := uint64(0)
		if r.Found() {
			old = r.Version
		}
		var cur store.Record
		cur, err = e.c.Store.CompareAndSwap(ctx, key, old, s.encode(), s.Expires.Sub(now))
		if errors.Is(err, store.ErrConflict) {
			r, err = cur, nil // decide again on the current record
			continue
		}
		if err != nil {
			return State{}, "", err
		}
		s.e, s.version, s.key = e, cur.Version, key
		if !pending && e.c.Reveal == nil {
			return s, custom, nil
		}
		code, err := e.reveal(&s)
		if err != nil {
			return State{}, "", err
		}
		return s, code, nil
	}
}

// reveal returns the code of s.
func (e *Verifications) reveal(s *State) (string, error) {
	if e.c.Reveal == nil {
		return string(s.code), nil
	}
	return e.c.Reveal(s.nonce, s.code)
}

// TakeBack undoes the send that Start returned s after, when the message
// certainly did not go out: it puts back the verification as it was
// before (a new one is deleted), unless something changed it since.
func (e *Verifications) TakeBack(ctx context.Context, s State) error {
	key, n := s.key, len(s.attempts)
	now := e.c.Now()
	if n > 1 && now.Before(s.Expires) {
		s.attempts = s.attempts[:n-1]
		s.Channel, s.Updated = s.attempts[n-2].channel, s.prevUpdated
		s.seq++
		_, err := e.c.Store.CompareAndSwap(ctx, key, s.version, s.encode(), s.Expires.Sub(now))
		return err
	}
	_, err := e.c.Store.CompareAndDelete(ctx, key, s.version)
	return err
}

// find reads the verification an ID or a To names: its key, record and
// state, whose e is nil when none is pending.
func (e *Verifications) find(ctx context.Context, id, to string) (string, store.Record, State, error) {
	var key string
	var nonce []byte
	var raw [16]byte
	if id != "" {
		var ok bool
		if key, ok = e.parseID(id, &raw); !ok {
			return "", store.Record{}, State{}, nil
		}
		nonce = raw[:e.c.NonceLen]
	} else {
		key = e.key(to)
	}
	r, err := e.c.Store.Get(ctx, key)
	if err != nil {
		return "", store.Record{}, State{}, err
	}
	s, err := e.match(r, key, nonce, to)
	return key, r, s, err
}

// match decodes r when it holds a pending verification with nonce (any,
// when nonce is nil) and target to (any, when to is empty); the state's e
// is nil otherwise.
func (e *Verifications) match(r store.Record, key string, nonce []byte, to string) (State, error) {
	var s State
	if !r.Found() {
		return s, nil
	}
	if err := s.decode(r.Value, e.c.NonceLen); err != nil {
		return State{}, err
	}
	if nonce != nil && subtle.ConstantTimeCompare(nonce, s.nonce) != 1 || to != "" && s.To != to || !e.c.Now().Before(s.Expires) {
		return State{}, nil
	}
	s.e, s.key = e, key
	return s, nil
}

// Check checks code against the verification id (and to, when both are
// given) or to names. The right code approves and ends it; a wrong code
// is counted, and the state is pending. Of any number of concurrent
// checks exactly one approves.
func (e *Verifications) Check(ctx context.Context, id, to, code string, gate Gate) (State, provider.Status, error) {
	key, r, s, err := e.find(ctx, id, to)
	if err != nil {
		return State{}, "", err
	}
	if gate != nil {
		target := ""
		if s.e != nil {
			target = s.To
		}
		if err := gate(target); err != nil {
			return State{}, "", err
		}
	}
	for {
		if s.e == nil {
			return State{}, "", errNotFound
		}
		now := e.c.Now()
		if s.Checks >= e.c.MaxChecks {
			return State{}, "", &Error{Kind: provider.ErrTooManyChecks, Wait: s.Expires.Sub(now)}
		}
		s.Updated = now
		var cur store.Record
		status := provider.StatusApproved
		want, err := e.reveal(&s)
		if err != nil {
			return State{}, "", err
		}
		if subtle.ConstantTimeCompare([]byte(code), []byte(want)) == 1 {
			cur, err = e.c.Store.CompareAndDelete(ctx, key, r.Version)
		} else {
			status = provider.StatusPending
			s.Checks++
			s.seq++
			if e.c.GoneAtMaxChecks && s.Checks >= e.c.MaxChecks {
				cur, err = e.c.Store.CompareAndDelete(ctx, key, r.Version)
			} else {
				cur, err = e.c.Store.CompareAndSwap(ctx, key, r.Version, s.encode(), s.Expires.Sub(now))
			}
		}
		if err == nil {
			return s, status, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return State{}, "", err
		}
		// Another caller changed it: decide again on its current state,
		// which must still be the same verification.
		r = cur
		if s, err = e.match(r, key, s.nonce, ""); err != nil {
			return State{}, "", err
		}
	}
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
	key, r, s, err := e.find(ctx, id, "")
	if err != nil {
		return State{}, err
	}
	if gate != nil {
		target := ""
		if s.e != nil {
			target = s.To
		}
		if err := gate(target); err != nil {
			return State{}, err
		}
	}
	for {
		if s.e == nil || s.Checks >= e.c.MaxChecks && !e.c.SpentVisible {
			return State{}, errNotFound
		}
		if !end {
			return s, nil
		}
		cur, err := e.c.Store.CompareAndDelete(ctx, key, r.Version)
		if err == nil {
			s.Updated = e.c.Now()
			return s, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return State{}, err
		}
		r = cur
		if s, err = e.match(r, key, s.nonce, ""); err != nil {
			return State{}, err
		}
	}
}

// Find returns the verification id (and to, when both are given) or to
// names, and whether one is pending (one whose checks are spent
// included). It changes nothing.
func (e *Verifications) Find(ctx context.Context, id, to string) (State, bool, error) {
	_, _, s, err := e.find(ctx, id, to)
	return s, s.e != nil, err
}
