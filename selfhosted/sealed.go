package selfhosted

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/store"
)

// sealed is the store the engine keeps verifications in: a decorator of
// the application's store that seals every record's body (AES-GCM under
// the key that derives its code, the store key as additional data, padded
// to one size; see envelope), and refuses a record older than one this
// replica has seen (see recall). The body is the payload of earlier
// versions; the head travels in the envelope: the engine's stored bytes
// are the sealing key's ID (see Provider.newCode), the envelope's
// lineage is the verification's nonce, its seq is the envelope's seq, and
// its wrong-code count the envelope's spent count.
//
// Its errors for a record that does not open or was put back are *Error
// without an Op; Provider.fail names the operation.
type sealed struct {
	store.Store // the application's store
	p           *Provider
}

// Get opens the record at key.
func (s sealed) Get(ctx context.Context, key string) (store.Record, error) {
	return s.p.getOpen(ctx, s.Store, key, s.open)
}

// getOpen reads key from st and opens it with open, at the ticket of the
// replica's memory taken before the read: what a sealing decorator's Get
// does.
func (p *Provider) getOpen(ctx context.Context, st store.Store, key string, open func(string, store.Record, uint64) (store.Record, error)) (store.Record, error) {
	tk := p.recall.ticket()
	r, err := st.Get(ctx, key)
	if err != nil {
		return store.Record{}, err
	}
	return open(key, r, tk)
}

// open opens r, read at ticket tk, into the engine's record.
func (s sealed) open(key string, r store.Record, tk uint64) (store.Record, error) {
	env, err := s.p.openRecord("", key, r, kindVerification, tk)
	if err != nil || env == nil {
		return store.Record{}, err
	}
	if len(env.payload) < 17 || string(env.payload[1:17]) != string(env.lineage[:]) {
		return store.Record{}, unreadable("")
	}
	return store.Record{Value: engine.Join(env.seq, env.payload, []byte(env.key.id)), Version: r.Version}, nil
}

// CompareAndSwap seals value and swaps it in. On success the record it
// returns has the new version and no value.
func (s sealed) CompareAndSwap(ctx context.Context, key string, old uint64, value []byte, ttl time.Duration) (store.Record, error) {
	h, body, err := engine.Split(value, 16)
	if err != nil {
		return store.Record{}, errRecord
	}
	env := envelope{seq: h.Seq, spent: uint64(h.Checks), expires: h.Expires, key: s.p.keys.byID[string(h.Stored)]}
	if env.key == nil {
		return store.Record{}, unreadable("")
	}
	copy(env.lineage[:], body[1:17]) // the nonce
	tk := s.p.recall.ticket()
	cur, err := swapSealed(ctx, s.Store, key, old, env, body, s.p.padV, ttl)
	if err == nil {
		s.p.wrote(key, env, kindVerification, cur.Version)
		return store.Record{Version: cur.Version}, nil
	}
	return conflict(key, cur, tk, err, s.open)
}

// sealBufs holds buffers to seal records into: a Store keeps no slice it
// was given, so one is reused once the swap returns. Sealing is in place,
// so none holds a plaintext.
var sealBufs = sync.Pool{New: func() any { return new([]byte) }}

// swapSealed seals payload in env, under env.key, into a buffer of
// sealBufs and swaps it in at key in st. The record it returns on success
// may hold the buffer: it is for its version only.
func swapSealed(ctx context.Context, st store.Store, key string, old uint64, env envelope, payload []byte, size int, ttl time.Duration) (store.Record, error) {
	b := sealBufs.Get().(*[]byte)
	*b = sealEnvelope(*b, env.key, key, env, payload, size)
	cur, err := st.CompareAndSwap(ctx, key, old, *b, ttl)
	sealBufs.Put(b)
	return cur, err
}

// CompareAndDelete deletes the record, and remembers that this replica
// deleted its lineage.
func (s sealed) CompareAndDelete(ctx context.Context, key string, old uint64) (store.Record, error) {
	now := s.p.now()
	lineage, known := s.p.recall.lineageAt(key, old, now)
	tk := s.p.recall.ticket()
	cur, err := s.Store.CompareAndDelete(ctx, key, old)
	if err == nil {
		if known {
			s.p.recall.deleted(key, lineage, now)
		}
		return cur, nil
	}
	return conflict(key, cur, tk, err, s.open)
}

// conflict returns the current record opened (with open) with err, after
// a compare-and-swap or -delete that did not match.
func conflict(key string, cur store.Record, tk uint64, err error, open func(string, store.Record, uint64) (store.Record, error)) (store.Record, error) {
	if !errors.Is(err, store.ErrConflict) {
		return store.Record{}, err
	}
	r, oerr := open(key, cur, tk)
	if oerr != nil {
		return store.Record{}, oerr
	}
	return r, err
}
