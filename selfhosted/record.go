package selfhosted

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/provider"
)

// A verification's payload, sealed in an envelope (see sealed), is the
// engine's record in the format of earlier versions:
//
//	version (1) | nonce (16) | to | channel | created | updated | expires |
//	checks (1) | sends (1) | sends × (at | channel | id (16))
//
// It holds no code: the code is derived from the nonce with the key that
// sealed the record (see Provider.reveal). The engine's Seq and Stored
// fields travel in the envelope (seq, lineage and key).
const recordVersion = 1

var errRecord = errors.New("malformed record")

func encodeVerification(buf []byte, v *engine.Fields) []byte {
	buf = append(buf, recordVersion)
	buf = append(buf, v.Nonce...)
	buf = appendString(buf, v.To)
	buf = appendString(buf, string(v.Channel))
	for _, t := range [...]time.Time{v.Created, v.Updated, v.Expires} {
		buf = binary.BigEndian.AppendUint64(buf, uint64(t.UnixNano()))
	}
	buf = append(buf, byte(v.Checks), byte(len(v.Attempts)))
	for _, a := range v.Attempts {
		buf = binary.BigEndian.AppendUint64(buf, uint64(a.At.UnixNano()))
		buf = appendString(buf, string(a.Channel))
		buf = append(buf, a.ID[:]...)
	}
	return buf
}

func decodeVerification(b []byte) (engine.Fields, error) {
	d := decoder{b: b}
	if d.byte() != recordVersion {
		return engine.Fields{}, errRecord
	}
	v := engine.Fields{Nonce: d.bytes(16), To: d.string(), Channel: d.channel(), Created: d.time(), Updated: d.time(), Expires: d.time(), Checks: int(d.byte())}
	n := int(d.byte())
	if d.err != nil {
		return engine.Fields{}, d.err
	}
	v.Attempts = make([]engine.Attempt, n)
	for i := range v.Attempts {
		a := &v.Attempts[i]
		a.At = d.time()
		a.Channel = d.channel()
		copy(a.ID[:], d.bytes(16))
	}
	if d.err != nil || len(d.b) != 0 {
		return engine.Fields{}, errRecord
	}
	return v, nil
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
