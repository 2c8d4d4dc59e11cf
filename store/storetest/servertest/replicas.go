package servertest

import (
	"bufio"
	"context"
	"encoding/json"
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
	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
)

// envReplica holds, in a replica process, the JSON of its replicaConfig.
const envReplica = "VERIFYKIT_SERVERTEST_REPLICA"

// replicaTimeout bounds a whole replica run, in the replica and in the
// test waiting for it: a replica that hangs fails the test, with what it
// printed, instead of hanging it.
const replicaTimeout = 2 * time.Minute

// replicaConfig is what the test gives each replica process.
type replicaConfig struct {
	Role    string // "scaleout" or "budget"
	N       int    // the replica's number
	URL, NS string // the server and the namespace of the run
	// Role scaleout: the verifications and the factor to check.
	ApproveID, ApproveCode, WrongID, WrongCode string
	FactorID, TOTPCode                         string
}

// The protocol between the test and a replica, one line each on stdout:
// the replica prints "READY" once connected, then runs a phase for each
// line it reads on stdin and prints "RESULT " and the phase's JSON; a
// failure prints "ERROR " and a message and ends the replica.
const (
	lineReady  = "READY"
	lineResult = "RESULT "
	lineError  = "ERROR "
)

// Main runs this process as a replica when a test of this package
// started it as one, and then exits; otherwise it returns at once. Call
// it first in TestMain, with the backend the tests use.
func Main(b Backend) {
	raw := os.Getenv(envReplica)
	if raw == "" {
		return
	}
	var cfg replicaConfig
	err := json.Unmarshal([]byte(raw), &cfg)
	if err == nil {
		err = runReplica(b, cfg)
	}
	if err != nil {
		fmt.Println(lineError + err.Error())
		os.Exit(2)
	}
	os.Exit(0)
}

// phaseFunc runs one phase in a replica and returns its result.
type phaseFunc func(ctx context.Context) (any, error)

func runReplica(b Backend, cfg replicaConfig) error {
	ctx, cancel := context.WithTimeout(context.Background(), replicaTimeout)
	defer cancel()
	s, closeStore, err := b.Open(ctx, cfg.URL, cfg.NS)
	if err != nil {
		return err
	}
	defer closeStore()
	var phases []phaseFunc
	switch cfg.Role {
	case "scaleout":
		phases, err = scaleOutReplica(ctx, s, cfg)
	case "budget":
		phases, err = budgetReplica(s, cfg)
	default:
		err = fmt.Errorf("unknown role %q", cfg.Role)
	}
	if err != nil {
		return err
	}
	fmt.Println(lineReady)
	in := bufio.NewReader(os.Stdin)
	for _, phase := range phases {
		if _, err := in.ReadString('\n'); err != nil {
			return fmt.Errorf("waiting for the start of a phase: %w", err)
		}
		r, err := phase(ctx)
		if err != nil {
			return err
		}
		out, err := json.Marshal(r)
		if err != nil {
			return err
		}
		fmt.Println(lineResult + string(out))
	}
	return nil
}

// replica is a replica process, seen from the test.
type replica struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // its stdout, closed at its end
	mu    sync.Mutex
	out   strings.Builder // all it printed, stderr too
}

func (r *replica) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// replicaSet is the replicas of a test, each this test binary run again.
type replicaSet struct {
	ctx  context.Context
	reps []*replica
}

// startReplicas starts n replicas with cfg (N set per replica) and waits
// until each has printed READY. Every wait has a deadline: a replica that
// hangs or ends fails the test with its output, and is killed.
func startReplicas(t *testing.T, n int, cfg replicaConfig) *replicaSet {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), replicaTimeout)
	t.Cleanup(cancel)
	rs := &replicaSet{ctx: ctx}
	for i := range n {
		cfg.N = i
		raw, _ := json.Marshal(cfg)
		// -test.run=^$: Main takes over before any test would run.
		cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), envReplica+"="+string(raw))
		cmd.WaitDelay = 5 * time.Second // a killed replica's pipes are closed too
		r := &replica{cmd: cmd, lines: make(chan string, 16)}
		if r.stdin, err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = writerFunc(func(b []byte) (int, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			return r.out.Write(b)
		})
		if err := cmd.Start(); err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		go func() {
			defer close(r.lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				r.mu.Lock()
				r.out.WriteString(sc.Text() + "\n")
				r.mu.Unlock()
				select {
				case r.lines <- sc.Text():
				case <-ctx.Done():
				}
			}
		}()
		rs.reps = append(rs.reps, r)
	}
	for i := range rs.reps {
		rs.expect(t, i, lineReady)
	}
	return rs
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// expect returns the rest of the next line of replica i that starts with
// prefix, failing the test if the replica ends, reports an error or
// takes too long.
func (rs *replicaSet) expect(t *testing.T, i int, prefix string) string {
	t.Helper()
	r := rs.reps[i]
	for {
		select {
		case line, ok := <-r.lines:
			if !ok {
				err := r.cmd.Wait()
				t.Fatalf("replica %d ended (%v) waiting for %q:\n%s", i, err, prefix, r.output())
			}
			if rest, found := strings.CutPrefix(line, prefix); found {
				return rest
			}
			if strings.HasPrefix(line, lineError) {
				t.Fatalf("replica %d: %s\n%s", i, line, r.output())
			}
		case <-rs.ctx.Done():
			_ = r.cmd.Process.Kill()
			t.Fatalf("replica %d: no %q after %v: %v\n%s", i, prefix, replicaTimeout, rs.ctx.Err(), r.output())
		}
	}
}

// phase starts the next phase in every replica at once and decodes each
// one's result into a new T.
func phase[T any](t *testing.T, rs *replicaSet) []T {
	t.Helper()
	for i, r := range rs.reps {
		if _, err := io.WriteString(r.stdin, "go\n"); err != nil {
			t.Fatalf("replica %d: %v\n%s", i, err, r.output())
		}
	}
	out := make([]T, len(rs.reps))
	for i := range rs.reps {
		if err := json.Unmarshal([]byte(rs.expect(t, i, lineResult)), &out[i]); err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	return out
}

// wait waits for every replica to end well.
func (rs *replicaSet) wait(t *testing.T) {
	t.Helper()
	for i, r := range rs.reps {
		_ = r.stdin.Close()
		for range r.lines {
		}
		if err := r.cmd.Wait(); err != nil {
			t.Errorf("replica %d: %v\n%s", i, err, r.output())
		}
	}
}

var runs atomic.Int64

// namespace returns a namespace no other test run on a shared server uses.
func namespace(name string) string {
	return fmt.Sprintf("%s_%d_%d", name, os.Getpid(), runs.Add(1))
}

const (
	goroutines   = 8  // per replica
	perGoroutine = 10 // requests of each kind per goroutine
)

// ScaleOut runs three replicas of the self-hosted provider as separate
// processes over one server (b's store at url) and hammers, from 8
// goroutines in each: one verification with its right code (exactly one
// approval), one target with Start (exactly MaxSends deliveries), one
// verification with wrong codes (exactly MaxChecks counted) and one TOTP
// factor with its current code (exactly one approval: no replay
// accepted).
func ScaleOut(t *testing.T, b Backend, url string) {
	const (
		replicas  = 3
		approveTo = "+14155552671" // one verification, checked with its right code by everyone
		wrongTo   = "+14155550111" // checked with wrong codes by everyone: at most MaxChecks counted
		identity  = "user-0001-scaleout"
	)
	ctx := t.Context()
	ns := namespace("scaleout")
	s, closeStore, err := b.Open(ctx, url, ns)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	out := new(selfhosted.Outbox)
	p, err := selfhosted.New(s, scaleOutKey, selfhosted.WithSender(out, provider.ChannelSMS))
	if err != nil {
		t.Fatal(err)
	}
	v, err := p.Start(ctx, provider.StartRequest{To: approveTo, Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	code, _ := out.LastCode(approveTo)
	w, err := p.Start(ctx, provider.StartRequest{To: wrongTo, Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	wcode, _ := out.LastCode(wrongTo)
	wrong := []byte(wcode)
	wrong[0] = '0' + (wrong[0]-'0'+1)%10
	// A factor confirmed with the previous step's code, so the current
	// step's code is fresh for the replicas.
	e, err := p.EnrollFactor(ctx, provider.EnrollRequest{Identity: identity, Type: provider.FactorTOTP, FriendlyName: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := totp.DecodeSecret(e.Secret)
	if err != nil {
		t.Fatal(err)
	}
	ver := totp.NewVerifier(secret, e.TOTP)
	now := time.Now()
	if _, err := p.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: identity, FactorID: e.ID, Code: ver.Code(ver.Step(now) - 1)}); err != nil {
		t.Fatal(err)
	}
	rs := startReplicas(t, replicas, replicaConfig{Role: "scaleout", URL: url, NS: ns,
		ApproveID: v.ID, ApproveCode: code, WrongID: w.ID, WrongCode: string(wrong),
		FactorID: e.ID, TOTPCode: ver.Code(ver.Step(now))})
	var total scaleOutResult
	for i, r := range phase[scaleOutResult](t, rs) {
		t.Logf("replica %d: %+v", i, r)
		total.Approved += r.Approved
		total.CheckGone += r.CheckGone
		total.WrongPending += r.WrongPending
		total.WrongTooMany += r.WrongTooMany
		total.Sent += r.Sent
		total.SendRefused += r.SendRefused
		total.Delivered += r.Delivered
		total.TOTPApproved += r.TOTPApproved
		total.TOTPRefused += r.TOTPRefused
		total.Untyped = append(total.Untyped, r.Untyped...)
	}
	rs.wait(t)
	n := replicas * goroutines * perGoroutine
	if len(total.Untyped) > 0 {
		t.Errorf("untyped or unexpected failures: %v", total.Untyped)
	}
	if total.Approved != 1 || total.CheckGone != n-1 {
		t.Errorf("right code checked %d times: %d approved, %d not found; want exactly 1 approval", n, total.Approved, total.CheckGone)
	}
	if total.WrongPending != 5 || total.WrongTooMany != n-5 {
		t.Errorf("wrong code checked %d times: %d counted, %d refused; want exactly 5 counted (MaxChecks)", n, total.WrongPending, total.WrongTooMany)
	}
	if total.Sent != 5 || total.Delivered != 5 || total.SendRefused != n-5 {
		t.Errorf("%d Starts: %d succeeded, %d delivered, %d refused; want exactly 5 (MaxSends)", n, total.Sent, total.Delivered, total.SendRefused)
	}
	if total.TOTPApproved != 1 || total.TOTPRefused != n-1 {
		t.Errorf("TOTP code challenged %d times: %d approved; want exactly 1 (no replay)", n, total.TOTPApproved)
	}
}

var scaleOutKey = selfhosted.Key{ID: "scaleout", Secret: []byte("scaleout-test-key-0123456789abcdef")}

// scaleOutResult is what each replica of ScaleOut reports.
type scaleOutResult struct {
	Approved, CheckGone          int
	WrongPending, WrongTooMany   int
	Sent, SendRefused, Delivered int
	TOTPApproved, TOTPRefused    int
	Untyped                      []string
}

func scaleOutReplica(ctx context.Context, s store.Store, cfg replicaConfig) ([]phaseFunc, error) {
	const sendTo = "+14155550100" // Start hammered by everyone: at most MaxSends deliveries
	out := new(selfhosted.Outbox)
	p, err := selfhosted.New(s, scaleOutKey, selfhosted.WithSender(out, provider.ChannelSMS))
	if err != nil {
		return nil, err
	}
	// Connect (and fill the connection pool) before READY.
	var warm sync.WaitGroup
	for range goroutines {
		warm.Go(func() { _, _ = p.FetchFactor(ctx, "user-0001-scaleout", cfg.FactorID) })
	}
	warm.Wait()
	return []phaseFunc{func(ctx context.Context) (any, error) {
		var mu sync.Mutex
		var r scaleOutResult
		untyped := func(what string, err error) {
			r.Untyped = append(r.Untyped, fmt.Sprintf("%s: %v", what, err))
		}
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				for range perGoroutine {
					v, err := p.Check(ctx, provider.CheckRequest{ID: cfg.ApproveID, Code: cfg.ApproveCode})
					w, werr := p.Check(ctx, provider.CheckRequest{ID: cfg.WrongID, Code: cfg.WrongCode})
					_, serr := p.Start(ctx, provider.StartRequest{To: sendTo, Channel: provider.ChannelSMS})
					c, cerr := p.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: "user-0001-scaleout", FactorID: cfg.FactorID, Code: cfg.TOTPCode})
					mu.Lock()
					switch {
					case err == nil && v.Approved():
						r.Approved++
					case errors.Is(err, provider.ErrNotFound):
						r.CheckGone++
					default:
						untyped("check right", err)
					}
					switch {
					case werr == nil && w.Status == provider.StatusPending:
						r.WrongPending++
					case errors.Is(werr, provider.ErrTooManyChecks):
						r.WrongTooMany++
					default:
						untyped("check wrong", werr)
					}
					switch {
					case serr == nil:
						r.Sent++
					case errors.Is(serr, provider.ErrTooManySends):
						r.SendRefused++
					default:
						untyped("start", serr)
					}
					switch {
					case cerr == nil && c.Approved():
						r.TOTPApproved++
					case cerr == nil:
						r.TOTPRefused++
					default:
						untyped("challenge", cerr)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		r.Delivered = len(out.Messages())
		return r, nil
	}}, nil
}

// The budget of SharedBudget.
const (
	sharedBudget = 25 // the global send budget, shared by all replicas
	sharedTo     = "+14155550000"
)

// SharedBudget runs four replicas of a verify.Client (over the fake
// provider, its policies' state in b's store at url) as separate
// processes and shows that the policies hold across them: 8 goroutines in
// each starting a verification to one number under a resend cooldown send
// one code in all (a cooldown set on one replica holds on the others),
// then a flood of Starts to distinct numbers sends exactly what is left of
// a global budget.
func SharedBudget(t *testing.T, b Backend, url string) {
	const replicas = 4
	ns := namespace("budget")
	// Create the namespace once, before the replicas.
	_, closeStore, err := b.Open(t.Context(), url, ns)
	if err != nil {
		t.Fatal(err)
	}
	closeStore()
	rs := startReplicas(t, replicas, replicaConfig{Role: "budget", URL: url, NS: ns})
	sum := func(rs []int64) (n int64) {
		for _, r := range rs {
			n += r
		}
		return n
	}
	if shared := sum(phase[int64](t, rs)); shared != 1 {
		t.Errorf("%d replicas x %d goroutines starting to one number under a cooldown sent %d codes, want 1", replicas, goroutines, shared)
	}
	if sent := sum(phase[int64](t, rs)); sent != sharedBudget-1 {
		t.Errorf("%d replicas x %d goroutines x %d Starts sent %d codes with a global budget of %d (one spent already), want exactly %d",
			replicas, goroutines, perGoroutine, sent, sharedBudget, sharedBudget-1)
	} else {
		t.Logf("%d processes, %d attempts: %d sent, the budget's remainder", replicas, replicas*goroutines*perGoroutine, sent)
	}
	rs.wait(t)
}

func budgetReplica(s store.Store, cfg replicaConfig) ([]phaseFunc, error) {
	l, ok := s.(store.Limiter)
	if !ok {
		return nil, errors.New("the store is no store.Limiter")
	}
	c, err := verify.New(fake.MustNew(),
		verify.WithPolicyStore(l),
		verify.WithResendCooldown(time.Minute, time.Hour),
		verify.WithSendBudget(verify.Global, sharedBudget, time.Hour))
	if err != nil {
		return nil, err
	}
	// run starts n verifications from each goroutine, to to(g, j), and
	// returns how many were sent.
	run := func(ctx context.Context, to func(g, j int) string, n int) (any, error) {
		var sent atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*n)
		for g := range goroutines {
			wg.Go(func() {
				for j := range n {
					_, err := c.Start(ctx, to(g, j), verify.ChannelSMS, nil)
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
			return nil, err
		}
		return sent.Load(), nil
	}
	return []phaseFunc{
		func(ctx context.Context) (any, error) {
			return run(ctx, func(int, int) string { return sharedTo }, 1)
		},
		func(ctx context.Context) (any, error) {
			return run(ctx, func(g, j int) string {
				return "+1415555" + strconv.Itoa(1000+cfg.N*100+g*10+j)
			}, perGoroutine)
		},
	}, nil
}
