package fake

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// Name is the provider name the fake reports through provider.Namer.
const Name = "fake"

// Fake is an in-memory verification provider with Twilio Verify's
// behaviour. Its zero value is not usable; create one with New. A Fake is
// safe for concurrent use.
type Fake struct {
	cfg  config
	salt uint64 // random part of IDs

	codes atomic.Uint64 // codes generated, for the seeded generator

	// mu guards the verifications and the outbox: one lock, as in memblob;
	// sharding showed no gain worth its lines on two cores (see the notes
	// of issue 11).
	mu     sync.Mutex
	byTo   map[string]*verification
	byID   map[string]*verification
	swept  int    // starts since the last sweep of expired verifications
	seq    uint64 // IDs issued
	outbox outbox

	factors factors // authenticator-app factors, see factor.go

	faultMu sync.Mutex
	faults  []*Fault
}

// verification is the fake's record of a pending verification.
type verification struct {
	id       string
	to       string
	channel  provider.Channel
	code     string
	created  time.Time
	updated  time.Time
	expires  time.Time
	sends    []provider.SendAttempt
	failures int // wrong codes checked
}

// New returns a Fake configured by opts. See the package documentation for
// the defaults.
func New(opts ...Option) (*Fake, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("fake: nil option")
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	f := &Fake{cfg: cfg, byTo: make(map[string]*verification), byID: make(map[string]*verification)}
	f.outbox.limit = cfg.outboxLimit
	if cfg.source == codesCrypto {
		var b [8]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
		for _, c := range b {
			f.salt = f.salt<<8 | uint64(c)
		}
	} else {
		f.salt = splitmix(cfg.seed ^ 0x9e3779b97f4a7c15)
	}
	return f, nil
}

// MustNew is like New but panics if an option is invalid. It suits tests
// and examples, where the options are constants.
func MustNew(opts ...Option) *Fake {
	f, err := New(opts...)
	if err != nil {
		panic(err)
	}
	return f
}

// Capabilities reports what the fake does beyond Start and Check: like
// Twilio Verify, it checks by To as well as by ID, re-sends the pending code
// on a repeated Start, and accepts every channel the provider package knows.
// A *Fake also implements provider.Canceler, provider.Fetcher and
// provider.Approver.
func (f *Fake) Capabilities() provider.Capabilities {
	return provider.Capabilities{
		CheckByTo:     true,
		ResendOnStart: true,
		Channels: []provider.Channel{
			provider.ChannelSMS, provider.ChannelCall, provider.ChannelWhatsApp,
			provider.ChannelEmail, provider.ChannelSNA, provider.ChannelAuto,
		},
	}
}

// Name returns "fake".
func (f *Fake) Name() string { return Name }

// Start sends a code to req.To over req.Channel, or re-sends the code of
// the verification pending for req.To. See the package documentation for
// the rules it follows.
func (f *Fake) Start(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	if err := validateStart(req, f.cfg.customCodes); err != nil {
		return provider.Verification{}, err
	}
	if err := magicStart(req); err != nil {
		return provider.Verification{}, err
	}
	ch := req.Channel
	if ch == provider.ChannelAuto {
		ch = provider.ChannelSMS
		if provider.IsEmail(req.To) {
			ch = provider.ChannelEmail
		}
	}
	if f.cfg.disabled[ch] {
		return provider.Verification{}, &Error{Op: OpStart, Err: provider.ErrUndeliverable, Reason: ReasonChannelDisabled, msg: "channel " + string(ch) + " is disabled"}
	}

	f.mu.Lock()
	fault := f.takeFault(OpStart, req.To)
	if fault != nil && !fault.Processed {
		f.mu.Unlock()
		return provider.Verification{}, fault.err(OpStart)
	}
	now := f.cfg.now()
	v := f.byTo[req.To]
	if v != nil && !now.Before(v.expires) {
		f.evict(v)
		v = nil
	}
	if v != nil && v.failures >= f.cfg.maxChecks {
		// Its code can no longer approve: sending it again would be useless,
		// and no other code is sent to the target until it expires.
		f.mu.Unlock()
		return provider.Verification{}, &Error{Op: OpStart, Err: provider.ErrTooManySends, Reason: ReasonChecksSpent, msg: "too many wrong codes"}
	}
	if v != nil && len(v.sends) >= f.cfg.maxSends {
		f.mu.Unlock()
		return provider.Verification{}, &Error{Op: OpStart, Err: provider.ErrTooManySends}
	}
	if v == nil {
		code := req.CustomCode
		if code == "" {
			code = f.newCode()
		}
		v = &verification{
			id:      f.newID(f.cfg.idPrefix),
			to:      req.To,
			code:    code,
			created: now,
			expires: now.Add(f.cfg.validity),
		}
		f.byTo[v.to] = v
		f.byID[v.id] = v
		f.sweep(now)
	}
	v.channel = ch
	v.updated = now
	v.sends = append(v.sends, provider.SendAttempt{Time: now, Channel: ch, ID: f.newID(f.cfg.attemptPrefix)})
	name := f.cfg.friendlyName
	if req.FriendlyName != "" {
		name = req.FriendlyName
	}
	msg := Message{ // Body is rendered when the message is read
		To:             v.to,
		Channel:        ch,
		Code:           v.code,
		VerificationID: v.id,
		FriendlyName:   name,
		Locale:         req.Locale,
		SentAt:         now,
	}
	out := v.public(provider.StatusPending)
	f.outbox.add(msg)
	f.mu.Unlock()

	if f.cfg.onSend != nil {
		f.cfg.onSend(ctx, msg.rendered())
	}
	if fault != nil {
		return provider.Verification{}, fault.err(OpStart)
	}
	if req.To == NumberStartOutcomeUnknown {
		// The code was sent, but the answer is "lost".
		return provider.Verification{}, &Error{Op: OpStart, Err: provider.ErrOutcomeUnknown, msg: "magic number: response lost"}
	}
	return out, nil
}

// Check verifies req.Code against the verification named by req.ID or
// req.To. A wrong code gives status pending and a nil error.
func (f *Fake) Check(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	if req.ID == "" && req.To == "" {
		return provider.Verification{}, &Error{Op: OpCheck, Err: provider.ErrInvalidRequest, Reason: ReasonMissingTarget, msg: "neither ID nor To given"}
	}
	if !wire.ValidCode(req.Code) {
		return provider.Verification{}, &Error{Op: OpCheck, Err: provider.ErrInvalidRequest, msg: "code must be 4 to 10 letters or digits"}
	}
	target := req.To
	f.mu.Lock()
	now := f.cfg.now()
	v, err := f.lookup(now, OpCheck, req.ID, req.To)
	if v != nil {
		target = v.to
	}
	if err := magicCheck(target); err != nil {
		f.mu.Unlock()
		return provider.Verification{}, err
	}
	fault := f.takeFault(OpCheck, target)
	if fault != nil && !fault.Processed {
		f.mu.Unlock()
		return provider.Verification{}, fault.err(OpCheck)
	}
	var out provider.Verification
	switch {
	case err != nil:
	case v.failures >= f.cfg.maxChecks:
		err = &Error{Op: OpCheck, Err: provider.ErrTooManyChecks}
	case subtle.ConstantTimeCompare([]byte(req.Code), []byte(v.code)) == 1:
		f.evict(v)
		v.updated = now
		out = v.public(provider.StatusApproved)
	default:
		v.failures++
		v.updated = now
		out = v.public(provider.StatusPending)
		if f.cfg.goneAtMax && v.failures >= f.cfg.maxChecks {
			f.evict(v)
		}
	}
	f.mu.Unlock()
	if fault != nil {
		return provider.Verification{}, fault.err(OpCheck)
	}
	if target == NumberCheckOutcomeUnknown && err == nil {
		// The check took effect, but its answer is "lost".
		return provider.Verification{}, &Error{Op: OpCheck, Err: provider.ErrOutcomeUnknown, msg: "magic number: response lost"}
	}
	if err != nil {
		return provider.Verification{}, err
	}
	return out, nil
}

// Fetch returns the pending verification with the given ID.
func (f *Fake) Fetch(ctx context.Context, id string) (provider.Verification, error) {
	return f.byIDOp(ctx, OpFetch, id, provider.StatusPending, false)
}

// Cancel cancels the pending verification with the given ID. It is gone
// afterwards, and its target may be sent a new code at once.
func (f *Fake) Cancel(ctx context.Context, id string) (provider.Verification, error) {
	return f.byIDOp(ctx, OpCancel, id, provider.StatusCanceled, true)
}

// Approve approves the pending verification with the given ID without a
// code, as Twilio's update with Status=approved does for flows that check a
// custom code themselves. It is gone afterwards.
func (f *Fake) Approve(ctx context.Context, id string) (provider.Verification, error) {
	return f.byIDOp(ctx, OpApprove, id, provider.StatusApproved, true)
}

func (f *Fake) byIDOp(ctx context.Context, op Op, id string, status provider.Status, end bool) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	if id == "" {
		return provider.Verification{}, &Error{Op: op, Err: provider.ErrInvalidRequest, msg: "empty ID"}
	}
	f.mu.Lock()
	now := f.cfg.now()
	v, err := f.lookup(now, op, id, "")
	target := ""
	if v != nil {
		target = v.to
	}
	fault := f.takeFault(op, target)
	if fault != nil && !fault.Processed {
		f.mu.Unlock()
		return provider.Verification{}, fault.err(op)
	}
	var out provider.Verification
	if err == nil && v.failures >= f.cfg.maxChecks {
		// It can no longer be approved: only Check still names it, with
		// ErrTooManyChecks, until it expires.
		err = &Error{Op: op, Err: provider.ErrNotFound}
	}
	if err == nil {
		if end {
			f.evict(v)
			v.updated = now
		}
		out = v.public(status)
	}
	f.mu.Unlock()
	if fault != nil {
		return provider.Verification{}, fault.err(op)
	}
	return out, err
}

// lookup finds the pending verification named by id and/or to, evicting
// it if it has expired. f.mu must be held.
func (f *Fake) lookup(now time.Time, op Op, id, to string) (*verification, error) {
	var v *verification
	if id != "" {
		v = f.byID[id]
		if v != nil && to != "" && v.to != to {
			v = nil
		}
	} else {
		v = f.byTo[to]
	}
	if v != nil && !now.Before(v.expires) {
		f.evict(v)
		v = nil
	}
	if v == nil {
		return nil, &Error{Op: op, Err: provider.ErrNotFound}
	}
	return v, nil
}

// evict forgets v. f.mu must be held.
func (f *Fake) evict(v *verification) {
	if f.byTo[v.to] == v {
		delete(f.byTo, v.to)
	}
	delete(f.byID, v.id)
}

// sweep evicts expired verifications once the starts since the last sweep
// number half the verifications held. A sweep's cost, amortised over those
// starts, is then constant (about two entries scanned per start), and the
// expired entries held stay below about half the live ones. f.mu must be
// held.
func (f *Fake) sweep(now time.Time) {
	f.swept++
	if f.swept < 8 || 2*f.swept < len(f.byID) {
		return
	}
	f.swept = 0
	for _, v := range f.byID {
		if !now.Before(v.expires) {
			f.evict(v)
		}
	}
}

// Pending returns the number of verifications the fake holds: those
// pending, plus expired ones not yet evicted. Tests use it to check that
// memory stays bounded.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.byID)
}

// public returns the provider's view of v. f.mu must be held.
func (v *verification) public(status provider.Status) provider.Verification {
	return provider.Verification{
		ID:           v.id,
		To:           v.to,
		Channel:      v.channel,
		Status:       status,
		RawStatus:    string(status),
		CreatedAt:    v.created,
		UpdatedAt:    v.updated,
		ExpiresAt:    v.expires,
		SendAttempts: append([]provider.SendAttempt(nil), v.sends...),
	}
}

const hexDigits = "0123456789abcdef"

// newID returns prefix followed by 32 hex digits: 16 of the fake's salt,
// then 16 of a counter. IDs are opaque; WithIDPrefixes sets the prefixes
// (none by default). f.mu must be held.
func (f *Fake) newID(prefix string) string {
	f.seq++
	b := make([]byte, len(prefix)+32)
	n := copy(b, prefix)
	for i, x := range [2]uint64{f.salt, f.seq} {
		for j := range 16 {
			b[n+i*16+j] = hexDigits[(x>>(60-4*j))&0xf]
		}
	}
	return string(b)
}

// newCode returns a fresh code. Seeded codes are a function of the seed and
// of how many codes came before, so the same calls in the same order give
// the same codes, without a lock.
func (f *Fake) newCode() string {
	switch f.cfg.source {
	case codesFixed:
		return f.cfg.fixedCode
	case codesCrypto:
		return cryptoDigits(f.cfg.codeLength)
	}
	x := splitmix(f.cfg.seed + f.codes.Add(1)*0x9e3779b97f4a7c15)
	var b [10]byte
	n := f.cfg.codeLength
	for i := range n { // 10 digits use 34 bits of x's 64
		b[i] = '0' + byte(x%10)
		x /= 10
	}
	return string(b[:n])
}

// splitmix is the SplitMix64 finaliser: a bijection of uint64 that mixes
// every input bit into every output bit.
func splitmix(x uint64) uint64 {
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// cryptoDigits returns n uniformly random decimal digits from crypto/rand.
func cryptoDigits(n int) string {
	out := make([]byte, 0, n)
	var buf [16]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:])
		for _, c := range buf {
			if c < 250 && len(out) < n { // 250 = 25*10: reject to stay uniform
				out = append(out, '0'+c%10)
			}
		}
	}
	return string(out)
}

func renderBody(name, code string) string {
	return "Your " + name + " verification code is: " + code
}

// validateStart checks a start request: a known channel, a target that
// fits it (provider.ChannelFits), a friendly name of at most 30 bytes, a
// custom code only when allowed.
func validateStart(req provider.StartRequest, customCodes bool) error {
	invalid := func(msg string) error {
		return &Error{Op: OpStart, Err: provider.ErrInvalidRequest, msg: msg}
	}
	switch {
	case !req.Channel.Known():
		return invalid("unknown channel")
	case !provider.ChannelFits(req.Channel, req.To) && req.Channel == provider.ChannelEmail:
		return invalid("channel email needs an e-mail address")
	case !provider.ChannelFits(req.Channel, req.To) && req.Channel == provider.ChannelAuto:
		return invalid("To must be an E.164 phone number or an e-mail address")
	case !provider.ChannelFits(req.Channel, req.To):
		return invalid("To must be an E.164 phone number")
	case len(req.FriendlyName) > 30:
		return invalid("friendly name longer than 30 bytes")
	}
	if req.CustomCode != "" {
		if !customCodes {
			return &Error{Op: OpStart, Err: provider.ErrUnsupported, Reason: ReasonCustomCodesDisabled, msg: "custom codes are not enabled"}
		}
		if !wire.ValidCode(req.CustomCode) {
			return invalid("custom code must be 4 to 10 letters or digits")
		}
	}
	return nil
}
