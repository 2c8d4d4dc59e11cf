package selfhosted

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

// Name is the provider name reported through provider.Namer.
const Name = "selfhosted"

// Provider runs the Verify lifecycle itself: it generates, delivers,
// limits, expires and checks codes, with its state in a store.Store that
// any number of replicas may share. Create one with New. A Provider is
// safe for concurrent use.
type Provider struct {
	st        store.Store
	keys      *keyring
	senders   map[provider.Channel]Sender
	channels  []provider.Channel
	now       func() time.Time
	validity  time.Duration
	maxSends  int
	maxChecks int
	codeLen   int
	appName   string
	prefix    string
	keyOK     atomic.Bool // the store's key check passed (see ensureKey)

	factorWindow   time.Duration
	factorMaxWrong int
}

var (
	_ provider.Provider           = (*Provider)(nil)
	_ provider.Canceler           = (*Provider)(nil)
	_ provider.Fetcher            = (*Provider)(nil)
	_ provider.Namer              = (*Provider)(nil)
	_ provider.CapabilityReporter = (*Provider)(nil)
	_ provider.Approver           = (*Provider)(nil)
)

// Option configures a Provider.
type Option func(*Provider) error

// WithSender delivers the given channels through s. At least one sender is
// required; a channel given to two senders is an error. Channel auto is
// not given: Start resolves it to sms for a phone number and email for an
// e-mail address, when those have senders.
func WithSender(s Sender, channels ...provider.Channel) Option {
	return func(p *Provider) error {
		if s == nil || len(channels) == 0 {
			return errors.New("selfhosted: WithSender needs a sender and at least one channel")
		}
		for _, ch := range channels {
			if ch == "" || ch == provider.ChannelAuto {
				return fmt.Errorf("selfhosted: WithSender: channel %q cannot have a sender", ch)
			}
			if _, dup := p.senders[ch]; dup {
				return fmt.Errorf("selfhosted: WithSender: channel %q has two senders", ch)
			}
			p.senders[ch] = s
		}
		return nil
	}
}

// WithOlderKeys lets the provider open what was sealed under older keys,
// after a new key became the one given to New.
//
// Verifications started under an older key stay checkable by ID and by To
// (a check by To that misses under the new key looks under each older
// one); a Start to such a target starts a new verification under the new
// key, and the older one expires on its own. Keep the older key for the
// validity window.
//
// An identity's factors are found under an older key's name too, and move
// to the new key's name (sealed under the new key) at their next change:
// keep an older key until every identity has changed since (Rekey forces
// the move), or it is unreachable. Switch the primary key on all replicas at once: a replica
// still on the old key does not look under the new key's names.
func WithOlderKeys(keys ...Key) Option {
	return func(p *Provider) error {
		kr, err := newKeyring(p.keys.primaryKey, keys)
		if err != nil {
			return err
		}
		kr.primaryKey = p.keys.primaryKey
		p.keys = kr
		return nil
	}
}

// WithClock makes the provider read the time from now instead of time.Now.
func WithClock(now func() time.Time) Option {
	return func(p *Provider) error {
		if now == nil {
			return errors.New("selfhosted: WithClock: nil clock")
		}
		p.now = now
		return nil
	}
}

// WithValidity sets how long a code stays valid, from the first send:
// 30 seconds to 24 hours. The default is 10 minutes (Twilio's).
func WithValidity(d time.Duration) Option {
	return func(p *Provider) error {
		if d < 30*time.Second || d > 24*time.Hour {
			return fmt.Errorf("selfhosted: WithValidity(%v): want 30s to 24h", d)
		}
		p.validity = d
		return nil
	}
}

// WithMaxSends sets how many times one verification's code may be sent
// (the first Start and the re-sends), 1 to 20. The default is 5.
func WithMaxSends(n int) Option {
	return func(p *Provider) error {
		if n < 1 || n > 20 {
			return fmt.Errorf("selfhosted: WithMaxSends(%d): want 1 to 20", n)
		}
		p.maxSends = n
		return nil
	}
}

// WithMaxChecks sets how many wrong codes one verification accepts before
// every check fails with ErrTooManyChecks, 1 to 20. The default is 5.
func WithMaxChecks(n int) Option {
	return func(p *Provider) error {
		if n < 1 || n > 20 {
			return fmt.Errorf("selfhosted: WithMaxChecks(%d): want 1 to 20", n)
		}
		p.maxChecks = n
		return nil
	}
}

// WithCodeLength sets the number of digits of a code, 4 to 10. The
// default is 6.
func WithCodeLength(n int) Option {
	return func(p *Provider) error {
		if n < 4 || n > 10 {
			return fmt.Errorf("selfhosted: WithCodeLength(%d): want 4 to 10", n)
		}
		p.codeLen = n
		return nil
	}
}

// WithAppName sets the application name put in messages, unless a
// request's FriendlyName overrides it. The default is "verifykit".
func WithAppName(name string) Option {
	return func(p *Provider) error {
		if name == "" || len(name) > 30 {
			return errors.New("selfhosted: WithAppName: want 1 to 30 bytes")
		}
		p.appName = name
		return nil
	}
}

// WithKeyPrefix sets the prefix of every key the provider uses in the
// store. The default is "vk:". Providers that share a store and a prefix
// must share the application key.
func WithKeyPrefix(prefix string) Option {
	return func(p *Provider) error {
		p.prefix = prefix
		return nil
	}
}

// New returns a provider that keeps its state in st and derives its keys
// from key (see Key). At least one WithSender is required.
func New(st store.Store, key Key, opts ...Option) (*Provider, error) {
	if st == nil {
		return nil, errors.New("selfhosted: nil store")
	}
	kr, err := newKeyring(key, nil)
	if err != nil {
		return nil, err
	}
	kr.primaryKey = key
	p := &Provider{
		st:             st,
		keys:           kr,
		senders:        make(map[provider.Channel]Sender),
		now:            time.Now,
		validity:       10 * time.Minute,
		maxSends:       5,
		maxChecks:      5,
		codeLen:        6,
		appName:        "verifykit",
		prefix:         "vk:",
		factorWindow:   10 * time.Minute,
		factorMaxWrong: 5,
	}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("selfhosted: nil option")
		}
		if err := opt(p); err != nil {
			return nil, err
		}
	}
	if len(p.senders) == 0 {
		return nil, errors.New("selfhosted: no sender: use WithSender")
	}
	for ch := range p.senders {
		p.channels = append(p.channels, ch)
	}
	if p.senders[provider.ChannelSMS] != nil || p.senders[provider.ChannelEmail] != nil {
		p.channels = append(p.channels, provider.ChannelAuto)
	}
	slices.Sort(p.channels)
	return p, nil
}

// Name returns "selfhosted".
func (p *Provider) Name() string { return Name }

// Capabilities reports check by To, re-send on Start, and the channels
// that have senders (and auto, when sms or email has one).
func (p *Provider) Capabilities() provider.Capabilities {
	return provider.Capabilities{CheckByTo: true, ResendOnStart: true, Channels: slices.Clone(p.channels)}
}

// String describes the provider without secrets.
func (p *Provider) String() string {
	return fmt.Sprintf("selfhosted.Provider{Key:%s Channels:%v}", p.keys.primary.id, p.channels)
}

// GoString is like String.
func (p *Provider) GoString() string { return p.String() }

// Format prints what String does for every verb.
func (p *Provider) Format(f fmt.State, verb rune) { formatString(f, verb, p.String()) }

// formatString writes s for any verb (quoted for %q): the Format method of
// every type here that holds a secret.
func formatString(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = io.WriteString(f, s)
}

// An ID is "VE", the target's name (12 bytes) and the nonce (16 bytes), in
// hex: 58 characters, within the 64 the verify client accepts.
const (
	nameLen = 12
	idLen   = 2 + 2*nameLen + 32
)

// targetKey returns the store key of the verification pending for to.
func (p *Provider) targetKey(to string) string {
	var b [16]byte
	name := p.keys.primary.name(b[:0], 'v', to)
	return hexString(p.prefix+"v:", name[:nameLen])
}

// hexString returns prefix followed by b in hex, in one allocation.
func hexString(prefix string, b []byte) string { return hexString2(prefix, "", b) }

// hexString2 returns p1, p2 and b in hex, in one allocation.
func hexString2(p1, p2 string, b []byte) string {
	var sb strings.Builder
	sb.Grow(len(p1) + len(p2) + 2*len(b))
	sb.WriteString(p1)
	sb.WriteString(p2)
	var buf [64]byte
	for len(b) > 0 {
		n := min(len(b), len(buf)/2)
		hex.Encode(buf[:], b[:n])
		sb.Write(buf[:2*n])
		b = b[n:]
	}
	return sb.String()
}

// parseID returns the store key and nonce an ID names. An ID has one
// spelling, the one id returns: hex digits in upper case make another ID,
// which names nothing, so that whatever a caller keys by ID (verify's
// check budgets) sees every use of a verification.
func (p *Provider) parseID(id string) (key string, nonce [16]byte, ok bool) {
	if len(id) != idLen || id[:2] != "VE" || !lowerHex(id[2:]) {
		return "", nonce, false
	}
	if _, err := hex.Decode(nonce[:], []byte(id[2+2*nameLen:])); err != nil {
		return "", nonce, false
	}
	var name [nameLen]byte
	if _, err := hex.Decode(name[:], []byte(id[2:2+2*nameLen])); err != nil {
		return "", nonce, false
	}
	return p.prefix + "v:" + id[2:2+2*nameLen], nonce, true
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

func (p *Provider) id(key string, nonce [16]byte) string {
	return hexString2("VE", key[len(p.prefix)+2:], nonce[:])
}

// code derives a verification's code from its nonce with the key that
// sealed it: AES under the code key, as a pseudorandom function, reduced
// to codeLen digits.
func (p *Provider) code(d *derived, nonce [16]byte) string {
	var buf [10]byte
	return string(p.codeInto(&buf, d, nonce))
}

// codeInto writes the code into buf and returns it, without allocating.
func (p *Provider) codeInto(buf *[10]byte, d *derived, nonce [16]byte) []byte {
	sc := d.hmacs.Get().(*scratch)
	sc.out = nonce
	d.code.Encrypt(sc.out[:], sc.out[:])
	n := binary.BigEndian.Uint64(sc.out[:8])
	d.hmacs.Put(sc)
	mod := uint64(1)
	for range p.codeLen {
		mod *= 10
	}
	n %= mod
	for i := p.codeLen - 1; i >= 0; i-- {
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return buf[:p.codeLen]
}

// resolve returns the channel to deliver over, or an error.
func (p *Provider) resolve(req provider.StartRequest) (provider.Channel, error) {
	ch := req.Channel
	if !ch.Known() && !slices.Contains(p.channels, ch) {
		return "", newErr(OpStart, provider.ErrInvalidRequest, "unknown channel")
	}
	if !provider.ChannelFits(ch, req.To) {
		return "", newErr(OpStart, provider.ErrInvalidRequest, "To does not fit channel "+string(ch))
	}
	if ch == provider.ChannelAuto {
		ch = provider.ChannelSMS
		if provider.IsEmail(req.To) {
			ch = provider.ChannelEmail
		}
	}
	if p.senders[ch] == nil {
		return "", newErr(OpStart, provider.ErrUndeliverable, "no sender for channel "+string(ch))
	}
	return ch, nil
}

// Start sends a code to req.To over req.Channel, or re-sends the code of
// the verification pending for req.To (counting a send). The send is
// counted in the store before the message goes out, so replicas never send
// more than the limit; when the sender reports that the message was
// certainly not delivered, the send is taken back.
func (p *Provider) Start(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	ch, err := p.resolve(req)
	if err != nil {
		return provider.Verification{}, err
	}
	if req.CustomCode != "" {
		return provider.Verification{}, newErr(OpStart, provider.ErrUnsupported, "custom codes are not supported: codes are derived, never stored")
	}
	if len(req.FriendlyName) > 30 {
		return provider.Verification{}, newErr(OpStart, provider.ErrInvalidRequest, "friendly name longer than 30 bytes")
	}
	if err := p.ensureKey(ctx, OpStart); err != nil {
		return provider.Verification{}, err
	}
	key := p.targetKey(req.To)
	now := p.now()
	aad := []byte(key)

	// Optimistically create: one round trip when nothing is pending.
	fresh := &verification{to: req.To, channel: ch, created: now, updated: now, expires: now.Add(p.validity)}
	_, _ = rand.Read(fresh.nonce[:])
	fresh.attempts = []attempt{{at: now, channel: ch}}
	_, _ = rand.Read(fresh.attempts[0].id[:])
	freshSealed := p.keys.primary.seal(fresh.encode(make([]byte, 0, 128)), aad)

	var old uint64       // the version to swap; 0: create
	var cur store.Record // the current record when old != 0
	for {
		var v *verification
		var d *derived
		var sealed []byte
		var ttl time.Duration
		prev := cur
		if old == 0 {
			v, d, sealed, ttl = fresh, p.keys.primary, freshSealed, p.validity
		} else {
			v, d = p.openVerification(slices.Clone(cur.Value), aad)
			if v == nil {
				return provider.Verification{}, unreadable(OpStart)
			}
			switch {
			case v.to != req.To && now.Before(v.expires):
				// Two targets whose 96-bit names collide: refuse rather
				// than touch the other target's verification.
				return provider.Verification{}, newErr(OpStart, provider.ErrUnavailable, "store key collision; try again later")
			case !now.Before(v.expires):
				// Expired: replace it with the fresh one.
				v, d, sealed, ttl = fresh, p.keys.primary, freshSealed, p.validity
				prev = store.Record{}
			case v.checks >= p.maxChecks:
				return provider.Verification{}, &Error{Op: OpStart, Kind: provider.ErrTooManySends, Wait: v.expires.Sub(now),
					msg: "the verification pending for this target has had too many wrong codes"}
			case len(v.attempts) >= p.maxSends:
				return provider.Verification{}, &Error{Op: OpStart, Kind: provider.ErrTooManySends, Wait: v.expires.Sub(now)}
			default:
				a := attempt{at: now, channel: ch}
				_, _ = rand.Read(a.id[:])
				v.attempts = append(v.attempts, a)
				v.channel = ch
				v.updated = now
				sealed = d.seal(v.encode(make([]byte, 0, 128)), aad)
				ttl = v.expires.Sub(now)
			}
		}
		r, err := p.st.CompareAndSwap(ctx, key, old, sealed, ttl)
		if errors.Is(err, store.ErrConflict) {
			// Decide again on the current record (absent: create).
			old, cur = r.Version, r
			continue
		}
		if err != nil {
			return provider.Verification{}, failure(OpStart, err)
		}
		msg := Message{To: req.To, Channel: ch, Code: p.code(d, v.nonce), Locale: req.Locale, AppName: req.FriendlyName}
		if msg.AppName == "" {
			msg.AppName = p.appName
		}
		if err := p.senders[ch].Send(ctx, msg); err != nil {
			if !delivered(err) {
				p.takeBack(ctx, key, r.Version, prev)
				return provider.Verification{}, failure(OpStart, err)
			}
			// The message may have gone out: the send stays counted, and
			// the verification pending, so a retried Start re-sends the
			// same code.
			return provider.Verification{}, &Error{Op: OpStart, Kind: provider.ErrOutcomeUnknown, Err: err}
		}
		return p.view(key, v, provider.StatusPending), nil
	}
}

// delivered reports whether a sender's error leaves open that the message
// was delivered.
func delivered(err error) bool {
	for _, k := range []error{provider.ErrUnavailable, provider.ErrUndeliverable, provider.ErrInvalidRequest, provider.ErrUnauthorized, provider.ErrRateLimited} {
		if errors.Is(err, k) {
			return false
		}
	}
	return true
}

// takeBack undoes a send that certainly did not go out: it puts back the
// previous record (or deletes a new one) if nothing changed it since.
func (p *Provider) takeBack(ctx context.Context, key string, version uint64, prev store.Record) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	// Restore the previous state with the rest of its time to live, or
	// delete a new verification; a conflict means another replica acted,
	// and its state stands.
	if prev.Found() {
		v, _ := p.openVerification(slices.Clone(prev.Value), []byte(key))
		if ttl := time.Duration(0); v != nil {
			if ttl = v.expires.Sub(p.now()); ttl > 0 {
				_, _ = p.st.CompareAndSwap(ctx, key, version, prev.Value, ttl)
				return
			}
		}
	}
	_, _ = p.st.CompareAndDelete(ctx, key, version)
}

// openVerification opens and decodes a sealed verification, or returns
// nil when it does not open (sealed under a key no longer configured, or
// tampered with): such a record is treated as absent.
func (p *Provider) openVerification(sealed, aad []byte) (*verification, *derived) {
	d, plain, err := p.keys.open(sealed, aad)
	if err != nil {
		return nil, nil
	}
	v := new(verification)
	if v.decode(plain) != nil {
		return nil, nil
	}
	return v, d
}

// view returns the verification as the provider contract reports it.
func (p *Provider) view(key string, v *verification, status provider.Status) provider.Verification {
	out := provider.Verification{
		ID:        p.id(key, v.nonce),
		To:        v.to,
		Channel:   v.channel,
		Status:    status,
		RawStatus: string(status),
		CreatedAt: v.created,
		UpdatedAt: v.updated,
		ExpiresAt: v.expires,
	}
	out.SendAttempts = make([]provider.SendAttempt, len(v.attempts))
	for i, a := range v.attempts {
		out.SendAttempts[i] = provider.SendAttempt{Time: a.at, Channel: a.channel, ID: hexString("VL", a.id[:])}
	}
	return out
}

// lookup finds the pending verification an ID or a To names. It returns
// the store key, the record and the opened verification; v is nil when
// there is none (never started, approved, canceled, expired).
func (p *Provider) lookup(ctx context.Context, op Op, id, to string) (string, store.Record, *verification, *derived, error) {
	if err := p.ensureKey(ctx, op); err != nil {
		return "", store.Record{}, nil, nil, err
	}
	var key string
	var nonce [16]byte
	byID := id != ""
	if byID {
		var ok bool
		key, nonce, ok = p.parseID(id)
		if !ok {
			return "", store.Record{}, nil, nil, nil
		}
		if to != "" && p.targetKey(to) != key {
			return "", store.Record{}, nil, nil, nil
		}
	} else {
		key = p.targetKey(to)
	}
	r, err := p.st.Get(ctx, key)
	if err != nil {
		return "", store.Record{}, nil, nil, failure(op, err)
	}
	v, d, err := p.match(op, r, key, byID, nonce)
	if err != nil {
		return "", store.Record{}, nil, nil, err
	}
	if v != nil && to != "" && v.to != to {
		v, d = nil, nil // another target whose name collides: not this one's
	}
	if v == nil && !byID {
		// After a key rotation, a verification started under an older key
		// is named with that key: look there too (a round trip per older
		// key, only on a miss).
		for _, old := range p.keys.older {
			var b [16]byte
			okey := hexString(p.prefix+"v:", old.name(b[:0], 'v', to)[:nameLen])
			or, err := p.st.Get(ctx, okey)
			if err != nil {
				return "", store.Record{}, nil, nil, failure(op, err)
			}
			ov, od, err := p.match(op, or, okey, false, nonce)
			if err != nil {
				return "", store.Record{}, nil, nil, err
			}
			if ov != nil && ov.to == to {
				return okey, or, ov, od, nil
			}
		}
	}
	return key, r, v, d, nil
}

// match opens r and returns the verification when it is pending (not
// expired) and, when byID, has the given nonce.
func (p *Provider) match(op Op, r store.Record, key string, byID bool, nonce [16]byte) (*verification, *derived, error) {
	if !r.Found() {
		return nil, nil, nil
	}
	v, d := p.openVerification(r.Value, []byte(key))
	if v == nil {
		return nil, nil, unreadable(op)
	}
	if (byID && v.nonce != nonce) || !p.now().Before(v.expires) {
		return nil, nil, nil
	}
	return v, d, nil
}

// keyCheckText is what the key check record holds, sealed.
const keyCheckText = "verifykit/selfhosted key check"

// ensureKey checks, once per provider, that the store's state is sealed
// under a key this provider has: a record at a fixed key holds a value
// sealed under the key of whichever replica wrote it first (rewritten under
// the primary key after a rotation). A replica given another key fails
// every operation with ErrUnavailable instead of working beside the others
// in a namespace of its own, where an identity would seem to have no
// factors.
func (p *Provider) ensureKey(ctx context.Context, op Op) error {
	if p.keyOK.Load() {
		return nil
	}
	key := p.prefix + "keycheck"
	aad := []byte(key)
	r, err := p.st.Get(ctx, key)
	for {
		if err != nil {
			return failure(op, err)
		}
		if !r.Found() {
			r, err = p.st.CompareAndSwap(ctx, key, 0, p.keys.primary.seal([]byte(keyCheckText), aad), factorTTL)
			if err == nil {
				p.keyOK.Store(true)
				return nil
			}
			if errors.Is(err, store.ErrConflict) {
				err = nil
			}
			continue
		}
		d, plain, oerr := p.keys.open(slices.Clone(r.Value), aad)
		if oerr != nil || string(plain) != keyCheckText {
			return newErr(op, provider.ErrUnavailable, "the store holds state sealed under a key this provider lacks: every replica needs the same key (see WithOlderKeys)")
		}
		if d != p.keys.primary {
			// After a rotation: seal it again under the new key (another
			// replica may do it first; either way it opens).
			_, _ = p.st.CompareAndSwap(ctx, key, r.Version, p.keys.primary.seal([]byte(keyCheckText), aad), factorTTL)
		}
		p.keyOK.Store(true)
		return nil
	}
}

func notFound(op Op) error { return newErr(op, provider.ErrNotFound, "no pending verification") }

// unreadable is the error for a stored record that does not open: sealed
// under a key this provider was not given, or altered. It is never taken
// for an absent record, which would let a misconfigured replica overwrite
// state (or report an identity without factors).
func unreadable(op Op) error {
	return newErr(op, provider.ErrUnavailable, "a stored record does not open: sealed under a key this provider lacks (see WithOlderKeys), or altered")
}

// Check checks a code. The right code approves the verification and
// deletes it in one atomic step, so of any number of concurrent checks
// (from any number of replicas) exactly one approves; a wrong code is
// counted the same way.
func (p *Provider) Check(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	if req.ID == "" && req.To == "" {
		return provider.Verification{}, newErr(OpCheck, provider.ErrInvalidRequest, "neither ID nor To")
	}
	if !wire.ValidCode(req.Code) {
		return provider.Verification{}, newErr(OpCheck, provider.ErrInvalidRequest, "malformed code")
	}
	key, r, v, d, err := p.lookup(ctx, OpCheck, req.ID, req.To)
	if err != nil {
		return provider.Verification{}, err
	}
	var nonce [16]byte
	if v != nil {
		nonce = v.nonce
	}
	for {
		if v == nil {
			return provider.Verification{}, notFound(OpCheck)
		}
		if v.checks >= p.maxChecks {
			return provider.Verification{}, &Error{Op: OpCheck, Kind: provider.ErrTooManyChecks, Wait: v.expires.Sub(p.now())}
		}
		now := p.now()
		var buf [10]byte
		if subtle.ConstantTimeCompare(p.codeInto(&buf, d, v.nonce), []byte(req.Code)) == 1 {
			cur, err := p.st.CompareAndDelete(ctx, key, r.Version)
			if err == nil {
				v.updated = now
				return p.view(key, v, provider.StatusApproved), nil
			}
			if !errors.Is(err, store.ErrConflict) {
				return provider.Verification{}, failure(OpCheck, err)
			}
			r = cur
		} else {
			v.checks++
			v.updated = now
			cur, err := p.st.CompareAndSwap(ctx, key, r.Version, d.seal(v.encode(make([]byte, 0, 128)), []byte(key)), v.expires.Sub(now))
			if err == nil {
				return p.view(key, v, provider.StatusPending), nil
			}
			if !errors.Is(err, store.ErrConflict) {
				return provider.Verification{}, failure(OpCheck, err)
			}
			r = cur
		}
		// Another replica changed the verification: decide again on its
		// current state, which must still be the same verification.
		if v, d, err = p.match(OpCheck, r, key, true, nonce); err != nil {
			return provider.Verification{}, err
		}
	}
}

// Fetch returns the pending verification with the given ID. One that has
// had too many wrong codes is reported with status max_attempts_reached
// until it expires.
func (p *Provider) Fetch(ctx context.Context, id string) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	key, _, v, _, err := p.lookup(ctx, OpFetch, id, "")
	if err != nil {
		return provider.Verification{}, err
	}
	if v == nil {
		return provider.Verification{}, notFound(OpFetch)
	}
	status := provider.StatusPending
	if v.checks >= p.maxChecks {
		status = provider.StatusMaxAttemptsReached
	}
	return p.view(key, v, status), nil
}

// Cancel cancels the pending verification with the given ID; it is gone
// afterwards.
func (p *Provider) Cancel(ctx context.Context, id string) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	key, r, v, _, err := p.lookup(ctx, OpCancel, id, "")
	if err != nil {
		return provider.Verification{}, err
	}
	for {
		if v == nil {
			return provider.Verification{}, notFound(OpCancel)
		}
		cur, err := p.st.CompareAndDelete(ctx, key, r.Version)
		if err == nil {
			v.updated = p.now()
			return p.view(key, v, provider.StatusCanceled), nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return provider.Verification{}, failure(OpCancel, err)
		}
		r = cur
		if v, _, err = p.match(OpCancel, r, key, true, v.nonce); err != nil {
			return provider.Verification{}, err
		}
	}
}

// Approve approves the pending verification with the given ID without a
// code, for applications that check codes they sent themselves; it is gone
// afterwards. Like a right code, it wins at most once across replicas.
func (p *Provider) Approve(ctx context.Context, id string) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	key, r, v, _, err := p.lookup(ctx, OpApprove, id, "")
	if err != nil {
		return provider.Verification{}, err
	}
	for {
		if v == nil {
			return provider.Verification{}, notFound(OpApprove)
		}
		cur, err := p.st.CompareAndDelete(ctx, key, r.Version)
		if err == nil {
			v.updated = p.now()
			return p.view(key, v, provider.StatusApproved), nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return provider.Verification{}, failure(OpApprove, err)
		}
		r = cur
		if v, _, err = p.match(OpApprove, r, key, true, v.nonce); err != nil {
			return provider.Verification{}, err
		}
	}
}
