package fake

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// Name is the provider name the fake reports through provider.Namer.
const Name = "fake"

// Fake is an in-memory verification provider that behaves like Twilio
// Verify. Its zero value is not usable; create one with New. A Fake is safe
// for concurrent use.
type Fake struct {
	cfg  config
	salt uint64 // random part of IDs

	codes atomic.Uint64 // codes generated, for the seeded generator

	shards [nShards]shard

	outMu  sync.Mutex
	outbox outbox

	factors factors // authenticator-app factors, see factor.go

	faultMu sync.Mutex
	nFaults atomic.Int64 // len(faults), read without the lock
	faults  []*Fault
}

// nShards is the number of independently locked parts of the fake's state,
// so that concurrent calls for different targets rarely wait for each
// other. A power of two no larger than 16: an ID's last hex digit names its
// shard.
const nShards = 16

// shard holds the verifications of the targets that hash to it.
type shard struct {
	mu    sync.Mutex
	byTo  map[string]*verification
	byID  map[string]*verification
	swept int    // starts since the last sweep of expired verifications
	seq   uint64 // IDs issued by this shard
	index uint8  // position in Fake.shards
	_     [64]byte
}

// shardOf returns the shard of a target, by FNV-1a hash.
func (f *Fake) shardOf(to string) *shard {
	h := uint32(2166136261)
	for i := range len(to) {
		h = (h ^ uint32(to[i])) * 16777619
	}
	return &f.shards[h%nShards]
}

// shardOfID returns the shard an ID was issued by, or nil if id is not one
// of the fake's IDs.
func (f *Fake) shardOfID(id string) *shard {
	if len(id) != 34 {
		return nil
	}
	i := strings.IndexByte(hexDigits, id[33])
	if i < 0 {
		return nil
	}
	return &f.shards[i%nShards]
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
	sendsBuf [2]provider.SendAttempt // sends' first backing array, saving an allocation
	failures int                     // wrong codes checked
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
	f := &Fake{cfg: cfg}
	for i := range f.shards {
		f.shards[i].byTo = make(map[string]*verification)
		f.shards[i].byID = make(map[string]*verification)
		f.shards[i].index = uint8(i)
	}
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
		if wire.IsEmail(req.To) {
			ch = provider.ChannelEmail
		}
	}
	if f.cfg.disabled[ch] {
		return provider.Verification{}, &Error{Op: OpStart, Err: provider.ErrUndeliverable, Code: 60223, msg: "channel " + string(ch) + " is disabled"}
	}

	sh := f.shardOf(req.To)
	sh.mu.Lock()
	fault := f.takeFault(OpStart, req.To)
	if fault != nil && !fault.Processed {
		sh.mu.Unlock()
		return provider.Verification{}, fault.err(OpStart)
	}
	now := f.cfg.now()
	v := sh.byTo[req.To]
	if v != nil && !now.Before(v.expires) {
		sh.evict(v)
		v = nil
	}
	if v != nil && v.failures >= f.cfg.maxChecks {
		// Its code can no longer approve: sending it again would be useless,
		// and no other code is sent to the target until it expires.
		sh.mu.Unlock()
		return provider.Verification{}, &Error{Op: OpStart, Err: provider.ErrTooManySends, Code: 60202, msg: "too many wrong codes"}
	}
	if v != nil && len(v.sends) >= f.cfg.maxSends {
		sh.mu.Unlock()
		return provider.Verification{}, &Error{Op: OpStart, Err: provider.ErrTooManySends, Code: 60203}
	}
	var attemptID string
	if v == nil {
		code := req.CustomCode
		if code == "" {
			code = f.newCode()
		}
		v = &verification{
			to:      req.To,
			code:    code,
			created: now,
			expires: now.Add(f.cfg.validity),
		}
		v.id, attemptID = f.newIDPair(sh)
		v.sends = v.sendsBuf[:0]
		sh.byTo[v.to] = v
		sh.byID[v.id] = v
		sh.sweep(now)
	} else {
		attemptID = f.newID("VL", sh)
	}
	v.channel = ch
	v.updated = now
	v.sends = append(v.sends, provider.SendAttempt{Time: now, Channel: ch, ID: attemptID})
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
	f.outMu.Lock()
	f.outbox.add(msg)
	f.outMu.Unlock()
	sh.mu.Unlock()

	if f.cfg.onSend != nil {
		f.cfg.onSend(msg.rendered())
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
	if !wire.ValidCode(req.Code) {
		return provider.Verification{}, &Error{Op: OpCheck, Err: provider.ErrInvalidRequest, Code: 60200, msg: "code must be 4 to 10 letters or digits"}
	}
	target := req.To
	sh := f.shardOfID(req.ID)
	if req.ID == "" {
		sh = f.shardOf(req.To)
	}
	if sh == nil { // not an ID the fake issued
		sh = &f.shards[0]
	}
	sh.mu.Lock()
	now := f.cfg.now()
	v, err := f.lookup(sh, now, OpCheck, req.ID, req.To)
	if v != nil {
		target = v.to
	}
	if err := magicCheck(target); err != nil {
		sh.mu.Unlock()
		return provider.Verification{}, err
	}
	fault := f.takeFault(OpCheck, target)
	if fault != nil && !fault.Processed {
		sh.mu.Unlock()
		return provider.Verification{}, fault.err(OpCheck)
	}
	var out provider.Verification
	switch {
	case err != nil:
	case v.failures >= f.cfg.maxChecks:
		err = &Error{Op: OpCheck, Err: provider.ErrTooManyChecks, Code: 60202}
	case subtle.ConstantTimeCompare([]byte(req.Code), []byte(v.code)) == 1:
		sh.evict(v)
		v.updated = now
		out = v.public(provider.StatusApproved)
	default:
		v.failures++
		v.updated = now
		out = v.public(provider.StatusPending)
		if f.cfg.goneAtMax && v.failures >= f.cfg.maxChecks {
			sh.evict(v)
		}
	}
	sh.mu.Unlock()
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
	sh := f.shardOfID(id)
	if sh == nil {
		sh = &f.shards[0]
	}
	sh.mu.Lock()
	now := f.cfg.now()
	v, err := f.lookup(sh, now, op, id, "")
	target := ""
	if v != nil {
		target = v.to
	}
	fault := f.takeFault(op, target)
	if fault != nil && !fault.Processed {
		sh.mu.Unlock()
		return provider.Verification{}, fault.err(op)
	}
	var out provider.Verification
	if err == nil && v.failures >= f.cfg.maxChecks {
		// It can no longer be approved: only Check still names it, with
		// ErrTooManyChecks, until it expires.
		err = &Error{Op: op, Err: provider.ErrNotFound, Code: 20404}
	}
	if err == nil {
		if end {
			sh.evict(v)
			v.updated = now
		}
		out = v.public(status)
	}
	sh.mu.Unlock()
	if fault != nil {
		return provider.Verification{}, fault.err(op)
	}
	return out, err
}

// lookup finds the pending verification named by id and/or to in sh,
// evicting it if it has expired. sh.mu must be held.
func (f *Fake) lookup(sh *shard, now time.Time, op Op, id, to string) (*verification, error) {
	var v *verification
	if id != "" {
		v = sh.byID[id]
		if v != nil && to != "" && v.to != to {
			v = nil
		}
	} else {
		v = sh.byTo[to]
	}
	if v != nil && !now.Before(v.expires) {
		sh.evict(v)
		v = nil
	}
	if v == nil {
		return nil, &Error{Op: op, Err: provider.ErrNotFound, Code: 20404}
	}
	return v, nil
}

// evict forgets v. sh.mu must be held.
func (sh *shard) evict(v *verification) {
	if sh.byTo[v.to] == v {
		delete(sh.byTo, v.to)
	}
	delete(sh.byID, v.id)
}

// sweep evicts expired verifications once the starts since the last sweep
// number half the verifications held. A sweep's cost, amortised over those
// starts, is then constant (about two entries scanned per start), and the
// expired entries held stay below about half the live ones. sh.mu must be
// held.
func (sh *shard) sweep(now time.Time) {
	sh.swept++
	if sh.swept < 8 || 2*sh.swept < len(sh.byID) {
		return
	}
	sh.swept = 0
	for _, v := range sh.byID {
		if !now.Before(v.expires) {
			sh.evict(v)
		}
	}
}

// Pending returns the number of verifications the fake holds: those
// pending, plus expired ones not yet evicted. Tests use it to check that
// memory stays bounded.
func (f *Fake) Pending() int {
	n := 0
	for i := range f.shards {
		sh := &f.shards[i]
		sh.mu.Lock()
		n += len(sh.byID)
		sh.mu.Unlock()
	}
	return n
}

// public returns the provider's view of v. Its shard's lock must be held.
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

// newID returns prefix followed by 32 hex digits, like a Twilio SID: 16 of
// the fake's salt, then 15 of sh's counter, then one naming sh. sh.mu must
// be held.
func (f *Fake) newID(prefix string, sh *shard) string {
	var b [34]byte
	f.putID(b[:], prefix, sh)
	return string(b[:])
}

// newIDPair returns a new verification's VE… ID and its first send's VL…
// ID, sharing one allocation. sh.mu must be held.
func (f *Fake) newIDPair(sh *shard) (ve, vl string) {
	var b [68]byte
	f.putID(b[:34], "VE", sh)
	f.putID(b[34:], "VL", sh)
	s := string(b[:])
	return s[:34], s[34:]
}

// putID writes an ID into b (34 bytes).
func (f *Fake) putID(b []byte, prefix string, sh *shard) {
	sh.seq++
	seq := sh.seq<<4 | uint64(sh.index)
	copy(b, prefix)
	for i, x := range [2]uint64{f.salt, seq} {
		for j := range 16 {
			b[2+i*16+j] = hexDigits[(x>>(60-4*j))&0xf]
		}
	}
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

// validateStart checks a start request the way Twilio does.
func validateStart(req provider.StartRequest, customCodes bool) error {
	invalid := func(msg string) error {
		return &Error{Op: OpStart, Err: provider.ErrInvalidRequest, Code: 60200, msg: msg}
	}
	if !req.Channel.Known() {
		return invalid("unknown channel")
	}
	email := wire.IsEmail(req.To)
	switch {
	case req.Channel == provider.ChannelEmail && !email:
		return invalid("channel email needs an e-mail address")
	case req.Channel != provider.ChannelEmail && req.Channel != provider.ChannelAuto && !wire.IsE164(req.To):
		return invalid("To must be an E.164 phone number")
	case req.Channel == provider.ChannelAuto && !email && !wire.IsE164(req.To):
		return invalid("To must be an E.164 phone number or an e-mail address")
	case len(req.FriendlyName) > 30:
		return invalid("friendly name longer than 30 bytes")
	}
	if req.CustomCode != "" {
		if !customCodes {
			return &Error{Op: OpStart, Err: provider.ErrUnsupported, Code: 60204, msg: "custom codes are not enabled"}
		}
		if !wire.ValidCode(req.CustomCode) {
			return invalid("custom code must be 4 to 10 letters or digits")
		}
	}
	return nil
}
