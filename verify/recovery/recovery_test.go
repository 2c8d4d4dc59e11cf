package recovery_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
	"github.com/verifykit/verifykit/verify/recovery"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// env is one provider with a verified TOTP factor for user, a shared
// clock and a recovery.Codes beside it.
type env struct {
	name   string
	clock  *fake.Clock
	client *verify.Client
	st     *store.Memory
	codes  *recovery.Codes
	user   string
	factor string
	code   func() string // the factor's current code
	events *[]verify.LifecycleEvent
	mu     *sync.Mutex
}

func newEnvs(t *testing.T, opts ...recovery.Option) []env {
	t.Helper()
	var out []env
	for _, name := range []string{"fake", "selfhosted"} {
		clock := fake.NewClock(t0)
		st, err := store.NewMemory(store.WithClock(clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		var p provider.Provider
		var f *fake.Fake
		switch name {
		case "fake":
			f = fake.MustNew(fake.WithClock(clock.Now))
			p = f
		case "selfhosted":
			sp, err := selfhosted.New(st, selfhosted.GenerateKey("k1"), selfhosted.WithClock(clock.Now), selfhosted.WithSender(&selfhosted.Outbox{}, provider.ChannelSMS))
			if err != nil {
				t.Fatal(err)
			}
			p = sp
		}
		client, err := verify.New(p)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		const user = "0b9a3c4d-user-0001"
		e, err := client.EnrollTOTP(ctx, user, "Phone", nil)
		if err != nil {
			t.Fatal(err)
		}
		secret, err := totp.DecodeSecret(e.Secret)
		if err != nil {
			t.Fatal(err)
		}
		v := totp.NewVerifier(secret, e.TOTP)
		code := func() string { return v.Code(v.Step(clock.Now())) }
		if f != nil {
			code = func() string { c, _ := f.FactorCode(user, e.ID); return c }
		}
		if fa, err := client.ConfirmFactor(ctx, user, e.ID, code()); err != nil || !fa.Verified() {
			t.Fatalf("%s: confirm: %v %v", name, fa, err)
		}
		var mu sync.Mutex
		events := new([]verify.LifecycleEvent)
		all := append([]recovery.Option{
			recovery.WithClock(clock.Now), recovery.WithIterations(1000),
			recovery.WithOnEvent(func(_ context.Context, ev verify.LifecycleEvent) {
				mu.Lock()
				defer mu.Unlock()
				*events = append(*events, ev)
			}),
		}, opts...)
		codes, err := recovery.New(st, client, all...)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, env{name, clock, client, st, codes, user, e.ID, code, events, &mu})
	}
	return out
}

// approve answers a fresh challenge with the factor's next code.
func (e env) approve(t *testing.T) verify.Challenge {
	t.Helper()
	e.clock.Advance(30 * time.Second)
	ch, err := e.client.CheckFactor(context.Background(), e.user, e.factor, e.code())
	if err != nil || !ch.Approved() {
		t.Fatalf("%s: check factor: %v %v", e.name, ch, err)
	}
	return ch
}

func TestIssueUseOnce(t *testing.T) {
	t.Parallel()
	for _, e := range newEnvs(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			set, err := e.codes.Issue(ctx, e.user)
			if err != nil {
				t.Fatal(err)
			}
			codes := set.Codes()
			if len(codes) != 10 || set.Len() != 10 {
				t.Fatalf("%d codes, want 10", len(codes))
			}
			seen := map[string]bool{}
			for _, c := range codes {
				if len(c) != 14 || c[4] != '-' || c[9] != '-' || strings.Trim(strings.ReplaceAll(c, "-", ""), recovery.Alphabet) != "" || seen[c] {
					t.Errorf("code %q is not 3 groups of 4 alphabet characters, or repeats", c)
				}
				seen[c] = true
			}
			if _, err := e.codes.Issue(ctx, e.user); !errors.Is(err, recovery.ErrAlreadyIssued) {
				t.Fatalf("second Issue: %v, want ErrAlreadyIssued", err)
			}
			// As typed: upper case, spaces, o for 0, l for 1.
			typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
			typed = strings.NewReplacer("0", "o", "1", "l").Replace(typed)
			r, err := e.codes.Use(ctx, e.user, typed)
			if diff := cmp.Diff(recovery.Result{Accepted: true, Remaining: 9}, r); diff != "" || err != nil {
				t.Fatalf("first use (-want +got):\n%s err %v", diff, err)
			}
			r, err = e.codes.Use(ctx, e.user, codes[3])
			if diff := cmp.Diff(recovery.Result{Accepted: false, Remaining: 9}, r); diff != "" || err != nil {
				t.Fatalf("second use (-want +got):\n%s err %v", diff, err)
			}
			if n, err := e.codes.Remaining(ctx, e.user); n != 9 || err != nil {
				t.Fatalf("Remaining = %d %v", n, err)
			}
			e.mu.Lock()
			got := *e.events
			e.mu.Unlock()
			want := []verify.LifecycleEvent{
				{Kind: verify.EventRecoveryCodesIssued, Provider: "recovery", Identity: e.user, Remaining: 10, Time: e.clock.Now()},
				{Kind: verify.EventRecoveryCodeUsed, Provider: "recovery", Identity: e.user, Remaining: 9, Time: e.clock.Now()},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			for _, ev := range got {
				for _, c := range codes {
					if s := fmt.Sprintf("%+v %#v", ev, ev); strings.Contains(s, c) || strings.Contains(s, strings.ReplaceAll(c, "-", "")) {
						t.Errorf("event prints a code: %s", s)
					}
				}
			}
		})
	}
}

func TestWrongAndMalformedCodesAreOutcomes(t *testing.T) {
	t.Parallel()
	e := newEnvs(t)[0]
	ctx := context.Background()
	if r, err := e.codes.Use(ctx, e.user, "aaaa-bbbb-cccc"); r.Accepted || err != nil || r.Remaining != 0 {
		t.Fatalf("no set: %+v %v", r, err)
	}
	if _, err := e.codes.Issue(ctx, e.user); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"", "aaaa", "aaaa-bbbb-cccc-dddd", "uuuu-uuuu-uuuu", "ääää-bbbb-cccc", "0000-0000-0000"} {
		r, err := e.codes.Use(ctx, e.user, c)
		if r.Accepted || err != nil || r.Remaining != 10 {
			t.Errorf("Use(%q) = %+v %v, want refused, 10 left, no error", c, r, err)
		}
	}
}

// TestUseRace: many goroutines race one code; exactly one wins, on both
// providers' stores (run with -race).
func TestUseRace(t *testing.T) {
	t.Parallel()
	for _, e := range newEnvs(t, recovery.WithAttemptLimit(100, time.Hour)) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			set, err := e.codes.Issue(ctx, e.user)
			if err != nil {
				t.Fatal(err)
			}
			code := set.Codes()[0]
			var wins atomic.Int32
			var wg sync.WaitGroup
			for range 40 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := e.codes.Use(ctx, e.user, code)
					if err != nil {
						t.Error(err)
					}
					if r.Accepted {
						wins.Add(1)
					}
				}()
			}
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Fatalf("%d goroutines won with one code, want exactly 1", n)
			}
			if n, _ := e.codes.Remaining(ctx, e.user); n != 9 {
				t.Fatalf("Remaining = %d, want 9", n)
			}
		})
	}
}

// TestUseRaceDifferentCodes: concurrent uses of different codes all win
// (a compare-and-swap conflict is decided again, not lost).
func TestUseRaceDifferentCodes(t *testing.T) {
	t.Parallel()
	e := newEnvs(t)[0]
	ctx := context.Background()
	set, _ := e.codes.Issue(ctx, e.user)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for _, c := range set.Codes()[:8] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, err := e.codes.Use(ctx, e.user, c); r.Accepted && err == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := wins.Load(); n != 8 {
		t.Fatalf("%d of 8 different codes accepted", n)
	}
}

func TestAttemptLimit(t *testing.T) {
	t.Parallel()
	e := newEnvs(t, recovery.WithAttemptLimit(3, time.Hour))[0]
	ctx := context.Background()
	set, _ := e.codes.Issue(ctx, e.user)
	for range 3 {
		if _, err := e.codes.Use(ctx, e.user, "zzzz-zzzz-zzzz"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.codes.Use(ctx, e.user, set.Codes()[0])
	wait, _ := verify.RetryAfter(err)
	if !errors.Is(err, verify.ErrTooManyChecks) || wait != time.Hour {
		t.Fatalf("4th attempt: %v (retry after %s), want ErrTooManyChecks after 1h", err, wait)
	}
	if strings.Contains(err.Error(), set.Codes()[0]) {
		t.Fatal("error prints the code")
	}
	e.clock.Advance(time.Hour)
	if r, err := e.codes.Use(ctx, e.user, set.Codes()[0]); !r.Accepted || err != nil {
		t.Fatalf("after the window: %+v %v", r, err)
	}
}

func TestRegenerateNeedsFreshProof(t *testing.T) {
	t.Parallel()
	for _, e := range newEnvs(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			old, _ := e.codes.Issue(ctx, e.user)

			if _, err := e.codes.Regenerate(ctx, e.user, recovery.Proof{}); !errors.Is(err, recovery.ErrBadProof) {
				t.Errorf("no proof: %v", err)
			}
			if _, err := e.codes.Regenerate(ctx, e.user, recovery.Proof{ChallengeID: old.Codes()[0]}); !errors.Is(err, recovery.ErrBadProof) || !errors.Is(err, verify.ErrNotFound) || strings.Contains(err.Error(), old.Codes()[0]) {
				t.Errorf("a recovery code as proof: %v", err)
			}
			// A wrong code gives a challenge that is not approved.
			e.clock.Advance(30 * time.Second)
			wrong, err := e.client.CheckFactor(ctx, e.user, e.factor, "000000")
			if err != nil {
				t.Fatal(err)
			}
			if wrong.ID != "" {
				if _, err := e.codes.Regenerate(ctx, e.user, recovery.Proof{ChallengeID: wrong.ID}); !errors.Is(err, recovery.ErrBadProof) {
					t.Errorf("unapproved challenge: %v", err)
				}
			}
			// Stale: approved longer ago than the maximum age.
			stale := e.approve(t)
			e.clock.Advance(5*time.Minute + time.Second)
			if _, err := e.codes.Regenerate(ctx, e.user, recovery.Proof{ChallengeID: stale.ID}); !errors.Is(err, recovery.ErrBadProof) {
				t.Errorf("stale proof: %v", err)
			}
			// Another identity's challenge.
			fresh := e.approve(t)
			if _, err := e.codes.Regenerate(ctx, "0b9a3c4d-user-0002", recovery.Proof{ChallengeID: fresh.ID}); !errors.Is(err, recovery.ErrBadProof) {
				t.Errorf("another identity's challenge: %v", err)
			}
			// Fresh: accepted once.
			set, err := e.codes.Regenerate(ctx, e.user, recovery.Proof{ChallengeID: fresh.ID})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.codes.Regenerate(ctx, e.user, recovery.Proof{ChallengeID: fresh.ID}); !errors.Is(err, recovery.ErrBadProof) {
				t.Errorf("proof used twice: %v", err)
			}
			if r, _ := e.codes.Use(ctx, e.user, old.Codes()[1]); r.Accepted {
				t.Error("an old code works after regeneration")
			}
			if r, _ := e.codes.Use(ctx, e.user, set.Codes()[1]); !r.Accepted || r.Remaining != 9 {
				t.Errorf("a new code: %+v", r)
			}
			// The factor deleted: its challenge proves nothing any more.
			last := e.approve(t)
			if err := e.client.DeleteFactor(ctx, e.user, e.factor); err != nil {
				t.Fatal(err)
			}
			if _, err := e.codes.Regenerate(ctx, e.user, recovery.Proof{ChallengeID: last.ID}); err == nil {
				t.Error("a deleted factor's challenge was accepted as proof")
			}
		})
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	e := newEnvs(t)[0]
	ctx := context.Background()
	old, _ := e.codes.Issue(ctx, e.user)
	if err := e.codes.Delete(ctx, e.user); err != nil {
		t.Fatal(err)
	}
	if err := e.codes.Delete(ctx, e.user); err != nil {
		t.Fatal(err)
	}
	if r, _ := e.codes.Use(ctx, e.user, old.Codes()[0]); r.Accepted {
		t.Fatal("a deleted set's code works")
	}
	if _, err := e.codes.Issue(ctx, e.user); err != nil {
		t.Fatalf("Issue after Delete: %v", err)
	}
}

// TestStoredOnlyHashes: the store holds no code, in any spelling.
func TestStoredOnlyHashes(t *testing.T) {
	t.Parallel()
	st, _ := store.NewMemory()
	rec := &recordingStore{Store: st}
	codes, err := recovery.New(rec, nopFactors{}, recovery.WithIterations(1000))
	if err != nil {
		t.Fatal(err)
	}
	set, err := codes.Issue(context.Background(), "0b9a3c4d-user-0001")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.values) == 0 {
		t.Fatal("nothing stored")
	}
	for _, v := range rec.values {
		for _, c := range set.Codes() {
			if strings.Contains(string(v), c) || strings.Contains(string(v), strings.ReplaceAll(c, "-", "")) {
				t.Fatalf("the store holds a code: %s", v)
			}
		}
		if !strings.Contains(string(v), `"iter":1000`) {
			t.Errorf("stored set does not record its cost: %s", v)
		}
	}
}

type recordingStore struct {
	store.Store
	values [][]byte
}

func (r *recordingStore) CompareAndSwap(ctx context.Context, key string, old uint64, value []byte, ttl time.Duration) (store.Record, error) {
	r.values = append(r.values, append([]byte(nil), value...))
	return r.Store.CompareAndSwap(ctx, key, old, value, ttl)
}

type nopFactors struct{}

func (nopFactors) FetchChallenge(context.Context, string, string) (verify.Challenge, error) {
	return verify.Challenge{}, verify.ErrNotFound
}
func (nopFactors) FetchFactor(context.Context, string, string) (verify.Factor, error) {
	return verify.Factor{}, verify.ErrNotFound
}

// TestSet_NoVerbPrintsACode: every fmt verb of a Set (and a pointer to
// one) prints only its length.
func TestSet_NoVerbPrintsACode(t *testing.T) {
	t.Parallel()
	st, _ := store.NewMemory()
	codes, _ := recovery.New(st, nopFactors{}, recovery.WithIterations(1000))
	set, err := codes.Issue(context.Background(), "0b9a3c4d-user-0001")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{set, &set} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%o", "%T", "%10.3v"} {
			s := fmt.Sprintf(verb, v)
			for _, c := range set.Codes() {
				raw := strings.ReplaceAll(c, "-", "")
				if strings.Contains(s, raw[:4]) && strings.Contains(s, raw[4:8]) || strings.Contains(s, fmt.Sprintf("%x", raw)[:8]) {
					t.Errorf("%s of %T prints a code: %s", verb, v, s)
				}
			}
		}
	}
	if s := fmt.Sprint(set); s != "recovery.Set{Len:10}" {
		t.Errorf("String = %s", s)
	}
}

func TestOptionsValidated(t *testing.T) {
	t.Parallel()
	st, _ := store.NewMemory()
	for name, o := range map[string]recovery.Option{
		"iterations": recovery.WithIterations(10), "count": recovery.WithCount(50), "age": recovery.WithProofMaxAge(time.Hour),
		"limit": recovery.WithAttemptLimit(1, time.Hour), "prefix": recovery.WithKeyPrefix(""), "clock": recovery.WithClock(nil),
	} {
		if _, err := recovery.New(st, nopFactors{}, o); !errors.Is(err, verify.ErrInvalidRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := recovery.New(nil, nopFactors{}); err == nil {
		t.Error("nil store accepted")
	}
	codes, _ := recovery.New(st, nopFactors{})
	if _, err := codes.Use(context.Background(), "+14155552671", "x"); !errors.Is(err, verify.ErrInvalidRequest) {
		t.Errorf("a phone number as identity: %v", err)
	}
}
