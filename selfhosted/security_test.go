package selfhosted_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
)

// spy is a store that remembers the latest value and time to live written
// at each key, and lets a test act as someone with write access to the
// store but no application key: read raw values, put old ones back, delete.
type spy struct {
	store.Store
	mu   sync.Mutex
	ttls map[string]time.Duration
	keys []string // in order of first write
}

func newSpy(t *testing.T, c *clock) *spy {
	t.Helper()
	m, err := store.NewMemory(store.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	return &spy{Store: m, ttls: map[string]time.Duration{}}
}

func (s *spy) CompareAndSwap(ctx context.Context, key string, old uint64, value []byte, ttl time.Duration) (store.Record, error) {
	s.mu.Lock()
	if _, ok := s.ttls[key]; !ok {
		s.keys = append(s.keys, key)
	}
	s.ttls[key] = ttl
	s.mu.Unlock()
	return s.Store.CompareAndSwap(ctx, key, old, value, ttl)
}

// key returns the first key written whose name starts with prefix.
func (s *spy) key(t *testing.T, prefix string) string {
	t.Helper()
	return s.keyN(t, prefix, 0)
}

// keyN returns the n-th (from 0) key written whose name starts with prefix.
func (s *spy) keyN(t *testing.T, prefix string, n int) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if strings.HasPrefix(k, prefix) {
			if n == 0 {
				return k
			}
			n--
		}
	}
	t.Fatalf("no key %s* was written", prefix)
	return ""
}

// raw returns the value stored at key, as a dump shows it.
func (s *spy) raw(t *testing.T, key string) []byte {
	t.Helper()
	r, err := s.Store.Get(t.Context(), key)
	if err != nil || !r.Found() {
		t.Fatalf("raw %s: %v, %v", key, r, err)
	}
	return r.Value
}

// restore writes an old value back at key, as a store writer would.
func (s *spy) restore(t *testing.T, key string, value []byte) {
	t.Helper()
	r, err := s.Store.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store.CompareAndSwap(t.Context(), key, r.Version, value, time.Hour); err != nil {
		t.Fatal(err)
	}
}

// drop deletes key, as a store writer (or an eviction) would.
func (s *spy) drop(t *testing.T, key string) {
	t.Helper()
	r, err := s.Store.Get(t.Context(), key)
	if err != nil || !r.Found() {
		t.Fatalf("drop %s: %v, %v", key, r, err)
	}
	if _, err := s.Store.CompareAndDelete(t.Context(), key, r.Version); err != nil {
		t.Fatal(err)
	}
}

func newOn(t *testing.T, st store.Store, c *clock, out *selfhosted.Outbox, key selfhosted.Key, opts ...selfhosted.Option) *selfhosted.Provider {
	t.Helper()
	p, err := selfhosted.New(st, key, append([]selfhosted.Option{selfhosted.WithClock(c.Now), selfhosted.WithSender(out, provider.ChannelSMS, provider.ChannelEmail)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wrongCode returns a well-formed code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// TestRestoredVerificationIsRefused is the attack of a store writer without
// the application key: keep a verification's record before any wrong code,
// spend the wrong codes, put the record back, guess again. Every replica
// that has seen a later state of the record refuses the restored one with
// ErrUnavailable: no guess is counted against a restored count.
func TestRestoredVerificationIsRefused(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newClock()
	sp := newSpy(t, c)
	out := new(selfhosted.Outbox)
	a := newOn(t, sp, c, out, testKey)
	b := newOn(t, sp, c, out, testKey) // another replica
	v, code := startSMS(t, a, out)
	key := sp.key(t, "vk:v:")
	fresh := bytes.Clone(sp.raw(t, key))
	for i := range 5 {
		p := a
		if i%2 == 1 {
			p = b
		}
		if got, err := p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: wrongCode(code)}); err != nil || got.Status != provider.StatusPending {
			t.Fatalf("wrong code %d = %v, %v", i, got, err)
		}
	}
	if _, err := a.Check(ctx, provider.CheckRequest{ID: v.ID, Code: wrongCode(code)}); !errors.Is(err, provider.ErrTooManyChecks) {
		t.Fatalf("sixth wrong code: %v, want ErrTooManyChecks", err)
	}
	sp.restore(t, key, fresh)
	for name, p := range map[string]*selfhosted.Provider{"a": a, "b": b} {
		got, err := p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: wrongCode(code)})
		if !errors.Is(err, provider.ErrUnavailable) {
			t.Errorf("replica %s: a guess on the restored record = %v, %v; want ErrUnavailable", name, got, err)
		}
		if got, err := p.Check(ctx, provider.CheckRequest{To: to, Code: code}); err == nil || got.Approved() {
			t.Errorf("replica %s: the right code on the restored record = %v, %v; want refused", name, got, err)
		}
		if _, err := p.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS}); !errors.Is(err, provider.ErrUnavailable) {
			t.Errorf("replica %s: Start over the restored record: %v, want ErrUnavailable", name, err)
		}
	}
	// The documented limit: a replica started since has not seen the later
	// state and accepts the restored record (5 more guesses); its own
	// guesses then make it refuse the same record put back again.
	fresh2 := newOn(t, sp, c, out, testKey)
	for i := range 5 {
		if got, err := fresh2.Check(ctx, provider.CheckRequest{ID: v.ID, Code: wrongCode(code)}); err != nil || got.Status != provider.StatusPending {
			t.Fatalf("a replica started after the restore: wrong code %d = %v, %v; want pending (it cannot tell)", i, got, err)
		}
	}
	if got, err := a.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code}); err == nil || got.Approved() {
		t.Errorf("replica a after the new replica's guesses: %v, %v; want refused", got, err)
	}
	sp.restore(t, key, fresh)
	if got, err := fresh2.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code}); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("the new replica, the record restored a second time: %v, %v; want ErrUnavailable", got, err)
	}
}

// TestRestoredFactorIsRefused: a store writer keeps an identity's record,
// lets a TOTP code be used, and puts the record back to use the code again
// (a replay), or to bring back a deleted factor.
func TestRestoredFactorIsRefused(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newClock()
	sp := newSpy(t, c)
	out := new(selfhosted.Outbox)
	p := newOn(t, sp, c, out, testKey)
	const identity = "user-0001-rollback"
	e, ver := enrollConfirmed(t, p, c, identity)
	key := sp.key(t, "vk:e:")
	c.Advance(30 * time.Second)
	before := bytes.Clone(sp.raw(t, key))
	code := ver.Code(ver.Step(c.Now()))
	if ch, err := p.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: code}); err != nil || !ch.Approved() {
		t.Fatalf("ChallengeFactor = %v, %v", ch, err)
	}
	sp.restore(t, key, before)
	if ch, err := p.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: code}); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("replay after the record was restored = %v, %v; want ErrUnavailable", ch, err)
	}
	// A deleted factor brought back.
	if err := p.DeleteFactor(ctx, identity, e.ID); !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("DeleteFactor on the restored record: %v, want ErrUnavailable", err)
	}
	const other = "user-0002-rollback"
	e2, _ := enrollConfirmed(t, p, c, other)
	key2 := sp.keyN(t, "vk:e:", 1)
	withFactor := bytes.Clone(sp.raw(t, key2))
	if err := p.DeleteFactor(ctx, other, e2.ID); err != nil {
		t.Fatal(err)
	}
	sp.restore(t, key2, withFactor)
	if list, err := p.ListFactors(ctx, other); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("ListFactors after a deleted factor was restored = %v, %v; want ErrUnavailable", list, err)
	}
}

func enrollConfirmed(t *testing.T, p *selfhosted.Provider, c *clock, identity string) (provider.Enrollment, *totp.Verifier) {
	t.Helper()
	e, err := p.EnrollFactor(t.Context(), provider.EnrollRequest{Identity: identity, Type: provider.FactorTOTP, FriendlyName: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := totp.DecodeSecret(e.Secret)
	ver := totp.NewVerifier(secret, e.TOTP)
	if f, err := p.ConfirmFactor(t.Context(), provider.ConfirmRequest{Identity: identity, FactorID: e.ID, Code: ver.Code(ver.Step(c.Now()))}); err != nil || !f.Verified() {
		t.Fatalf("ConfirmFactor = %v, %v", f, err)
	}
	return e, ver
}

// TestLostFactorStateIsUnavailable: an identity's record deleted or
// evicted from the store must not read as "no factors" on a replica that
// has seen it; a deletion through DeleteIdentity, on any replica, is not a
// loss.
func TestLostFactorStateIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newClock()
	sp := newSpy(t, c)
	out := new(selfhosted.Outbox)
	a := newOn(t, sp, c, out, testKey)
	b := newOn(t, sp, c, out, testKey)
	const identity = "user-0001-lost"
	enrollConfirmed(t, a, c, identity)
	if list, err := b.ListFactors(ctx, identity); err != nil || len(list) != 1 {
		t.Fatalf("ListFactors = %v, %v", list, err)
	}
	key := sp.key(t, "vk:e:")
	if ttl := sp.ttls[key]; ttl != store.NoExpiry {
		t.Errorf("an identity's record is written with a time to live of %v, want store.NoExpiry", ttl)
	}
	sp.drop(t, key)
	for name, p := range map[string]*selfhosted.Provider{"a": a, "b": b} {
		if list, err := p.ListFactors(ctx, identity); !errors.Is(err, provider.ErrUnavailable) {
			t.Errorf("replica %s: ListFactors after the record was lost = %v, %v; want ErrUnavailable", name, list, err)
		}
	}
	// DeleteIdentity on one replica is not a loss for the other.
	const gone = "user-0002-deleted"
	enrollConfirmed(t, a, c, gone)
	if list, err := b.ListFactors(ctx, gone); err != nil || len(list) != 1 {
		t.Fatalf("ListFactors = %v, %v", list, err)
	}
	if err := a.DeleteIdentity(ctx, gone); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*selfhosted.Provider{"a": a, "b": b} {
		if list, err := p.ListFactors(ctx, gone); err != nil || len(list) != 0 {
			t.Errorf("replica %s: ListFactors after DeleteIdentity = %v, %v; want none", name, list, err)
		}
	}
	if err := b.DeleteIdentity(ctx, gone); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("DeleteIdentity twice: %v, want ErrNotFound", err)
	}
	enrollConfirmed(t, b, c, gone) // enrolling again after a deletion works
	if list, err := a.ListFactors(ctx, gone); err != nil || len(list) != 1 {
		t.Errorf("ListFactors after enrolling again = %v, %v", list, err)
	}
}

// TestRollingKeyRotation runs two replicas over one store, as a rolling
// deploy does. A replica that does not have the key another one seals
// under fails closed; the documented procedure (the new key readable
// everywhere first, promoted after) keeps every replica working.
func TestRollingKeyRotation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	k1, k2 := selfhosted.GenerateKey("2026-01"), selfhosted.GenerateKey("2026-02")
	const identity = "user-0001-rolling"

	t.Run("promoted without the readable step", func(t *testing.T) {
		c := newClock()
		sp := newSpy(t, c)
		out := new(selfhosted.Outbox)
		old := newOn(t, sp, c, out, k1)
		enrollConfirmed(t, old, c, identity)
		promoted := newOn(t, sp, c, out, k2, selfhosted.WithOlderKeys(k1))
		if err := promoted.Rekey(ctx, identity); err != nil {
			t.Fatal(err)
		}
		v, _ := startSMS(t, promoted, out)
		if list, err := old.ListFactors(ctx, identity); !errors.Is(err, provider.ErrUnavailable) {
			t.Errorf("the replica on the old key: ListFactors = %v, %v; want ErrUnavailable, never none", list, err)
		}
		if _, err := old.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS}); !errors.Is(err, provider.ErrUnavailable) {
			t.Errorf("the replica on the old key: Start: %v, want ErrUnavailable", err)
		}
		if _, err := old.Fetch(ctx, v.ID); !errors.Is(err, provider.ErrUnavailable) {
			t.Errorf("the replica on the old key: Fetch: %v, want ErrUnavailable", err)
		}
	})

	t.Run("readable first, promoted after", func(t *testing.T) {
		c := newClock()
		sp := newSpy(t, c)
		out := new(selfhosted.Outbox)
		old := newOn(t, sp, c, out, k1)
		e, ver := enrollConfirmed(t, old, c, identity)
		// Step 1, replica by replica: k2 readable, k1 still primary.
		step1 := newOn(t, sp, c, out, k1, selfhosted.WithOlderKeys(k2))
		// Step 2, replica by replica: k2 primary, k1 readable, beside
		// replicas still in step 1.
		step2 := newOn(t, sp, c, out, k2, selfhosted.WithOlderKeys(k1))
		for i, p := range []*selfhosted.Provider{step2, step1, step2, step1} {
			c.Advance(30 * time.Second)
			ch, err := p.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: ver.Code(ver.Step(c.Now()))})
			if err != nil || !ch.Approved() {
				t.Fatalf("challenge %d during the rollout = %v, %v", i, ch, err)
			}
			for j, q := range []*selfhosted.Provider{step1, step2} {
				if ch, err := q.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: ver.Code(ver.Step(c.Now()))}); err != nil || ch.Approved() {
					t.Fatalf("replay %d on replica %d = %v, %v; want refused", i, j, ch, err)
				}
			}
			v, code := startSMS(t, p, out)
			other := step1
			if p == step1 {
				other = step2
			}
			wantApproved(t, other, provider.CheckRequest{ID: v.ID, Code: code}, "Check on the other replica")
		}
		// A new identity enrolled on a step-2 replica is seen by step 1.
		const second = "user-0002-rolling"
		enrollConfirmed(t, step2, c, second)
		if list, err := step1.ListFactors(ctx, second); err != nil || len(list) != 1 {
			t.Errorf("step 1 replica: ListFactors of an identity enrolled in step 2 = %v, %v", list, err)
		}
		// Step 3: every identity re-sealed, then k1 dropped.
		for _, id := range []string{identity, second} {
			if err := step2.Rekey(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		c.Advance(11 * time.Minute) // verifications sealed under k1 have expired
		step3 := newOn(t, sp, c, out, k2)
		for _, id := range []string{identity, second} {
			if list, err := step3.ListFactors(ctx, id); err != nil || len(list) != 1 {
				t.Errorf("step 3: ListFactors(%s) = %v, %v", id, list, err)
			}
		}
		v, code := startSMS(t, step3, out)
		wantApproved(t, step3, provider.CheckRequest{ID: v.ID, Code: code}, "Check after the rotation")
	})

	t.Run("no identities", func(t *testing.T) {
		c := newClock()
		sp := newSpy(t, c)
		out := new(selfhosted.Outbox)
		startSMS(t, newOn(t, sp, c, out, k1), out)
		step2 := newOn(t, sp, c, out, k2, selfhosted.WithOlderKeys(k1))
		if err := step2.Rekey(ctx, "user-0003-nobody"); !errors.Is(err, provider.ErrNotFound) {
			t.Fatalf("Rekey of an unknown identity: %v, want ErrNotFound", err)
		}
		c.Advance(11 * time.Minute)
		step3 := newOn(t, sp, c, out, k2)
		v, code := startSMS(t, step3, out)
		wantApproved(t, step3, provider.CheckRequest{ID: v.ID, Code: code}, "Check after a rotation without identities")
	})
}

// TestLockoutOutlivesRotation: a target locked out for too many wrong codes
// stays locked out after a key rotation; Start sends nothing.
func TestLockoutOutlivesRotation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newClock()
	sp := newSpy(t, c)
	out := new(selfhosted.Outbox)
	k1, k2 := selfhosted.GenerateKey("2026-01"), selfhosted.GenerateKey("2026-02")
	old := newOn(t, sp, c, out, k1)
	v, code := startSMS(t, old, out)
	for range 5 {
		if _, err := old.Check(ctx, provider.CheckRequest{ID: v.ID, Code: wrongCode(code)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS}); !errors.Is(err, provider.ErrTooManySends) {
		t.Fatalf("Start when locked out: %v, want ErrTooManySends", err)
	}
	sent := len(out.Messages())
	rotated := newOn(t, sp, c, out, k2, selfhosted.WithOlderKeys(k1))
	if _, err := rotated.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS}); !errors.Is(err, provider.ErrTooManySends) {
		t.Errorf("Start when locked out, after a rotation: %v, want ErrTooManySends", err)
	}
	if _, err := rotated.Check(ctx, provider.CheckRequest{To: to, Code: code}); !errors.Is(err, provider.ErrTooManyChecks) {
		t.Errorf("Check when locked out, after a rotation: %v, want ErrTooManyChecks", err)
	}
	if n := len(out.Messages()); n != sent {
		t.Errorf("%d messages sent to a locked-out target after the rotation", n-sent)
	}
}

// TestSealedSizeIsConstant: a dump must not tell the target's length nor
// the number of sends from a record's length.
func TestSealedSizeIsConstant(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newClock()
	sp := newSpy(t, c)
	out := new(selfhosted.Outbox)
	p := newOn(t, sp, c, out, testKey)
	sizes := map[string]int{}
	for _, target := range []string{"+14155552671", "a.very.long.name.for.a.mailbox+with-a-tag@mail.subdomain.example.com"} {
		for sends := 1; sends <= 3; sends++ {
			if _, err := p.Start(ctx, provider.StartRequest{To: target, Channel: provider.ChannelAuto}); err != nil {
				t.Fatal(err)
			}
			sp.mu.Lock()
			key := sp.keys[len(sp.keys)-1]
			sp.mu.Unlock()
			sizes[target+" x"+string(rune('0'+sends))] = len(sp.raw(t, key))
		}
	}
	var first int
	for what, n := range sizes {
		if first == 0 {
			first = n
		}
		if n != first {
			t.Errorf("sealed verification sizes differ: %v", sizes)
			break
		}
		_ = what
	}
}

// TestRestoredRecordGivesOneRound: a record's sequence number also grows
// with writes that take no guess (a re-send, a send taken back), so a
// store writer may hold a record that is newer than what a replica has
// seen yet has had fewer wrong codes. A replica that accepted one restored
// record and then took guesses on it refuses such a record: a store writer
// gets at most one round of guesses from a replica that had not seen the
// verification.
func TestRestoredRecordGivesOneRound(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	k := keepPending(t)
	c, sp, out, v, code, key, first := k.c, k.sp, k.out, k.v, k.code, k.key, k.first
	refusing := selfhosted.SenderFunc(func(context.Context, selfhosted.Message) error {
		return errors.Join(errors.New("gateway: rate limited"), provider.ErrRateLimited)
	})
	b, err := selfhosted.New(sp, testKey, selfhosted.WithClock(c.Now), selfhosted.WithSender(refusing, provider.ChannelSMS))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // each a send counted and taken back: two writes, no guess
		if _, err := b.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS}); !errors.Is(err, provider.ErrRateLimited) {
			t.Fatalf("Start through the refusing sender: %v", err)
		}
	}
	later := bytes.Clone(sp.raw(t, key)) // 7 writes, no wrong code yet
	// A replica that has seen none of it.
	f := newOn(t, sp, c, out, testKey)
	sp.restore(t, key, first)
	for range 5 {
		if _, err := f.Check(ctx, provider.CheckRequest{ID: v.ID, Code: wrongCode(code)}); err != nil {
			t.Fatal(err)
		}
	}
	sp.restore(t, key, later)
	if got, err := f.Check(ctx, provider.CheckRequest{ID: v.ID, Code: wrongCode(code)}); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("a second round of guesses on the same replica = %v, %v; want ErrUnavailable", got, err)
	}
}

// TestIdentitySizeHidesFactors: an identity's record has one sealed length
// (2 KiB) whether it holds one factor or six with the longest names, and
// no challenge or the 20 latest.
func TestIdentitySizeHidesFactors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newClock()
	sp := newSpy(t, c)
	out := new(selfhosted.Outbox)
	p := newOn(t, sp, c, out, testKey)
	const small, big = "user-0001-small", "user-0002-big"
	if _, err := p.EnrollFactor(ctx, provider.EnrollRequest{Identity: small, Type: provider.FactorTOTP, FriendlyName: "a"}); err != nil {
		t.Fatal(err)
	}
	var e provider.Enrollment
	for i := range 6 {
		var err error
		e, err = p.EnrollFactor(ctx, provider.EnrollRequest{Identity: big, Type: provider.FactorTOTP, FriendlyName: strings.Repeat(string(rune('a'+i)), 64)})
		if err != nil {
			t.Fatal(err)
		}
	}
	secret, _ := totp.DecodeSecret(e.Secret)
	ver := totp.NewVerifier(secret, e.TOTP)
	if _, err := p.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: big, FactorID: e.ID, Code: ver.Code(ver.Step(c.Now()))}); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		c.Advance(30 * time.Second)
		if ch, err := p.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: big, FactorID: e.ID, Code: ver.Code(ver.Step(c.Now()))}); err != nil || !ch.Approved() {
			t.Fatalf("ChallengeFactor = %v, %v", ch, err)
		}
	}
	ns, nb := len(sp.raw(t, sp.keyN(t, "vk:e:", 0))), len(sp.raw(t, sp.keyN(t, "vk:e:", 1)))
	if ns != 2048 || nb != 2048 {
		t.Errorf("sealed identity records: %d bytes (one factor), %d bytes (six, 20 challenges); want 2048 both", ns, nb)
	}
}

// TestRestoredApprovedIsRefused: a store writer keeps a pending
// verification's record, lets its code approve it, and puts the record
// back to approve it again. The replica that approved (deleted) it
// refuses the record put back.
func TestRestoredApprovedIsRefused(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	k := keepPending(t)
	sp, a, v, code, key, kept := k.sp, k.a, k.v, k.code, k.key, k.first
	if got, err := a.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code}); err != nil || !got.Approved() {
		t.Fatalf("the right code = %v, %v", got, err)
	}
	sp.restore(t, key, kept)
	if got, err := a.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code}); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("the right code on the approved record put back = %v, %v; want ErrUnavailable", got, err)
	}
}

// kept is a verification started on replica a over a spy store, with its
// record as first stored.
type kept struct {
	c         *clock
	sp        *spy
	out       *selfhosted.Outbox
	a         *selfhosted.Provider
	v         provider.Verification
	code, key string
	first     []byte
}

func keepPending(t *testing.T) kept {
	k := kept{c: newClock()}
	k.sp = newSpy(t, k.c)
	k.out = new(selfhosted.Outbox)
	k.a = newOn(t, k.sp, k.c, k.out, testKey)
	k.v, k.code = startSMS(t, k.a, k.out)
	k.key = k.sp.key(t, "vk:v:")
	k.first = bytes.Clone(k.sp.raw(t, k.key))
	return k
}
