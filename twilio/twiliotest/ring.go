package twiliotest

// ring is a bounded list that drops its oldest entry when full, in constant
// time: once full, an add overwrites the oldest slot instead of shifting
// the list.
type ring[T any] struct {
	limit int
	buf   []T
	start int // index of the oldest entry once buf is full
}

func (r *ring[T]) add(v T) {
	if len(r.buf) < r.limit {
		r.buf = append(r.buf, v)
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % len(r.buf)
}

// len returns the number of entries held.
func (r *ring[T]) len() int { return len(r.buf) }

// at returns the i-th entry, oldest first.
func (r *ring[T]) at(i int) T { return r.buf[(r.start+i)%len(r.buf)] }

// slice returns a copy of the entries, oldest first.
func (r *ring[T]) slice() []T {
	out := make([]T, 0, len(r.buf))
	out = append(out, r.buf[r.start:]...)
	return append(out, r.buf[:r.start]...)
}
