// Package pgstore is a [store.Store] and [store.Limiter] kept in
// PostgreSQL, for many replicas of an application that share verification
// state in the database most applications already run.
//
// It lives in its own module, so that the core verifykit module does not
// depend on a PostgreSQL driver. It uses github.com/jackc/pgx/v5 and its
// pool, pgxpool. It needs PostgreSQL 13 or later and no extension.
//
// # Schema
//
// The store keeps its state in two tables, records and counters, with a
// sequence for the limiter's hits and four PL/pgSQL functions. [Store.Migrate]
// creates them, or upgrades them, from migrations embedded in the package,
// in one transaction that replicas starting at once may all attempt;
// [Migrations] returns the same SQL for an application that applies
// migrations with its own tool. The tables' names start with a prefix
// ("verifykit_" unless [WithTablePrefix] says otherwise) and live in the
// connection's search path or in the schema that [WithSchema] names, so
// several applications (or tests) can share one database.
//
// # Atomicity and round trips
//
// Every operation is one statement, so one round trip once the
// connection has prepared it: Get is a SELECT, Incr and a creating
// compare-and-swap an INSERT ... ON CONFLICT DO UPDATE, a compare-and-swap
// of a version an UPDATE, a compare-and-delete a DELETE (each answering a
// lost race with the current record in the same statement), and Take and
// Release call the schema's functions, which lock the rows they change in
// key order, so that they never deadlock each other. A record's versions
// are random 64-bit numbers, drawn by the store. (The schema's cas and cad
// functions, which earlier releases call, stay, so that replicas of
// both can share one schema during an upgrade.) PostgreSQL runs each in a
// transaction of its own: two replicas acting on one key at the same
// instant never both win, and counters are exact.
//
// Statements of calls made while the store has 8 statements in flight
// share round trips: they wait for one to end, then go out together as one
// pipeline on one connection, each followed by its own Sync, so each is
// still a transaction of its own. A pipelined statement does not go
// through pgx's query tracer. A call whose context ends while its
// statement waits is never sent (provider.ErrUnavailable); one whose
// context ends while its pipeline is in flight returns at once, even if
// the pipeline's sender has no deadline (provider.ErrOutcomeUnknown for a
// write: it may still run, with a copy of the caller's value).
//
// Times are the server's: a record's expiry and a counter's window are
// computed with the server's now(), and durations travel in microseconds,
// so replicas whose clocks disagree still agree on every limit.
//
// # Expiry
//
// Every query ignores rows whose time has passed, so an expired record or
// counter is gone at once. The rows themselves are deleted by a sweep that
// each Store runs in the background (see [WithSweep]): a few statements a
// minute, each deleting at most a bounded batch of expired rows and
// skipping rows that a request holds locked, on its own pooled connection,
// so the sweep never makes a request wait for it.
//
// # Failures
//
// The store never retries a statement: a repeated write after a lost
// answer could count twice. A failure before anything was sent (no
// connection could be made, the pool is closed or the context ended while
// waiting for a connection), and an error answer from the server (the
// statement, and its transaction, did nothing), match
// provider.ErrUnavailable; a failure after a write may have reached the
// server (a timeout, a broken connection, the server shutting down) matches
// provider.ErrOutcomeUnknown. Reads fail with provider.ErrUnavailable only.
//
// # Durability
//
// PostgreSQL acknowledges a commit once it is in its write-ahead log on
// disk (the defaults fsync=on, synchronous_commit=on), so a server that is
// killed and restarted keeps every operation the store reported done:
// nothing approved comes back as pending. With synchronous_commit=off the
// last few hundred milliseconds of acknowledged writes can be lost in a
// crash, with the consequences described for Redis in package redisstore.
// A failover to a replica that has not received the last commits loses
// them the same way, unless the standby is synchronous.
//
// Keys are stored as given; callers hash anything personal before it
// becomes a key.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/verifykit/verifykit/internal/batch"
	"github.com/verifykit/verifykit/store"
)

// Store is a store.Store and store.Limiter kept in PostgreSQL. Create one
// with New or Open, and its schema with Migrate. A Store is safe for
// concurrent use, and any number of Stores, in any number of processes,
// may share one database.
type Store struct {
	pool   *pgxpool.Pool
	owned  bool  // Close closes pool
	conns  int32 // the pool's MaxConns, read once: Pool.Config copies the whole configuration
	b      batch.Batcher[*query]
	n      names
	schema string
	prefix string
	now    func() time.Time

	sweepEvery time.Duration
	sweepBatch int
	stop       chan struct{}
	done       chan struct{}
	closeOnce  sync.Once

	qGet, qCASCreate, qCASUpdate, qCAD, qIncr, qTake, qRelease string
	qSweepRecords, qSweepCounters                              string
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Limiter = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store) error

// DefaultTablePrefix is the prefix of the store's table names unless
// WithTablePrefix sets another.
const DefaultTablePrefix = "verifykit_"

// WithTablePrefix names the store's tables, sequence and functions
// prefix+"records", prefix+"counters" and so on. The prefix is lower-case
// letters, digits and underscores, not starting with a digit; it may be
// empty. The default is DefaultTablePrefix.
func WithTablePrefix(prefix string) Option {
	return func(s *Store) error {
		s.prefix = prefix
		return nil
	}
}

// WithSchema puts the store's tables in the named schema, which Migrate
// creates when absent, instead of the connection's search path. The name
// is lower-case letters, digits and underscores, not starting with a digit.
func WithSchema(schema string) Option {
	return func(s *Store) error {
		if schema == "" {
			return errors.New("pgstore: WithSchema: empty name")
		}
		s.schema = schema
		return nil
	}
}

// WithClock makes the store read the time from now instead of time.Now. It
// is used only to turn a counter's remaining time, as the server computes
// it, into Incr's resetAt. now must not be nil.
func WithClock(now func() time.Time) Option {
	return func(s *Store) error {
		if now == nil {
			return errors.New("pgstore: WithClock: nil clock")
		}
		s.now = now
		return nil
	}
}

// Default sweep settings: see WithSweep.
const (
	DefaultSweepInterval = 30 * time.Second
	DefaultSweepBatch    = 1000
)

// WithSweep sets how often the store's background sweep runs and how many
// expired rows one of its statements deletes at most. Each run deletes
// batches from each table until a batch comes back short, at most 10
// batches a table. interval 0 turns the sweep off (another replica, or
// the application calling Sweep, must then keep the tables small). The
// defaults are DefaultSweepInterval and DefaultSweepBatch.
func WithSweep(interval time.Duration, batch int) Option {
	return func(s *Store) error {
		if interval < 0 || batch <= 0 {
			return fmt.Errorf("pgstore: WithSweep(%v, %d): want interval >= 0 and batch > 0", interval, batch)
		}
		s.sweepEvery, s.sweepBatch = interval, batch
		return nil
	}
}

func configure(opts []Option) (*Store, error) {
	s := &Store{prefix: DefaultTablePrefix, now: time.Now, sweepEvery: DefaultSweepInterval, sweepBatch: DefaultSweepBatch}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("pgstore: nil option")
		}
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	n, err := newNames(s.schema, s.prefix)
	if err != nil {
		return nil, err
	}
	s.n = n
	return s, nil
}

// New returns a Store over an existing pool, and starts its sweep. Close
// stops the sweep but does not close the pool. The schema must exist
// (Migrate).
func New(pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: nil pool")
	}
	return newStore(pool, false, opts)
}

// Open connects to the database named by a postgres:// URL or a key=value
// connection string (see pgxpool.ParseConfig, whose pool_max_conns and
// other pool_ settings apply), checks that the server answers, and starts
// the store's sweep. A server that does not answer fails Open with an
// error matching provider.ErrUnavailable. Close closes the pool. Open does
// not create the schema: call Migrate, or apply Migrations.
func Open(ctx context.Context, connString string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		// pgx's parse errors quote the connection string, password and all.
		return nil, fmt.Errorf("pgstore: invalid connection string %s", redact(connString))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %s: %w", redact(connString), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, store.Unavailable("open", fmt.Errorf("pgstore: ping %s: %w", redact(connString), err))
	}
	s, err := newStore(pool, true, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func newStore(pool *pgxpool.Pool, owned bool, opts []Option) (*Store, error) {
	s, err := configure(opts)
	if err != nil {
		return nil, err
	}
	s.pool, s.owned = pool, owned
	s.conns = pool.Config().MaxConns
	s.b = s.batcher()
	n := &s.n
	s.qGet = "SELECT version, value FROM " + n.Records + " WHERE key = $1 AND expires > now()"
	// The compare-and-swap and compare-and-delete are single statements,
	// which the connection prepares once, rather than calls of the
	// schema's cas and cad functions (PL/pgSQL, which the server runs at
	// about twice a plain statement's cost). A new record's version is
	// drawn here ($2: a random nonzero 64-bit number, as package redisstore
	// draws them), not from the schema's sequence, which every write would
	// otherwise have to lock. A losing one answers with the record as the
	// newest committed row has it, in the same round trip: create and
	// update rewrite a losing row unchanged, locking it and reading its
	// newest version (as READ COMMITTED does for a row being written);
	// delete locks it with a SELECT ... FOR SHARE, which does the same.
	// The statements' first column tells whether the change was made: the
	// row carries the version drawn for it.
	exp := func(p string) string { return "now() + " + p + " * interval '1 microsecond'" }
	s.qCASCreate = "INSERT INTO " + n.Records + " AS r (key, version, value, expires) VALUES ($1, $2, $3, " + exp("$4") + ")\n" +
		"ON CONFLICT (key) DO UPDATE SET\n" +
		"\tversion = CASE WHEN r.expires <= now() THEN EXCLUDED.version ELSE r.version END,\n" +
		"\tvalue = CASE WHEN r.expires <= now() THEN EXCLUDED.value ELSE r.value END,\n" +
		"\texpires = CASE WHEN r.expires <= now() THEN EXCLUDED.expires ELSE r.expires END\n" +
		"RETURNING r.version = $2, r.version, CASE WHEN r.version = $2 THEN NULL ELSE r.value END"
	live := "r.version = $5 AND r.expires > now()"
	s.qCASUpdate = "UPDATE " + n.Records + " r SET\n" +
		"\tversion = CASE WHEN " + live + " THEN $2 ELSE r.version END,\n" +
		"\tvalue = CASE WHEN " + live + " THEN $3 ELSE r.value END,\n" +
		"\texpires = CASE WHEN " + live + " THEN " + exp("$4") + " ELSE r.expires END\n" +
		"WHERE r.key = $1\n" +
		"RETURNING r.version = $2, CASE WHEN r.expires > now() THEN r.version ELSE 0 END, " +
		"CASE WHEN r.version = $2 OR r.expires <= now() THEN NULL ELSE r.value END"
	s.qCAD = "WITH d AS (DELETE FROM " + n.Records + " r WHERE r.key = $1 AND r.version = $2 AND r.expires > now() RETURNING 1),\n" +
		"c AS (SELECT r.version, r.value FROM " + n.Records + " r WHERE r.key = $1 AND r.expires > now() AND NOT EXISTS (SELECT 1 FROM d) FOR SHARE)\n" +
		"SELECT EXISTS (SELECT 1 FROM d), coalesce(c.version, 0), c.value FROM (VALUES (1)) AS one LEFT JOIN c ON true"
	s.qIncr = "INSERT INTO " + n.Counters + ` AS c (key, n, reset) VALUES ($1, 1, now() + $2 * interval '1 microsecond')
ON CONFLICT (key) DO UPDATE SET
	n = CASE WHEN c.reset > now() THEN c.n + 1 ELSE 1 END,
	reset = CASE WHEN c.reset > now() THEN c.reset ELSE EXCLUDED.reset END
RETURNING c.n, (extract(epoch FROM c.reset - now()) * 1000000)::bigint`
	s.qTake = "SELECT o_refused, o_wait_us, o_hit, o_counts FROM " + n.Take + "($1, $2, $3, $4, $5, $6)"
	s.qRelease = "SELECT " + n.Release + "($1, $2, $3, $4, $5)"
	sweep := func(table string) string {
		return "WITH d AS (DELETE FROM " + table + " WHERE ctid = ANY (ARRAY(SELECT ctid FROM " + table +
			" WHERE expires <= now() LIMIT $1 FOR UPDATE SKIP LOCKED)) RETURNING 1) SELECT count(*) FROM d"
	}
	s.qSweepRecords = sweep(n.Records)
	s.qSweepCounters = strings.Replace(sweep(n.Counters), "expires <=", "reset <=", 1)
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	if s.sweepEvery > 0 {
		go s.sweepLoop()
	} else {
		close(s.done)
	}
	return s, nil
}

// redact returns the connection string without its password.
func redact(conn string) string {
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		u, err := url.Parse(conn)
		if err != nil {
			return "[unparseable URL]"
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	if strings.Contains(conn, "password") {
		return "[connection string with a password]"
	}
	return conn
}

// Close stops the sweep, and closes the pool when the Store opened it
// (Open). It waits for a sweep statement under way.
func (s *Store) Close() {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		if s.owned {
			s.pool.Close()
		}
	})
}

// Pool returns the store's connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// String describes the store without credentials.
func (s *Store) String() string {
	c := s.pool.Config().ConnConfig
	return fmt.Sprintf("pgstore.Store{Host:%s Port:%d Database:%s Tables:%s}", c.Host, c.Port, c.Database, strings.TrimSuffix(s.n.Records, `records"`)+`*"`)
}

// GoString is like String.
func (s *Store) GoString() string { return s.String() }

// newVersion returns a random nonzero version: a record's versions are
// 64 random bits, so one never comes back for the same key (store.Store)
// but by a chance of 2^-64.
func newVersion() int64 {
	for {
		if v := int64(rand.Uint64()); v != 0 {
			return v
		}
	}
}

// us returns d in whole microseconds, at least 1.
func us(d time.Duration) int64 { return max(d.Microseconds(), 1) }

// Get implements store.Store: one SELECT.
func (s *Store) Get(ctx context.Context, key string) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, err
	}
	if key == "" {
		return store.Record{}, fmt.Errorf("%w: empty key", store.ErrInvalid)
	}
	var v int64
	var val []byte
	err := s.row(ctx, s.qGet, []any{[]byte(key)}, &v, &val)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Record{}, nil
	}
	if err != nil {
		return store.Record{}, fail(ctx, "get", err, false)
	}
	if v == 0 {
		return store.Record{}, store.Unavailable("get", errors.New("malformed record"))
	}
	if val == nil {
		val = []byte{}
	}
	return store.Record{Value: val, Version: uint64(v)}, nil
}

// CompareAndSwap implements store.Store: one INSERT (old 0) or UPDATE.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old uint64, value []byte, ttl time.Duration) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, err
	}
	if err := store.CheckArgs(key, ttl); err != nil {
		return store.Record{}, err
	}
	// The store's copy of value (never nil: the column is NOT NULL): a
	// pipelined statement may be sent after its caller returned
	// (batch.ErrInFlight), when value's buffer may be reused.
	buf := vals.Get().(*[]byte)
	val := append((*buf)[:0], value...)
	o := new(out)
	var err error
	if old == 0 {
		err = s.row(ctx, s.qCASCreate, []any{[]byte(key), newVersion(), val, us(ttl)}, &o.ok, &o.v, &o.cur)
	} else {
		err = s.row(ctx, s.qCASUpdate, []any{[]byte(key), newVersion(), val, us(ttl), int64(old)}, &o.ok, &o.v, &o.cur)
	}
	if !errors.Is(err, batch.ErrInFlight) { // nothing reads val any more
		clear(val)
		*buf = val[:0]
		vals.Put(buf)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Record{}, store.ErrConflict // an update of an absent record
	}
	if err != nil {
		return store.Record{}, fail(ctx, "cas", err, true)
	}
	if o.ok {
		return store.Record{Value: value, Version: uint64(o.v)}, nil
	}
	return o.conflict()
}

// vals holds the buffers of CompareAndSwap's copies of values.
var vals = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// out is the row of a compare-and-swap or compare-and-delete: whether it
// was done, else the current version (0: absent) and value. One
// allocation for the three.
type out struct {
	ok  bool
	v   int64
	cur []byte
}

func (o *out) conflict() (store.Record, error) {
	if o.v == 0 {
		return store.Record{}, store.ErrConflict
	}
	if o.cur == nil {
		o.cur = []byte{}
	}
	return store.Record{Value: o.cur, Version: uint64(o.v)}, store.ErrConflict
}

// CompareAndDelete implements store.Store: one DELETE.
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
	o := new(out)
	if err := s.row(ctx, s.qCAD, []any{[]byte(key), int64(old)}, &o.ok, &o.v, &o.cur); err != nil {
		return store.Record{}, fail(ctx, "delete", err, true)
	}
	if o.ok {
		return store.Record{}, nil
	}
	return o.conflict()
}

// Incr implements store.Store: one INSERT ... ON CONFLICT DO UPDATE.
func (s *Store) Incr(ctx context.Context, key string, window time.Duration) (int64, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return 0, time.Time{}, err
	}
	if err := store.CheckArgs(key, window); err != nil {
		return 0, time.Time{}, err
	}
	var n, left int64
	if err := s.row(ctx, s.qIncr, []any{[]byte(key), us(window)}, &n, &left); err != nil {
		return 0, time.Time{}, fail(ctx, "incr", err, true)
	}
	return n, s.now().Add(time.Duration(left) * time.Microsecond), nil
}

// errNotSent marks a failure to get a connection from the pool: nothing
// was sent.
var errNotSent = errors.New("no connection")

// rowNow runs the one-row query q on a connection from the pool and scans
// its row into dest. A failure to get the connection is marked errNotSent.
func (s *Store) rowNow(ctx context.Context, q string, args []any, dest ...any) error {
	c, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return c.QueryRow(ctx, q, args...).Scan(dest...)
}

// acquire returns a connection from the pool that the server has not
// closed, or an error marked errNotSent. Connections found closed (after a
// server restart, say) are destroyed, up to the pool's size and one more.
func (s *Store) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	for range s.conns + 1 {
		c, err := s.pool.Acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errNotSent, err)
		}
		if !closedByPeer(c.Conn().PgConn().Conn()) {
			return c, nil
		}
		// Close makes Release destroy the connection.
		_ = c.Conn().Close(ctx)
		c.Release()
	}
	return nil, fmt.Errorf("%w: every connection of the pool was closed by the server", errNotSent)
}

// fail classifies a driver error: ErrUnavailable when the statement
// provably did nothing, ErrOutcomeUnknown when a write may have landed.
func fail(ctx context.Context, op string, err error, write bool) error {
	return store.Failed(ctx, op, err, !write || notDone(err))
}

// notDone reports whether err shows that the statement did nothing: it was
// never sent (pgconn.SafeToRetry: no connection, closed pool, a context
// that ended while waiting for a connection), or the server answered it
// with an ERROR, which rolls back the statement's transaction. A FATAL or
// PANIC answer (the server shutting down, the connection terminated) may
// come after the commit, so it is not such proof.
func notDone(err error) bool {
	if pgconn.SafeToRetry(err) || errors.Is(err, errNotSent) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		sev := pe.SeverityUnlocalized
		if sev == "" {
			sev = pe.Severity
		}
		return sev == "ERROR"
	}
	return false
}
