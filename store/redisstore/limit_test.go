package redisstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/redisstore"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
)

// BenchmarkTake measures a Take of the four limits of a typical Start
// (cooldown, budgets per destination, per caller and global) against a
// bare GET, the floor of one round trip to the same server, and against
// Incr (one write, one script). The server of its own writes its
// append-only file without fsync (appendfsync no), so the figures are the
// round trip and the script, not the disk; redistest's servers fsync every
// write, which costs milliseconds on a slow disk.
func BenchmarkTake(b *testing.B) {
	srv := redistest.Start(b)
	ctx := context.Background()
	c := newClient(b, srv.Addr())
	if err := c.ConfigSet(ctx, "appendfsync", "no").Err(); err != nil {
		b.Fatal(err)
	}
	newStore := func(b *testing.B) *redisstore.Store {
		s, err := redisstore.New(c, redisstore.WithPrefix(uniquePrefix(b)))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Run("GET", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = c.Get(ctx, "absent").Err()
		}
	})
	b.Run("Incr", func(b *testing.B) {
		s := newStore(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := s.Incr(ctx, "c", time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Take4", func(b *testing.B) {
		s := newStore(b)
		keys := make([][4]string, 1<<12)
		for i := range keys {
			d := strconv.Itoa(i)
			keys[i] = [4]string{"cd:" + d, "dest:" + d, "ip:" + strconv.Itoa(i%100), "global"}
		}
		limits := make([]store.Limit, 4)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k := &keys[i%len(keys)]
			i++
			limits[0] = store.Limit{Key: k[0], Window: time.Hour, Waits: []time.Duration{time.Millisecond}}
			limits[1] = store.Limit{Key: k[1], Max: 1 << 40, Window: time.Hour}
			limits[2] = store.Limit{Key: k[2], Max: 1 << 40, Window: time.Hour}
			limits[3] = store.Limit{Key: k[3], Max: 1 << 40, Window: time.Hour}
			if _, err := s.Take(ctx, limits); err != nil {
				b.Fatal(err)
			}
		}
	})
}
