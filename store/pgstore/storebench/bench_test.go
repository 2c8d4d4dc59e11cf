package storebench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/pgstore"
	"github.com/verifykit/verifykit/store/pgstore/pgtest"
	"github.com/verifykit/verifykit/store/redisstore"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
)

// The servers of the run. Neither syncs every write to disk: PostgreSQL
// runs with fsync=off (pgtest.StartMain), Redis with appendfsync everysec
// (redistest.StartMain), so the figures are round trips and server work,
// not the disk.
var (
	pg  *pgtest.Server
	rds *redistest.Server
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "storebench")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if pg, err = pgtest.StartMain(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if rds, err = redistest.StartMain(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if pg != nil {
		pg.Stop()
	}
	if rds != nil {
		rds.Kill()
	}
	pgtest.Cleanup()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func servers(tb testing.TB) {
	tb.Helper()
	pgtest.Require(tb)
	redistest.Require(tb)
	if pg == nil || rds == nil {
		tb.Fatal("the servers did not start")
	}
}

var key = selfhosted.Key{ID: "bench", Secret: []byte("0123456789abcdef0123456789abcdef")}

// codes is a sender that keeps the last code sent to each target.
type codes struct{ m sync.Map }

func (c *codes) Send(_ context.Context, m selfhosted.Message) error {
	c.m.Store(m.To, m.Code)
	return nil
}

func (c *codes) get(to string) string {
	v, _ := c.m.Load(to)
	s, _ := v.(string)
	return s
}

// pgPool returns a pool of at most conns connections to the server, its
// round trips counted in n when n is not nil.
func pgPool(tb testing.TB, conns int32, n *atomic.Int64) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(pg.URL())
	if err != nil {
		tb.Fatal(err)
	}
	cfg.MaxConns = conns
	if n != nil {
		pgtest.CountRoundTrips(cfg, n)
	}
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

var schemas atomic.Int64

func pgStore(tb testing.TB, pool *pgxpool.Pool) *pgstore.Store {
	tb.Helper()
	s, err := pgstore.New(pool, pgstore.WithSchema(fmt.Sprintf("bench%d_%d", os.Getpid(), schemas.Add(1))))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s
}

func redisClient(tb testing.TB, n *atomic.Int64) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: rds.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true, DisableIdentity: true, PoolSize: 32})
	if n != nil {
		c.AddHook(redistest.CountRoundTrips(n))
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

func redisStore(tb testing.TB, c *redis.Client) *redisstore.Store {
	tb.Helper()
	s, err := redisstore.New(c, redisstore.WithPrefix(fmt.Sprintf("bench%d-%d:", os.Getpid(), schemas.Add(1))))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func provider_(tb testing.TB, st store.Store, out *codes) *selfhosted.Provider {
	tb.Helper()
	p, err := selfhosted.New(st, key, selfhosted.WithSender(out, provider.ChannelSMS))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// pair is one verification's life: a Start, then a Check with the right
// code.
func pair(ctx context.Context, p *selfhosted.Provider, out *codes, to string) error {
	v, err := p.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
	if err != nil {
		return err
	}
	res, err := p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: out.get(to)})
	if err != nil {
		return err
	}
	if !res.Approved() {
		return fmt.Errorf("status %s", res.Status)
	}
	return nil
}

var numbers atomic.Int64

// number returns a phone number not used before in this run.
func number() string {
	return "+1415" + strconv.FormatInt(2000000+numbers.Add(1)%7000000, 10)
}

// stepTrips counts the round trips of each step of a verification's life
// on the self-hosted provider over st, whose round trips n counts.
func stepTrips(t *testing.T, st store.Store, n *atomic.Int64) map[string]int64 {
	ctx := t.Context()
	out := new(codes)
	p := provider_(t, st, out)
	// Another replica (a provider over the same store), which has not seen
	// the verification.
	other := provider_(t, st, out)
	// Prepare the statements (PostgreSQL), load the scripts (Redis) and
	// read the key check record on both replicas: a wrong code (a
	// compare-and-swap of a version), then a pair.
	for _, p := range []*selfhosted.Provider{p, other} {
		v, err := p.Start(ctx, provider.StartRequest{To: number(), Channel: provider.ChannelSMS})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "wrong"}); err != nil {
			t.Fatal(err)
		}
		if err := pair(ctx, p, out, number()); err != nil {
			t.Fatal(err)
		}
	}
	to := number()
	got := map[string]int64{}
	step := func(name string, f func() error) {
		before := n.Load()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got[name] = n.Load() - before
	}
	var id string
	step("Start", func() error {
		v, err := p.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
		id = v.ID
		return err
	})
	step("Check wrong code", func() error {
		c := []byte(out.get(to))
		c[0] = '0' + (c[0]-'0'+1)%10
		_, err := p.Check(ctx, provider.CheckRequest{ID: id, Code: string(c)})
		return err
	})
	step("Start again (resend)", func() error {
		_, err := p.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
		return err
	})
	step("Check wrong code, another replica", func() error {
		_, err := other.Check(ctx, provider.CheckRequest{ID: id, Code: "000000"})
		return err
	})
	step("Check right code", func() error {
		_, err := p.Check(ctx, provider.CheckRequest{ID: id, Code: out.get(to)})
		return err
	})
	return got
}

// steps are the steps stepTrips counts, and the round trips each should
// take: one store call, except where the replica has not seen the
// record's current version (a read first), or has seen an older one (the
// compare-and-swap that loses answers with the current record, and the
// rule runs again on it).
var steps = []struct {
	name string
	want int64
}{
	{"Start", 1},
	{"Check wrong code", 1},
	{"Start again (resend)", 1},
	{"Check wrong code, another replica", 2},
	{"Check right code", 2},
}

// TestRoundTrips reports the round trips of each step of a verification's
// life with the self-hosted provider on each store: PostgreSQL statements
// and Redis commands. They are the same on both: the provider makes the
// same store calls, and each store call is one round trip.
func TestRoundTrips(t *testing.T) {
	servers(t)
	var np, nr atomic.Int64
	pgs := pgStore(t, pgPool(t, 1, &np))
	rs := redisStore(t, redisClient(t, &nr))
	p, r := stepTrips(t, pgs, &np), stepTrips(t, rs, &nr)
	for _, s := range steps {
		t.Logf("%-34s postgres %d, redis %d", s.name, p[s.name], r[s.name])
		if p[s.name] != s.want || r[s.name] != s.want {
			t.Errorf("%s: %d round trips to PostgreSQL, %d to Redis; want %d", s.name, p[s.name], r[s.name], s.want)
		}
	}
}

// run runs f b.N times over g goroutines, reports the rate per second
// under unit, and returns it with the CPU time a call of f took (this
// process's and the servers', 0 where not measured).
func run(b *testing.B, g int, unit string, f func(ctx context.Context) error) (rate float64, cpuPer time.Duration) {
	b.Helper()
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	var fail atomic.Value
	self, servers := cpu()
	b.ResetTimer()
	for range g {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := f(ctx); err != nil {
					fail.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err, _ := fail.Load().(error); err != nil {
		b.Fatal(err)
	}
	rate = float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, unit+"/s")
	if self2, servers2 := cpu(); self2 > 0 {
		b.ReportMetric(float64((self2-self).Microseconds())/float64(b.N), "client-µs/"+strings.TrimSuffix(unit, "s"))
		b.ReportMetric(float64((servers2-servers).Microseconds())/float64(b.N), "server-µs/"+strings.TrimSuffix(unit, "s"))
		cpuPer = (self2 - self + servers2 - servers) / time.Duration(b.N)
	}
	return rate, cpuPer
}

// floor is the last floor run of a store at a number of goroutines.
type floor struct {
	rate float64
	cpu  time.Duration
}

// vsFloor reports a pair run's rate as a ratio to the floor's run just
// before it (x-floor), and the floor's CPU time a pair as a ratio to the
// pair's (cpu-x-floor), which a loaded machine disturbs less.
func vsFloor(b *testing.B, f floor, rate float64, cpu time.Duration) {
	if f.rate > 0 {
		b.ReportMetric(rate/f.rate, "x-floor")
	}
	if f.cpu > 0 && cpu > 0 {
		b.ReportMetric(float64(f.cpu)/float64(cpu), "cpu-x-floor")
	}
}

// tripsPerPair is the round trips of one Start+Check pair on the
// self-hosted provider, both on one replica: Start 1 (it creates the
// verification's record), Check 1 (it approves the record by
// compare-and-delete on the version its Start wrote), as TestRoundTrips
// measures.
const tripsPerPair = 2

// BenchmarkPair measures Start+Check pairs a second on the self-hosted
// provider over each store, with 1 and 16 goroutines, beside the floor of
// each store's client: the same number of round trips as a pair makes
// (tripsPerPair), each one single-statement write (PostgreSQL: an
// INSERT ... ON CONFLICT DO UPDATE of one row; Redis: a SET), so the ratio
// pair/floor is what the provider and the store add to bare round trips.
func BenchmarkPair(b *testing.B) {
	servers(b)
	for _, g := range []int{1, 16} {
		pool := pgPool(b, int32(g), nil)
		pst := pgStore(b, pool)
		rc := redisClient(b, nil)
		rst := redisStore(b, rc)
		if _, err := pool.Exec(context.Background(), "CREATE TABLE IF NOT EXISTS floor (k bigint PRIMARY KEY, v bigint NOT NULL)"); err != nil {
			b.Fatal(err)
		}
		var pgFloor, redisFloor floor
		b.Run(fmt.Sprintf("postgres/floor/g%d", g), func(b *testing.B) {
			pgFloor.rate, pgFloor.cpu = run(b, g, "pairs", func(ctx context.Context) error {
				k := numbers.Add(1)
				for range tripsPerPair {
					if _, err := pool.Exec(ctx, "INSERT INTO floor (k, v) VALUES ($1, 1) ON CONFLICT (k) DO UPDATE SET v = floor.v + 1", k); err != nil {
						return err
					}
				}
				return nil
			})
		})
		b.Run(fmt.Sprintf("postgres/pair/g%d", g), func(b *testing.B) {
			out := new(codes)
			p := provider_(b, pst, out)
			rate, cpu := run(b, g, "pairs", func(ctx context.Context) error { return pair(ctx, p, out, number()) })
			vsFloor(b, pgFloor, rate, cpu)
		})
		b.Run(fmt.Sprintf("redis/floor/g%d", g), func(b *testing.B) {
			redisFloor.rate, redisFloor.cpu = run(b, g, "pairs", func(ctx context.Context) error {
				k := "floor:" + strconv.FormatInt(numbers.Add(1), 10)
				for range tripsPerPair {
					if err := rc.Set(ctx, k, "1", 0).Err(); err != nil {
						return err
					}
				}
				return nil
			})
		})
		b.Run(fmt.Sprintf("redis/pair/g%d", g), func(b *testing.B) {
			out := new(codes)
			p := provider_(b, rst, out)
			rate, cpu := run(b, g, "pairs", func(ctx context.Context) error { return pair(ctx, p, out, number()) })
			vsFloor(b, redisFloor, rate, cpu)
		})
	}
}
