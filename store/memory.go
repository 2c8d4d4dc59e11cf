package store

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// Memory is a Store that keeps its state in this process: for a single
// replica, and for tests. Its zero value is not usable; create one with
// NewMemory. A Memory is safe for concurrent use.
//
// Expired entries are removed as they are met and by an amortised sweep
// whenever a part of the store has doubled since its last sweep, so memory
// stays proportional to the live entries. The number of live entries is
// bounded (WithMaxEntries): when the store is full, an operation that would
// add an entry fails with an error matching provider.ErrUnavailable rather
// than evicting live state, since evicting a counter would reset a limit.
type Memory struct {
	now      func() time.Time
	perShard int
	seed     maphash.Seed // of shardIndex, and the first half of a counter's ckey
	seed2    maphash.Seed // the second half of a counter's ckey
	versions atomic.Uint64
	hits     atomic.Uint64 // Taken.Hit
	shards   [memShards]memShard
}

const memShards = 16

type memShard struct {
	mu        sync.Mutex
	records   map[string]memRecord
	counters  counterTable
	nextSweep int
	_         [40]byte // keep shards on separate cache lines
}

type memRecord struct {
	value   []byte
	version uint64
	expires time.Time
}

// ckey stands for a counter's key in the counters' tables: 128 bits of
// two independently seeded string hashes of the key. Hashing the key
// once, into a fixed-size key without pointers, spares the tables a hash
// of the whole string on every lookup, insert and delete (the second half
// picks the slot: see counterTable), their comparisons of long strings,
// and the garbage collector the scan of the tables (which hold no
// pointers at all); and the store keeps no key, personal or not, in
// clear. Two keys share a counter only if both 64-bit hashes of them
// collide: with seeds chosen at random per store, whoever picks the keys
// cannot aim at a collision, and by chance it happens to a pair of keys
// with a probability of about 2^-128.
type ckey [2]uint64

// ckey returns the ckey of key; its first half also picks key's shard
// (shardIndex).
func (m *Memory) ckey(key string) ckey {
	k := ckey{maphash.String(m.seed, key), maphash.String(m.seed2, key)}
	if k == (ckey{}) {
		k[1] = 1 // the zero ckey marks an empty slot of a counterTable
	}
	return k
}

type memCounter struct {
	n     int64
	reset int64  // when it expires, Unix nanoseconds: no pointer, so the maps hold no pointers in their values and compare as integers
	hit   uint64 // a limit's Taken.Hit: a budget's first in its window, a cooldown's last
}

// MemoryOption configures a Memory store.
type MemoryOption func(*Memory) error

// WithClock makes the store read the time from now instead of time.Now, so
// tests can move time. now must not be nil.
func WithClock(now func() time.Time) MemoryOption {
	return func(m *Memory) error {
		if now == nil {
			return errors.New("store: WithClock: nil clock")
		}
		m.now = now
		return nil
	}
}

// DefaultMaxEntries is the default bound on a Memory store's live records
// and counters together.
const DefaultMaxEntries = 1 << 20

// WithMaxEntries bounds the number of live records and counters the store
// holds (approximately: the bound is spread evenly over 16 independently
// locked parts). The default is DefaultMaxEntries. n must be at least 16.
func WithMaxEntries(n int) MemoryOption {
	return func(m *Memory) error {
		if n < memShards {
			return fmt.Errorf("store: WithMaxEntries(%d): want at least %d", n, memShards)
		}
		m.perShard = n / memShards
		return nil
	}
}

// NewMemory returns an empty Memory store configured by opts.
func NewMemory(opts ...MemoryOption) (*Memory, error) {
	m := &Memory{now: time.Now, perShard: DefaultMaxEntries / memShards, seed: maphash.MakeSeed(), seed2: maphash.MakeSeed()}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("store: nil option")
		}
		if err := opt(m); err != nil {
			return nil, err
		}
	}
	for i := range m.shards {
		m.shards[i].records = make(map[string]memRecord)
		m.shards[i].nextSweep = 64
	}
	return m, nil
}

// shard returns the part of the store that holds key.
func (m *Memory) shard(key string) *memShard { return &m.shards[m.shardIndex(key)] }

// shardIndex returns the index of the part of the store that holds key:
// the runtime's string hash (hardware-assisted where it can be), seeded
// per store, which is several times faster than a byte loop on the long
// keys of the policies.
func (m *Memory) shardIndex(key string) int {
	return int(maphash.String(m.seed, key) % memShards)
}

var errFull = errors.New("memory store is full")

// makeRoom is called, with sh.mu held, before an entry is added. It sweeps
// expired entries when the shard has grown enough since the last sweep, and
// reports an error when the shard is still full.
func (m *Memory) makeRoom(sh *memShard, now time.Time) error {
	n := len(sh.records) + sh.counters.len()
	if n < sh.nextSweep && n < m.perShard {
		return nil
	}
	for k, r := range sh.records {
		if !now.Before(r.expires) {
			delete(sh.records, k)
		}
	}
	sh.counters.sweep(now.UnixNano())
	n = len(sh.records) + sh.counters.len()
	sh.nextSweep = max(2*n, 64)
	if n >= m.perShard {
		return errFull
	}
	return nil
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, key string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if key == "" {
		return Record{}, fmt.Errorf("%w: empty key", ErrInvalid)
	}
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock() // the value is copied under the lock: its array is reused (CompareAndSwap)
	r, ok := sh.records[key]
	if ok && !m.now().Before(r.expires) {
		delete(sh.records, key)
		ok = false
	}
	if !ok {
		return Record{}, nil
	}
	return Record{Value: clone(r.value), Version: r.version}, nil
}

// CompareAndSwap implements Store.
func (m *Memory) CompareAndSwap(ctx context.Context, key string, old uint64, value []byte, ttl time.Duration) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if err := CheckArgs(key, ttl); err != nil {
		return Record{}, err
	}
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := m.now()
	cur, ok := sh.records[key]
	if ok && !now.Before(cur.expires) {
		delete(sh.records, key)
		ok = false
	}
	if !ok {
		cur = memRecord{}
	}
	if cur.version != old {
		return Record{Value: clone(cur.value), Version: cur.version}, ErrConflict
	}
	if !ok {
		if err := m.makeRoom(sh, now); err != nil {
			return Record{}, Unavailable("cas", err)
		}
	}
	// Into the array of the value replaced when it fits: the store never
	// handed it out.
	stored := cur.value[:0]
	if c := cap(stored); c == 0 || c < len(value) || c > 2*len(value) {
		stored = clone(value)
	} else {
		stored = append(stored, value...)
	}
	v := m.versions.Add(1)
	sh.records[key] = memRecord{value: stored, version: v, expires: now.Add(ttl)}
	return Record{Value: value, Version: v}, nil
}

// CompareAndDelete implements Store.
func (m *Memory) CompareAndDelete(ctx context.Context, key string, old uint64) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if key == "" {
		return Record{}, fmt.Errorf("%w: empty key", ErrInvalid)
	}
	if old == 0 {
		return Record{}, fmt.Errorf("%w: version 0", ErrInvalid)
	}
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cur, ok := sh.records[key]
	if ok && !m.now().Before(cur.expires) {
		delete(sh.records, key)
		ok = false
	}
	if !ok {
		return Record{}, ErrConflict
	}
	if cur.version != old {
		return Record{Value: clone(cur.value), Version: cur.version}, ErrConflict
	}
	delete(sh.records, key)
	return Record{}, nil
}

// Incr implements Store.
func (m *Memory) Incr(ctx context.Context, key string, window time.Duration) (int64, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return 0, time.Time{}, err
	}
	if err := CheckArgs(key, window); err != nil {
		return 0, time.Time{}, err
	}
	ck := m.ckey(key)
	sh := &m.shards[ck[0]%memShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := m.now()
	nowN := now.UnixNano()
	c, present := sh.counters.get(ck)
	if ok := present && c.reset > nowN; !ok {
		if !present {
			if err := m.makeRoom(sh, now); err != nil {
				return 0, time.Time{}, Unavailable("incr", err)
			}
		}
		c = memCounter{reset: nowN + int64(window)}
	}
	c.n++
	sh.counters.put(ck, c, nowN)
	return c.n, now.Add(time.Duration(c.reset - nowN)), nil
}

// Len returns the number of live records and counters, for tests and
// monitoring. It sweeps expired entries first.
func (m *Memory) Len() int {
	now := m.now()
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for k, r := range sh.records {
			if !now.Before(r.expires) {
				delete(sh.records, k)
			}
		}
		sh.counters.sweep(now.UnixNano())
		n += len(sh.records) + sh.counters.len()
		sh.mu.Unlock()
	}
	return n
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}
