package fake

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// Name is the provider name the fake reports through provider.Namer.
const Name = "fake"

// Fake is an in-memory verification provider that behaves like Twilio
// Verify. Its zero value is not usable; create one with New. A Fake is safe
// for concurrent use.
type Fake struct {
	cfg config

	mu     sync.Mutex
	byTo   map[string]*verification
	byID   map[string]*verification
	rng    *mrand.Rand // nil when codes come from crypto/rand
	salt   uint64      // random part of IDs
	seq    uint64      // counter part of IDs
	swept  int         // starts since the last sweep of expired verifications
	outbox outbox
	faults []*Fault
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
	f := &Fake{
		cfg:  cfg,
		byTo: make(map[string]*verification),
		byID: make(map[string]*verification),
	}
	f.outbox.limit = cfg.outboxLimit
	if cfg.source == codesCrypto {
		var b [8]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
		for _, c := range b {
			f.salt = f.salt<<8 | uint64(c)
		}
	} else {
		f.rng = mrand.New(mrand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15))
		f.salt = f.rng.Uint64()
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
		if isEmail(req.To) {
			ch = provider.ChannelEmail
		}
	}
	if f.cfg.disabled[ch] {
		return provider.Verification{}, &Error{Op: OpStart, Err: provider.ErrUndeliverable, Code: 60223, msg: "channel " + string(ch) + " is disabled"}
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
	if v != nil && len(v.sends) >= f.cfg.maxSends {
		f.mu.Unlock()
		return provider.Verification{}, &Error{Op: OpStart, Err: provider.ErrTooManySends, Code: 60203}
	}
	if v == nil {
		code := req.CustomCode
		if code == "" {
			code = f.newCode()
		}
		v = &verification{
			id:      f.newID("VE"),
			to:      req.To,
			code:    code,
			created: now,
			expires: now.Add(f.cfg.validity),
			sends:   make([]provider.SendAttempt, 0, 2),
		}
		f.byTo[v.to] = v
		f.byID[v.id] = v
		f.sweep(now)
	}
	v.channel = ch
	v.updated = now
	v.sends = append(v.sends, provider.SendAttempt{Time: now, Channel: ch, ID: f.newID("VL")})
	name := f.cfg.friendlyName
	if req.FriendlyName != "" {
		name = req.FriendlyName
	}
	msg := Message{
		To:             v.to,
		Channel:        ch,
		Code:           v.code,
		Body:           renderBody(name, v.code),
		VerificationID: v.id,
		FriendlyName:   name,
		Locale:         req.Locale,
		SentAt:         now,
	}
	f.outbox.add(msg)
	out := v.public(provider.StatusPending)
	f.mu.Unlock()

	if f.cfg.onSend != nil {
		f.cfg.onSend(msg)
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
		return provider.Verification{}, &Error{Op: OpCheck, Err: provider.ErrInvalidRequest, Code: 60221, msg: "neither ID nor To given"}
	}
	if !validCode(req.Code) {
		return provider.Verification{}, &Error{Op: OpCheck, Err: provider.ErrInvalidRequest, Code: 60200, msg: "code must be 4 to 10 letters or digits"}
	}
	target := req.To
	f.mu.Lock()
	v, err := f.lookup(OpCheck, req.ID, req.To)
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
		err = &Error{Op: OpCheck, Err: provider.ErrTooManyChecks, Code: 60202}
	case subtle.ConstantTimeCompare([]byte(req.Code), []byte(v.code)) == 1:
		f.evict(v)
		v.updated = f.cfg.now()
		out = v.public(provider.StatusApproved)
	default:
		v.failures++
		v.updated = f.cfg.now()
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
		return provider.Verification{}, &Error{Op: op, Err: provider.ErrInvalidRequest, Code: 60200, msg: "empty ID"}
	}
	f.mu.Lock()
	v, err := f.lookup(op, id, "")
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
	if err == nil {
		if end {
			f.evict(v)
			v.updated = f.cfg.now()
		}
		out = v.public(status)
	}
	f.mu.Unlock()
	if fault != nil {
		return provider.Verification{}, fault.err(op)
	}
	return out, err
}

// lookup finds the pending verification named by id and/or to, evicting it
// if it has expired. f.mu must be held.
func (f *Fake) lookup(op Op, id, to string) (*verification, error) {
	var v *verification
	if id != "" {
		v = f.byID[id]
		if v != nil && to != "" && v.to != to {
			v = nil
		}
	} else {
		v = f.byTo[to]
	}
	if v != nil && !f.cfg.now().Before(v.expires) {
		f.evict(v)
		v = nil
	}
	if v == nil {
		return nil, &Error{Op: op, Err: provider.ErrNotFound, Code: 20404}
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
	if f.swept < 64 || 2*f.swept < len(f.byID) {
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

// newID returns prefix followed by 32 hex digits, like a Twilio SID. f.mu
// must be held.
func (f *Fake) newID(prefix string) string {
	f.seq++
	var b [34]byte
	copy(b[:], prefix)
	for i, x := range [2]uint64{f.salt, f.seq} {
		for j := range 16 {
			b[2+i*16+j] = hexDigits[(x>>(60-4*j))&0xf]
		}
	}
	return string(b[:])
}

// newCode returns a fresh code. f.mu must be held.
func (f *Fake) newCode() string {
	switch f.cfg.source {
	case codesFixed:
		return f.cfg.fixedCode
	case codesCrypto:
		return cryptoDigits(f.cfg.codeLength)
	}
	var b [10]byte
	n := f.cfg.codeLength
	for i := range n {
		b[i] = '0' + byte(f.rng.IntN(10))
	}
	return string(b[:n])
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

// validCode reports whether code could be a code: 4 to 10 ASCII letters or
// digits, the range Twilio accepts.
func validCode(code string) bool {
	if len(code) < 4 || len(code) > 10 {
		return false
	}
	for i := range len(code) {
		c := code[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// validateStart checks a start request the way Twilio does.
func validateStart(req provider.StartRequest, customCodes bool) error {
	invalid := func(msg string) error {
		return &Error{Op: OpStart, Err: provider.ErrInvalidRequest, Code: 60200, msg: msg}
	}
	if !req.Channel.Known() {
		return invalid("unknown channel")
	}
	email := isEmail(req.To)
	switch {
	case req.Channel == provider.ChannelEmail && !email:
		return invalid("channel email needs an e-mail address")
	case req.Channel != provider.ChannelEmail && req.Channel != provider.ChannelAuto && !isE164(req.To):
		return invalid("To must be an E.164 phone number")
	case req.Channel == provider.ChannelAuto && !email && !isE164(req.To):
		return invalid("To must be an E.164 phone number or an e-mail address")
	case len(req.FriendlyName) > 30:
		return invalid("friendly name longer than 30 bytes")
	}
	if req.CustomCode != "" {
		if !customCodes {
			return &Error{Op: OpStart, Err: provider.ErrUnsupported, Code: 60204, msg: "custom codes are not enabled"}
		}
		if !validCode(req.CustomCode) {
			return invalid("custom code must be 4 to 10 letters or digits")
		}
	}
	return nil
}

// isE164 reports whether s is '+' followed by 8 to 15 digits, the first
// not zero.
func isE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isEmail reports whether s looks like a bare e-mail address: something,
// '@', a domain with a dot, no spaces or control characters.
func isEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 || len(s) > 254 || !strings.Contains(s[at+1:], ".") {
		return false
	}
	for i := range len(s) {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}
