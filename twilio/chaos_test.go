package twilio_test

import (
	"context"
	"errors"

	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
	"github.com/verifykit/verifykit/verify"
)

var (
	chaosUsers  = flag.Int("chaos.users", 24, "concurrent users in TestChaos")
	chaosRounds = flag.Int("chaos.rounds", 8, "verification rounds per user in TestChaos")
	chaosSeed   = flag.Uint64("chaos.seed", 0, "seed of TestChaos (0: a new one each run, printed)")
)

// claim is an approval the client reported.
type claim struct {
	to, id, code string
}

// checkResult is what the client answered to one check of a target.
type checkResult struct {
	to string
	// approvedOrUnknown: the check was reported approved, or its outcome
	// unknown; anything else is a definite "not approved".
	approvedOrUnknown bool
}

// TestChaos runs many users at once through verify → twilio → emulator
// while faults are injected at random (errors with and without a lost
// answer, dropped connections, 5xx, 429s), then checks the promises
// against the emulator's own record:
//
//   - no approval was reported for a code other than the one sent;
//   - no approval was reported that the emulator did not grant;
//   - no verification was sent more codes than the policy allows;
//   - no target had more approvals granted than checks the client
//     reported approved or unknown: each grant answers one check, whose
//     result must be one of those, never a definite failure;
//   - every error is one of the sentinels or a context error;
//   - no goroutine is left behind, and memory returns near its start.
//
// It is short by default; -chaos.users and -chaos.rounds make it longer,
// and -chaos.seed replays a run.
func TestChaos(t *testing.T) {
	seed := *chaosSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("chaos seed %d (replay with -chaos.seed=%d)", seed, seed)
	runtime.GC()
	goroutinesBefore := runtime.NumGoroutine()
	var memBefore runtime.MemStats
	runtime.ReadMemStats(&memBefore)

	claims, errs := chaos(t, seed)

	// Every error is typed.
	for _, err := range errs {
		if c := verify.CodeOf(err); c == verify.CodeUnknown {
			t.Errorf("untyped error: %v", err)
		}
	}
	t.Logf("%d approvals reported, %d errors", len(claims), len(errs))

	// Goroutines and memory, once everything is closed.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > goroutinesBefore+2 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(20 * time.Millisecond) // teardown of closed connections
	}
	if n := runtime.NumGoroutine(); n > goroutinesBefore+2 {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines left behind (before %d):\n%s", n-goroutinesBefore, goroutinesBefore, buf[:runtime.Stack(buf, true)])
	}
	runtime.GC()
	var memAfter runtime.MemStats
	runtime.ReadMemStats(&memAfter)
	if grown := int64(memAfter.HeapAlloc) - int64(memBefore.HeapAlloc); grown > 16<<20 {
		t.Errorf("heap grew by %d MiB over the run", grown>>20)
	}
}

// chaos runs the users and checks the invariants that need the emulator;
// it closes everything before returning.
func chaos(t *testing.T, seed uint64) ([]claim, []error) {
	srv := twiliotest.NewServer(twiliotest.WithRandomCodes(), twiliotest.WithOutboxLimit(1<<20))
	defer srv.Close()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	defer transport.CloseIdleConnections()
	tw, err := twilio.New(twiliotest.DefaultServiceSID,
		twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL), twilio.WithHTTPClient(&http.Client{Transport: transport}),
		twilio.WithRetries(2), twilio.WithRetryWait(0, 5*time.Millisecond), twilio.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	client, err := verify.New(tw)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var claims []claim
	var errs []error
	var checks []checkResult
	var wg sync.WaitGroup
	for u := range *chaosUsers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(u)))
			// Users share a few targets, so they contend for them.
			to := fmt.Sprintf("+1415555%04d", 3000+u%max(8, *chaosUsers/3))
			report := func(err error) {
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
			for range *chaosRounds {
				maybeFault(srv, rng)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				v, err := client.Start(ctx, to, verify.ChannelSMS, nil)
				report(err)
				for try := 0; try < 3; try++ {
					maybeFault(srv, rng)
					code, _ := srv.LastCode(to)
					if rng.IntN(3) == 0 || code == "" {
						code = fmt.Sprintf("%06d", rng.IntN(1_000_000))
					}
					var got verify.Verification
					if v.ID != "" && rng.IntN(2) == 0 {
						got, err = client.CheckID(ctx, v.ID, code, nil)
					} else {
						got, err = client.Check(ctx, to, code, nil)
					}
					report(err)
					mu.Lock()
					checks = append(checks, checkResult{to, err == nil && got.Approved() || errors.Is(err, verify.ErrOutcomeUnknown)})
					mu.Unlock()
					if err == nil && got.Approved() {
						mu.Lock()
						claims = append(claims, claim{to: to, id: got.ID, code: code})
						mu.Unlock()
						break
					}
				}
				if v.ID != "" && rng.IntN(4) == 0 {
					maybeFault(srv, rng)
					_, err := client.Cancel(ctx, v.ID)
					report(err)
				}
				cancel()
			}
		})
	}
	wg.Wait()
	srv.ClearFaults()

	// The invariants the emulator's record can check.
	granted := map[string]bool{}
	for _, sid := range srv.Approvals() {
		granted[sid] = true
	}
	codes := map[string]string{}
	sends := map[string]int{}
	toOf := map[string]string{}
	for _, m := range srv.Messages() {
		toOf[m.VerificationSID] = m.To
		if prev, ok := codes[m.VerificationSID]; ok && prev != m.Code {
			t.Errorf("verification %s was sent two codes", m.VerificationSID)
		}
		codes[m.VerificationSID] = m.Code
		sends[m.VerificationSID]++
	}
	for _, c := range claims {
		if !granted[c.id] {
			t.Errorf("the client reported approval of %s, which the emulator never granted", c.id)
		}
		if codes[c.id] != c.code {
			t.Errorf("the client reported approval of %s for a code that was not its code", c.id)
		}
	}
	grants := map[string]int{}
	for sid := range granted {
		grants[toOf[sid]]++
	}
	answered := map[string]int{}
	for _, c := range checks {
		if c.approvedOrUnknown {
			answered[c.to]++
		}
	}
	for to, n := range grants {
		if answered[to] < n {
			t.Errorf("%d approvals were granted to %s, but the client reported only %d of its checks approved or unknown: an approval became a definite failure", n, to, answered[to])
		}
	}
	for sid, n := range sends {
		if n > 5 {
			t.Errorf("verification %s was sent %d codes; the policy allows 5", sid, n)
		}
	}
	if len(codes) == 0 || len(claims) == 0 {
		t.Errorf("the run did nothing useful: %d verifications, %d approvals", len(codes), len(claims))
	}
	return claims, errs
}

// maybeFault injects a random fault one time in four. Faults that Twilio
// (or a proxy in front of it) could really produce only: a dropped
// connection or a 500, 502 or 504 may come after the request was
// processed, and so may a 503 that is not Twilio's own (code 0: a proxy's,
// after forwarding); Twilio's 503 (20503) or a 429 with 20429 means it was
// not.
func maybeFault(srv *twiliotest.Server, rng *rand.Rand) {
	if rng.IntN(4) != 0 {
		return
	}
	ops := []string{"start", "check", "fetch", "update", ""}
	f := twiliotest.Fault{Op: ops[rng.IntN(len(ops))]}
	ambiguous := rng.IntN(2) == 0
	switch rng.IntN(7) {
	case 0:
		f.Drop, f.Processed = true, ambiguous
	case 1:
		f.Status, f.Code, f.Processed = 500, 20500, ambiguous
	case 2:
		f.Status, f.Code = 503, 20503
	case 3:
		f.Status, f.Processed = 502, ambiguous
	case 4:
		f.Status, f.Code = 429, 20429
	case 5:
		f.Status, f.Processed = 504, ambiguous
	case 6:
		f.Status, f.Processed = 503, ambiguous // a proxy's 503
	}
	srv.InjectFault(f)
}
