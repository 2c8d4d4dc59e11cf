package selfhosted

import (
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
)

// identityRec is an identity's record as versions before the engine kept
// factors wrote it (the payload starts with recordVersion): its TOTP
// factors with their secrets and its latest challenges. It is read, and
// converted to the engine's record (see sealedFactors), never written.
type identityRec struct {
	factors    []factorRec
	challenges []challengeRec
}

type factorRec struct {
	id          [16]byte
	name        string
	verified    bool
	digits      int
	period      int // seconds
	skew        int
	alg         provider.Algorithm
	secret      []byte
	created     time.Time
	updated     time.Time
	lastStep    int64 // the latest time step accepted; replays are refused
	wrong       int   // wrong codes in the current window
	windowStart time.Time
}

type challengeRec struct {
	id       [16]byte
	factor   [16]byte
	approved bool
	created  time.Time
}

// legacyChallengeTTL is how long those versions reported a challenge
// valid.
const legacyChallengeTTL = 5 * time.Minute

func (r *identityRec) encode(buf []byte) []byte {
	buf = append(buf, recordVersion, byte(len(r.factors)))
	for i := range r.factors {
		f := &r.factors[i]
		buf = append(buf, f.id[:]...)
		buf = appendString(buf, f.name)
		v := byte(0)
		if f.verified {
			v = 1
		}
		buf = append(buf, v, byte(f.digits), byte(f.period), byte(f.skew))
		buf = appendString(buf, string(f.alg))
		buf = appendString(buf, string(f.secret))
		buf = binary.BigEndian.AppendUint64(buf, uint64(f.created.UnixNano()))
		buf = binary.BigEndian.AppendUint64(buf, uint64(f.updated.UnixNano()))
		buf = binary.BigEndian.AppendUint64(buf, uint64(f.lastStep))
		buf = append(buf, byte(f.wrong))
		buf = binary.BigEndian.AppendUint64(buf, uint64(f.windowStart.UnixNano()))
	}
	buf = append(buf, byte(len(r.challenges)))
	for _, c := range r.challenges {
		buf = append(buf, c.id[:]...)
		buf = append(buf, c.factor[:]...)
		a := byte(0)
		if c.approved {
			a = 1
		}
		buf = append(buf, a)
		buf = binary.BigEndian.AppendUint64(buf, uint64(c.created.UnixNano()))
	}
	return buf
}

func (r *identityRec) decode(b []byte) error {
	d := decoder{b: b}
	if d.byte() != recordVersion {
		return errRecord
	}
	r.factors = make([]factorRec, d.byte())
	for i := range r.factors {
		f := &r.factors[i]
		copy(f.id[:], d.bytes(16))
		f.name = d.string()
		f.verified = d.byte() == 1
		f.digits, f.period, f.skew = int(d.byte()), int(d.byte()), int(d.byte())
		f.alg = provider.Algorithm(d.string())
		f.secret = []byte(d.string())
		f.created, f.updated = d.time(), d.time()
		f.lastStep = d.int64()
		f.wrong = int(d.byte())
		f.windowStart = d.time()
		if d.err != nil {
			return d.err
		}
	}
	r.challenges = make([]challengeRec, d.byte())
	for i := range r.challenges {
		c := &r.challenges[i]
		copy(c.id[:], d.bytes(16))
		copy(c.factor[:], d.bytes(16))
		c.approved = d.byte() == 1
		c.created = d.time()
	}
	if d.err != nil || len(d.b) != 0 {
		return errRecord
	}
	return nil
}

// convert returns r as the engine's record, after head. The
// IDs keep their spelling ("YF" or "YC" and 32 hex digits); the entity,
// which those versions did not have, is named after the first factor.
func (r *identityRec) convert(x *engine.Factors, head []byte) []byte {
	fs := make([]engine.ImportedTOTP, len(r.factors))
	var created time.Time
	for i := range r.factors {
		f := &r.factors[i]
		cfg := provider.TOTPConfig{Digits: f.digits, Period: time.Duration(f.period) * time.Second, Skew: f.skew, Algorithm: f.alg}
		fs[i] = engine.ImportedTOTP{ID: "YF" + hex.EncodeToString(f.id[:]), Name: f.name, Verified: f.verified,
			Config: totp.Fill(cfg, true), Secret: f.secret, Created: f.created, Updated: f.updated,
			Guard: totp.Guard{LastStep: f.lastStep, Wrong: f.wrong, WindowStart: f.windowStart}}
		if created.IsZero() || f.created.Before(created) {
			created = f.created
		}
	}
	cs := make([]engine.ImportedChallenge, len(r.challenges))
	for i, c := range r.challenges {
		cs[i] = engine.ImportedChallenge{ID: "YC" + hex.EncodeToString(c.id[:]), FactorID: "YF" + hex.EncodeToString(c.factor[:]),
			Approved: c.approved, Created: c.created, Expires: c.created.Add(legacyChallengeTTL)}
	}
	var entity [16]byte
	if len(r.factors) > 0 {
		entity = r.factors[0].id
	}
	return x.ImportRecord(head, "YE"+hex.EncodeToString(entity[:]), created, fs, cs)
}
