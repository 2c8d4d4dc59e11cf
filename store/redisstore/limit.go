package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verifykit/verifykit/store"
)

var _ store.Limiter = (*Store)(nil)

// The limiter's scripts. Their KEYS are the limits' keys; a counter is a
// Redis string "n:hit" whose expiry is its window (a budget) or its wait
// plus its window (a cooldown): n hits, and the Taken.Hit of the budget
// window's first hit or of the cooldown's last (a bare "n", written by an
// earlier version, has hit 0, which Release never matches). They read the
// remaining time with PTTL, never the server's clock, so nothing depends on
// clocks agreeing. Hits come from INCR of one more key (hitKey), so they
// grow; should that key be lost, smaller hits than a counter's are never
// given back, the safe side.
var (
	// takeScript: KEYS are the limits' keys and then the hit key. ARGV
	// holds, for each limit in order, its Max, its Window in milliseconds,
	// its weight (Cost, or 1), the number of its waits and then the waits
	// in milliseconds. Returns {1, hit, each counter after the hit} when
	// taken, or {0, index (0-based) of the refusing limit with the longest
	// wait, the wait in milliseconds}. Counts are Lua numbers (doubles):
	// exact up to 2^53.
	takeScript = redis.NewScript(`
local function parse(v)
  if not v then return 0, 0 end
  local a, b = string.match(v, '^(%d+):(%d+)$')
  if a then return tonumber(a), tonumber(b) end
  return tonumber(v) or 0, 0
end
local nk = #KEYS - 1
local lims, cur, hits, ttls = {}, {}, {}, {}
local pos = 1
for i = 1, nk do
  local nw = tonumber(ARGV[pos+3])
  local waits = {}
  for j = 1, nw do waits[j] = tonumber(ARGV[pos+3+j]) end
  lims[i] = {tonumber(ARGV[pos]), tonumber(ARGV[pos+1]), waits, tonumber(ARGV[pos+2])}
  pos = pos + 4 + nw
end
local refused, longest = -1, 0
for i = 1, nk do
  local l = lims[i]
  local n, hit = parse(redis.call('GET', KEYS[i]))
  local ttl = 0
  if n > 0 then ttl = redis.call('PTTL', KEYS[i]) end
  if ttl <= 0 then n, hit, ttl = 0, 0, 0 end
  cur[i], hits[i], ttls[i] = n, hit, ttl
  local wait = 0
  if #l[3] > 0 then
    if n > 0 then wait = ttl - l[2] end
  elseif n + l[4] > l[1] then
    if n > 0 then wait = ttl else wait = l[2] end
  end
  if wait > longest then refused, longest = i - 1, wait end
end
if refused >= 0 then return {0, refused, longest} end
local h = redis.call('INCR', KEYS[#KEYS])
local out = {1, h}
for i = 1, nk do
  local l = lims[i]
  local n
  if #l[3] > 0 then
    n = cur[i] + 1
    redis.call('SET', KEYS[i], string.format('%d:%d', n, h), 'PX', l[3][math.min(n, #l[3])] + l[2])
  else
    n = cur[i] + l[4]
    if cur[i] == 0 then
      redis.call('SET', KEYS[i], string.format('%d:%d', n, h), 'PX', l[2])
    else
      redis.call('SET', KEYS[i], string.format('%d:%d', n, hits[i]), 'PX', ttls[i])
    end
  end
  out[i+2] = n
end
return out`)

	// releaseScript: ARGV holds, for each key in order, 1 for a cooldown
	// or 0 for a budget, the limit's Window in milliseconds, the hit to
	// give back, and its weight (Cost, or 1). A cooldown gives it back only while it is the last
	// hit; a budget only while the window it was taken in lasts.
	releaseScript = redis.NewScript(`
local function parse(v)
  if not v then return 0, 0 end
  local a, b = string.match(v, '^(%d+):(%d+)$')
  if a then return tonumber(a), tonumber(b) end
  return tonumber(v) or 0, 0
end
for i = 1, #KEYS do
  local cd, win, h, w = ARGV[4*i-3], ARGV[4*i-2], tonumber(ARGV[4*i-1]) or 0, tonumber(ARGV[4*i]) or 1
  local n, hit = parse(redis.call('GET', KEYS[i]))
  local mine = false
  if h > 0 and n > 0 then
    if cd == '1' then mine = hit == h else mine = hit > 0 and hit <= h end
  end
  if mine then
    if cd == '1' then w = 1 end
    if n <= w then
      redis.call('DEL', KEYS[i])
    elseif cd == '1' then
      redis.call('SET', KEYS[i], string.format('%d:0', n - 1), 'PX', win)
    else
      local ttl = redis.call('PTTL', KEYS[i])
      if ttl > 0 then redis.call('SET', KEYS[i], string.format('%d:%d', n - w, hit), 'PX', ttl) end
    end
  end
end
return 1`)
)

// hitKey is the key (after the prefix) whose INCR numbers the limiter's
// hits.
const hitKey = "vk|limiter-hits"

// limitArgs is the reusable argument buffer of one Take or Release.
type limitArgs struct {
	keys []string
	args []any
}

var argsPool = sync.Pool{New: func() any { return new(limitArgs) }}

func (a *limitArgs) free() {
	clear(a.keys)
	clear(a.args)
	a.keys, a.args = a.keys[:0], a.args[:0]
	argsPool.Put(a)
}

// ms returns d in whole milliseconds, at least 1.
func ms(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

func msDuration(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

// Take implements store.Limiter: one EVALSHA, whatever the number of
// limits, so one round trip. All the keys must hash to one slot on a Redis
// Cluster (the store does not use Cluster).
func (s *Store) Take(ctx context.Context, limits []store.Limit) (store.Taken, error) {
	if err := ctx.Err(); err != nil {
		return store.Taken{}, err
	}
	if err := store.CheckLimits(limits); err != nil {
		return store.Taken{}, err
	}
	if err := s.checkPolicy(ctx, "take"); err != nil {
		return store.Taken{}, err
	}
	a := argsPool.Get().(*limitArgs)
	defer a.free()
	for i := range limits {
		l := &limits[i]
		a.keys = append(a.keys, s.prefix+l.Key)
		var w int64 = 1
		if len(l.Waits) == 0 {
			w = l.Weight()
		}
		a.args = append(a.args, l.Max, ms(l.Window), w, len(l.Waits))
		for _, w := range l.Waits {
			a.args = append(a.args, ms(w))
		}
	}
	a.keys = append(a.keys, s.prefix+hitKey)
	res, err := s.runKeys(ctx, takeScript, a.keys, a.args)
	if err != nil {
		return store.Taken{}, fail(ctx, "take", err, true)
	}
	if r, ok := res.([]any); ok && len(r) > 0 {
		if r[0] == int64(1) && len(r) == 2+len(limits) {
			if h, ok := r[1].(int64); ok && h > 0 {
				for i, c := range r[2:] {
					limits[i].Count, _ = c.(int64)
				}
				return store.Taken{OK: true, Refused: -1, Hit: uint64(h)}, nil
			}
		}
		if len(r) == 3 {
			i, ok1 := r[1].(int64)
			w, ok2 := r[2].(int64)
			if ok1 && ok2 && i >= 0 && int(i) < len(limits) {
				return store.Taken{Refused: int(i), RetryAfter: msDuration(w)}, nil
			}
		}
	}
	return store.Taken{}, store.OutcomeUnknown("take", fmt.Errorf("unexpected answer %v", res))
}

// Release implements store.Limiter: one EVALSHA. It gives back only the
// hits the limits' Hit name (see store.Limiter).
func (s *Store) Release(ctx context.Context, limits []store.Limit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := store.CheckLimits(limits); err != nil {
		return err
	}
	if err := s.checkPolicy(ctx, "release"); err != nil {
		return err
	}
	a := argsPool.Get().(*limitArgs)
	defer a.free()
	for i := range limits {
		l := &limits[i]
		a.keys = append(a.keys, s.prefix+l.Key)
		cooldown := "0"
		if len(l.Waits) > 0 {
			cooldown = "1"
		}
		a.args = append(a.args, cooldown, strconv.FormatInt(ms(l.Window), 10), strconv.FormatUint(l.Hit, 10), strconv.FormatInt(l.Weight(), 10))
	}
	if _, err := s.runKeys(ctx, releaseScript, a.keys, a.args); err != nil {
		return fail(ctx, "release", err, true)
	}
	return nil
}

var _ store.CountReader = (*Store)(nil)

// Counts implements store.CountReader: one MGET.
func (s *Store) Counts(ctx context.Context, limits []store.Limit) error {
	if err := store.CheckKeys(ctx, limits); err != nil {
		return err
	}
	if err := s.checkPolicy(ctx, "counts"); err != nil {
		return err
	}
	a := argsPool.Get().(*limitArgs)
	defer a.free()
	for i := range limits {
		a.keys = append(a.keys, s.prefix+limits[i].Key)
	}
	vals, err := s.c.MGet(ctx, a.keys...).Result()
	if err != nil {
		return fail(ctx, "counts", err, false)
	}
	if len(vals) != len(limits) {
		return store.OutcomeUnknown("counts", fmt.Errorf("unexpected answer: %d values for %d keys", len(vals), len(limits)))
	}
	for i, v := range vals {
		limits[i].Count = 0
		str, ok := v.(string)
		if !ok {
			continue // absent or expired
		}
		n, _, _ := strings.Cut(str, ":") // "n:hit" of a limit, or "n" of Incr
		if limits[i].Count, err = strconv.ParseInt(n, 10, 64); err != nil {
			return store.OutcomeUnknown("counts", fmt.Errorf("counter holds %q", str))
		}
	}
	return nil
}

// runKeys is run for several keys (already prefixed).
func (s *Store) runKeys(ctx context.Context, sc *redis.Script, keys []string, args []any) (any, error) {
	a := make([]any, 0, 3+len(keys)+len(args))
	a = append(a, "evalsha", sc.Hash(), len(keys))
	for _, k := range keys {
		a = append(a, k)
	}
	res, err := s.b.do(ctx, append(a, args...)...)
	if err != nil && isNoScript(err) {
		res, err = sc.Eval(ctx, s.c, keys, args...).Result()
	}
	return res, err
}
