package engine

import (
	"encoding/binary"
	"encoding/hex"
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
	Created  time.Time
	Updated  time.Time
	Expires  time.Time
	Checks   int // wrong codes checked
	nonce    []byte
	code     []byte // the stored code, or what Config.Reveal derives it from
	attempts []attempt
	seq      uint64 // grows by one with every write

	version     uint64    // the store version Start wrote
	prevUpdated time.Time // Updated before Start's send, for TakeBack
	e           *Verifications
}

type attempt struct {
	at      time.Time
	channel provider.Channel
	id      [16]byte
}

// ID returns the verification's ID: the prefix, the target's name and the
// nonce, in hex.
func (s *State) ID() string {
	var buf [96]byte
	name := s.e.c.Name(s.To)
	b := append(buf[:0], s.e.c.IDPrefix...)
	b = hex.AppendEncode(b, name[:s.e.c.NameLen])
	return string(hex.AppendEncode(b, s.nonce))
}

// View returns the verification as the provider contract reports it, with
// status.
func (s *State) View(status provider.Status) provider.Verification {
	out := provider.Verification{
		ID: s.ID(), To: s.To, Channel: s.Channel, Status: status, RawStatus: string(status),
		CreatedAt: s.Created, UpdatedAt: s.Updated, ExpiresAt: s.Expires,
		SendAttempts: make([]provider.SendAttempt, len(s.attempts)),
	}
	var buf [64]byte
	for i, a := range s.attempts {
		id := hex.AppendEncode(append(buf[:0], s.e.c.AttemptPrefix...), a.id[:])
		out.SendAttempts[i] = provider.SendAttempt{Time: a.at, Channel: a.channel, ID: string(id)}
	}
	return out
}

const recordVersion = 1

// Fields is what a verification's record holds, for a layer that keeps
// records in a format of its own (selfhosted keeps the one of its earlier
// versions): its store decorator turns a record into Fields with Decode
// and back with Encode.
type Fields struct {
	Nonce                     []byte
	To                        string
	Channel                   provider.Channel
	Created, Updated, Expires time.Time
	Checks                    int
	Seq                       uint64 // grows by one with every write
	Stored                    []byte // the stored code, or what Config.Reveal reads
	Attempts                  []Attempt
}

// Attempt is one send of a verification's code.
type Attempt struct {
	At      time.Time
	Channel provider.Channel
	ID      [16]byte
}

// Decode returns the fields of a record the engine wrote.
func Decode(record []byte) (Fields, error) {
	var s State
	if err := s.decode(record); err != nil {
		return Fields{}, err
	}
	f := Fields{Nonce: s.nonce, To: s.To, Channel: s.Channel, Created: s.Created, Updated: s.Updated, Expires: s.Expires,
		Checks: s.Checks, Seq: s.seq, Stored: s.code, Attempts: make([]Attempt, len(s.attempts))}
	for i, a := range s.attempts {
		f.Attempts[i] = Attempt{At: a.at, Channel: a.channel, ID: a.id}
	}
	return f, nil
}

// Encode returns the record that Decode turns into f.
func (f *Fields) Encode() []byte {
	s := State{To: f.To, Channel: f.Channel, Created: f.Created, Updated: f.Updated, Expires: f.Expires, Checks: f.Checks,
		nonce: f.Nonce, code: f.Stored, seq: f.Seq, attempts: make([]attempt, len(f.Attempts))}
	for i, a := range f.Attempts {
		s.attempts[i] = attempt{at: a.At, channel: a.Channel, id: a.ID}
	}
	return s.encode()
}

var errRecord = errors.New("engine: malformed record")

func (s *State) encode() []byte {
	b := make([]byte, 0, 64+len(s.To)+len(s.code)+40*len(s.attempts))
	b = append(b, recordVersion, byte(len(s.nonce)))
	b = append(b, s.nonce...)
	b = appendString(b, s.To)
	b = appendString(b, string(s.Channel))
	for _, t := range [...]time.Time{s.Created, s.Updated, s.Expires} {
		b = binary.BigEndian.AppendUint64(b, uint64(t.UnixNano()))
	}
	b = binary.AppendUvarint(b, uint64(s.Checks))
	b = binary.AppendUvarint(b, s.seq)
	b = binary.AppendUvarint(b, uint64(len(s.code)))
	b = append(b, s.code...)
	b = binary.AppendUvarint(b, uint64(len(s.attempts)))
	for _, a := range s.attempts {
		b = binary.BigEndian.AppendUint64(b, uint64(a.at.UnixNano()))
		b = appendString(b, string(a.channel))
		b = append(b, a.id[:]...)
	}
	return b
}

func (s *State) decode(b []byte) error {
	d := decoder{b: b}
	if d.byte() != recordVersion {
		return errRecord
	}
	s.nonce = d.bytes(int(d.byte()))
	s.To = d.string()
	s.Channel = d.channel()
	s.Created, s.Updated, s.Expires = d.time(), d.time(), d.time()
	s.Checks = int(d.uvarint())
	s.seq = d.uvarint()
	s.code = d.raw()
	n := int(d.uvarint())
	if n > len(d.b)/25 { // an attempt takes at least 25 bytes
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
	if d.err != nil || len(d.b) != 0 {
		return errRecord
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil || n < 0 || len(d.b) < n {
		d.err = errRecord
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) byte() byte {
	if b := d.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) uvarint() uint64 {
	n, k := binary.Uvarint(d.b)
	if d.err != nil || k <= 0 || n > 1<<24 {
		d.err = errRecord
		return 0
	}
	d.b = d.b[k:]
	return n
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
