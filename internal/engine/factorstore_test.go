package engine

import (
	"bytes"
	"context"
	"errors"
	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/internal/pushsig"
	"github.com/verifykit/verifykit/provider"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/store"
)

// overStore, set by TestRulesOverStore, makes newFactors and newPushRig
// keep their factors in a store.Memory.
var overStore bool

// storePushRig is newPushRig over a store.Memory, whatever overStore says.
func storePushRig(tb testing.TB) *pushRig {
	overStore = true
	defer func() { overStore = false }()
	return newPushRig(tb)
}

// testStore returns a FactorStore over a new store.Memory when overStore
// is set, else nil (memory).
func testStore(now func() time.Time) *FactorStore {
	if !overStore {
		return nil
	}
	m, err := store.NewMemory(store.WithClock(now))
	if err != nil {
		panic(err)
	}
	return &FactorStore{Store: m, Head: 3, Key: func(_ context.Context, kind byte, name string) (string, error) {
		return "f:" + string(kind) + ":" + name, nil
	}}
}

// TestRulesOverStore runs the factor and push rule tests again with the
// factors kept in a store: the rules are the same code.
func TestRulesOverStore(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"ChallengeExpiryAndUpdate", TestChallengeExpiryAndUpdate},
		{"ReplayAndWindow", TestReplayAndWindow},
		{"FactorIDPrefixes", TestFactorIDPrefixes},
		{"PushLifecycle", TestPushLifecycle},
		{"AccessTokens", TestAccessTokens},
		{"CreateDeviceFactorRefuses", TestCreateDeviceFactorRefuses},
		{"DeviceAuth", TestDeviceAuth},
		{"WrongSignaturesLockOut", TestWrongSignaturesLockOut},
		{"AnswerRefusals", TestAnswerRefusals},
		{"PushChallengeRules", TestPushChallengeRules},
		{"NotifyChallenge", TestNotifyChallenge},
		{"ConcurrentAnswersApplyOnce", TestConcurrentAnswersApplyOnce},
		{"UpdateDeviceFactor", TestUpdateDeviceFactor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			overStore = true
			t.Cleanup(func() { overStore = false })
			tc.run(t)
		})
	}
}

// casStore records the time to live of every write and can make the
// next compare-and-swaps lose to another writer, which changes the record
// first by running change on a second Factors over the same store.
type casStore struct {
	store.Store
	mu     sync.Mutex
	ttls   []time.Duration
	before func() // run before the next compare-and-swap, once
}

func (s *casStore) CompareAndSwap(ctx context.Context, key string, old uint64, value []byte, ttl time.Duration) (store.Record, error) {
	s.mu.Lock()
	f := s.before
	s.before = nil
	s.ttls = append(s.ttls, ttl)
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return s.Store.CompareAndSwap(ctx, key, old, value, ttl)
}

func storeReplicas(t *testing.T) (a, b *Factors, st *casStore, c *clock, events *[]FactorEvent) {
	t.Helper()
	c = new(clock)
	c.t.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	m, err := store.NewMemory(store.WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	st = &casStore{Store: m}
	events = new([]FactorEvent)
	mk := func(on func(context.Context, FactorEvent)) *Factors {
		fs := &FactorStore{Store: st, Key: func(_ context.Context, kind byte, name string) (string, error) { return string(kind) + name, nil }}
		return NewFactors(FactorConfig{
			Now: c.now, MaxWrong: 5, Window: 10 * time.Minute, Issuer: "verifykit",
			Prefixes: [3]string{"YE", "YF", "YC"}, NewSecret: func() []byte { return make([]byte, 20) },
			Store: fs, OnEvent: on,
		})
	}
	var mu sync.Mutex
	a = mk(func(_ context.Context, e FactorEvent) {
		mu.Lock()
		defer mu.Unlock()
		*events = append(*events, e)
	})
	b = mk(nil)
	return a, b, st, c, events
}

// TestStoreRetriesALostSwap: an operation whose compare-and-swap another
// writer won runs its rules again on the current record, and reports one
// event, after it is written.
func TestStoreRetriesALostSwap(t *testing.T) {
	a, b, st, c, events := storeReplicas(t)
	const id = "user-0001-cas"
	e := verified(t, a, id)
	c.advance(time.Minute)
	// Replica b renames the factor while a checks a wrong code: a's check
	// is decided again on the renamed record, and both changes stay.
	st.before = func() {
		if _, err := b.UpdateFactor(ctx, id, e.ID, FactorUpdate{FriendlyName: "renamed"}); err != nil {
			t.Error(err)
		}
	}
	*events = nil
	ch, err := a.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: e.ID, Code: "000000"})
	if err != nil || ch.Approved() {
		t.Fatalf("wrong code: %v %v", ch, err)
	}
	if len(*events) != 1 || (*events)[0].Op != OpChallengeFactor || (*events)[0].ChallengeID != ch.ID {
		t.Errorf("events: %+v, want one challenge factor event for %s", *events, ch.ID)
	}
	f, err := b.FetchFactor(ctx, id, e.ID)
	if err != nil || f.FriendlyName != "renamed" {
		t.Errorf("the other writer's change: %v %v", f, err)
	}
	if l, _ := b.ListChallenges(ctx, id, "", ""); len(l) != 1 || l[0].ID != ch.ID {
		t.Errorf("challenges: %v, want the one made", l)
	}
}

// TestStoreApprovesOnceAcrossReplicas: of concurrent challenges with one
// right code on two replicas, exactly one is approved.
func TestStoreApprovesOnceAcrossReplicas(t *testing.T) {
	a, b, _, c, _ := storeReplicas(t)
	const id = "user-0002-cas"
	e := verified(t, a, id)
	c.advance(time.Minute)
	code, _ := a.Code(id, e.ID)
	var wg sync.WaitGroup
	var mu sync.Mutex
	approved := 0
	for i := range 8 {
		x := a
		if i%2 == 1 {
			x = b
		}
		wg.Go(func() {
			ch, err := x.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: e.ID, Code: code})
			if err != nil && !errors.Is(err, provider.ErrUnavailable) {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if ch.Approved() {
				approved++
			}
		})
	}
	wg.Wait()
	if approved != 1 {
		t.Errorf("%d challenges approved with one code, want 1", approved)
	}
}

// TestStoreKeepsFactorsAndEmptiesDeleted: an identity's record never
// expires; a deleted identity's record is emptied, with an expiry.
func TestStoreKeepsFactorsAndEmptiesDeleted(t *testing.T) {
	a, b, st, _, _ := storeReplicas(t)
	const id = "user-0003-cas"
	verified(t, a, id)
	for i, ttl := range st.ttls {
		if ttl != store.NoExpiry {
			t.Errorf("write %d: ttl %v, want NoExpiry", i, ttl)
		}
	}
	if err := a.DeleteIdentity(ctx, id); err != nil {
		t.Fatal(err)
	}
	r, _ := st.Get(ctx, "e"+id)
	if last := st.ttls[len(st.ttls)-1]; !r.Found() || len(r.Value) != 0 || last == store.NoExpiry {
		t.Errorf("after DeleteIdentity: %v, ttl %v; want an empty record with an expiry", r, last)
	}
	if l, err := b.ListFactors(ctx, id); err != nil || len(l) != 0 {
		t.Errorf("factors after delete: %v %v", l, err)
	}
	if _, err := b.FetchEntity(ctx, id); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("entity after delete: %v, want ErrNotFound", err)
	}
}

// TestStoreReadsDoNotWrite: a read leaves the record unchanged (no
// write); passkeys and ListEntities are memory-only.
func TestStoreReadsDoNotWrite(t *testing.T) {
	a, _, st, _, _ := storeReplicas(t)
	const id = "user-0004-cas"
	e := verified(t, a, id)
	n := len(st.ttls)
	a.FetchFactor(ctx, id, e.ID)
	a.ListFactors(ctx, id)
	a.FetchEntity(ctx, id)
	if len(st.ttls) != n {
		t.Errorf("reads wrote %d times", len(st.ttls)-n)
	}
	if _, err := a.EnrollPasskey(ctx, id, "key"); !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("a passkey over a store: %v, want ErrUnsupported", err)
	}
	if _, err := a.ListEntities(ctx); !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("ListEntities over a store: %v, want ErrUnsupported", err)
	}
}

// FuzzFactorRecord feeds arbitrary bytes to the identity record decoder:
// it must not panic, and what decodes must encode to a record that
// decodes and encodes to itself.
func FuzzFactorRecord(f *testing.F) {
	r := storePushRig(f)
	const id = "user-0005-fuzz"
	d := r.verifiedDevice(f, id, 0, provider.PlatformFCM)
	r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details})
	r.x.EnrollFactor(ctx, provider.EnrollRequest{Identity: id, Type: provider.FactorTOTP, FriendlyName: "phone"})
	r.x.CreateAccessToken(ctx, provider.AccessTokenRequest{Identity: id})
	rec, _ := r.x.c.Store.Store.Get(ctx, "f:e:"+id)
	f.Add(rec.Value[3:])
	f.Add([]byte{factorRecordVersion})
	f.Add([]byte{})
	now := r.clock.now()
	f.Fuzz(func(t *testing.T, b []byte) {
		x := r.x.newScratch()
		if x.decodeIdentity(id, b) != nil {
			return
		}
		once := x.encodeIdentity(nil, id, now)
		y := r.x.newScratch()
		if err := y.decodeIdentity(id, once); err != nil {
			t.Fatalf("re-decoding failed: %v", err)
		}
		if twice := y.encodeIdentity(nil, id, now); !bytes.Equal(once, twice) {
			t.Errorf("encoding is not stable: %x then %x", once, twice)
		}
	})
}

// TestStoreKeepsTheDateDecision: whether a push challenge's details carry
// its date is decided once, when it is created, and kept in the record:
// the device fetches and signs what it was shown after the setting
// changes.
func TestStoreKeepsTheDateDecision(t *testing.T) {
	r := storePushRig(t)
	const id = "user-0006-date"
	d := r.verifiedDevice(t, id, 0, provider.PlatformNone)
	dated := true
	r.x.c.Push.IncludeDate = func() bool { return dated }
	ch, err := r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details})
	if err != nil {
		t.Fatal(err)
	}
	dated = false
	dc, err := r.x.FetchDeviceChallenge(ctx, d.auth(t, r.clock.now()), id, ch.ID)
	if err != nil || !bytes.Contains(dc.JSON, []byte(`"date":`)) {
		t.Fatalf("fetched after the setting changed: %s, %v; want the date", dc.JSON, err)
	}
	if got, err := r.answer(t, d, ch.ID, "approved"); err != nil || !got.Approved() {
		t.Errorf("answer signed over the dated details: %v, %v", got, err)
	}
}

// TestStoreRemembersRequestTokensInTheirWindow: over a store, a request
// JWT that verified is remembered (this process's memory, by factor ID
// for the factor's key), and still refused once its window has passed.
func TestStoreRemembersRequestTokensInTheirWindow(t *testing.T) {
	r := storePushRig(t)
	const id = "user-0008-auth"
	d := r.verifiedDevice(t, id, 0, provider.PlatformNone)
	auth := d.auth(t, r.clock.now())
	if _, err := r.x.ListDeviceChallenges(ctx, auth, id, d.f.ID, ""); err != nil {
		t.Fatal(err)
	}
	vs := &r.x.c.Store.verifiers
	if p := vs.m[d.f.ID].push; p == nil || p.auth != auth {
		t.Fatal("the request token was not remembered")
	}
	// A token kept for another key is verified again: a forged one fails.
	forged := auth[:len(auth)-4] + "AAAA"
	if forged == auth {
		forged = auth[:len(auth)-4] + "BBBB"
	}
	now := r.clock.now()
	vs.m[d.f.ID] = keptVerifier{push: &pushFactor{key: "another key", auth: forged, nbf: now.Add(-time.Minute), exp: now.Add(time.Minute)}}
	if _, err := r.x.ListDeviceChallenges(ctx, forged, id, d.f.ID, ""); err == nil {
		t.Error("a forged token kept for another key was taken as verified")
	}
	r.clock.advance(pushsig.RequestLifetime + time.Second)
	if _, err := r.x.ListDeviceChallenges(ctx, auth, id, d.f.ID, ""); reason(err) != ReasonDeviceClock {
		t.Errorf("a remembered token after its window: %v, want %s", err, ReasonDeviceClock)
	}
}

// TestStoreKeepsChallengesAsRead: the challenges an operation does not
// look at are written back as they were read, the oldest dropped beyond
// the bound, and still name their factor once an earlier factor is
// deleted (the record names a factor by its index).
func TestStoreKeepsChallengesAsRead(t *testing.T) {
	a, b, _, c, _ := storeReplicas(t)
	a.c.Store.ChallengesKept, b.c.Store.ChallengesKept = 3, 3
	const id = "user-0007-kept"
	first, second := verified(t, a, id), verified(t, a, id)
	var want []string
	for range 5 {
		c.advance(time.Minute)
		ch, err := a.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: second.ID, Code: "000000"})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ch.ID)
	}
	want = want[2:]
	list := func(when string) {
		t.Helper()
		l, err := b.ListChallenges(ctx, id, "", "")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ch := range l {
			got = append(got, ch.ID)
			if ch.FactorID != second.ID {
				t.Errorf("%s: challenge %s of factor %s, want %s", when, ch.ID, ch.FactorID, second.ID)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: challenges (-want +got):\n%s", when, diff)
		}
	}
	list("before the deletion")
	if err := a.DeleteFactor(ctx, id, first.ID); err != nil {
		t.Fatal(err)
	}
	list("after the deletion")
	if ch, err := b.FetchChallenge(ctx, id, want[0]); err != nil || ch.FactorID != second.ID {
		t.Errorf("fetch after the deletion: %+v %v", ch, err)
	}
}

// TestUnnamedRecordRefused: an identity's record must name it; one naming
// no identity (as the removed imported records did) or another is
// unreadable, not taken for this identity's.
func TestUnnamedRecordRefused(t *testing.T) {
	r := storePushRig(t)
	const id = "user-0008-unnamed"
	if _, err := r.x.EnrollFactor(ctx, provider.EnrollRequest{Identity: id, Type: provider.FactorTOTP, FriendlyName: "phone"}); err != nil {
		t.Fatal(err)
	}
	rec := r.record(t, id)
	if err := r.x.newScratch().decodeIdentity(id, rec.Value[r.x.c.Store.Head:]); err != nil {
		t.Fatal(err)
	}
	rest := rec.Value[r.x.c.Store.Head+len(appendString([]byte{factorRecordVersion}, id)):]
	for _, name := range []string{"", "user-0009-other"} {
		b := append(appendString([]byte{factorRecordVersion}, name), rest...)
		if err := r.x.newScratch().decodeIdentity(id, b); !errors.Is(err, errRecord) {
			t.Errorf("a record naming %q read for %q: %v, want errRecord", name, id, err)
		}
	}
}
