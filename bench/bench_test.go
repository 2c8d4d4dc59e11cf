package bench

import (
	"context"
	"testing"
)

// runner is *testing.T or *testing.B.
type runner[T any] interface {
	testing.TB
	Run(name string, f func(T)) bool
}

// eachVariant runs body as a subtest (or sub-benchmark) of tb for each
// variant, with the variant's flow built against one shared server.
func eachVariant[T runner[T]](tb T, body func(tb T, pair Pair)) {
	srv := Server()
	defer srv.Close()
	for _, v := range Variants {
		tb.Run(v.Name, func(tb T) {
			pair, err := v.New(srv.URL)
			if err != nil {
				tb.Fatal(err)
			}
			body(tb, pair)
		})
	}
}

// TestVariants runs each flow once, so a variant that is broken fails here
// rather than in a benchmark.
func TestVariants(t *testing.T) {
	eachVariant(t, func(t *testing.T, pair Pair) {
		for range 3 {
			if err := pair(context.Background(), Number()); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// BenchmarkPair is one Start(sms)+Check flow per op, for each variant. Run
// cmd/ratios for the variants interleaved, with ratios to "bare".
func BenchmarkPair(b *testing.B) {
	eachVariant(b, func(b *testing.B, pair Pair) {
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			if err := pair(ctx, Number()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPairParallel is BenchmarkPair from GOMAXPROCS goroutines at
// once (run it with -cpu 1,2): how throughput grows with cores.
func BenchmarkPairParallel(b *testing.B) {
	eachVariant(b, func(b *testing.B, pair Pair) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				if err := pair(ctx, Number()); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
