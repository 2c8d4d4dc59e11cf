package selfhosted

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"slices"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

// An envelope is what every sealed record holds around its payload, and
// what lets a replica tell a restored record from a current one:
//
//	version (1) | lineage (16) | seq (8) | spent (8) |
//	expires (8, Unix ns, 0: never) | len(payload) (uvarint) | payload |
//	zero padding
//
// sealed with AES-GCM under a key of the ring, with the store key as
// additional data. The lineage is random when a record is created and kept
// by every later write of it; seq grows by one with each write; spent
// counts the guesses (codes checked) the record has ever taken and never
// decreases. All are sealed, so a store writer without the application key can only put back
// a record exactly as it was, which the replicas that have seen a later
// one refuse (see recall).
type envelope struct {
	lineage [16]byte
	seq     uint64
	spent   uint64
	expires time.Time // zero: never
	key     *derived  // the key that opened (or will seal) it
	payload []byte
	plain   []byte // the opened record, which payload is part of
}

const envelopeVersion = 2

// next returns the envelope of the record that replaces e: same lineage,
// next seq. For a nil e (nothing stored), a new lineage.
func (e *envelope) next() envelope {
	if e == nil {
		var n envelope
		_, _ = rand.Read(n.lineage[:])
		n.seq = 1
		return n
	}
	return envelope{lineage: e.lineage, seq: e.seq + 1, spent: e.spent}
}

// sealEnvelope seals payload under d in e's envelope, into dst's array
// when it is large enough, padded so that the sealed record's length is
// size (or, for a payload too large for it, the next multiple of 64
// bytes).
func sealEnvelope(dst []byte, d *derived, key string, e envelope, payload []byte, size int) []byte {
	buf := d.startSeal(dst, max(size, 64+len(payload))+len(key)) // with room for the additional data
	hdr := len(buf)
	buf = append(buf, envelopeVersion)
	buf = append(buf, e.lineage[:]...)
	buf = binary.BigEndian.AppendUint64(buf, e.seq)
	buf = binary.BigEndian.AppendUint64(buf, e.spent)
	var exp uint64
	if !e.expires.IsZero() {
		exp = uint64(e.expires.UnixNano())
	}
	buf = binary.BigEndian.AppendUint64(buf, exp)
	buf = binary.AppendUvarint(buf, uint64(len(payload)))
	buf = append(buf, payload...)
	want := size - d.aead.Overhead() // the sealed length, less the tag
	if len(buf) > want {
		want = (len(buf)+d.aead.Overhead()+63)/64*64 - d.aead.Overhead()
	}
	buf = append(buf, make([]byte, want-len(buf))...) // zeros
	// The additional data (the store key) goes after where the sealed
	// record ends, so that it needs no allocation of its own.
	buf = slices.Grow(buf, d.aead.Overhead()+len(key))
	end := len(buf) + d.aead.Overhead()
	aad := append(buf[end:end], key...)
	return d.finishSeal(buf, hdr, aad)
}

// openEnvelope opens a sealed record stored at key.
func (kr *keyring) openEnvelope(key string, sealed []byte) (*envelope, error) {
	d, plain, err := kr.open(sealed, []byte(key))
	if err != nil {
		return nil, err
	}
	e, err := parseEnvelope(plain)
	if err != nil {
		return nil, err
	}
	e.key, e.plain = d, plain
	return e, nil
}

// parseEnvelope parses an opened envelope; its payload aliases plain.
func parseEnvelope(plain []byte) (*envelope, error) {
	const head = 1 + 16 + 8 + 8 + 8
	if len(plain) < head || plain[0] != envelopeVersion {
		return nil, errRecord
	}
	e := &envelope{seq: binary.BigEndian.Uint64(plain[17:]), spent: binary.BigEndian.Uint64(plain[25:])}
	copy(e.lineage[:], plain[1:17])
	if exp := int64(binary.BigEndian.Uint64(plain[33:])); exp != 0 {
		e.expires = time.Unix(0, exp).UTC()
	}
	n, k := binary.Uvarint(plain[head:])
	rest := plain[head+max(k, 0):]
	if k <= 0 || n > uint64(len(rest)) {
		return nil, errRecord
	}
	e.payload = rest[:n]
	if bytes.Count(rest[n:], []byte{0}) != len(rest[n:]) { // the padding is zeros
		return nil, errRecord
	}
	return e, nil
}

// Record kinds, for the replica's memory: the lineage of a stable record
// never changes (an identity's record is emptied, never deleted, by
// DeleteIdentity), so a record of another lineage, or none, where one was
// seen means state was lost; a verification's key holds a new lineage with
// each new verification.
const (
	kindVerification = false
	kindStable       = true
)

// openRecord opens r, stored at key, and checks it against this replica's
// memory of the records it has seen: a record older than one seen (a
// restored one), or an absent stable record this replica has seen, is an
// error matching ErrUnavailable. tk is the memory's ticket taken before the
// store was read (see recall.ticket). It returns nil for an absent record.
func (p *Provider) openRecord(op Op, key string, r store.Record, stable bool, tk uint64) (*envelope, error) {
	now := p.now()
	if !r.Found() {
		if stable && p.recall.lost(key, tk, now) {
			return nil, newErr(op, provider.ErrUnavailable, "an identity's state this replica has seen is missing from the store (deleted, evicted or lost in a failover): refusing to report no factors")
		}
		return nil, nil
	}
	e, err := p.keys.openEnvelope(key, r.Value)
	if err != nil {
		return nil, unreadable(op)
	}
	until := e.expires
	if stable {
		until = now.Add(stableRecall)
	}
	if !p.recall.saw(key, e.lineage, seen{seq: e.seq, spent: e.spent, ver: r.Version}, stable, until, tk, now) {
		return nil, rolledBack(op)
	}
	return e, nil
}

// wrote records a write this replica made (it is the latest state), at
// store version ver.
func (p *Provider) wrote(key string, e envelope, stable bool, ver uint64) {
	now := p.now()
	until := e.expires
	if stable {
		until = now.Add(stableRecall)
	}
	p.recall.saw(key, e.lineage, seen{seq: e.seq, spent: e.spent, ver: ver}, stable, until, p.recall.ticket(), now)
}

// stableRecall is how long a replica remembers an identity's record after
// it last saw it. Tombstones (see DeleteIdentity) outlive it by far.
const stableRecall = 30 * 24 * time.Hour

// tombstoneTTL is how long an emptied identity record stays.
const tombstoneTTL = 400 * 24 * time.Hour

func rolledBack(op Op) error {
	return newErr(op, provider.ErrUnavailable, "a stored record is older than one this replica has seen: the store was rolled back (restored by hand, or a failover lost writes)")
}
