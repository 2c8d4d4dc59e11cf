// Command loadtest measures the Twilio Verify emulator under load: keep-
// alive workers each run Start(sms)+Check pairs as fast as they can, and
// the program reports pairs per second, the p50 and p99 latency of a pair
// and the process's memory, beside the ceiling of a bare net/http handler
// that checks Basic auth, parses the form and writes fixed JSON, served and
// loaded the same way in the same run:
//
//	go run ./examples/emulator/loadtest -duration 60s -workers 4,16
//
// Both servers run in this process, on loopback, sharing the machine's
// cores with the load generator; the ratio to the ceiling is what the
// performance goal (issue 16) is about. The targets take turns in -rounds
// rounds, so that a change in the machine's load falls on both. It prints a
// progress line a second and a summary table.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/verifykit/verifykit/twilio/twiliotest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// result is one measured run.
type result struct {
	target   string
	workers  int
	pairs    int
	errors   int
	elapsed  time.Duration
	p50, p99 time.Duration
	maxHeap  uint64 // bytes in use by the heap, the most seen
	maxSys   uint64 // bytes obtained from the OS, the most seen
	lat      []time.Duration
}

// merge adds another round of the same target and workers.
func (r *result) merge(o result) {
	r.pairs += o.pairs
	r.errors += o.errors
	r.elapsed += o.elapsed
	r.maxHeap, r.maxSys = max(r.maxHeap, o.maxHeap), max(r.maxSys, o.maxSys)
	r.lat = append(r.lat, o.lat...)
}

// summarise computes the percentiles of the latencies.
func (r *result) summarise() {
	slices.Sort(r.lat)
	if len(r.lat) > 0 {
		r.p50, r.p99 = r.lat[len(r.lat)/2], r.lat[len(r.lat)*99/100]
	}
	r.lat = nil
}

func (r result) rate() float64 { return float64(r.pairs) / r.elapsed.Seconds() }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 10*time.Second, "how long each run lasts")
	workerList := fs.String("workers", "4,16", "comma-separated numbers of concurrent workers, one run each")
	targets := fs.String("targets", "bare,emulator", "what to load: bare (the ceiling), emulator, or both")
	quiet := fs.Bool("quiet", false, "no progress lines")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (servers and load) to this file")
	rounds := fs.Int("rounds", 3, "interleave the targets in this many rounds of duration/rounds each, so that a change in the machine's load touches both")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var workers []int
	for _, w := range strings.Split(*workerList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 || n > 1000 {
			fmt.Fprintf(stderr, "loadtest: -workers: %q is not a number of workers\n", w)
			return 2
		}
		workers = append(workers, n)
	}
	var names []string
	for _, t := range strings.Split(*targets, ",") {
		if t != "bare" && t != "emulator" {
			fmt.Fprintf(stderr, "loadtest: -targets: unknown target %q\n", t)
			return 2
		}
		names = append(names, t)
	}
	if *rounds < 1 || *rounds > 100 {
		fmt.Fprintln(stderr, "loadtest: -rounds must be 1 to 100")
		return 2
	}
	if *duration <= 0 {
		fmt.Fprintln(stderr, "loadtest: -duration must be positive")
		return 2
	}
	fmt.Fprintf(stdout, "%s, %s/%s, GOMAXPROCS %d, %v a run in %d interleaved rounds\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), *duration, *rounds)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "loadtest: -cpuprofile:", err)
			return 1
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	var results []result
	for _, n := range workers {
		byTarget := map[string]*result{}
		for range *rounds {
			for _, name := range names {
				if ctx.Err() != nil {
					break
				}
				progress := io.Writer(stdout)
				if *quiet {
					progress = io.Discard
				}
				r, err := measure(ctx, name, n, *duration/time.Duration(*rounds), progress)
				if err != nil {
					fmt.Fprintln(stderr, "loadtest:", err)
					return 1
				}
				if t := byTarget[name]; t != nil {
					t.merge(r)
				} else {
					byTarget[name] = &r
				}
			}
		}
		for _, name := range names {
			if r := byTarget[name]; r != nil {
				r.summarise()
				results = append(results, *r)
			}
		}
	}
	report(stdout, results)
	return 0
}

// The credentials and service both targets use.
const (
	accountSID = twiliotest.DefaultAccountSID
	authToken  = twiliotest.DefaultAuthToken
	serviceSID = twiliotest.DefaultServiceSID
	code       = "424242"
)

// bare is the ceiling: what any Go server must do for these requests, and
// no more.
func bare() http.Handler {
	start := []byte(`{"sid":"VE00000000000000000000000000000001","status":"pending","valid":false}`)
	check := []byte(`{"sid":"VE00000000000000000000000000000001","status":"approved","valid":true}`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != accountSID || pass != authToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if r.ParseForm() != nil || r.PostForm.Get("To") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/VerificationCheck") {
			w.Write(check)
			return
		}
		w.WriteHeader(http.StatusCreated)
		w.Write(start)
	})
}

// server starts the named target on a loopback port.
func server(name string) (*httptest.Server, error) {
	var h http.Handler
	switch name {
	case "bare":
		h = bare()
	default:
		e, err := twiliotest.New(twiliotest.WithFixedCode(code))
		if err != nil {
			return nil, err
		}
		h = e
	}
	srv := httptest.NewUnstartedServer(h)
	twiliotest.ConfigureServer(srv.Config)
	srv.Start()
	return srv, nil
}

// measure runs n workers against the named target for d.
func measure(ctx context.Context, name string, n int, d time.Duration, progress io.Writer) (result, error) {
	srv, err := server(name)
	if err != nil {
		return result{}, err
	}
	defer srv.Close()
	runtime.GC()
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: n, MaxIdleConnsPerHost: n, MaxConnsPerHost: n}}
	defer client.CloseIdleConnections()
	base := srv.URL + "/v2/Services/" + serviceSID
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()

	var pairs, failures atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, n)
	var wg sync.WaitGroup
	begin := time.Now()
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				to := fmt.Sprintf("+1%03d%07d", w, i%10_000_000) // one number a pair, none shared by two workers
				t0 := time.Now()
				if err := pair(ctx, client, base, to); err != nil {
					if ctx.Err() == nil {
						failures.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					}
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
				pairs.Add(1)
			}
		}()
	}
	var maxHeap, maxSys uint64
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		maxHeap, maxSys = max(maxHeap, m.HeapInuse), max(maxSys, m.Sys)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := int64(0)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			sample()
			p := pairs.Load()
			fmt.Fprintf(progress, "  %-8s %4d workers  %6.1fs  %8d pairs/s  heap %6.1f MB\n", name, n, time.Since(begin).Seconds(), p-last, float64(maxHeap)/(1<<20))
			last = p
		}
	}
	wg.Wait()
	elapsed := time.Since(begin)
	sample()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	r := result{target: name, workers: n, pairs: int(pairs.Load()), errors: int(failures.Load()), elapsed: elapsed, maxHeap: maxHeap, maxSys: maxSys, lat: all}
	if e, ok := firstErr.Load().(string); ok {
		fmt.Fprintf(progress, "  %s %d workers: %d errors, the first: %s\n", name, n, r.errors, e)
	}
	if r.pairs == 0 {
		return r, errors.New(name + ": no pair completed")
	}
	return r, nil
}

// pair makes one Start and one Check with the right code.
func pair(ctx context.Context, c *http.Client, base, to string) error {
	if err := post(ctx, c, base+"/Verifications", url.Values{"To": {to}, "Channel": {"sms"}}, http.StatusCreated); err != nil {
		return err
	}
	return post(ctx, c, base+"/VerificationCheck", url.Values{"To": {to}, "Code": {code}}, http.StatusOK)
}

func post(ctx context.Context, c *http.Client, u string, form url.Values, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(accountSID, authToken)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != want {
		err = fmt.Errorf("%s: status %d, want %d", u, resp.StatusCode, want)
	}
	return err
}

// report prints the summary table, each emulator run with its ratio to
// the bare run of the same number of workers.
func report(w io.Writer, results []result) {
	ceiling := map[int]float64{}
	for _, r := range results {
		if r.target == "bare" {
			ceiling[r.workers] = r.rate()
		}
	}
	fmt.Fprintf(w, "\n%-9s %7s %10s %9s %9s %10s %9s %7s %8s\n", "target", "workers", "pairs/s", "p50", "p99", "heap MB", "sys MB", "errors", "ratio")
	for _, r := range results {
		ratio := "-"
		if c := ceiling[r.workers]; c > 0 && r.target != "bare" {
			ratio = fmt.Sprintf("%.2f×", r.rate()/c)
		}
		fmt.Fprintf(w, "%-9s %7d %10.0f %9s %9s %10.1f %9.1f %7d %8s\n", r.target, r.workers, r.rate(),
			r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond),
			float64(r.maxHeap)/(1<<20), float64(r.maxSys)/(1<<20), r.errors, ratio)
	}
}
