package verify

// TEMPORARY: the limiter the policy layer needs, until package store lands;
// this moves into store (Take/Release on its memory and Redis stores).

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Limit is one rule of a Take: a budget or a cooldown on one key.
type Limit struct {
	// Key names the counter.
	Key string
	// Max, for a budget, is how many hits the key may take in a window.
	Max int64
	// Window, for a budget, is the window's length; it starts at the
	// window's first hit. For a cooldown it is how long a quiet key keeps
	// its count after the last wait ended.
	Window time.Duration
	// Waits, when not empty, makes the limit a cooldown: after the nth hit
	// in a row the next is refused until Waits[min(n,len(Waits))-1] has
	// passed.
	Waits []time.Duration
}

// Taken is the answer of a Take.
type Taken struct {
	// OK reports whether every limit allowed the hit, so it was counted.
	OK bool
	// Refused is the index of the refusing limit that asks for the longest
	// wait, or -1.
	Refused int
	// RetryAfter is that wait.
	RetryAfter time.Duration
}

// Limiter counts hits under several limits at once.
type Limiter interface {
	// Take counts one hit on every limit if none of them refuses it, all
	// in one atomic step; otherwise it counts nothing.
	Take(ctx context.Context, limits []Limit) (Taken, error)
	// Release gives back one hit taken on every limit.
	Release(ctx context.Context, limits []Limit) error
}

type memEntry struct {
	n   int64
	exp time.Time
}

type memLimiter struct {
	mu  sync.Mutex
	m   map[string]memEntry
	max int
	now func() time.Time
}

var errFull = errors.New("memory limiter full")

func newMemLimiter(max int, now func() time.Time) *memLimiter {
	if now == nil {
		now = time.Now
	}
	return &memLimiter{m: make(map[string]memEntry), max: max, now: now}
}

func (l *memLimiter) Take(ctx context.Context, limits []Limit) (Taken, error) {
	if err := ctx.Err(); err != nil {
		return Taken{}, err
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	res := Taken{OK: true, Refused: -1}
	fresh := 0
	for i := range limits {
		lim := &limits[i]
		e, ok := l.m[lim.Key]
		if !ok || !now.Before(e.exp) {
			fresh++
			continue
		}
		var wait time.Duration
		if len(lim.Waits) > 0 {
			wait = e.exp.Sub(now) - lim.Window
		} else if e.n >= lim.Max {
			wait = e.exp.Sub(now)
		}
		if wait > 0 && wait > res.RetryAfter {
			res = Taken{Refused: i, RetryAfter: wait}
		}
	}
	if res.Refused >= 0 {
		return res, nil
	}
	if fresh > 0 && len(l.m)+fresh > l.max {
		for k, e := range l.m {
			if !now.Before(e.exp) {
				delete(l.m, k)
			}
		}
		if len(l.m)+fresh > l.max {
			return Taken{}, errFull
		}
	}
	for i := range limits {
		lim := &limits[i]
		e, ok := l.m[lim.Key]
		if !ok || !now.Before(e.exp) {
			e = memEntry{}
		}
		e.n++
		if len(lim.Waits) > 0 {
			e.exp = now.Add(lim.Waits[min(int(e.n), len(lim.Waits))-1] + lim.Window)
		} else if e.n == 1 {
			e.exp = now.Add(lim.Window)
		}
		l.m[lim.Key] = e
	}
	return res, nil
}

func (l *memLimiter) Release(ctx context.Context, limits []Limit) error {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range limits {
		lim := &limits[i]
		e, ok := l.m[lim.Key]
		if !ok || !now.Before(e.exp) {
			continue
		}
		e.n--
		if e.n <= 0 {
			delete(l.m, lim.Key)
			continue
		}
		if len(lim.Waits) > 0 {
			e.exp = now.Add(lim.Window)
		}
		l.m[lim.Key] = e
	}
	return nil
}
