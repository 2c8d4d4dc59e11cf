package selfhosted

import (
	"container/list"
	"sync"
	"sync/atomic"
	"time"
)

// recall is a replica's memory of the records it has seen: for each store
// key, the lineages met there with the highest seq seen of each. A record
// whose seq is below the one remembered for its lineage, or whose lineage
// was deleted by this replica, was put back by someone (or by a store that
// lost acknowledged writes): refusing it is what keeps a store writer
// without the application key from resetting wrong-code counts or replaying
// a TOTP code.
//
// The memory is bounded (least recently used keys are forgotten first) and
// lasts as long as the process. Reads race with this replica's own writes:
// a read issued before a write landed may return the older record, which is
// not a rollback. So every read takes a ticket first, and is checked only
// against what was remembered when its ticket was taken.
type recall struct {
	mu    sync.Mutex
	max   int
	clock atomic.Uint64 // ticket counter; grows with every change
	ll    list.List     // of *recalled, most recently used first
	keys  map[string]*list.Element
}

// maxLineages bounds the lineages remembered per verification key.
const maxLineages = 16

type recalled struct {
	key   string
	until time.Time  // forget after
	lins  []lineage  // most recent first
	born  uint64     // ticket when the key was first remembered
	first [1]lineage // lins' first array, allocated with the entry
}

type lineage struct {
	id        [16]byte
	hist      [4]seen // the latest seqs learned, in order: hist[:n]
	n         int
	floor     seen // the latest dropped from hist
	gone      bool // deleted by this replica
	goneStamp uint64
}

// seen is a record's seq and spent count (see envelope), its store
// version, and the ticket when they were learned.
type seen struct{ seq, spent, ver, stamp uint64 }

// known returns the highest state learned by ticket tk (zero if unknown).
func (l *lineage) known(tk uint64) seen {
	for i := l.n - 1; i >= 0; i-- {
		if l.hist[i].stamp <= tk {
			return l.hist[i]
		}
	}
	if l.floor.stamp <= tk {
		return l.floor
	}
	return seen{}
}

// learn records s, learned at stamp, if it is the latest yet.
func (l *lineage) learn(s seen, stamp uint64) {
	if l.n > 0 && s.seq <= l.hist[l.n-1].seq {
		return
	}
	if l.n == len(l.hist) {
		l.floor = l.hist[0]
		copy(l.hist[:], l.hist[1:])
		l.n--
	}
	s.stamp = stamp
	l.hist[l.n] = s
	l.n++
}

func newRecall(n int) *recall {
	return &recall{max: n, keys: make(map[string]*list.Element)}
}

// ticket returns the current ticket: what is remembered now is what a read
// issued after this call must not be older than.
func (r *recall) ticket() uint64 { return r.clock.Load() }

func (r *recall) entry(key string, now time.Time) *recalled {
	el := r.keys[key]
	if el == nil {
		return nil
	}
	e := el.Value.(*recalled)
	if now.After(e.until) {
		r.ll.Remove(el)
		delete(r.keys, key)
		return nil
	}
	r.ll.MoveToFront(el)
	return e
}

// saw records that the record at key has the given lineage and state, and
// reports whether that is consistent with what was remembered at ticket tk
// (false: the record was rolled back, or a stable record replaced). A
// record is older than one seen if its seq is lower, or if it has taken
// fewer guesses: a store writer who shows a replica an old record can so
// only ever give it one round of guesses, whatever later records exist.
func (r *recall) saw(key string, id [16]byte, st seen, stable bool, until time.Time, tk uint64, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entry(key, now)
	if e == nil {
		if !until.After(now) {
			return true // expired: nothing to remember
		}
		stamp := r.clock.Add(1)
		e = &recalled{key: key, until: until, born: stamp}
		e.lins = e.first[:]
		e.lins[0].id = id
		e.lins[0].learn(st, stamp)
		r.keys[key] = r.ll.PushFront(e)
		for r.ll.Len() > r.max {
			old := r.ll.Back()
			r.ll.Remove(old)
			delete(r.keys, old.Value.(*recalled).key)
		}
		return true
	}
	if until.After(e.until) {
		e.until = until
	}
	i := 0
	for i < len(e.lins) && e.lins[i].id != id {
		i++
	}
	if i == len(e.lins) {
		if stable && e.born <= tk {
			// An identity's record is never replaced by another lineage:
			// the one seen was lost, and this one made without it.
			return false
		}
		stamp := r.clock.Add(1)
		e.lins = append(e.lins, lineage{})
		copy(e.lins[1:], e.lins)
		e.lins[0] = lineage{id: id}
		e.lins[0].learn(st, stamp)
		if len(e.lins) > maxLineages {
			e.lins = e.lins[:maxLineages]
		}
		return true
	}
	l := &e.lins[i]
	if l.gone && l.goneStamp <= tk {
		return false // deleted here, and put back
	}
	// Compared only with what was learned before this read was issued: a
	// read that raced with this replica's own write may be older.
	if k := l.known(tk); st.seq < k.seq || st.spent < k.spent {
		return false
	}
	switch last := &l.hist[l.n-1]; {
	case st.seq > last.seq:
		l.learn(st, r.clock.Add(1))
	case st.seq == last.seq:
		last.ver = st.ver // the same state, maybe written again
	}
	return true
}

// lineageAt returns the lineage of the record version ver at key, as
// learned by saw.
func (r *recall) lineageAt(key string, ver uint64, now time.Time) ([16]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.entry(key, now); e != nil {
		for _, l := range e.lins {
			if l.n > 0 && l.hist[l.n-1].ver == ver {
				return l.id, true
			}
		}
	}
	return [16]byte{}, false
}

// deleted records that this replica deleted the lineage's record at key.
func (r *recall) deleted(key string, id [16]byte, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entry(key, now)
	if e == nil {
		return
	}
	for i := range e.lins {
		if e.lins[i].id == id {
			e.lins[i].gone, e.lins[i].goneStamp = true, r.clock.Add(1)
		}
	}
}

// lost reports whether a stable record at key that this replica had seen
// when ticket tk was taken is now absent.
func (r *recall) lost(key string, tk uint64, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entry(key, now)
	return e != nil && e.born <= tk
}
