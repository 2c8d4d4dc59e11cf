package selfhosted

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

// TestLegacyRecordsOpen checks that records sealed by earlier versions
// (the payload sealed without an envelope) and their key check record
// still open after an upgrade, with the same names, and are written in the
// new format at their next change.
func TestLegacyRecordsOpen(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	m, err := store.NewMemory(store.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	key := Key{ID: "old", Secret: []byte("0123456789abcdef0123456789abcdef")}
	out := new(Outbox)
	p, err := New(m, key, WithClock(func() time.Time { return now }), WithSender(out, provider.ChannelSMS))
	if err != nil {
		t.Fatal(err)
	}
	d := p.keys.primary
	// What an earlier version wrote: a key check record, an identity, a
	// pending verification, named with the key's own target key.
	old := newNamer(d.target)
	if _, err := m.CompareAndSwap(ctx, "vk:keycheck", 0, d.seal([]byte(legacyKeyCheckText), []byte("vk:keycheck")), time.Hour); err != nil {
		t.Fatal(err)
	}
	var b [16]byte
	ikey := "vk:e:" + hex.EncodeToString(old.name(b[:0], 'e', "user-0001-legacy"))
	rec := identityRec{factors: []factorRec{{id: [16]byte{9}, name: "phone", verified: true, digits: 6, period: 30, skew: 1, alg: "sha1",
		secret: []byte("0123456789abcdef0123"), lastStep: -1, created: now, updated: now}}}
	if _, err := m.CompareAndSwap(ctx, ikey, 0, d.seal(rec.encode(nil), []byte(ikey)), store.NoExpiry); err != nil {
		t.Fatal(err)
	}
	const to = "+14155552671"
	vkey := "vk:v:" + hex.EncodeToString(old.name(b[:0], 'v', to)[:nameLen])
	nonce := [16]byte{7}
	// The payload of earlier versions: version, nonce, to, channel,
	// created, updated, expires, checks, one send (at, channel, ID).
	v := append([]byte{1}, nonce[:]...)
	v = append(append(v, byte(len(to))), to...)
	v = append(v, 3, 's', 'm', 's')
	v = binary.BigEndian.AppendUint64(v, uint64(now.UnixNano()))
	v = binary.BigEndian.AppendUint64(v, uint64(now.UnixNano()))
	v = binary.BigEndian.AppendUint64(v, uint64(now.Add(10*time.Minute).UnixNano()))
	v = append(v, 0, 1) // no wrong code, one send
	v = binary.BigEndian.AppendUint64(v, uint64(now.UnixNano()))
	v = append(append(v, 3, 's', 'm', 's'), make([]byte, 16)...)
	if _, err := m.CompareAndSwap(ctx, vkey, 0, d.seal(v, []byte(vkey)), 10*time.Minute); err != nil {
		t.Fatal(err)
	}

	list, err := p.ListFactors(ctx, "user-0001-legacy")
	if err != nil || len(list) != 1 || list[0].FriendlyName != "phone" {
		t.Fatalf("ListFactors of an identity an earlier version wrote = %v, %v", list, err)
	}
	if err := p.Rekey(ctx, "user-0001-legacy"); err != nil {
		t.Fatal(err)
	}
	if r, _ := m.Get(ctx, ikey); len(r.Value) != identitySize(0) && len(r.Value) < 2048 {
		t.Errorf("the identity's record after a change: %d bytes, want it padded (the new format)", len(r.Value))
	}
	if list, err := p.ListFactors(ctx, "user-0001-legacy"); err != nil || len(list) != 1 {
		t.Fatalf("ListFactors after the rewrite = %v, %v", list, err)
	}
	// A wrong code is written back in its lineage (the envelope's, not the
	// nonce), so the replica's memory still refuses the record as it was.
	before, _ := m.Get(ctx, vkey)
	if got, err := p.Check(ctx, provider.CheckRequest{To: to, Code: "000000"}); err != nil || got.Status != provider.StatusPending {
		t.Fatalf("a wrong code on a verification an earlier version started = %v, %v", got, err)
	}
	cur, _ := m.Get(ctx, vkey)
	if _, err := m.CompareAndSwap(ctx, vkey, cur.Version, before.Value, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Check(ctx, provider.CheckRequest{To: to, Code: "000000"}); !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("the record put back as it was before the wrong code: %v, want ErrUnavailable", err)
	}
	back, _ := m.Get(ctx, vkey)
	if _, err := m.CompareAndSwap(ctx, vkey, back.Version, cur.Value, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := p.Check(ctx, provider.CheckRequest{To: to, Code: p.code(d, nonce)})
	if err != nil || !got.Approved() {
		t.Fatalf("Check of a verification an earlier version started = %v, %v", got, err)
	}
}
