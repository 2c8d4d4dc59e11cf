package store

// counterTable holds the counters of one shard of a Memory store: a hash
// table with open addressing and linear probing, keyed by ckey. A ckey is
// already a hash (seeded per store, so whoever picks the keys cannot aim
// at a cluster), so a lookup takes the slot from its second half instead
// of hashing it again as a Go map would, and a counter is read and
// written in place: a Take touches each of its counters twice, and the
// map's rehash and second probe were a fifth of a fraud guard decision.
// Deletion moves the later entries of a cluster back (no tombstones), so
// a lookup never probes past the first empty slot.
type counterTable struct {
	slots []counterSlot // empty, or a power of two long
	n     int           // the slots in use
	moves uint64        // counts the deletions and resizes, which move counters to other slots
}

// counterSlot is one slot of a counterTable; the zero ckey marks it empty
// (Memory.ckey never returns it).
type counterSlot struct {
	k ckey
	c memCounter
}

// minSlots is the size of a table's first array.
const minSlots = 16

// len returns the number of counters in the table, expired ones included.
func (t *counterTable) len() int { return t.n }

// find returns the slot of k and true, or, when k is absent, the empty
// slot where it would go and false (-1 when the table has no slots).
func (t *counterTable) find(k ckey) (int, bool) {
	if len(t.slots) == 0 {
		return -1, false
	}
	mask := len(t.slots) - 1
	for i := int(k[1]) & mask; ; i = (i + 1) & mask {
		switch t.slots[i].k {
		case k:
			return i, true
		case ckey{}:
			return i, false
		}
	}
}

// at returns slot i's counter, which find returned for a present key
// while moves had its current value.
func (t *counterTable) at(i int) *memCounter { return &t.slots[i].c }

// get returns k's counter, if present.
func (t *counterTable) get(k ckey) (memCounter, bool) {
	if i, ok := t.find(k); ok {
		return t.slots[i].c, true
	}
	return memCounter{}, false
}

// put sets k's counter to c, adding k when absent. A new counter takes
// the slot of the first counter expired at now (Unix nanoseconds) on its
// probe path, if any: deleting it there leaves no hole, and spares the
// sweeps. The table stays at most three quarters full.
func (t *counterTable) put(k ckey, c memCounter, now int64) {
	i, ok := t.find(k)
	if ok {
		t.slots[i].c = c
		return
	}
	t.insert(i, k, c, now)
}

// insert is put of the absent k, whose empty slot find returned as i:
// no counter has left the table since (moves is unchanged), and slot i
// is still empty.
func (t *counterTable) insert(i int, k ckey, c memCounter, now int64) {
	if i >= 0 {
		mask := len(t.slots) - 1
		for j := int(k[1]) & mask; j != i; j = (j + 1) & mask {
			if t.slots[j].c.reset <= now {
				t.slots[j] = counterSlot{k: k, c: c}
				t.moves++ // the expired counter is gone
				return
			}
		}
	}
	if 4*(t.n+1) > 3*len(t.slots) {
		t.resize(max(minSlots, 2*len(t.slots)))
		i, _ = t.find(k)
	}
	t.slots[i] = counterSlot{k: k, c: c}
	t.n++
}

// del removes k's counter, if present.
func (t *counterTable) del(k ckey) {
	if i, ok := t.find(k); ok {
		t.deleteAt(i)
	}
}

// deleteAt empties slot i, which is in use, and moves back each later
// entry of its cluster that may take the hole: one whose home slot is not
// cyclically between the hole (excluded) and itself (included). Entries
// move only forward of i in probe order, never to a slot before i.
func (t *counterTable) deleteAt(i int) {
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].k != (ckey{}); j = (j + 1) & mask {
		h := int(t.slots[j].k[1]) & mask
		var stays bool // h is in (i, j]
		if i <= j {
			stays = i < h && h <= j
		} else {
			stays = i < h || h <= j
		}
		if !stays {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = counterSlot{}
	t.n--
	t.moves++
}

// sweep removes the counters expired at now (Unix nanoseconds), and
// shrinks the array when it is more than four times the size that holds
// twice the live counters (and at least 64) below three quarters full, so
// that memory stays proportional to the live counters without the array
// shrinking and growing back between two sweeps.
func (t *counterTable) sweep(now int64) {
	for i := 0; i < len(t.slots); {
		if s := &t.slots[i]; s.k != (ckey{}) && s.c.reset <= now {
			// A later entry may have moved into slot i: look again.
			t.deleteAt(i)
			continue
		}
		i++
	}
	size := minSlots
	for 3*size < 4*max(2*t.n, 64) {
		size *= 2
	}
	if 4*size <= len(t.slots) {
		t.resize(size)
	}
}

// resize moves the counters to a new array of size slots.
func (t *counterTable) resize(size int) {
	old := t.slots
	t.moves++
	t.slots = make([]counterSlot, size)
	mask := size - 1
	for _, s := range old {
		if s.k == (ckey{}) {
			continue
		}
		i := int(s.k[1]) & mask
		for t.slots[i].k != (ckey{}) {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}
