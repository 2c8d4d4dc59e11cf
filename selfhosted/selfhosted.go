package selfhosted

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/verifykit/verifykit/internal/engine"
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
	st           store.Store
	keys         *keyring
	senders      map[provider.Channel]Sender
	channels     []provider.Channel
	now          func() time.Time
	validity     time.Duration
	maxSends     int
	maxChecks    int
	codeLen      int
	appName      string
	prefix       string
	names        atomic.Pointer[namer] // set by ensureKey
	namesRekeyed atomic.Bool           // see rekeyNames
	recall       *recall
	padV         int // the sealed size of every verification record
	eng          *engine.Verifications

	factorWindow   time.Duration
	factorMaxWrong int
	factors        *engine.Factors       // TOTP and push factors (factor.go)
	notifier       provider.PushNotifier // see WithPushNotifier
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

// WithOlderKeys lets the provider open what was sealed under other keys
// than the one given to New: older keys after a rotation, and the next key
// before it becomes the primary one. A replica that meets a record sealed
// under a key it was not given fails with ErrUnavailable; it never reads
// the record as absent. Rotate in three rolling deploys: step 1
// New(st, oldKey, WithOlderKeys(newKey)), step 2 New(st, newKey,
// WithOlderKeys(oldKey)), step 3, after Rekey of every identity and one
// validity window, New(st, newKey); docs/operations.md says why.
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
	return inRange("WithValidity", d, 30*time.Second, 24*time.Hour, "30s to 24h", func(p *Provider) *time.Duration { return &p.validity })
}

// WithMaxSends sets how many times one verification's code may be sent
// (the first Start and the re-sends), 1 to 20. The default is 5.
func WithMaxSends(n int) Option {
	return inRange("WithMaxSends", n, 1, 20, "1 to 20", func(p *Provider) *int { return &p.maxSends })
}

// WithMaxChecks sets how many wrong codes one verification accepts before
// every check fails with ErrTooManyChecks, 1 to 20. The default is 5.
func WithMaxChecks(n int) Option {
	return inRange("WithMaxChecks", n, 1, 20, "1 to 20", func(p *Provider) *int { return &p.maxChecks })
}

// WithCodeLength sets the number of digits of a code, 4 to 10. The
// default is 6.
func WithCodeLength(n int) Option {
	return inRange("WithCodeLength", n, 4, 10, "4 to 10", func(p *Provider) *int { return &p.codeLen })
}

// inRange returns an option that sets the field returns to v, or fails
// unless v is within lo to hi (want, in words).
func inRange[T int | time.Duration](name string, v, lo, hi T, want string, field func(*Provider) *T) Option {
	return func(p *Provider) error {
		if v < lo || v > hi {
			return fmt.Errorf("selfhosted: %s(%v): want %s", name, v, want)
		}
		*field(p) = v
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

// WithRecordMemory sets how many store records this replica remembers the
// latest state of, to refuse one put back in the store (see the package
// documentation): at least 1024. The default is 100000, at most about
// 35 MB (about 320 bytes per record remembered).
func WithRecordMemory(n int) Option {
	return func(p *Provider) error {
		if n < 1024 {
			return fmt.Errorf("selfhosted: WithRecordMemory(%d): want at least 1024", n)
		}
		p.recall = newRecall(n)
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
		recall:         newRecall(100000),
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
	maxCh := len(provider.ChannelWhatsApp)
	for _, ch := range p.channels {
		maxCh = max(maxCh, len(ch))
	}
	// The largest verification payload: a 320-byte target, maxSends sends
	// over the longest channel name; with the envelope and the seal.
	payload := 1 + 16 + 3 + 320 + 1 + maxCh + 24 + 2 + p.maxSends*(8+1+maxCh+16)
	p.padV = (payload + 40 + 1 + 32 + 12 + 16 + 63) / 64 * 64
	p.eng, err = engine.New(engine.Config{
		Store: sealed{Store: st, p: p}, Now: p.now, Validity: p.validity, MaxSends: p.maxSends, MaxChecks: p.maxChecks,
		KeyPrefix: p.prefix + "v:", IDPrefix: "VE", AttemptPrefix: "VL", Name: p.name, NameLen: nameLen, NonceLen: 16,
		NewCode: p.newCode, Reveal: p.reveal, CreateFirst: true, SpentVisible: true,
	})
	if err != nil {
		return nil, err
	}
	p.factors = p.newFactors()
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
// hex: 58 characters, within the 64 the verify client accepts. It has one
// spelling (lower-case hex), so that whatever a caller keys by ID (verify's
// check budgets) sees every use of a verification.
const nameLen = 12

// name is a target's name in the store: a keyed hash (see ensureKey).
func (p *Provider) name(to string) (out [16]byte) {
	p.names.Load().name(out[:0], 'v', to)
	return out
}

// newCode returns what a new verification stores in place of its code:
// the ID of the key that derives its code, the primary one (see sealed).
func (p *Provider) newCode() string { return p.keys.primary.id }

// reveal returns the code derived from nonce with the key that stored
// names (see sealed).
func (p *Provider) reveal(nonce []byte, stored string) (string, error) {
	d := p.keys.byID[stored]
	if d == nil || len(nonce) != 16 {
		return "", unreadable("")
	}
	return p.code(d, [16]byte(nonce)), nil
}

// code derives a verification's code from its nonce with the key that
// sealed it: AES under the code key, as a pseudorandom function, reduced
// to codeLen digits.
func (p *Provider) code(d *derived, nonce [16]byte) string {
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
	var buf [10]byte
	for i := p.codeLen - 1; i >= 0; i-- {
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return string(buf[:p.codeLen])
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
	s, code, err := p.eng.Start(ctx, req.To, ch, "")
	if err != nil {
		return provider.Verification{}, p.fail(OpStart, err)
	}
	msg := Message{To: req.To, Channel: ch, Code: code, Locale: req.Locale, AppName: cmp.Or(req.FriendlyName, p.appName)}
	if err := p.senders[ch].Send(ctx, msg); err != nil {
		if !delivered(err) {
			// Put back what was there, unless another replica acted since
			// (its state stands).
			tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = p.eng.TakeBack(tctx, s)
			cancel()
			return provider.Verification{}, failure(OpStart, err)
		}
		// The message may have gone out: the send stays counted, and the
		// verification pending, so a retried Start re-sends the same code.
		return provider.Verification{}, &Error{Op: OpStart, Kind: provider.ErrOutcomeUnknown, Err: err}
	}
	return s.View(provider.StatusPending), nil
}

// fail turns an engine or store error into the provider's: as factorFail
// does, after the verification engine's reasons that need words of their
// own.
func (p *Provider) fail(op Op, err error) error {
	var ee *engine.Error
	switch {
	case errors.As(err, &ee) && ee.Reason == engine.ReasonCollision:
		// Two targets whose 96-bit names collide: refused rather than
		// touching the other target's verification.
		return newErr(op, provider.ErrUnavailable, "store key collision; try again later")
	case errors.As(err, &ee) && ee.Reason == engine.ReasonChecksSpent:
		return &Error{Op: op, Kind: ee.Kind, Wait: ee.Wait, msg: "the verification pending for this target has had too many wrong codes"}
	case errors.As(err, &ee) && ee.Kind == provider.ErrNotFound:
		return notFound(op)
	}
	return factorFail(op, err)
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

// nameKeyText starts what the name key record holds, sealed.
const nameKeyText = "verifykit/selfhosted name key v1\n"

// ensureKey loads, once per provider, the name key that keys the hashes
// naming targets and identities in the store (docs/operations.md): made by
// the first replica from its primary key, never changed. A replica that
// cannot open it fails with ErrUnavailable rather than work beside the
// others in a namespace of its own, where identities seem to have no factors.
func (p *Provider) ensureKey(ctx context.Context, op Op) error {
	if p.names.Load() != nil {
		return nil
	}
	key := p.prefix + "namekey"
	aad := []byte(key)
	for {
		r, err := p.st.Get(ctx, key)
		if err != nil {
			return failure(op, err)
		}
		if r.Found() {
			_, plain, oerr := p.keys.open(r.Value, aad)
			if oerr != nil || len(plain) != len(nameKeyText)+32 || string(plain[:len(nameKeyText)]) != nameKeyText {
				return newErr(op, provider.ErrUnavailable, "the store's name key is sealed under a key this provider lacks: every replica needs the keys the others seal under (see WithOlderKeys)")
			}
			p.names.Store(newNamer(plain[len(nameKeyText):]))
			return nil
		}
		nk := p.keys.primary.target
		_, err = p.st.CompareAndSwap(ctx, key, 0, p.keys.primary.seal(append([]byte(nameKeyText), nk...), aad), store.NoExpiry)
		if err == nil {
			p.names.Store(newNamer(nk))
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return failure(op, err)
		}
	}
}

// rekeyNames seals the name key record again under the primary key, if
// another key sealed it (see Rekey).
func (p *Provider) rekeyNames(ctx context.Context, op Op) error {
	if p.namesRekeyed.Load() {
		return nil
	}
	key := p.prefix + "namekey"
	aad := []byte(key)
	r, err := p.st.Get(ctx, key)
	if err != nil {
		return failure(op, err)
	}
	d, plain, err := p.keys.open(r.Value, aad)
	if err != nil {
		return newErr(op, provider.ErrUnavailable, "the store's name key does not open")
	}
	if d != p.keys.primary {
		_, err := p.st.CompareAndSwap(ctx, key, r.Version, p.keys.primary.seal(plain, aad), store.NoExpiry)
		if errors.Is(err, store.ErrConflict) {
			return p.rekeyNames(ctx, op)
		}
		if err != nil {
			return failure(op, err)
		}
	}
	p.namesRekeyed.Store(true)
	return nil
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
	if err := p.ensureKey(ctx, OpCheck); err != nil {
		return provider.Verification{}, err
	}
	s, status, err := p.eng.Check(ctx, req.ID, req.To, req.Code, nil)
	if err != nil {
		return provider.Verification{}, p.fail(OpCheck, err)
	}
	return s.View(status), nil
}

// Fetch returns the pending verification with the given ID. One that has
// had too many wrong codes is reported with status max_attempts_reached
// until it expires.
func (p *Provider) Fetch(ctx context.Context, id string) (provider.Verification, error) {
	return p.byID(ctx, OpFetch, id, p.eng.Fetch, provider.StatusPending)
}

// Cancel cancels the pending verification with the given ID; it is gone
// afterwards.
func (p *Provider) Cancel(ctx context.Context, id string) (provider.Verification, error) {
	return p.byID(ctx, OpCancel, id, p.eng.End, provider.StatusCanceled)
}

// Approve approves the pending verification with the given ID without a
// code, for applications that check codes they sent themselves; it is gone
// afterwards. Like a right code, it wins at most once across replicas.
func (p *Provider) Approve(ctx context.Context, id string) (provider.Verification, error) {
	return p.byID(ctx, OpApprove, id, p.eng.End, provider.StatusApproved)
}

// byID runs do on the verification id and reports it with status (pending
// as max_attempts_reached once it has had too many wrong codes).
func (p *Provider) byID(ctx context.Context, op Op, id string, do func(context.Context, string, engine.Gate) (engine.State, error), status provider.Status) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	if err := p.ensureKey(ctx, op); err != nil {
		return provider.Verification{}, err
	}
	s, err := do(ctx, id, nil)
	if err != nil {
		return provider.Verification{}, p.fail(op, err)
	}
	if status == provider.StatusPending && s.Checks >= p.maxChecks {
		status = provider.StatusMaxAttemptsReached
	}
	return s.View(status), nil
}
