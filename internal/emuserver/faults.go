package emuserver

import (
	"net/http"
	"sync"
	"sync/atomic"
)

// MaxFaults bounds the faults an emulator holds.
const MaxFaults = 100

// Drop closes the connection of w without an answer, as a server or a
// network that fails mid-request does.
func Drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // the server closes the connection
}

// Faults is scheduled faults, the one fault-injection core that the fake
// (faults by operation and target) and both emulators (faults by request)
// match calls against, in the order they were added; each call consumes
// at most one. It is safe for concurrent use.
type Faults[F any] struct {
	mu   sync.Mutex
	list []*F
	n    atomic.Int32 // len(list), read without the lock
}

// Add schedules f, unless max faults are held already; it reports whether
// it did.
func (q *Faults[F]) Add(f F, max int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.list) >= max {
		return false
	}
	q.list = append(q.list, &f)
	q.n.Store(int32(len(q.list)))
	return true
}

// Clear removes every fault.
func (q *Faults[F]) Clear() {
	q.mu.Lock()
	q.list = nil
	q.n.Store(0)
	q.mu.Unlock()
}

// Len returns the number of faults held.
func (q *Faults[F]) Len() int { return int(q.n.Load()) }

// Take consumes the first fault match accepts and returns a copy of it, or
// nil. times returns the fault's count of requests still to fail: a
// positive count is decremented, and the fault removed when it reaches
// zero; a count of zero or less never ends.
func (q *Faults[F]) Take(match func(*F) bool, times func(*F) *int) *F {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, f := range q.list {
		if !match(f) {
			continue
		}
		if t := times(f); *t > 0 {
			*t--
			if *t == 0 {
				q.list = append(q.list[:i:i], q.list[i+1:]...)
				q.n.Store(int32(len(q.list)))
			}
		}
		c := *f
		return &c
	}
	return nil
}
