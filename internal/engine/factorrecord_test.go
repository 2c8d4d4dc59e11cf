package engine

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/verifykit/verifykit/internal/pushsig"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

// TestStoreRefusesAChallengeOfTheOtherFactorType: a record whose push
// challenge names a TOTP factor, or whose TOTP challenge names a push
// factor (which no operation writes: a corrupt or crafted record), is
// unreadable; no operation on it panics.
func TestStoreRefusesAChallengeOfTheOtherFactorType(t *testing.T) {
	for _, tc := range []struct {
		name  string
		craft func(c *challenge, totpID string)
	}{
		{"push challenge of a TOTP factor", func(c *challenge, totpID string) { c.factorID, c.c.FactorID = totpID, totpID }},
		{"TOTP challenge of a push factor", func(c *challenge, _ string) { c.c.Push = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := storePushRig(t)
			const id = "user-0007-kind"
			d := r.verifiedDevice(t, id, 0, provider.PlatformFCM)
			en, err := r.x.EnrollFactor(ctx, provider.EnrollRequest{Identity: id, Type: provider.FactorTOTP, FriendlyName: "phone"})
			if err != nil {
				t.Fatal(err)
			}
			ch, err := r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details})
			if err != nil {
				t.Fatal(err)
			}
			// The device fetched and signed its answer before the record
			// changed.
			dc, err := r.x.FetchDeviceChallenge(ctx, d.auth(t, r.clock.now()), id, ch.ID)
			if err != nil {
				t.Fatal(err)
			}
			payload, err := pushsig.SignChallengeResponse(d.key, dc.JSON, dc.SignatureFields, "approved")
			if err != nil {
				t.Fatal(err)
			}
			st, rec := r.x.c.Store, r.record(t, id)
			s := r.x.newScratch()
			if err := s.decodeIdentity(id, rec.Value[st.Head:]); err != nil {
				t.Fatal(err)
			}
			c, err := s.lookupChallenge("", id, ch.ID, r.clock.now())
			if err != nil {
				t.Fatal(err)
			}
			tc.craft(c, en.Factor.ID)
			crafted := s.encodeIdentity(append([]byte(nil), rec.Value[:st.Head]...), id, r.clock.now())
			if _, err := st.Store.CompareAndSwap(ctx, "f:e:"+id, rec.Version, crafted, store.NoExpiry); err != nil {
				t.Fatal(err)
			}
			for name, op := range map[string]func() error{
				"NotifyChallenge": func() error { return r.x.NotifyChallenge(ctx, id, ch.ID, -1) },
				"FetchDeviceChallenge": func() error {
					_, err := r.x.FetchDeviceChallenge(ctx, d.auth(t, r.clock.now()), id, ch.ID)
					return err
				},
				"ListDeviceChallenges": func() error {
					_, err := r.x.ListDeviceChallenges(ctx, d.auth(t, r.clock.now()), id, d.f.ID, "")
					return err
				},
				"AnswerDeviceChallenge": func() error {
					_, err := r.x.AnswerDeviceChallenge(ctx, d.auth(t, r.clock.now()), id, ch.ID, payload)
					return err
				},
			} {
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Errorf("%s panicked: %v", name, p)
						}
					}()
					var ee *Error
					if err := op(); !errors.As(err, &ee) || ee.Reason != reasonUnreadable {
						t.Errorf("%s: %v, want reasonUnreadable", name, err)
					}
				}()
			}
		})
	}
}

// TestStoreTokensOnlyRecordExpires: the record of an identity that holds
// access tokens and no entity (none enrolled yet, or deleted since) is
// written with the tombstone's expiry, not kept forever; once it has an
// entity, it never expires.
func TestStoreTokensOnlyRecordExpires(t *testing.T) {
	a, _, st, _, _ := storeReplicas(t)
	const id = "user-0008-tokens"
	if _, err := a.CreateAccessToken(ctx, provider.AccessTokenRequest{Identity: id}); err != nil {
		t.Fatal(err)
	}
	if len(st.ttls) != 2 || st.ttls[0] == store.NoExpiry {
		t.Errorf("writes' ttls %v: want the identity's record with an expiry, then the token's", st.ttls)
	}
	if _, err := a.CreateEntity(ctx, id); err != nil {
		t.Fatal(err)
	}
	if last := st.ttls[len(st.ttls)-1]; last != store.NoExpiry {
		t.Errorf("with an entity: ttl %v, want NoExpiry", last)
	}
}

// TestStoreRefusesAChallengeIDTwice: a record with two challenges of one
// ID (which no operation writes) is unreadable.
func TestStoreRefusesAChallengeIDTwice(t *testing.T) {
	r := storePushRig(t)
	const id = "user-0008-twice"
	d := r.verifiedDevice(t, id, 0, provider.PlatformFCM)
	var chs [2]provider.Challenge
	for i := range chs {
		var err error
		if chs[i], err = r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details}); err != nil {
			t.Fatal(err)
		}
	}
	b := r.record(t, id).Value[r.x.c.Store.Head:]
	second := appendID(nil, chs[1].ID)
	at := bytes.Index(b, second)
	if at < 0 || r.x.newScratch().decodeIdentity(id, b) != nil {
		t.Fatalf("the record does not hold challenge %s, or does not decode", chs[1].ID)
	}
	crafted := slices.Concat(b[:at], appendID(nil, chs[0].ID), b[at+len(second):])
	if err := r.x.newScratch().decodeIdentity(id, crafted); err != errRecord {
		t.Errorf("%v, want errRecord", err)
	}
}

// TestOtherRecordVersionRefused: a record of another format version (the
// previous one, 0xf2, whose IDs, times and challenges were laid out
// otherwise) is unreadable, not misread: every operation on it fails with
// ErrUnavailable.
func TestOtherRecordVersionRefused(t *testing.T) {
	r := storePushRig(t)
	const id = "user-0008-version"
	en, err := r.x.EnrollFactor(ctx, provider.EnrollRequest{Identity: id, Type: provider.FactorTOTP, FriendlyName: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	st, rec := r.x.c.Store, r.record(t, id)
	old := slices.Clone(rec.Value)
	old[st.Head] = 0xf2
	if _, err := st.Store.CompareAndSwap(ctx, "f:e:"+id, rec.Version, old, store.NoExpiry); err != nil {
		t.Fatal(err)
	}
	_, err = r.x.FetchFactor(ctx, id, en.ID)
	if ee := (*Error)(nil); !errors.As(err, &ee) || !errors.Is(err, provider.ErrUnavailable) || ee.Reason != reasonUnreadable {
		t.Errorf("a record of version 0xf2: %v, want ErrUnavailable (%s)", err, reasonUnreadable)
	}
}

// record returns identity's record in the rig's store.
func (r *pushRig) record(t *testing.T, identity string) store.Record {
	t.Helper()
	rec, err := r.x.c.Store.Store.Get(ctx, "f:e:"+identity)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}
