package verify

import (
	"strings"
	"sync"
)

// normCacheSize is how many normalised phone numbers a generation of a
// client's cache holds; the cache holds at most two generations.
const normCacheSize = 1024

// normCache remembers the phone numbers a client normalised lately, keyed
// by what the caller passed, so that Check after Start does not parse and
// validate the same number again. It is bounded (at most 2·normCacheSize
// entries of at most maxTargetLen-byte keys) and safe for concurrent use.
// When the current generation is full it becomes the old one and the
// oldest generation is dropped; a hit in the old generation is carried
// over to the current one. It holds only numbers that normalised without
// error, and nothing secret.
type normCache struct {
	mu       sync.Mutex
	cur, old map[string]cachedTarget
}

type cachedTarget struct {
	t     target
	typed bool // t.landline was computed
}

// get returns the target cached for s. A target cached without its type
// is a miss when the type is wanted.
func (c *normCache) get(s string, wantType bool) (target, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cur[s]
	if !ok {
		if e, ok = c.old[s]; ok {
			c.putLocked(s, e)
		}
	}
	if !ok || wantType && !e.typed {
		return target{}, false
	}
	return e.t, true
}

func (c *normCache) put(s string, t target, typed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Keep no part of a larger string the caller may have sliced s from.
	// The fast path's value is s itself: share the copy.
	k := strings.Clone(s)
	if t.value == s {
		t.value = k
	}
	c.putLocked(k, cachedTarget{t: t, typed: typed})
}

func (c *normCache) putLocked(s string, e cachedTarget) {
	if len(c.cur) >= normCacheSize {
		c.old, c.cur = c.cur, nil
	}
	if c.cur == nil {
		c.cur = make(map[string]cachedTarget, normCacheSize)
	}
	c.cur[s] = e
}

// target normalises to as normalize does, through the client's cache.
func (c *Client) target(to string, wantType bool) (target, error) {
	s := strings.TrimSpace(to)
	if len(s) == 0 || len(s) > maxTargetLen || strings.IndexByte(s, '@') >= 0 {
		return normalize(s, c.cfg.region, wantType) // errors and e-mail addresses: cheap
	}
	if t, ok := c.norm.get(s, wantType); ok {
		return t, nil
	}
	t, err := normalize(s, c.cfg.region, wantType)
	if err == nil {
		c.norm.put(s, t, wantType)
	}
	return t, err
}
