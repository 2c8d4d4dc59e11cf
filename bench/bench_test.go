package bench

import (
	"context"
	"testing"
)

// TestVariants runs each flow once, so a variant that is broken fails here
// rather than in a benchmark.
func TestVariants(t *testing.T) {
	srv := Server()
	defer srv.Close()
	for _, v := range Variants {
		t.Run(v.Name, func(t *testing.T) {
			pair, err := v.New(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if err := pair(context.Background(), Number()); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPair is one Start(sms)+Check flow per op, for each variant. Run
// cmd/ratios for the variants interleaved, with ratios to "bare".
func BenchmarkPair(b *testing.B) {
	srv := Server()
	defer srv.Close()
	for _, v := range Variants {
		b.Run(v.Name, func(b *testing.B) {
			pair, err := v.New(srv.URL)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				if err := pair(ctx, Number()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPairParallel is BenchmarkPair from GOMAXPROCS goroutines at
// once (run it with -cpu 1,2): how throughput grows with cores.
func BenchmarkPairParallel(b *testing.B) {
	srv := Server()
	defer srv.Close()
	for _, v := range Variants {
		b.Run(v.Name, func(b *testing.B) {
			pair, err := v.New(srv.URL)
			if err != nil {
				b.Fatal(err)
			}
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
}
