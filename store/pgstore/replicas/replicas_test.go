// Package replicas_test shows that verify's policies hold across replicas:
// several processes (this test binary, run again as replicas), each with
// its own verify.Client over its own provider, share one real PostgreSQL
// through the PostgreSQL store, and together never send more than the budget.
package replicas_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/store/pgstore"
	"github.com/verifykit/verifykit/store/pgstore/pgtest"
	"github.com/verifykit/verifykit/verify"
)

const (
	replicas   = 4
	goroutines = 8
	perG       = 10 // Starts per goroutine in the flood
	budget     = 25 // the global send budget, shared by all replicas
	sharedTo   = "+14155550000"
)

// The environment of a replica.
const (
	envReplica = "VERIFYKIT_TEST_REPLICA" // the replica's number
	envURL     = "VERIFYKIT_TEST_PG"      // the server's URL
	envSchema  = "VERIFYKIT_TEST_SCHEMA"  // the schema of this run
)

func TestMain(m *testing.M) {
	if os.Getenv(envReplica) != "" {
		os.Exit(replica())
	}
	code := m.Run()
	pgtest.Cleanup()
	os.Exit(code)
}

// migrated creates the store's schema, named name, on the server at url,
// and returns the name.
func migrated(t *testing.T, url, name string) string {
	t.Helper()
	s, err := pgstore.Open(t.Context(), url, pgstore.WithSchema(name))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return name
}

// replica is the body of one replica process. It waits for a line on
// stdin before each phase, so that all replicas run each phase at once,
// and prints what it sent: "shared N" for the phase in which every
// goroutine of every replica starts a verification to one number (a
// cooldown lets one through), then "sent N" for the flood of distinct
// numbers against the global budget.
func replica() int {
	r, _ := strconv.Atoi(os.Getenv(envReplica))
	s, err := pgstore.Open(context.Background(), os.Getenv(envURL), pgstore.WithSchema(os.Getenv(envSchema)))
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	defer s.Close()
	c, err := verify.New(fake.MustNew(),
		verify.WithPolicyStore(s),
		verify.WithResendCooldown(time.Minute, time.Hour),
		verify.WithSendBudget(verify.Global, budget, time.Hour))
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	in := bufio.NewReader(os.Stdin)
	phase := func(to func(g, j int) string, n int) (int64, error) {
		if _, err := in.ReadString('\n'); err != nil {
			return 0, err
		}
		var sent atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*n)
		for g := range goroutines {
			wg.Go(func() {
				for j := range n {
					_, err := c.Start(context.Background(), to(g, j), verify.ChannelSMS, nil)
					switch {
					case err == nil:
						sent.Add(1)
					case errors.Is(err, verify.ErrTooManySends), errors.Is(err, verify.ErrRateLimited):
					default:
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			return 0, err
		}
		return sent.Load(), nil
	}
	shared, err := phase(func(int, int) string { return sharedTo }, 1)
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	fmt.Println("shared", shared)
	sent, err := phase(func(g, j int) string {
		return "+1415555" + strconv.Itoa(1000+r*100+g*10+j)
	}, perG)
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	fmt.Println("sent", sent)
	return 0
}

func TestReplicasShareTheBudget(t *testing.T) {
	srv := pgtest.Start(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	schema := migrated(t, srv.URL(), "replicas")
	type proc struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Scanner
	}
	procs := make([]proc, replicas)
	for i := range procs {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), envReplica+"="+strconv.Itoa(i), envURL+"="+srv.URL(), envSchema+"="+schema)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		procs[i] = proc{cmd, stdin, bufio.NewScanner(stdout)}
	}
	// run starts a phase in every replica at once and sums what they
	// report under the word want.
	run := func(want string) int {
		for _, p := range procs {
			if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
				t.Fatal(err)
			}
		}
		total := 0
		for i, p := range procs {
			if !p.out.Scan() {
				t.Fatalf("replica %d said nothing: %v", i, p.out.Err())
			}
			word, n, _ := strings.Cut(p.out.Text(), " ")
			if word != want {
				t.Fatalf("replica %d: %s", i, p.out.Text())
			}
			v, err := strconv.Atoi(n)
			if err != nil {
				t.Fatalf("replica %d: %s", i, p.out.Text())
			}
			total += v
		}
		return total
	}
	if shared := run("shared"); shared != 1 {
		t.Errorf("%d replicas x %d goroutines starting to one number under a cooldown sent %d codes, want 1", replicas, goroutines, shared)
	}
	if sent := run("sent"); sent != budget-1 {
		t.Errorf("%d replicas x %d goroutines x %d Starts sent %d codes with a global budget of %d (one spent already), want exactly %d",
			replicas, goroutines, perG, sent, budget, budget-1)
	} else {
		t.Logf("%d processes, %d attempts: %d sent, the budget's remainder", replicas, replicas*goroutines*perG, sent)
	}
	for i, p := range procs {
		_ = p.stdin.Close()
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
}
