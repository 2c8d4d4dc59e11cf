package engine

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// State is a verification as the engine keeps it. Its code is unexported:
// a layer gets it from Start, where it is to be delivered, and nowhere
// else.
type State struct {
	To       string
	Channel  provider.Channel
	Updated  time.Time
	Expires  time.Time
	Checks   int       // wrong codes checked
	nonce    [16]byte  // the first Config.NonceLen bytes
	code     string    // the stored code, or what Config.Reveal derives it from
	attempts []attempt // never empty: the first is the start
	seq      uint64    // grows by one with every write

	k       recKey // the record's key
	version uint64 // the version of the record this state was read from or written as
	prev    *State // in what Start returns after a re-send, the state it replaced, for TakeBack
	id      string // ID() and then, over a store, the record's store key, when known (Start made them; the records keep them)
	e       *Verifications
}

type attempt struct {
	at      time.Time
	channel provider.Channel
	id      [16]byte
	sid     string // the ID in text, when known (not encoded)
}

// Created returns when the verification started: its first send.
func (s *State) Created() time.Time { return s.attempts[0].at }

// ID returns the verification's ID: the prefix, the target's name and the
// nonce, in hex.
func (s *State) ID() string {
	if s.id != "" {
		return s.id[:s.e.idLen]
	}
	var buf [96]byte
	return string(s.e.appendID(buf[:0], s.k, s.nonce[:s.e.c.NonceLen]))
}

// View returns the verification as the provider contract reports it, with
// status.
func (s *State) View(status provider.Status) provider.Verification {
	out := provider.Verification{
		ID: s.ID(), To: s.To, Channel: s.Channel, Status: status, RawStatus: string(status),
		CreatedAt: s.Created(), UpdatedAt: s.Updated, ExpiresAt: s.Expires,
		SendAttempts: make([]provider.SendAttempt, len(s.attempts)),
	}
	var buf [64]byte
	for i := range s.attempts {
		a := &s.attempts[i]
		id := a.sid
		if id == "" {
			id = string(s.e.appendAttemptID(buf[:0], a))
		}
		out.SendAttempts[i] = provider.SendAttempt{Time: a.at, Channel: a.channel, ID: id}
	}
	return out
}

// A record is a head, what only the engine reads (seq, the stored code),
// and a body, which layers may keep in a format of their own (selfhosted
// seals the body alone, in the format of its earlier versions):
//
//	head: seq (8) | len(stored) (uvarint) | stored
//	body: version (1) | nonce | to | channel | created | updated |
//	      expires | checks (uvarint) | sends (uvarint) |
//	      sends × (at | channel | id (16))
const recordVersion = 1

var errRecord = errors.New("engine: malformed record")

func (s *State) encode(nonceLen int) []byte {
	b := make([]byte, 0, 64+len(s.To)+len(s.code)+40*len(s.attempts))
	b = binary.BigEndian.AppendUint64(b, s.seq)
	b = appendString(b, s.code)
	b = append(b, recordVersion)
	b = append(b, s.nonce[:nonceLen]...)
	b = appendString(b, s.To)
	b = appendString(b, string(s.Channel))
	for _, t := range [...]time.Time{s.Created(), s.Updated, s.Expires} {
		b = binary.BigEndian.AppendUint64(b, uint64(t.UnixNano()))
	}
	b = binary.AppendUvarint(b, uint64(s.Checks))
	b = binary.AppendUvarint(b, uint64(len(s.attempts)))
	for _, a := range s.attempts {
		b = binary.BigEndian.AppendUint64(b, uint64(a.at.UnixNano()))
		b = appendString(b, string(a.channel))
		b = append(b, a.id[:]...)
	}
	return b
}

func (s *State) decode(b []byte, nonceLen int) error {
	d := decoder{b: b}
	s.seq = d.uint64()
	s.code = d.string()
	if d.byte() != recordVersion {
		return errRecord
	}
	copy(s.nonce[:], d.bytes(nonceLen))
	s.To = d.string()
	s.Channel = d.channel()
	created := d.time()
	s.Updated, s.Expires = d.time(), d.time()
	s.Checks = int(d.uvarint())
	n := int(d.uvarint())
	if n > len(d.rest())/25 { // an attempt takes at least 25 bytes
		d.err = errRecord
	} else {
		s.attempts = make([]attempt, n)
	}
	for i := range s.attempts {
		a := &s.attempts[i]
		a.at = d.time()
		a.channel = d.channel()
		copy(a.id[:], d.bytes(16))
	}
	if d.err != nil || len(d.rest()) != 0 || n == 0 || !created.Equal(s.attempts[0].at) {
		return errRecord // Created is the first send's time
	}
	return nil
}

// Head is what a record's head holds, and what its body says of the
// record's age, for a layer's store decorator (see Split).
type Head struct {
	Seq     uint64 // grows by one with every write of the verification
	Stored  []byte // what NewCode returned (or the custom code)
	Checks  int    // wrong codes counted; never decreases
	Expires time.Time
}

// Split returns the head of a record the engine wrote and its body, without
// allocating; nonceLen is the Config's.
func Split(record []byte, nonceLen int) (Head, []byte, error) {
	d := decoder{b: record}
	h := Head{Seq: d.uint64(), Stored: d.raw()}
	body := d.rest()
	if d.byte() != recordVersion {
		return Head{}, nil, errRecord
	}
	d.bytes(nonceLen)
	d.raw()
	d.raw()
	d.time()
	d.time()
	h.Expires = d.time()
	h.Checks = int(d.uvarint())
	if d.err != nil {
		return Head{}, nil, errRecord
	}
	return h, body, nil
}

// Join returns the record whose head holds seq and stored (the
// concatenation of its parts) and whose body is body.
func Join(seq uint64, body []byte, stored ...[]byte) []byte {
	n := 0
	for _, p := range stored {
		n += len(p)
	}
	b := make([]byte, 0, 8+binary.MaxVarintLen64+n+len(body))
	b = binary.BigEndian.AppendUint64(b, seq)
	b = binary.AppendUvarint(b, uint64(n))
	for _, p := range stored {
		b = append(b, p...)
	}
	return append(b, body...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// A decoder reads b from i on: it moves i, not b, so reading writes no
// pointer (no write barrier while the GC marks).
type decoder struct {
	b   []byte
	i   int
	err error
}

// rest returns what is left to read.
func (d *decoder) rest() []byte { return d.b[d.i:] }

func (d *decoder) bytes(n int) []byte {
	if d.err != nil || n < 0 || len(d.b)-d.i < n {
		d.err = errRecord
		return nil
	}
	d.i += n
	return d.b[d.i-n : d.i : d.i]
}

func (d *decoder) byte() byte {
	if b := d.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) uvarint() uint64 {
	n, k := binary.Uvarint(d.rest())
	if d.err != nil || k <= 0 || n > 1<<24 {
		d.err = errRecord
		return 0
	}
	d.i += k
	return n
}

func (d *decoder) uint64() uint64 {
	if b := d.bytes(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (d *decoder) raw() []byte { return d.bytes(int(d.uvarint())) }

func (d *decoder) string() string { return string(d.raw()) }

// channel decodes a channel, without allocating for the known ones.
func (d *decoder) channel() provider.Channel {
	b := d.raw()
	for _, ch := range [...]provider.Channel{provider.ChannelSMS, provider.ChannelCall, provider.ChannelEmail, provider.ChannelWhatsApp, provider.ChannelSNA} {
		if string(ch) == string(b) {
			return ch
		}
	}
	return provider.Channel(b)
}

func (d *decoder) time() time.Time {
	b := d.bytes(8)
	if b == nil {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b))).UTC()
}
