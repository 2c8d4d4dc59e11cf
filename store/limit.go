package store

import (
	"context"
	"fmt"
	"time"
)

// Limit is one rule of a [Limiter.Take]: a budget or a cooldown on one
// counter. Limits live in the store's counter key space, beside the
// counters of [Store.Incr].
type Limit struct {
	// Key names the counter. It must be non-empty.
	Key string
	// Max, for a budget, is how many hits the counter may take in one
	// window; the next is refused until the window ends. Ignored for a
	// cooldown.
	Max int64
	// Window, for a budget, is the window's length; the window starts at
	// its first hit, as with Incr. For a cooldown it is how long the
	// counter keeps its count once the wait after the last hit has passed.
	// It must be positive.
	Window time.Duration
	// Waits, when not empty, makes the limit a cooldown: after the nth hit
	// in a row, the next hit is refused until Waits[min(n, len(Waits))-1]
	// has passed since it. The waits must be positive. A counter that stays
	// quiet for Window after its wait has passed starts again at 0.
	Waits []time.Duration
	// Hit, in a Release, names the hit to give back: the Hit of the Taken
	// that counted it. Take ignores it.
	Hit uint64
	// Cost, for a budget, is how much this hit counts against Max: a
	// weighted counter, such as money in integer micro-units. 0 means 1.
	// A hit that costs more than Max is always refused. Release gives the
	// same Cost back. It must not be negative, and must be 0 for a
	// cooldown.
	Cost int64
	// Count is set by a Take that counts the hit: the counter's value
	// after it (for a budget, the total Cost of its window so far). Take
	// ignores its value on input, and Release ignores it.
	Count int64
}

// Weight returns how much a hit of the budget l counts against l.Max:
// l.Cost, or 1 when it is 0.
func (l *Limit) Weight() int64 {
	if l.Cost > 0 {
		return l.Cost
	}
	return 1
}

// Taken is the answer of a [Limiter.Take].
type Taken struct {
	// OK reports whether every limit allowed the hit, which was therefore
	// counted on every one of them.
	OK bool
	// Refused is, when OK is false, the index of the refusing limit that
	// asks for the longest wait; -1 when OK.
	Refused int
	// RetryAfter is, when OK is false, how long until that limit would
	// allow the hit.
	RetryAfter time.Duration
	// Hit, when OK, identifies the hits this Take counted, for Release
	// (Limit.Hit). It is never 0 on a store that can give hits back, and
	// grows from Take to Take. A store that leaves it 0 cannot tell hits
	// apart, and callers must not give its hits back.
	Hit uint64
}

// MaxLimits bounds the limits of one Take or Release.
const MaxLimits = 64

// Limiter is the optional capability of a Store to apply rate limits in
// one atomic step: package verify's policies (cooldowns and budgets) keep
// their counters through it. [Memory] implements it, and so does the Redis
// store, in one round trip per call.
type Limiter interface {
	// Take counts one hit on every limit if none of them refuses it, as
	// one atomic step, so that replicas sharing the store together never
	// exceed a limit; otherwise it counts nothing and says which limit
	// refused and for how long. The keys must be distinct. Failures are
	// typed as for Store; a store that is full fails with
	// provider.ErrUnavailable.
	Take(ctx context.Context, limits []Limit) (Taken, error)

	// Release gives back, on every limit, the hit that each Limit.Hit
	// names (Taken.Hit), for a request that turned out to cost nothing:
	//   - a budget's counter goes down by the hit's Cost, but only while the window
	//     the hit was taken in lasts: budget is never returned to a later
	//     window;
	//   - a cooldown goes back one step with its wait lifted, but only if
	//     the hit is still the counter's last: a wait that a later hit left
	//     (a real send, say) is never shortened, and the hit stays counted.
	// A limit whose Hit is 0, and a counter that has since expired, are
	// left alone.
	Release(ctx context.Context, limits []Limit) error
}

// CountReader is the optional capability of a Limiter to read counters
// without counting: package verify's fraud guard reads the approvals that
// other replicas counted. [Memory] implements it, and so do the Redis and
// PostgreSQL stores, in one round trip.
type CountReader interface {
	// Counts sets each limit's Count to its counter's value (the total
	// Cost of a budget's window so far), or 0 when the counter is absent
	// or expired. Only the limits' keys are read; they must be 1 to
	// MaxLimits, non-empty and distinct. Failures are typed as for Store.
	Counts(ctx context.Context, limits []Limit) error
}

// CheckKeys returns ctx's error when it is done, and ErrInvalid when the
// limits' keys cannot be read by Counts: none or more than MaxLimits, an
// empty or repeated key. An implementation calls it first, before any I/O.
func CheckKeys(ctx context.Context, limits []Limit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(limits) == 0 || len(limits) > MaxLimits {
		return fmt.Errorf("%w: %d limits, want 1 to %d", ErrInvalid, len(limits), MaxLimits)
	}
	for i := range limits {
		if limits[i].Key == "" {
			return fmt.Errorf("%w: empty key", ErrInvalid)
		}
		for j := range i {
			if limits[j].Key == limits[i].Key {
				return fmt.Errorf("%w: repeated key", ErrInvalid)
			}
		}
	}
	return nil
}

// Counts implements CountReader.
func (m *Memory) Counts(ctx context.Context, limits []Limit) error {
	if err := CheckKeys(ctx, limits); err != nil {
		return err
	}
	var idx [MaxLimits]uint8
	var ks [MaxLimits]ckey
	defer m.unlockShards(m.lockShards(limits, &idx, &ks))
	now := m.now().UnixNano()
	for i := range limits {
		c, ok := m.shards[idx[i]].counters.get(ks[i])
		if !ok || c.reset <= now {
			c.n = 0
		}
		limits[i].Count = c.n
	}
	return nil
}

// CheckLimits returns ErrInvalid when limits cannot be taken: none or more
// than MaxLimits, an empty or repeated key, a budget whose Max is not
// positive, a non-positive window or wait, a negative Cost or a cooldown
// with a Cost. An implementation calls it
// first, before any I/O.
func CheckLimits(limits []Limit) error {
	if len(limits) == 0 || len(limits) > MaxLimits {
		return fmt.Errorf("%w: %d limits, want 1 to %d", ErrInvalid, len(limits), MaxLimits)
	}
	var seen uint64 // a bit per length and last byte of the keys so far
	for i := range limits {
		l := &limits[i]
		if err := CheckArgs(l.Key, l.Window); err != nil {
			return err
		}
		if len(l.Waits) == 0 && l.Max <= 0 {
			return fmt.Errorf("%w: budget with Max %d", ErrInvalid, l.Max)
		}
		if l.Cost < 0 || l.Cost > 0 && len(l.Waits) > 0 {
			return fmt.Errorf("%w: Cost %d (a budget's is 0 or more, a cooldown's 0)", ErrInvalid, l.Cost)
		}
		for _, w := range l.Waits {
			if w <= 0 {
				return fmt.Errorf("%w: wait %v is not positive", ErrInvalid, w)
			}
		}
		// Keys of one request mostly share their beginning, and differ
		// in length or last byte: only a key whose bit is already set
		// can repeat an earlier one.
		bit := uint64(1) << ((uint(len(l.Key)) + 7*uint(l.Key[len(l.Key)-1])) % 64)
		if seen&bit != 0 {
			for j := range i {
				if limits[j].Key == l.Key {
					return fmt.Errorf("%w: repeated key", ErrInvalid)
				}
			}
		}
		seen |= bit
	}
	return nil
}

// Wait returns the cooldown's wait after its nth hit (n >= 1).
func (l *Limit) Wait(n int64) time.Duration {
	return l.Waits[min(n, int64(len(l.Waits)))-1]
}

// Take implements Limiter.
func (m *Memory) Take(ctx context.Context, limits []Limit) (Taken, error) {
	if err := ctx.Err(); err != nil {
		return Taken{}, err
	}
	if err := CheckLimits(limits); err != nil {
		return Taken{}, err
	}
	var idx [MaxLimits]uint8
	var ks [MaxLimits]ckey
	defer m.unlockShards(m.lockShards(limits, &idx, &ks))
	return m.take(limits, &idx, &ks)
}

// take is Take with the shards of the limits locked.
func (m *Memory) take(limits []Limit, idx *[MaxLimits]uint8, ks *[MaxLimits]ckey) (Taken, error) {
	nowT := m.now()
	now := nowT.UnixNano()
	res := Taken{OK: true, Refused: -1}
	var need [memShards]int
	// Where each counter is (present: its slot; absent: the empty slot
	// that ends its probe), while its table's moves is still mv[its
	// shard]: the second pass reads and writes it in place, or inserts it
	// there while the slot is still empty, without a second lookup. A
	// bit of present and of live per limit.
	var at [MaxLimits]int32
	var mv [memShards]uint64
	var present, live uint64
	for i := range limits {
		l := &limits[i]
		si := idx[i]
		tab := &m.shards[si].counters
		j, ok := tab.find(ks[i])
		at[i], mv[si] = int32(j), tab.moves
		if !ok {
			need[si]++
		}
		var c memCounter
		if ok {
			present |= 1 << i
			c = *tab.at(j)
		}
		if !ok || c.reset <= now {
			if len(l.Waits) == 0 && l.Weight() > l.Max && l.Window > res.RetryAfter {
				res = Taken{Refused: i, RetryAfter: l.Window} // never fits
			}
			continue
		}
		live |= 1 << i
		var wait time.Duration
		if len(l.Waits) > 0 {
			wait = time.Duration(c.reset-now) - l.Window
		} else if c.n+l.Weight() > l.Max {
			wait = time.Duration(c.reset - now)
		}
		if wait > 0 && wait > res.RetryAfter {
			res = Taken{Refused: i, RetryAfter: wait}
		}
	}
	if !res.OK {
		return res, nil
	}
	for i, n := range need {
		if n > 0 {
			if err := m.roomFor(&m.shards[i], nowT, n); err != nil {
				return Taken{}, Unavailable("take", err)
			}
		}
	}
	res.Hit = m.hits.Add(1)
	for i := range limits {
		l := &limits[i]
		tab := &m.shards[idx[i]].counters
		still := tab.moves == mv[idx[i]]
		var c memCounter // zero when absent or expired
		if live&(1<<i) != 0 {
			if still {
				c = *tab.at(int(at[i]))
			} else if c, _ = tab.get(ks[i]); c.reset <= now { // moved
				c = memCounter{} // cannot happen: a live counter stays
			}
		}
		first := c.n == 0
		if len(l.Waits) > 0 {
			c.n++
		} else {
			c.n += l.Weight()
		}
		l.Count = c.n
		switch {
		case len(l.Waits) > 0:
			c.reset = now + int64(l.Wait(c.n)+l.Window)
			c.hit = res.Hit // the last hit
		case first:
			c.reset = now + int64(l.Window)
			c.hit = res.Hit // the window's first hit
		}
		switch {
		case still && present&(1<<i) != 0:
			*tab.at(int(at[i])) = c
		case still && (at[i] < 0 || tab.slots[at[i]].k == ckey{}):
			tab.insert(int(at[i]), ks[i], c, now)
		default: // moved, or another new counter took the slot
			tab.put(ks[i], c, now)
		}
	}
	return res, nil
}

// Release implements Limiter.
func (m *Memory) Release(ctx context.Context, limits []Limit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckLimits(limits); err != nil {
		return err
	}
	var idx [MaxLimits]uint8
	var ks [MaxLimits]ckey
	defer m.unlockShards(m.lockShards(limits, &idx, &ks))
	m.release(limits, &idx, &ks)
	return nil
}

// release is Release with the shards of the limits locked.
func (m *Memory) release(limits []Limit, idx *[MaxLimits]uint8, ks *[MaxLimits]ckey) {
	now := m.now().UnixNano()
	for i := range limits {
		l := &limits[i]
		sh := &m.shards[idx[i]]
		c, ok := sh.counters.get(ks[i])
		if !ok || c.reset <= now || !c.holds(l) {
			continue
		}
		if len(l.Waits) > 0 {
			c.n--
		} else {
			c.n -= l.Weight()
		}
		if c.n <= 0 {
			sh.counters.del(ks[i])
			continue
		}
		if len(l.Waits) > 0 {
			// The wait before this hit had passed when it was taken.
			c.reset = now + int64(l.Window)
			c.hit = 0
		}
		sh.counters.put(ks[i], c, now)
	}
}

// holds reports whether the live counter c holds the hit l.Hit, so that
// Release may give it back: for a cooldown, the hit is the last one; for a
// budget, it was taken in the current window (hits grow, and c.hit is the
// window's first).
func (c memCounter) holds(l *Limit) bool {
	if l.Hit == 0 {
		return false
	}
	if len(l.Waits) > 0 {
		return c.hit == l.Hit
	}
	return c.hit != 0 && c.hit <= l.Hit
}

// lockShards sets each limit's shard index and ckey in idx and ks, and
// locks the shards of the limits' keys in ascending order, so that
// concurrent multi-key operations cannot deadlock. It returns the set of
// locked shards, for unlockShards. (Not a function taking a callback: the
// arrays would escape to the heap through it.)
func (m *Memory) lockShards(limits []Limit, idx *[MaxLimits]uint8, ks *[MaxLimits]ckey) uint32 {
	var set uint32
	for i := range limits {
		ks[i] = m.ckey(limits[i].Key)
		idx[i] = uint8(ks[i][0] % memShards)
		set |= 1 << idx[i]
	}
	for i := range m.shards {
		if set&(1<<i) != 0 {
			m.shards[i].mu.Lock()
		}
	}
	return set
}

// unlockShards unlocks the shards lockShards locked.
func (m *Memory) unlockShards(set uint32) {
	for i := range m.shards {
		if set&(1<<i) != 0 {
			m.shards[i].mu.Unlock()
		}
	}
}

// roomFor is makeRoom for n new entries at once.
func (m *Memory) roomFor(sh *memShard, now time.Time, n int) error {
	if len(sh.records)+sh.counters.len()+n <= m.perShard {
		return m.makeRoom(sh, now)
	}
	sh.nextSweep = 0 // force the sweep
	if err := m.makeRoom(sh, now); err != nil {
		return err
	}
	if len(sh.records)+sh.counters.len()+n > m.perShard {
		return errFull
	}
	return nil
}
