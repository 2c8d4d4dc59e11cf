package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/verifykit/verifykit/store"
)

// records is where the engine keeps its verifications, one per key (a
// recKey), each with a version that changes on every write: a store.Store
// (storeRecords, each state encoded, for replicas that share the store) or
// this process's memory (memRecords, State values under a lock, nothing
// encoded). Both give a store.Store's compare-and-swap semantics, so the
// one lifecycle in engine.go runs on either.
type records interface {
	// get returns the state at k, nil when none is stored (absent or
	// expired). The state is never changed: a step writes a copy.
	get(ctx context.Context, k recKey, now time.Time) (*State, error)
	// cached returns what this replica last read or wrote at k, without
	// I/O, when it has it: a step whose write is guarded by the version may
	// start from it instead of a get (a stale one only costs a conflict).
	cached(k recKey, now time.Time) (*State, bool)
	// put stores s at k, until s.Expires, if the version at k is old
	// (0: none stored), and sets s.version to the new version; the records
	// may keep s, which is then never changed. Otherwise it returns the
	// current state (nil when none) and an error matching
	// store.ErrConflict.
	put(ctx context.Context, k recKey, old uint64, s *State, now time.Time) (*State, error)
	// del deletes the state at k if its version is old, or returns the
	// current one and an error matching store.ErrConflict; s is the state
	// deleted, whose version is old.
	del(ctx context.Context, k recKey, old uint64, s *State, now time.Time) (*State, error)
}

// storeRecords keeps the states encoded in a store.Store, and what this
// replica last read or wrote of each in a bounded cache, so a check on the
// replica that started the verification is one round trip (a
// compare-and-swap or compare-and-delete on the cached version).
type storeRecords struct {
	e        *Verifications
	st       store.Store
	nonceLen int
	cache    *recordCache // nil: no cache
}

// key returns the store key of k, the key of s (nil or at k): the one
// Start made with its ID when s has it, or a new one.
func (r *storeRecords) key(k recKey, s *State) string {
	if s != nil && len(s.id) > r.e.idLen {
		return s.id[r.e.idLen:]
	}
	var buf [96]byte
	return string(r.e.appendKey(buf[:0], k))
}

func (r *storeRecords) decode(k recKey, rec store.Record) (*State, error) {
	if !rec.Found() {
		r.cache.remove(k)
		return nil, nil
	}
	s := &State{version: rec.Version, k: k, e: r.e}
	if err := s.decode(rec.Value, r.nonceLen); err != nil {
		r.cache.remove(k)
		return nil, err
	}
	r.cache.set(k, s)
	return s, nil
}

func (r *storeRecords) get(ctx context.Context, k recKey, _ time.Time) (*State, error) {
	rec, err := r.st.Get(ctx, r.key(k, nil))
	if err != nil {
		return nil, err
	}
	return r.decode(k, rec)
}

func (r *storeRecords) cached(k recKey, now time.Time) (*State, bool) {
	return r.cache.get(k, now)
}

func (r *storeRecords) put(ctx context.Context, k recKey, old uint64, s *State, now time.Time) (*State, error) {
	rec, err := r.st.CompareAndSwap(ctx, r.key(k, s), old, s.encode(r.nonceLen), s.Expires.Sub(now))
	if err == nil {
		s.version = rec.Version
		r.cache.set(k, s)
		return nil, nil
	}
	return r.failed(k, rec, err)
}

func (r *storeRecords) del(ctx context.Context, k recKey, old uint64, s *State, _ time.Time) (*State, error) {
	rec, err := r.st.CompareAndDelete(ctx, r.key(k, s), old)
	if err == nil {
		r.cache.remove(k)
		return nil, nil
	}
	return r.failed(k, rec, err)
}

// failed returns what a write that failed with err answered: on a
// conflict, the current state (cached), else nothing (and what was cached
// is forgotten: the write may have landed).
func (r *storeRecords) failed(k recKey, rec store.Record, err error) (*State, error) {
	if !errors.Is(err, store.ErrConflict) {
		r.cache.remove(k)
		return nil, err
	}
	cur, derr := r.decode(k, rec)
	if derr != nil {
		return nil, derr
	}
	return cur, err
}

// recordCache holds up to max states by key, evicting by the clock
// algorithm (a recently used entry gets a second chance) and on expiry.
// A nil *recordCache holds nothing.
type recordCache struct {
	mu    sync.Mutex
	max   int
	index map[recKey]int // key → slot
	slots []cacheSlot
	hand  int
}

type cacheSlot struct {
	k    recKey
	s    *State // never changed
	used bool
}

func newRecordCache(max int) *recordCache {
	if max <= 0 {
		return nil
	}
	return &recordCache{max: max, index: make(map[recKey]int)}
}

func (c *recordCache) get(k recKey, now time.Time) (*State, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.index[k]
	if !ok {
		return nil, false
	}
	if !now.Before(c.slots[i].s.Expires) {
		c.drop(i)
		return nil, false
	}
	c.slots[i].used = true
	return c.slots[i].s, true
}

func (c *recordCache) set(k recKey, s *State) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[k]; ok {
		c.slots[i].s, c.slots[i].used = s, true
		return
	}
	if len(c.slots) < c.max {
		c.index[k] = len(c.slots)
		c.slots = append(c.slots, cacheSlot{k: k, s: s})
		return
	}
	for c.slots[c.hand].used { // second chance
		c.slots[c.hand].used = false
		c.hand = (c.hand + 1) % len(c.slots)
	}
	delete(c.index, c.slots[c.hand].k)
	c.index[k] = c.hand
	c.slots[c.hand] = cacheSlot{k: k, s: s}
	c.hand = (c.hand + 1) % len(c.slots)
}

func (c *recordCache) remove(k recKey) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[k]; ok {
		c.drop(i)
	}
}

// drop removes slot i, moving the last slot into its place.
func (c *recordCache) drop(i int) {
	delete(c.index, c.slots[i].k)
	last := len(c.slots) - 1
	if i != last {
		c.slots[i] = c.slots[last]
		c.index[c.slots[i].k] = i
	}
	c.slots[last] = cacheSlot{}
	c.slots = c.slots[:last]
	if c.hand >= len(c.slots) {
		c.hand = 0
	}
}

// memRecords keeps the states in this process: *State in maps
// under 16 independently locked parts, each bounded like a store.Memory
// (store.DefaultMaxEntries in all) and swept of expired states as it
// grows. A State is never changed once stored (the engine changes copies,
// and appends to its attempts by copying), so readers share its slices.
type memRecords struct {
	now    func() time.Time
	shards [memShards]memShard
}

const (
	memShards   = 16
	memPerShard = store.DefaultMaxEntries / memShards
)

type memShard struct {
	mu        sync.Mutex
	states    map[recKey]*State
	nextSweep int
	version   uint64   // the last version written in the part
	_         [32]byte // keep shards on separate cache lines
}

var errFull = errors.New("engine: too many pending verifications")

func newMemRecords(now func() time.Time) *memRecords {
	m := &memRecords{now: now}
	for i := range m.shards {
		m.shards[i].states = make(map[recKey]*State)
		m.shards[i].nextSweep = 64
	}
	return m
}

// shard returns the part that holds k: the top 4 bits (memShards is 16)
// of a multiply of its bytes. A name is a keyed hash in every layer
// (Config.Name), so that spreads the keys; the maps hash them with their
// own seeds.
func (m *memRecords) shard(k recKey) *memShard {
	h := (binary.LittleEndian.Uint64(k[:8]) ^ binary.LittleEndian.Uint64(k[8:])) * 0x9e3779b97f4a7c15
	return &m.shards[h>>60]
}

// load returns the live state at k (version 0 when none), with sh.mu
// held.
func (sh *memShard) load(k recKey, now time.Time) *State {
	s := sh.states[k]
	if s != nil && !now.Before(s.Expires) {
		delete(sh.states, k)
		return nil
	}
	return s
}

func (m *memRecords) get(ctx context.Context, k recKey, now time.Time) (*State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sh := m.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.load(k, now), nil
}

func (m *memRecords) cached(recKey, time.Time) (*State, bool) { return nil, false }

func (m *memRecords) put(ctx context.Context, k recKey, old uint64, s *State, now time.Time) (*State, error) {
	return m.write(ctx, k, old, s, now)
}

func (m *memRecords) del(ctx context.Context, k recKey, old uint64, _ *State, now time.Time) (*State, error) {
	return m.write(ctx, k, old, nil, now)
}

// write stores s at k (deletes the state at k when s is nil) if the
// version at k is old.
func (m *memRecords) write(ctx context.Context, k recKey, old uint64, s *State, now time.Time) (*State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sh := m.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cur := sh.load(k, now)
	switch {
	case cur == nil && old != 0 || cur != nil && cur.version != old:
		return cur, store.ErrConflict
	case s == nil:
		delete(sh.states, k)
		return nil, nil
	case old == 0 && len(sh.states) >= min(sh.nextSweep, memPerShard):
		sh.sweep(now)
		sh.nextSweep = max(2*len(sh.states), 64)
		if len(sh.states) >= memPerShard {
			return nil, store.Unavailable("put", errFull)
		}
	}
	sh.version++
	s.version = sh.version
	sh.states[k] = s
	return nil, nil
}

// sweep deletes the expired states, with sh.mu held.
func (sh *memShard) sweep(now time.Time) {
	for k, s := range sh.states {
		if !now.Before(s.Expires) {
			delete(sh.states, k)
		}
	}
}

// len returns the number of live states, sweeping the expired ones.
func (m *memRecords) len() int {
	now, n := m.now(), 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		sh.sweep(now)
		n += len(sh.states)
		sh.mu.Unlock()
	}
	return n
}
