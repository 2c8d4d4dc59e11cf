package selfhosted

import (
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// verification is the stored state of one pending verification. It is
// sealed (AES-GCM) before it reaches the store, with the store key as
// additional data. It holds no code: the code is derived from the nonce
// with the application key whenever it is needed.
type verification struct {
	nonce    [16]byte // random; the second half of the ID
	to       string
	channel  provider.Channel
	created  time.Time
	updated  time.Time
	expires  time.Time
	checks   int // wrong codes checked
	attempts []attempt
}

type attempt struct {
	at      time.Time
	channel provider.Channel
	id      [16]byte
}

const recordVersion = 1

var errRecord = errors.New("malformed record")

// clone returns a copy of v that shares nothing it can change.
func (v *verification) clone() *verification {
	c := *v
	c.attempts = slices.Clone(v.attempts)
	return &c
}

func (v *verification) encode(buf []byte) []byte {
	buf = append(buf, recordVersion)
	buf = append(buf, v.nonce[:]...)
	buf = appendString(buf, v.to)
	buf = appendString(buf, string(v.channel))
	buf = binary.BigEndian.AppendUint64(buf, uint64(v.created.UnixNano()))
	buf = binary.BigEndian.AppendUint64(buf, uint64(v.updated.UnixNano()))
	buf = binary.BigEndian.AppendUint64(buf, uint64(v.expires.UnixNano()))
	buf = append(buf, byte(v.checks), byte(len(v.attempts)))
	for _, a := range v.attempts {
		buf = binary.BigEndian.AppendUint64(buf, uint64(a.at.UnixNano()))
		buf = appendString(buf, string(a.channel))
		buf = append(buf, a.id[:]...)
	}
	return buf
}

func (v *verification) decode(b []byte) error {
	d := decoder{b: b}
	if d.byte() != recordVersion {
		return errRecord
	}
	copy(v.nonce[:], d.bytes(16))
	v.to = d.string()
	v.channel = d.channel()
	v.created = d.time()
	v.updated = d.time()
	v.expires = d.time()
	v.checks = int(d.byte())
	n := int(d.byte())
	if d.err != nil {
		return d.err
	}
	v.attempts = make([]attempt, n)
	for i := range v.attempts {
		a := &v.attempts[i]
		a.at = d.time()
		a.channel = d.channel()
		copy(a.id[:], d.bytes(16))
	}
	if d.err != nil || len(d.b) != 0 {
		return errRecord
	}
	return nil
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
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
	b := d.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.err = errRecord
		return 0
	}
	d.b = d.b[k:]
	return n
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > 1<<16 {
		d.err = errRecord
		return ""
	}
	return string(d.bytes(int(n)))
}

// channel decodes a channel, without allocating for the known ones.
func (d *decoder) channel() provider.Channel {
	n := d.uvarint()
	if n > 64 {
		d.err = errRecord
		return ""
	}
	b := d.bytes(int(n))
	for _, ch := range []provider.Channel{provider.ChannelSMS, provider.ChannelCall, provider.ChannelEmail, provider.ChannelWhatsApp, provider.ChannelSNA} {
		if string(ch) == string(b) {
			return ch
		}
	}
	return provider.Channel(b)
}

func (d *decoder) int64() int64 {
	b := d.bytes(8)
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

func (d *decoder) time() time.Time {
	b := d.bytes(8)
	if b == nil {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b))).UTC()
}
