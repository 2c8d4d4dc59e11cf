// Package redisstore is a [store.Store] kept in Redis, for many replicas of
// an application that share verification state.
//
// It lives in its own module, so that the core verifykit module does not
// depend on a Redis client. It uses github.com/redis/go-redis/v9.
//
// # Atomicity and round trips
//
// Every operation is one command, so one round trip: Get is a GET; a
// compare-and-swap that creates a record is a SET with NX and GET (Redis
// 7.0 or later; a script before); the other compare-and-swaps, the
// compare-and-delete and the windowed increment are Lua scripts run with
// EVALSHA. Redis runs each command and script atomically, so two replicas
// acting on one key at the same instant never both win. A script the server
// does not know (after a restart) is sent once with EVAL, on a NOSCRIPT
// answer, which means the server did nothing.
//
// Calls made while eight of the store's round trips are in flight share
// round trips: their commands wait for one to end, then go out together as
// one pipeline, which Redis runs command by command as if each came alone.
// A call made when fewer are in flight is sent at once. A call whose
// context ends while its command waits is never sent
// (provider.ErrUnavailable); one whose context ends while its pipeline is
// in flight returns at once (a write's outcome is unknown), unless it sends
// it: the call with the latest deadline does. So when eight round trips are
// slow, the calls made meanwhile wait for one of them to end (or for their
// contexts to). Commands sent in a pipeline pass through the client's pipeline hooks
// (redis.Hook's ProcessPipelineHook), not its per-command ProcessHook: a
// hook that limits or breaks circuits per command must handle both.
//
// A record is stored as a Redis string: its 8-byte version followed by its
// value, with the record's time to live as the key's expiry. Versions are
// random 64-bit numbers, so a version is not reused when a record is
// deleted and created again. A counter is a Redis integer whose expiry is
// its window.
//
// # Failures
//
// The store never lets the Redis client retry a command on its own: a
// repeated write after a lost answer could count twice. A failure before
// anything was sent (refused connection, closed client, pool exhausted, an
// error answer from the server, such as LOADING or OOM) matches
// provider.ErrUnavailable; a failure after a write may have reached the
// server (a timeout, a broken connection) matches provider.ErrOutcomeUnknown.
// Reads fail with provider.ErrUnavailable only.
//
// # Durability
//
// The guarantees hold as long as Redis keeps what it acknowledged. A Redis
// that loses acknowledged writes in a crash (no persistence, or an
// append-only file synced every second, Redis's default, which can lose the
// last second) can bring back a deleted record: a verification approved in
// that second becomes pending again, and its code could approve a second
// time; wrong-code counts and a TOTP factor's last accepted step can roll
// back the same way. Where that matters, run Redis with
// "appendonly yes" and "appendfsync always" (the kill-and-restart tests do),
// and do not let a failover promote a replica that may lag (or use WAIT).
// With Sentinel, pass the client of redis.NewFailoverClient to New. Redis
// Cluster clients are not supported yet.
//
// # Eviction
//
// A Redis that evicts keys under memory pressure loses state silently: a
// pending verification, a rate-limit counter (a limit reset), a TOTP
// factor. Before its first operation the store reads the server's
// maxmemory-policy and, unless it is noeviction (Redis's default), refuses
// every operation with an error matching provider.ErrUnavailable that
// names the policy, checking again at each operation until the policy is
// fixed; WithEvictionAllowed makes it work anyway, with a warning logged.
// A server that does not let it read the policy (CONFIG disabled or not
// permitted, as on many managed services) gets a warning, once: check the
// policy yourself there. The check is made once per Store: a policy
// changed later is not seen. Records stored with store.NoExpiry (the
// self-hosted provider's factors) have no expiry in Redis, so volatile-*
// policies never evict them.
//
// Keys are used as given, after the optional prefix (WithPrefix); callers
// hash anything personal before it becomes a key.
//
// # Logging
//
// The store logs its warnings to its logger (WithLogger, slog.Default() by
// default). go-redis logs some failures of its own (such as "connection
// pool: failed to dial", which the store also returns as a typed error)
// through one process-wide logger, which writes to standard error unless
// redis.SetLogger replaces it; its lines carry no request context that
// would tell which client they are about. The first Open replaces it with
// one that turns each line into a Debug record of slog.Default() (the
// logger in place when the line is logged), so that nothing reaches
// standard error behind the program's logging: set a Debug-level default
// logger to see them. A program that wants go-redis's lines elsewhere
// calls redis.SetLogger after Open. New leaves go-redis's logger alone.
package redisstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verifykit/verifykit/store"
)

// Store is a store.Store kept in Redis. Create one with New or Open. A
// Store is safe for concurrent use, and any number of Stores, in any number
// of processes, may share one Redis.
type Store struct {
	c      *redis.Client
	b      *batcher // sends c's commands of concurrent calls together
	owned  bool     // Close closes c
	prefix string
	now    func() time.Time

	allowEviction bool
	log           *slog.Logger
	checked       atomic.Bool // the eviction policy was checked (see checkPolicy)
	noSetGet      atomic.Bool // the server refused SET with NX and GET (see create)
	checkMu       sync.Mutex
}

var _ store.Store = (*Store)(nil)

// Option configures a Store.
type Option func(*Store) error

// WithPrefix puts prefix in front of every key, so several applications
// (or tests) can share one Redis database. The default is no prefix.
func WithPrefix(prefix string) Option {
	return func(s *Store) error {
		s.prefix = prefix
		return nil
	}
}

// WithEvictionAllowed lets the store work over a Redis whose
// maxmemory-policy may evict keys (anything but noeviction), with a
// warning logged, instead of refusing every operation. An evicted key is a
// pending verification gone, a rate-limit counter reset, or, for a key
// with an expiry, a record its owner relies on lost; records stored with
// store.NoExpiry have no expiry in Redis, so volatile-* policies never
// evict them, but allkeys-* policies do.
func WithEvictionAllowed() Option {
	return func(s *Store) error {
		s.allowEviction = true
		return nil
	}
}

// WithLogger sets where the store logs its warnings (an eviction policy it
// accepts or cannot read). The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) error {
		if l == nil {
			return errors.New("redisstore: WithLogger: nil logger")
		}
		s.log = l
		return nil
	}
}

// WithClock makes the store read the time from now instead of time.Now. It
// is used only to turn a counter's remaining time to live, as Redis reports
// it, into Incr's resetAt. now must not be nil.
func WithClock(now func() time.Time) Option {
	return func(s *Store) error {
		if now == nil {
			return errors.New("redisstore: WithClock: nil clock")
		}
		s.now = now
		return nil
	}
}

// New returns a Store over an existing client. The client must not retry
// commands itself (its Options().MaxRetries must be -1): a retried write
// after a lost answer could be applied twice, and only the store can tell
// when that is safe. Close does not close the client.
func New(c *redis.Client, opts ...Option) (*Store, error) {
	if c == nil {
		return nil, errors.New("redisstore: nil client")
	}
	// go-redis turns MaxRetries -1 into 0 and 0 into its default, 3.
	if n := c.Options().MaxRetries; n > 0 {
		return nil, fmt.Errorf("redisstore: the client retries commands (MaxRetries %d); set MaxRetries to -1", n)
	}
	return newStore(c, false, opts)
}

// Open connects to the Redis server named by a redis:// or rediss:// URL
// (see redis.ParseURL) with a client configured for the store: no retries
// by the client, context deadlines applied to the connection. It sends a
// PING, so that a server that is down or refuses the credentials fails
// here, with a *store.Error matching provider.ErrUnavailable that names
// the server (never the password), rather than at the first operation.
// Close closes the client. Open also routes go-redis's own log lines (see
// the package documentation, Logging).
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redisstore: invalid URL %s", redactURL(rawURL))
	}
	o.MaxRetries = -1
	o.ContextTimeoutEnabled = true
	o.DisableIdentity = true
	routeGoRedisLog()
	s, err := newStore(redis.NewClient(o), true, opts)
	if err != nil {
		return nil, err
	}
	if err := s.c.Ping(ctx).Err(); err != nil {
		s.c.Close()
		return nil, store.Unavailable("open", fmt.Errorf("redisstore: ping %s: %w", redactURL(rawURL), err))
	}
	return s, nil
}

func newStore(c *redis.Client, owned bool, opts []Option) (*Store, error) {
	s := &Store{c: c, b: newBatcher(c), owned: owned, now: time.Now, log: slog.Default()}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("redisstore: nil option")
		}
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// redactURL returns the URL without its password, or a placeholder when it
// does not parse, so an error never prints a credential.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparseable URL]"
	}
	return u.Redacted()
}

// Close closes the client when the Store opened it (Open).
func (s *Store) Close() error {
	if s.owned {
		return s.c.Close()
	}
	return nil
}

// String describes the store without credentials.
func (s *Store) String() string {
	return "redisstore.Store{Addr:" + s.c.Options().Addr + " Prefix:" + s.prefix + "}"
}

// GoString is like String.
func (s *Store) GoString() string { return s.String() }

// The scripts. A record is "vvvvvvvv" .. value, where vvvvvvvv is its
// version as 8 big-endian bytes.
var (
	// casScript: KEYS[1] the key; ARGV[1] the expected version (8 bytes,
	// or empty for "absent"); ARGV[2] the new record; ARGV[3] the ttl in
	// milliseconds. Returns 1 when stored, 0 when the key is absent but a
	// version was expected, else the current record.
	casScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  if string.sub(cur, 1, 8) ~= ARGV[1] then return cur end
elseif ARGV[1] ~= '' then
  return 0
end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1`)

	// delScript: KEYS[1] the key; ARGV[1] the expected version. Returns 1
	// when deleted, 0 when absent, else the current record.
	delScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if string.sub(cur, 1, 8) ~= ARGV[1] then return cur end
redis.call('DEL', KEYS[1])
return 1`)

	// incrScript: KEYS[1] the key; ARGV[1] the window in milliseconds.
	// Returns {n, remaining ttl in milliseconds}.
	incrScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local ttl = -1
if n > 1 then ttl = redis.call('PTTL', KEYS[1]) end
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}`)
)

const versionLen = 8

// recs holds the buffers a compare-and-swap builds its record in (the
// version, then the value), cleared after use.
var recs = sync.Pool{New: func() any { return new([]byte) }}

func decodeRecord(b []byte) (store.Record, error) {
	if len(b) < versionLen {
		return store.Record{}, errors.New("malformed record")
	}
	v := binary.BigEndian.Uint64(b)
	if v == 0 {
		return store.Record{}, errors.New("malformed record")
	}
	return store.Record{Value: b[versionLen:], Version: v}, nil
}

func versionBytes(v uint64) []byte {
	if v == 0 {
		return nil
	}
	return binary.BigEndian.AppendUint64(make([]byte, 0, versionLen), v)
}

// newVersion returns a random nonzero version.
func newVersion() uint64 {
	for {
		if v := rand.Uint64(); v != 0 {
			return v
		}
	}
}

// Get implements store.Store. It is one GET.
func (s *Store) Get(ctx context.Context, key string) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, err
	}
	if key == "" {
		return store.Record{}, fmt.Errorf("%w: empty key", store.ErrInvalid)
	}
	if err := s.checkPolicy(ctx, "get"); err != nil {
		return store.Record{}, err
	}
	res, err := s.b.do(ctx, "get", s.prefix+key)
	if err == redis.Nil {
		return store.Record{}, nil
	}
	if err != nil {
		return store.Record{}, fail(ctx, "get", err, false)
	}
	b, _ := res.(string)
	r, err := decodeRecord([]byte(b))
	if err != nil {
		return store.Record{}, store.Unavailable("get", err)
	}
	return r, nil
}

// CompareAndSwap implements store.Store. It is one SET ... NX GET when it
// creates the record (old 0), one EVALSHA otherwise. The command's stored
// value is built in a buffer that is cleared once the command is written
// and then reused by later calls: a go-redis hook that keeps a command's
// arguments after it returns (to format them later) must copy them, or it
// sees zeros or a later record there.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old uint64, value []byte, ttl time.Duration) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, err
	}
	if err := store.CheckArgs(key, ttl); err != nil {
		return store.Record{}, err
	}
	if err := s.checkPolicy(ctx, "cas"); err != nil {
		return store.Record{}, err
	}
	ms := ttl.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	if ttl == store.NoExpiry {
		ms = 0 // no expiry: no volatile-* policy evicts it
	}
	v := newVersion()
	buf := recs.Get().(*[]byte)
	rec := append(binary.BigEndian.AppendUint64((*buf)[:0], v), value...)
	var res any
	var err error
	if old == 0 && !s.noSetGet.Load() {
		res, err = s.create(ctx, key, rec, ms)
	} else {
		res, err = s.run(ctx, casScript, key, versionBytes(old), rec, ms)
	}
	if !errors.Is(err, errInFlight) { // the client has written rec and keeps no reference to it
		clear(rec)
		*buf = rec[:0]
		recs.Put(buf)
	}
	if err != nil {
		return store.Record{}, fail(ctx, "cas", err, true)
	}
	switch res := res.(type) {
	case int64:
		if res == 1 {
			return store.Record{Value: value, Version: v}, nil
		}
		return store.Record{}, store.ErrConflict
	case string:
		cur, err := decodeRecord([]byte(res))
		if err != nil {
			return store.Record{}, store.Unavailable("cas", err)
		}
		return cur, store.ErrConflict
	}
	return store.Record{}, store.OutcomeUnknown("cas", fmt.Errorf("unexpected answer %T", res)) // the script ran: it may have written
}

// CompareAndDelete implements store.Store. It is one EVALSHA.
func (s *Store) CompareAndDelete(ctx context.Context, key string, old uint64) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, err
	}
	if key == "" {
		return store.Record{}, fmt.Errorf("%w: empty key", store.ErrInvalid)
	}
	if old == 0 {
		return store.Record{}, fmt.Errorf("%w: version 0", store.ErrInvalid)
	}
	if err := s.checkPolicy(ctx, "delete"); err != nil {
		return store.Record{}, err
	}
	res, err := s.run(ctx, delScript, key, versionBytes(old))
	if err != nil {
		return store.Record{}, fail(ctx, "delete", err, true)
	}
	switch res := res.(type) {
	case int64:
		if res == 1 {
			return store.Record{}, nil
		}
		return store.Record{}, store.ErrConflict
	case string:
		cur, err := decodeRecord([]byte(res))
		if err != nil {
			return store.Record{}, store.Unavailable("delete", err)
		}
		return cur, store.ErrConflict
	}
	return store.Record{}, store.OutcomeUnknown("delete", fmt.Errorf("unexpected answer %T", res)) // the script ran: it may have deleted
}

// Incr implements store.Store. It is one EVALSHA.
func (s *Store) Incr(ctx context.Context, key string, window time.Duration) (int64, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return 0, time.Time{}, err
	}
	if err := store.CheckArgs(key, window); err != nil {
		return 0, time.Time{}, err
	}
	if err := s.checkPolicy(ctx, "incr"); err != nil {
		return 0, time.Time{}, err
	}
	ms := window.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	res, err := s.run(ctx, incrScript, key, ms)
	if err != nil {
		return 0, time.Time{}, fail(ctx, "incr", err, true)
	}
	a, ok := res.([]any)
	if ok && len(a) == 2 {
		n, ok1 := a[0].(int64)
		ttl, ok2 := a[1].(int64)
		if ok1 && ok2 {
			return n, s.now().Add(time.Duration(ttl) * time.Millisecond), nil
		}
	}
	return 0, time.Time{}, store.OutcomeUnknown("incr", fmt.Errorf("unexpected answer %T", res))
}

// checkPolicy reads the server's maxmemory-policy, before the store's
// first operation, and refuses to work (ErrUnavailable, checking again at
// the next operation) while it is one that evicts keys, unless
// WithEvictionAllowed. A server that does not let the store read it (CONFIG
// disabled or not permitted, as on many managed services) gets a warning,
// once.
func (s *Store) checkPolicy(ctx context.Context, op string) error {
	if s.checked.Load() {
		return nil
	}
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	if s.checked.Load() {
		return nil
	}
	res, err := s.c.ConfigGet(ctx, "maxmemory-policy").Result()
	policy := res["maxmemory-policy"]
	var re redis.Error
	switch {
	case errors.As(err, &re) || (err == nil && policy == ""):
		s.log.Warn("redisstore: cannot read the server's maxmemory-policy; it must be noeviction, or evicted keys lose verifications, factors and rate limits silently", "addr", s.c.Options().Addr)
	case err != nil:
		return fail(ctx, op, err, false)
	case policy != "noeviction" && !s.allowEviction:
		return store.Unavailable(op, fmt.Errorf("the server's maxmemory-policy is %s, which evicts keys under memory pressure: pending verifications, TOTP factors and rate-limit counters would be lost silently; set maxmemory-policy noeviction (or pass WithEvictionAllowed)", policy))
	case policy != "noeviction":
		s.log.Warn("redisstore: the server's maxmemory-policy evicts keys under memory pressure: pending verifications and rate-limit counters can be lost silently (factors too, under allkeys-*); use noeviction", "policy", policy, "addr", s.c.Options().Addr)
	}
	s.checked.Store(true)
	return nil
}

// create stores rec at key unless a record is there, and answers as
// casScript does: 1 when stored, else the current record. It is one SET
// with NX and GET, which Redis runs without the cost of a script; a
// server older than Redis 7.0 refuses that combination with a syntax
// error, having done nothing, and the store runs casScript instead, from
// then on.
func (s *Store) create(ctx context.Context, key string, rec []byte, ms int64) (any, error) {
	args := []any{"set", s.prefix + key, rec, "nx", "get", "px", ms}
	if ms == 0 {
		args = args[:5]
	}
	res, err := s.b.do(ctx, args...)
	var re redis.Error
	switch {
	case err == redis.Nil: // nothing was there: stored
		return int64(1), nil
	case errors.As(err, &re) && strings.Contains(re.Error(), "syntax error"):
		s.noSetGet.Store(true)
		return s.run(ctx, casScript, key, nil, rec, ms)
	}
	return res, err
}

// run runs a script with EVALSHA, and with EVAL when the server answers
// NOSCRIPT (it did nothing then).
func (s *Store) run(ctx context.Context, sc *redis.Script, key string, args ...any) (any, error) {
	k := s.prefix + key
	res, err := s.b.do(ctx, append(append(make([]any, 0, 4+len(args)), "evalsha", sc.Hash(), 1, k), args...)...)
	if err != nil && isNoScript(err) {
		res, err = sc.Eval(ctx, s.c, []string{k}, args...).Result()
	}
	return res, err
}

func isNoScript(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "NOSCRIPT")
}

// fail classifies a client error: ErrUnavailable when the command provably
// did nothing, ErrOutcomeUnknown when a write may have landed.
func fail(ctx context.Context, op string, err error, write bool) error {
	return store.Failed(ctx, op, err, !write || notSent(err))
}

// notSent reports whether err shows that the command was not executed: the
// connection could not be made, the client is closed or out of
// connections, or the server answered with an error (a script that fails
// fails before its only write, and NOSCRIPT, LOADING, BUSY, OOM, READONLY
// mean nothing ran).
func notSent(err error) bool {
	if errors.Is(err, errQueued) || errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted) {
		return true
	}
	var re redis.Error
	if errors.As(err, &re) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	return false
}
