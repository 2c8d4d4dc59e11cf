// Command ratios runs the bench package's flows interleaved, round after
// round, in one process against one loopback server, and prints the
// median ns/op, B/op and allocs/op of each variant with its ratios to the
// bare net/http client.
//
//	go run ./cmd/ratios -rounds 7 -benchtime 300ms
//
// With -cpu 1,2 every round runs each variant at each GOMAXPROCS in turn,
// and with -parallel each runs from GOMAXPROCS goroutines at once
// (testing.B.RunParallel); the table then also gives pairs per second and
// how it grew from the first GOMAXPROCS. Interleaving (each round starting
// with the next variant) puts a change in the machine's load on every
// variant alike.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/bench"
)

func main() {
	testing.Init()
	rounds := flag.Int("rounds", 5, "interleaved rounds; the medians are over them")
	benchtime := flag.Duration("benchtime", time.Second, "time for each variant in each round")
	only := flag.String("only", "", "run only the variants with these comma-separated names (bare always runs)")
	cpus := flag.String("cpu", strconv.Itoa(runtime.GOMAXPROCS(0)), "comma-separated GOMAXPROCS values to run each variant at")
	parallel := flag.Bool("parallel", false, "run each variant from GOMAXPROCS goroutines at once")
	flag.Parse()
	if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
		fatal(err)
	}
	var procs []int
	for _, s := range strings.Split(*cpus, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("-cpu: %q is not a positive number", s))
		}
		procs = append(procs, n)
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

	// m[p][i] are the measurements of variant i at procs[p].
	type series struct{ ns, bytes, allocs []float64 }
	m := make([][]series, len(procs))
	for p := range procs {
		m[p] = make([]series, len(vs))
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for r := range *rounds {
		for p, n := range procs {
			runtime.GOMAXPROCS(n)
			// Each round starts with another variant, so that none always
			// follows the same one (and pays for its garbage).
			for k := range vs {
				i := (k + r) % len(vs)
				v := vs[i]
				res, err := measure(pairs[i], *parallel)
				if err != nil {
					fatal(fmt.Errorf("%s: %w", v.Name, err))
				}
				s := &m[p][i]
				s.ns = append(s.ns, float64(res.T.Nanoseconds())/float64(res.N))
				s.bytes = append(s.bytes, float64(res.MemBytes)/float64(res.N))
				s.allocs = append(s.allocs, float64(res.MemAllocs)/float64(res.N))
				fmt.Fprintf(os.Stderr, "round %d/%d cpu %d %-12s %8d ops %10.0f ns/op %8.0f B/op %7.1f allocs/op\n",
					r+1, *rounds, n, v.Name, res.N, s.ns[r], s.bytes[r], s.allocs[r])
				runtime.GC()
			}
		}
	}

	mode := "one goroutine"
	if *parallel {
		mode = "GOMAXPROCS goroutines (RunParallel)"
	}
	fmt.Printf("%d interleaved rounds of %v each, medians; %s; %s, %d cores, %s/%s\n",
		*rounds, *benchtime, mode, runtime.Version(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	for p, n := range procs {
		fmt.Printf("\nGOMAXPROCS %d\n%-12s %10s %9s %8s %10s %7s %10s %7s", n, "variant", "ns/pair", "pairs/s", "×time", "B/pair", "×B", "allocs", "×allocs")
		if p > 0 {
			fmt.Printf(" %9s", fmt.Sprintf("×pairs/s@%d", procs[0]))
		}
		fmt.Printf("  %s\n", "what")
		b := m[p][0]
		b0, m0, a0 := median(b.ns), median(b.bytes), median(b.allocs)
		for i, v := range vs {
			s := m[p][i]
			t, by, a := median(s.ns), median(s.bytes), median(s.allocs)
			fmt.Printf("%-12s %10.0f %9.0f %7.2f× %10.0f %6.2f× %10.1f %6.2f×", v.Name, t, 1e9/t, t/b0, by, by/m0, a, a/a0)
			if p > 0 {
				fmt.Printf(" %10.2f×", median(m[0][i].ns)/t)
			}
			fmt.Printf("  %s\n", v.Doc)
		}
	}
}

// measure runs pair under testing.Benchmark, from one goroutine or, with
// parallel, from GOMAXPROCS goroutines.
func measure(pair bench.Pair, parallel bool) (testing.BenchmarkResult, error) {
	var failed atomic.Pointer[error]
	res := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := pair(ctx, bench.Number()); err != nil {
						failed.Store(&err)
						return
					}
				}
			})
			return
		}
		for b.Loop() {
			if err := pair(ctx, bench.Number()); err != nil {
				failed.Store(&err)
				b.SkipNow()
			}
		}
	})
	if err := failed.Load(); err != nil {
		return res, *err
	}
	return res, nil
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
