package selfhosted

import (
	"context"
	"errors"
	"time"

	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/store"
)

// sealed is the store the engine keeps verifications in: a decorator of
// the application's store that seals every record (AES-GCM under the key
// that derives its code, the store key as additional data, padded to one
// size; see envelope) in the format of earlier versions, and refuses a
// record older than one this replica has seen (see recall). The engine's
// Stored field is the envelope's lineage and the sealing key's ID (see
// Provider.newCode); its Seq is the envelope's seq and its Checks the
// envelope's spent count.
//
// Its errors for a record that does not open or was put back are *Error
// without an Op; Provider.fail names the operation.
type sealed struct {
	store.Store // the application's store
	p           *Provider
}

// Get opens the record at key.
func (s sealed) Get(ctx context.Context, key string) (store.Record, error) {
	tk := s.p.recall.ticket()
	r, err := s.Store.Get(ctx, key)
	if err != nil {
		return store.Record{}, err
	}
	return s.open(key, r, tk)
}

// open opens r, read at ticket tk, into the engine's record.
func (s sealed) open(key string, r store.Record, tk uint64) (store.Record, error) {
	env, err := s.p.openRecord("", key, r, kindVerification, tk)
	if err != nil || env == nil {
		return store.Record{}, err
	}
	v, err := decodeVerification(env.payload)
	if err != nil {
		return store.Record{}, unreadable("")
	}
	v.Seq = env.seq
	v.Stored = append(env.lineage[:], env.key.id...)
	return store.Record{Value: v.Encode(), Version: r.Version}, nil
}

// CompareAndSwap seals value and swaps it in. On success the record it
// returns has the new version and no value.
func (s sealed) CompareAndSwap(ctx context.Context, key string, old uint64, value []byte, ttl time.Duration) (store.Record, error) {
	v, err := engine.Decode(value)
	if err != nil || len(v.Stored) < 16 {
		return store.Record{}, errRecord
	}
	env := envelope{seq: v.Seq, spent: uint64(v.Checks), expires: v.Expires, key: s.p.keys.byID[string(v.Stored[16:])]}
	if env.key == nil {
		return store.Record{}, unreadable("")
	}
	copy(env.lineage[:], v.Stored)
	tk := s.p.recall.ticket()
	cur, err := s.Store.CompareAndSwap(ctx, key, old, sealEnvelope(env.key, key, env, encodeVerification(make([]byte, 0, 128), &v), s.p.padV), ttl)
	if err == nil {
		s.p.wrote(key, env, kindVerification, cur.Version)
		return store.Record{Version: cur.Version}, nil
	}
	return s.conflict(key, cur, tk, err)
}

// CompareAndDelete deletes the record, and remembers that this replica
// deleted its lineage.
func (s sealed) CompareAndDelete(ctx context.Context, key string, old uint64) (store.Record, error) {
	lineage, known := s.p.recall.lineageAt(key, old, s.p.now())
	tk := s.p.recall.ticket()
	cur, err := s.Store.CompareAndDelete(ctx, key, old)
	if err == nil {
		if known {
			s.p.recall.deleted(key, lineage, s.p.now())
		}
		return cur, nil
	}
	return s.conflict(key, cur, tk, err)
}

// conflict returns the current record opened with err, after a
// compare-and-swap or -delete that did not match.
func (s sealed) conflict(key string, cur store.Record, tk uint64, err error) (store.Record, error) {
	if !errors.Is(err, store.ErrConflict) {
		return store.Record{}, err
	}
	r, oerr := s.open(key, cur, tk)
	if oerr != nil {
		return store.Record{}, oerr
	}
	return r, err
}
