package storebench

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkOps measures each PostgreSQL store call alone, beside the
// floor's single-statement upsert, with one goroutine.
func BenchmarkOps(b *testing.B) {
	servers(b)
	ctx := context.Background()
	pool := pgPool(b, 1, nil)
	s := pgStore(b, pool)
	if _, err := pool.Exec(ctx, "CREATE TABLE IF NOT EXISTS floor (k bigint PRIMARY KEY, v bigint NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	b.Run("floor", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := pool.Exec(ctx, "INSERT INTO floor (k, v) VALUES ($1, 1) ON CONFLICT (k) DO UPDATE SET v = floor.v + 1", int64(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Get", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Get(ctx, "absent"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CASCreate", func(b *testing.B) {
		for b.Loop() { // a new key every time, across -count runs too
			if _, err := s.CompareAndSwap(ctx, "k"+strconv.FormatInt(numbers.Add(1), 10), 0, make([]byte, 300), time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Incr", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.Incr(ctx, "c", time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
}
