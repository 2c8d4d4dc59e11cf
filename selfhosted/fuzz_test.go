package selfhosted

import (
	"bytes"
	"testing"
	"time"
)

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

// TestEnvelopePaddingIsZeros: an opened record parses with its padding
// (zeros) and not with any other byte in it.
func TestEnvelopePaddingIsZeros(t *testing.T) {
	d, _ := derive(Key{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)})
	kr := &keyring{primary: d, byID: map[string]*derived{"k1": d}}
	_, plain, err := kr.open(sealEnvelope(nil, d, "k", envelope{seq: 1}, []byte("payload"), 256), []byte("k"))
	if _, perr := parseEnvelope(plain); err != nil || perr != nil {
		t.Fatal(err, perr)
	}
	for _, i := range []int{len(plain) - 1, len(plain) - 100} {
		bad := bytes.Clone(plain)
		bad[i] = 1
		if _, err := parseEnvelope(bad); err == nil {
			t.Errorf("a padding byte %d of %d set: parsed", i, len(plain))
		}
	}
}
