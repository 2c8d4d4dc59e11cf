package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/verifykit/verifykit/store"
)

// The engine keeps its verifications, one per key (a recKey), each with
// a version that changes on every write, in a store.Store (storeRecords,
// each state encoded, for replicas that share the store) or in this
// process's memory (memRecords, State values under a lock, nothing
// encoded). The one lifecycle in engine.go runs on either as steps.
//
// step runs decide on the state at k (nil when none) and writes what it
// returns: a new state, stored until its Expires, or nil to delete the
// state decided on; the state itself (or an error) writes nothing. The
// write is guarded by the version of the state decided on: when another
// write came first, decide runs again on the current state. The records
// keep a state written, which is then never changed, and set its version.
// With from, a step over a store may decide first on what this replica
// last read or wrote at k (guessed is then true), and decide's errStale
// makes it read k and decide again.
func (e *Verifications) step(ctx context.Context, k recKey, from source, decide decider) error {
	if e.mem != nil {
		return e.mem.step(ctx, k, decide)
	}
	return e.store.step(ctx, k, from, decide)
}

// decider decides a step (see step) on cur at now.
type decider func(cur *State, now time.Time, guessed bool) (*State, error)

// source is where a step over a store takes the state it decides on
// first: read, cached (what this replica last read or wrote, or read), or
// cachedOrNone (the cache, or none: a step that creates first).
type source int

const (
	read source = iota
	cached
	cachedOrNone
)

// errStale is what a decider returns when it would refuse on a guessed
// state: it must refuse on the store's state only.
var errStale = errors.New("engine: stale state")

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

func (r *storeRecords) get(ctx context.Context, k recKey) (*State, error) {
	rec, err := r.st.Get(ctx, r.key(k, nil))
	if err != nil {
		return nil, err
	}
	return r.decode(k, rec)
}

func (r *storeRecords) step(ctx context.Context, k recKey, from source, decide decider) error {
	now := r.e.c.Now()
	var cur *State
	guessed := false
	if from != read {
		cur, guessed = r.cache.get(k, now)
		guessed = guessed || from == cachedOrNone
	}
	var err error
	if !guessed {
		cur, err = r.get(ctx, k)
	}
	for ; err == nil; now = r.e.c.Now() {
		var next *State
		next, err = decide(cur, now, guessed)
		if err == errStale { // refuse on the store's state only
			cur, err = r.get(ctx, k)
			guessed = false
			continue
		}
		if err != nil || next == cur {
			return err
		}
		var rec store.Record
		if next == nil {
			rec, err = r.st.CompareAndDelete(ctx, r.key(k, cur), cur.version)
		} else {
			old := uint64(0)
			if cur != nil {
				old = cur.version
			}
			rec, err = r.st.CompareAndSwap(ctx, r.key(k, next), old, next.encode(r.nonceLen), next.Expires.Sub(now))
		}
		switch {
		case err == nil && next == nil:
			r.cache.remove(k)
			return nil
		case err == nil:
			next.version = rec.Version
			r.cache.set(k, next)
			return nil
		case !errors.Is(err, store.ErrConflict):
			r.cache.remove(k) // the write may have landed
			return err
		}
		cur, err = r.decode(k, rec) // decide again on the current state
		guessed = false
	}
	return err
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

// memRecords keeps the states in this process: *State in one map under
// one lock, bounded like a store.Memory (store.DefaultMaxEntries) and
// swept of expired states as it grows. A State is never changed once
// stored (the engine changes copies, and appends to its attempts by
// copying), so readers share its slices.
type memRecords struct {
	now       func() time.Time
	mu        sync.Mutex
	states    map[recKey]*State
	nextSweep int
	version   uint64 // the last version written
}

var errFull = errors.New("engine: too many pending verifications")

func newMemRecords(now func() time.Time) *memRecords {
	return &memRecords{now: now, states: make(map[recKey]*State), nextSweep: 64}
}

// step runs the whole step under the lock: no other write comes first.
func (m *memRecords) step(ctx context.Context, k recKey, decide decider) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.states[k]
	if cur != nil && !now.Before(cur.Expires) {
		delete(m.states, k)
		cur = nil
	}
	next, err := decide(cur, now, false)
	switch {
	case err != nil || next == cur:
		return err
	case next == nil:
		delete(m.states, k)
		return nil
	case cur == nil && len(m.states) >= min(m.nextSweep, store.DefaultMaxEntries):
		m.sweep(now)
		m.nextSweep = max(2*len(m.states), 64)
		if len(m.states) >= store.DefaultMaxEntries {
			return store.Unavailable("put", errFull)
		}
	}
	m.version++
	next.version = m.version
	m.states[k] = next
	return nil
}

// sweep deletes the expired states, with m.mu held.
func (m *memRecords) sweep(now time.Time) {
	for k, s := range m.states {
		if !now.Before(s.Expires) {
			delete(m.states, k)
		}
	}
}

// len returns the number of live states, sweeping the expired ones.
func (m *memRecords) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(m.now())
	return len(m.states)
}
