package redisstore_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store/redisstore"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
)

// Run with:
//
//	go test -run '^$' -bench . -benchmem ./store/redisstore/   (from its module)
//
// Each runs with GOMAXPROCS goroutines (the fewest RunParallel allows) and
// with 16. BenchmarkStartCheck reports Start+Check pairs on the self-hosted provider
// over Redis, with the commands (round trips) each pair sends;
// BenchmarkBareGetSet is the floor: one GET and one SET from go-redis on
// the same server.

func benchClient(b *testing.B) (*redis.Client, *atomic.Int64) {
	srv := sharedServer(b)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true, DisableIdentity: true, PoolSize: 32})
	b.Cleanup(func() { _ = c.Close() })
	var n atomic.Int64
	c.AddHook(redistest.CountRoundTrips(&n))
	return c, &n
}

// parallel makes RunParallel run g goroutines (RunParallel runs
// parallelism × GOMAXPROCS), or as close as GOMAXPROCS allows.
func parallel(b *testing.B, g int) {
	b.SetParallelism(max(1, g/runtime.GOMAXPROCS(0)))
}

func BenchmarkStartCheck(b *testing.B) {
	for _, g := range []int{runtime.GOMAXPROCS(0), 16} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			c, cmds := benchClient(b)
			s, err := redisstore.New(c, redisstore.WithPrefix(uniquePrefix(b)))
			if err != nil {
				b.Fatal(err)
			}
			var mu sync.Mutex
			codes := map[string]string{}
			sender := selfhosted.SenderFunc(func(_ context.Context, m selfhosted.Message) error {
				mu.Lock()
				codes[m.To] = m.Code
				mu.Unlock()
				return nil
			})
			p, err := selfhosted.New(s, testKey, selfhosted.WithSender(sender, provider.ChannelSMS))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var next atomic.Int64
			cmds.Store(0)
			b.ReportAllocs()
			parallel(b, g)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				to := fmt.Sprintf("+1415555%04d", next.Add(1))
				for pb.Next() {
					v, err := p.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
					if err != nil {
						b.Error(err)
						return
					}
					mu.Lock()
					code := codes[to]
					mu.Unlock()
					got, err := p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
					if err != nil || !got.Approved() {
						b.Error(got, err)
						return
					}
				}
			})
			b.ReportMetric(float64(cmds.Load())/float64(b.N), "roundtrips/pair")
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pairs/s")
		})
	}
}

func BenchmarkBareGetSet(b *testing.B) {
	for _, g := range []int{runtime.GOMAXPROCS(0), 16} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			c, _ := benchClient(b)
			prefix := uniquePrefix(b)
			ctx := context.Background()
			var next atomic.Int64
			b.ReportAllocs()
			parallel(b, g)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				key := fmt.Sprint(prefix, next.Add(1))
				for pb.Next() {
					if err := c.Get(ctx, key).Err(); err != nil && err != redis.Nil {
						b.Error(err)
						return
					}
					if err := c.Set(ctx, key, "0123456789abcdef0123456789abcdef", time.Minute).Err(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pairs/s")
		})
	}
}
