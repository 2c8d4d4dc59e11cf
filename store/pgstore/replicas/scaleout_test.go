package replicas_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store/pgstore"
	"github.com/verifykit/verifykit/store/pgstore/pgtest"
)

const (
	soReplicas = 3              // goroutines (8) each
	approveTo  = "+14155552671" // one verification, checked with its right code by everyone
	sendTo     = "+14155550100" // Start hammered by everyone: at most MaxSends deliveries
	wrongTo    = "+14155550111" // checked with wrong codes by everyone: at most MaxChecks counted
	identity   = "user-0001-scaleout"
	keySchema  = "scaleout"
)

var key = selfhosted.Key{ID: "scaleout", Secret: []byte("scaleout-test-key-0123456789abcdef")}

// config is what the parent gives each replica, as JSON in the environment.
type config struct {
	URL, ApproveID, ApproveCode, WrongID, WrongCode string
	FactorID, TOTPCode                              string
}

// result is what each replica reports.
type result struct {
	Approved, CheckGone          int
	WrongPending, WrongTooMany   int
	Sent, SendRefused, Delivered int
	TOTPApproved, TOTPRefused    int
	Untyped                      []string
}

func newReplica(url string, out selfhosted.Sender) (*selfhosted.Provider, *pgstore.Store, error) {
	st, err := pgstore.Open(context.Background(), url, pgstore.WithSchema(keySchema))
	if err != nil {
		return nil, nil, err
	}
	p, err := selfhosted.New(st, key, selfhosted.WithSender(out, provider.ChannelSMS))
	return p, st, err
}

// TestScaleOut runs three replicas of the self-hosted provider as separate
// processes (this test binary, re-executed) over one real PostgreSQL server and
// hammers, from 8 goroutines in each: one verification with its right
// code (exactly one approval), one target with Start (exactly MaxSends
// deliveries), one verification with wrong codes (exactly MaxChecks
// counted) and one TOTP factor with its current code (exactly one
// approval: no replay accepted).
func TestScaleOut(t *testing.T) {
	if os.Getenv("VK_SCALEOUT_CHILD") == "1" {
		runReplica(t)
		return
	}
	srv := pgtest.Start(t)
	migrated(t, srv.URL(), keySchema)
	ctx := t.Context()
	out := new(selfhosted.Outbox)
	p, st, err := newReplica(srv.URL(), out)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
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
	cfg, _ := json.Marshal(config{URL: srv.URL(), ApproveID: v.ID, ApproveCode: code, WrongID: w.ID, WrongCode: string(wrong),
		FactorID: e.ID, TOTPCode: ver.Code(ver.Step(now))})

	type child struct {
		cmd   *exec.Cmd
		stdin interface{ Close() error }
		out   *strings.Builder
		done  chan struct{} // the output is read to its end
	}
	var children []child
	ready := make(chan int, soReplicas)
	exited := make(chan int, soReplicas) // output read to its end
	for i := range soReplicas {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestScaleOut$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "VK_SCALEOUT_CHILD=1", "VK_SCALEOUT_CONFIG="+string(cfg))
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		pipe, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		c := child{cmd, in, new(strings.Builder), make(chan struct{})}
		go func() {
			defer close(c.done)
			defer func() { exited <- i }()
			sc := bufio.NewScanner(pipe)
			for sc.Scan() {
				if sc.Text() == "READY" {
					ready <- i
				}
				c.out.WriteString(sc.Text() + "\n")
			}
		}()
		children = append(children, c)
	}
	// Every replica has connected to PostgreSQL; closing stdin is the starting
	// signal, so all of them go at once.
	for range soReplicas {
		select {
		case <-ready:
		case i := <-exited:
			t.Fatalf("replica %d ended before it was ready: %v\n%s", i, children[i].cmd.Wait(), children[i].out)
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	for _, c := range children {
		_ = c.stdin.Close()
	}
	var total result
	for i, c := range children {
		<-c.done
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("replica %d: %v\n%s", i, err, c.out)
		}
		var r result
		found := false
		for line := range strings.Lines(c.out.String()) {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "RESULT "); ok {
				if err := json.Unmarshal([]byte(rest), &r); err != nil {
					t.Fatal(err)
				}
				found = true
			}
		}
		if !found {
			t.Fatalf("replica %d reported nothing:\n%s", i, c.out)
		}
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
	n := soReplicas * goroutines * perGoroutine
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

const perGoroutine = 10

func runReplica(t *testing.T) {
	var cfg config
	if err := json.Unmarshal([]byte(os.Getenv("VK_SCALEOUT_CONFIG")), &cfg); err != nil {
		t.Fatal(err)
	}
	out := new(selfhosted.Outbox)
	p, st, err := newReplica(cfg.URL, out)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Connect (and fill the connection pool) before the start signal.
	var warm sync.WaitGroup
	for range goroutines {
		warm.Go(func() { _, _ = p.FetchFactor(ctx, identity, cfg.FactorID) })
	}
	warm.Wait()
	fmt.Println("READY")
	// Wait for the start signal: the parent closes stdin.
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	var mu sync.Mutex
	var r result
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
				c, cerr := p.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: cfg.FactorID, Code: cfg.TOTPCode})
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
	b, _ := json.Marshal(r)
	fmt.Println("RESULT " + string(b))
}
