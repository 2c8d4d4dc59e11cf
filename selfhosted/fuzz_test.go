package selfhosted

import (
	"bytes"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

// FuzzDecodeRecords feeds arbitrary bytes to the decoder of the identity
// records earlier versions wrote (today's are the engine's:
// internal/engine FuzzFactorRecord, and verification records
// FuzzRecord): it must not panic, what decodes must survive encoding and
// decoding again unchanged, and convert to the engine's record.
func FuzzDecodeRecords(f *testing.F) {
	id := identityRec{factors: []factorRec{{name: "phone", verified: true, digits: 6, period: 30, skew: 1, alg: "sha1", secret: []byte("0123456789abcdef0123"), lastStep: 5}},
		challenges: []challengeRec{{approved: true, created: time.Unix(9, 0)}}}
	f.Add(id.encode(nil))
	f.Add([]byte{1})
	f.Add([]byte{})
	m, err := store.NewMemory()
	if err != nil {
		f.Fatal(err)
	}
	p, err := New(m, Key{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)}, WithSender(new(Outbox), provider.ChannelSMS))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r, r2 identityRec
		if r.decode(b) == nil {
			// What an earlier version wrote converts to a record of the
			// engine's without a panic (it may be unreadable there).
			_ = r.convert(p.factors, make([]byte, factorHead))
			once := r.encode(nil)
			if err := r2.decode(once); err != nil {
				t.Fatalf("identity: re-decoding failed: %v", err)
			}
			if twice := r2.encode(nil); !bytes.Equal(once, twice) {
				t.Errorf("identity: encoding is not stable: %x then %x", once, twice)
			}
		}
	})
}

// FuzzParseEnvelope feeds arbitrary bytes to the envelope parser (what an
// opened record holds): it must not panic, and what parses must survive
// sealing and opening again unchanged.
func FuzzParseEnvelope(f *testing.F) {
	d, err := derive(Key{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		f.Fatal(err)
	}
	kr := &keyring{primary: d, byID: map[string]*derived{"k1": d}}
	e := envelope{seq: 3, expires: time.Unix(5, 0).UTC()}
	sealed := sealEnvelope(nil, d, "k", e, []byte("payload"), 256)
	_, plain, _ := kr.open(sealed, []byte("k"))
	f.Add(plain)
	f.Add([]byte{envelopeVersion})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := parseEnvelope(b)
		if err != nil {
			return
		}
		e2, err := kr.openEnvelope("k", sealEnvelope(nil, d, "k", *e, e.payload, 0))
		if err != nil {
			t.Fatalf("re-opening failed: %v", err)
		}
		if e2.lineage != e.lineage || e2.seq != e.seq || !e2.expires.Equal(e.expires) || !bytes.Equal(e2.payload, e.payload) {
			t.Errorf("envelope changed: %+v then %+v", e, e2)
		}
	})
}
