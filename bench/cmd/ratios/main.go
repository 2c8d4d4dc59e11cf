// Command ratios runs the bench package's flows interleaved, round after
// round, in one process against one loopback server, and prints the
// median ns/op, B/op and allocs/op of each variant with its ratios to the
// bare net/http client.
//
//	go run ./cmd/ratios -rounds 5 -benchtime 1s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/bench"
)

func main() {
	testing.Init()
	rounds := flag.Int("rounds", 5, "interleaved rounds; the medians are over them")
	benchtime := flag.Duration("benchtime", time.Second, "time for each variant in each round")
	only := flag.String("only", "", "run only the variants with these comma-separated names (bare always runs)")
	flag.Parse()
	if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
		fatal(err)
	}
	srv := bench.Server()
	defer srv.Close()

	var vs []bench.Variant
	for _, v := range bench.Variants {
		if *only == "" || v.Name == "bare" || slices.Contains(strings.Split(*only, ","), v.Name) {
			vs = append(vs, v)
		}
	}
	pairs := make([]bench.Pair, len(vs))
	for i, v := range vs {
		p, err := v.New(srv.URL)
		if err != nil {
			fatal(fmt.Errorf("%s: %w", v.Name, err))
		}
		// Warm up: connections, caches of the runtime.
		for range 200 {
			if err := p(context.Background(), bench.Number()); err != nil {
				fatal(fmt.Errorf("%s: %w", v.Name, err))
			}
		}
		pairs[i] = p
	}

	ns := make([][]float64, len(vs))
	bytes := make([][]float64, len(vs))
	allocs := make([][]float64, len(vs))
	for r := range *rounds {
		for i, v := range vs {
			var failed error
			res := testing.Benchmark(func(b *testing.B) {
				b.ReportAllocs()
				ctx := context.Background()
				for b.Loop() {
					if err := pairs[i](ctx, bench.Number()); err != nil {
						failed = err
						b.SkipNow()
					}
				}
			})
			if failed != nil {
				fatal(fmt.Errorf("%s: %w", v.Name, failed))
			}
			ns[i] = append(ns[i], float64(res.T.Nanoseconds())/float64(res.N))
			bytes[i] = append(bytes[i], float64(res.MemBytes)/float64(res.N))
			allocs[i] = append(allocs[i], float64(res.MemAllocs)/float64(res.N))
			fmt.Fprintf(os.Stderr, "round %d/%d %-12s %8d ops %10.0f ns/op %8.0f B/op %7.1f allocs/op\n",
				r+1, *rounds, v.Name, res.N, ns[i][r], bytes[i][r], allocs[i][r])
		}
	}

	fmt.Printf("%d interleaved rounds of %v each, medians; %s, GOMAXPROCS %d, %s/%s\n\n",
		*rounds, *benchtime, runtime.Version(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("%-12s %10s %9s %10s %7s %10s %7s  %s\n", "variant", "ns/pair", "×time", "B/pair", "×B", "allocs", "×allocs", "what")
	b0, m0, a0 := median(ns[0]), median(bytes[0]), median(allocs[0])
	for i, v := range vs {
		t, m, a := median(ns[i]), median(bytes[i]), median(allocs[i])
		fmt.Printf("%-12s %10.0f %8.2f× %10.0f %6.2f× %10.1f %6.2f×  %s\n", v.Name, t, t/b0, m, m/m0, a, a/a0, v.Doc)
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "ratios:", err)
	os.Exit(1)
}
