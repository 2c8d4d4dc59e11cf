package twiliotest

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/internal/fakeconf"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

// pendingStore is the store of one service's verifications: a memory
// store that keeps the emulator's count of pending verifications (started,
// not ended, not spent) across its services, by what the engine writes
// (engine.Split): the first write of a record (Seq 1) creates a
// verification, a write that counts its last allowed wrong code spends it,
// a delete ends it. Expired ones are counted until the next exact count.
// No other index of verifications exists: the engine's records are it.
type pendingStore struct {
	*store.Memory
	b         *bound
	maxChecks int
	mu        sync.Mutex
	spent     []time.Time // when the spent verifications still held expire
}

// errPendingFull refuses a start that would create one verification more
// than WithMaxPending allows.
var errPendingFull = errors.New("twiliotest: the maximum of pending verifications is held")

// CompareAndSwap counts creations, refusing one over the bound, and
// spending writes.
func (p *pendingStore) CompareAndSwap(ctx context.Context, key string, old uint64, value []byte, ttl time.Duration) (store.Record, error) {
	h, _, err := engine.Split(value, fakeconf.NonceLen)
	if err != nil || h.Seq != 1 && h.Checks != p.maxChecks {
		return p.Memory.CompareAndSwap(ctx, key, old, value, ttl)
	}
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	if h.Seq == 1 && !p.b.room() {
		return store.Record{}, errPendingFull
	}
	r, err := p.Memory.CompareAndSwap(ctx, key, old, value, ttl)
	switch {
	case err != nil:
	case h.Seq == 1:
		p.b.n++
		p.b.high = max(p.b.high, p.b.n)
	default:
		p.b.n--
		p.mu.Lock()
		p.spent = append(p.spent, h.Expires)
		p.mu.Unlock()
	}
	return r, err
}

// CompareAndDelete counts an ending.
func (p *pendingStore) CompareAndDelete(ctx context.Context, key string, old uint64) (store.Record, error) {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	r, err := p.Memory.CompareAndDelete(ctx, key, old)
	if err == nil {
		p.b.n--
	}
	return r, err
}

// live returns the number of verifications pending in p now.
func (p *pendingStore) live(now time.Time) int {
	p.mu.Lock()
	kept := p.spent[:0]
	for _, t := range p.spent {
		if now.Before(t) {
			kept = append(kept, t)
		}
	}
	p.spent = kept
	n := len(kept)
	p.mu.Unlock()
	return p.Memory.Len() - n
}

// bound is the count of pending verifications across services, for
// WithMaxPending, and its high-water mark. Its fields are guarded by mu,
// which is taken before Emulator.mu, never after.
type bound struct {
	mu    sync.Mutex
	n     int // pending, plus those expired since the last exact count
	high  int
	max   int
	since int        // creations since the last exact count
	count func() int // the exact count
}

// room reports whether one more verification may be created, counting
// exactly when the bound is near or the count may hold many expired ones.
// b.mu must be held.
func (b *bound) room() bool {
	if b.n >= b.max || b.since >= max(64, b.n) {
		b.n, b.since = b.count(), 0
	}
	b.since++
	return b.n < b.max
}

// exact returns the exact count and the high-water mark.
func (b *bound) exact() (int, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n, b.since = b.count(), 0
	return b.n, b.high
}

// drop uncounts the verifications of p, whose service is deleted.
func (b *bound) drop(p *pendingStore, now time.Time) {
	b.mu.Lock()
	b.n = max(0, b.n-p.live(now))
	b.mu.Unlock()
}

// countPending counts the pending verifications of every service.
func (e *Emulator) countPending() int {
	e.mu.Lock()
	stores := make([]*pendingStore, 0, len(e.services))
	for _, s := range e.services {
		stores = append(stores, s.st)
	}
	e.mu.Unlock()
	now, n := e.now(), 0
	for _, st := range stores {
		n += st.live(now)
	}
	return n
}

// extra is what the emulator adds to a verification the engine holds:
// PSD2's amount and payee, and the state of silent network auth.
type extra struct {
	to      string
	expires time.Time

	amount, payee *string // PSD2, on a service with psd2_enabled

	snaToken   string // the token of the sna.url; empty unless the channel is sna
	snaAttempt string // the VL… SID of the sna send
	snaDone    bool   // the device visited the sna.url
	snaClient  string // the SNA client token (EnableSnaClientToken), empty when none
	snaFail    int    // the SNA error code of the device's last visit, 0 when none
}

// extras holds the extras of verifications by VE SID, only for those that
// have any; entries go when their verification ends through the emulator,
// or expires. Its fields are guarded by Emulator.mu.
type extras struct {
	bySID     map[string]*extra
	nextSweep int
}

// extraOf returns a copy of the extra of sid, or nil.
func (e *Emulator) extraOf(sid string) *extra {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ex := e.extras.bySID[sid]; ex != nil {
		cp := *ex
		return &cp
	}
	return nil
}

// dropExtra forgets the extra of sid: its verification ended.
func (e *Emulator) dropExtra(sid string) {
	e.mu.Lock()
	delete(e.extras.bySID, sid)
	e.mu.Unlock()
}

// bySNATokenLocked returns the extra whose sna.url token is token (its
// verification's SID and a random part), or nil. e.mu must be held.
func (e *Emulator) bySNATokenLocked(token string) *extra {
	if len(token) < 34 {
		return nil
	}
	ex := e.extras.bySID[token[:34]]
	if ex == nil || subtle.ConstantTimeCompare([]byte(ex.snaToken), []byte(token)) != 1 || !e.now().Before(ex.expires) {
		return nil
	}
	return ex
}

// started records what a start of the verification v of a service adds
// to it: the PSD2 amount and payee (nil unless the service has
// psd2_enabled), the sna.url of a send over sna, an SNA client token. It
// returns a copy of the extra, or nil when there is none.
func (e *Emulator) started(v *provider.Verification, amount, payee *string, clientToken bool) *extra {
	sid, sna := v.ID, v.Channel == provider.ChannelSNA
	e.mu.Lock()
	defer e.mu.Unlock()
	ex := e.extras.bySID[sid]
	if ex == nil && amount == nil && payee == nil && !sna {
		return nil
	}
	if x := &e.extras; ex == nil {
		if len(x.bySID) >= x.nextSweep { // drop the expired ones first
			now := e.now()
			for k, old := range x.bySID {
				if !now.Before(old.expires) {
					delete(x.bySID, k)
				}
			}
			x.nextSweep = max(64, 2*len(x.bySID))
		}
		ex = &extra{to: v.To, expires: v.ExpiresAt}
		x.bySID[sid] = ex
	}
	if amount != nil || payee != nil {
		ex.amount, ex.payee = amount, payee
	}
	switch {
	case sna:
		if ex.snaToken == "" {
			ex.snaToken = sid + randomToken()
		}
		ex.snaAttempt = v.SendAttempts[len(v.SendAttempts)-1].ID
		if clientToken && ex.snaClient == "" {
			ex.snaClient = randomToken()
		}
	case ex.snaToken != "":
		// A re-send over another channel: the sna.url no longer applies.
		ex.snaToken, ex.snaDone, ex.snaClient, ex.snaFail = "", false, "", 0
	}
	cp := *ex
	return &cp
}

// randomToken returns 32 random hex digits.
func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms
	return hex.EncodeToString(b[:])
}
