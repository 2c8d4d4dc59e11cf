package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/store/redisstore"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
	"github.com/verifykit/verifykit/verify"
)

// fraudReplica is one replica: its own Redis connection pool, provider
// and verify.Client with the fraud guard.
type fraudReplica struct {
	c   *verify.Client
	ops *atomic.Int64 // Redis commands sent
}

// newFraudReplicas returns n replicas sharing one Redis server under one
// prefix, all on the clock now.
func newFraudReplicas(t *testing.T, n int, now func() time.Time) []fraudReplica {
	srv := sharedServer(t)
	prefix := uniquePrefix(t)
	g := verify.RecommendedFraudGuard()
	g.Now = now
	var rs []fraudReplica
	for range n {
		rc := newClient(t, srv.Addr())
		ops := new(atomic.Int64)
		rc.AddHook(redistest.CountRoundTrips(ops))
		s, err := redisstore.New(rc, redisstore.WithPrefix(prefix))
		if err != nil {
			t.Fatal(err)
		}
		c, err := verify.New(fake.MustNew(fake.WithFixedCode("123456"), fake.WithOutboxLimit(8)),
			verify.WithPolicyStore(s), verify.WithFraudGuard(g))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, fraudReplica{c: c, ops: ops})
	}
	return rs
}

func fraudStart(ctx context.Context, c *verify.Client, to, ip string) error {
	_, err := c.Start(ctx, to, verify.ChannelSMS, &verify.StartOptions{CallerKeys: map[string]string{"ip": ip}})
	return err
}

// TestFraudGuardAcrossReplicas: three replicas on one Redis share the
// guard's counters. A flood of unconverted sends into one prefix from all
// of them together gets exactly the prefix's hourly allowance; sends that
// one replica saw approved do not count against another replica's
// allowance, and raise it on every replica; a decision is one round trip
// (two before a replica's first conversion refusal in a prefix), an
// approval two.
func TestFraudGuardAcrossReplicas(t *testing.T) {
	ctx := t.Context()
	at := time.Now().Truncate(time.Hour).Add(10 * time.Minute)
	rs := newFraudReplicas(t, 3, func() time.Time { return at })
	rec := verify.RecommendedFraudGuard()

	// The flood: 3 replicas × 4 goroutines × 10 sends, each to its own
	// block of numbers in +234803, from its own address.
	var sent, refused atomic.Int64
	var wg sync.WaitGroup
	for r := range rs {
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 10 {
					k := (r*4+g)*10 + i
					err := fraudStart(ctx, rs[r].c, fmt.Sprintf("+234803%03d0000", k), fmt.Sprintf("203.0.%d.1", k))
					var pe *verify.PolicyError
					switch {
					case err == nil:
						sent.Add(1)
					case errors.As(err, &pe) && pe.Policy == verify.PolicyConversion:
						refused.Add(1)
					default:
						t.Errorf("send %d: %v", k, err)
					}
				}
			}()
		}
	}
	wg.Wait()
	if got, want := sent.Load(), int64(rec.PrefixHour.Floor); got != want {
		t.Errorf("replicas together sent %d into the prefix, want its hourly allowance %d (%d refused)", got, want, refused.Load())
	}

	// Replica 0 sends 20 codes into +447911 that end approved, each
	// approval two Redis commands; replica 1, which saw none of them,
	// learns them from Redis: its allowance for sends that do not end
	// approved is Share × 20 = 10, above the floor.
	for i := range 20 {
		to := fmt.Sprintf("+447911%02d0000", i)
		if err := fraudStart(ctx, rs[0].c, to, fmt.Sprintf("198.51.100.%d", i)); err != nil {
			t.Fatalf("converted send %d: %v", i, err)
		}
		before := rs[0].ops.Load()
		if v, err := rs[0].c.Check(ctx, to, "123456", nil); err != nil || !v.Approved() {
			t.Fatalf("check %d: %v %v", i, v.Status, err)
		}
		if got := rs[0].ops.Load() - before; got != 2 && i > 0 { // the first loads the Release script
			t.Errorf("an approval sent %d Redis commands, want 2 (the verified counters' Take, the conversion counters' Release)", got)
		}
	}
	allowance := int(rec.PrefixHour.Share * 20)
	for i := range allowance {
		if err := fraudStart(ctx, rs[1].c, fmt.Sprintf("+4479111%02d999", i), fmt.Sprintf("192.0.2.%d", i)); err != nil {
			t.Fatalf("replica 1, unconverted send %d after replica 0's approvals: %v", i, err)
		}
	}
	err := fraudStart(ctx, rs[1].c, "+447911199899", "192.0.2.99")
	if pe := (*verify.PolicyError)(nil); !errors.As(err, &pe) || pe.Policy != verify.PolicyConversion || pe.Max != allowance {
		t.Errorf("replica 1 past the allowance: %v, want a conversion refusal with Max %d", err, allowance)
	}

	// One decision is one round trip: Start sends the Take, and the write
	// of the verification's target (for CheckID).
	before := rs[2].ops.Load()
	if err := fraudStart(ctx, rs[2].c, "+4915112345678", "192.0.2.200"); err != nil {
		t.Fatal(err)
	}
	if got := rs[2].ops.Load() - before; got != 2 {
		t.Errorf("a guarded Start sent %d Redis commands, want 2 (the Take, the target's record)", got)
	}
	// A refused Start is one round trip too: replica 2 read the verified
	// counters of +234803 before its first refusal there, in the flood,
	// and reads them again only after 10 s.
	for i, want := range []int64{1, 1} {
		before = rs[2].ops.Load()
		err := fraudStart(ctx, rs[2].c, fmt.Sprintf("+234803999%d000", i), fmt.Sprintf("192.0.2.%d", 201+i))
		if got := rs[2].ops.Load() - before; err == nil || got != want {
			t.Errorf("refused Start %d: %v after %d Redis commands, want a refusal after %d", i+1, err, got, want)
		}
	}
}

// TestSpendBudgetAcrossReplicas: three replicas on one Redis share a
// money budget: concurrent sends from all of them together spend exactly
// the budget, and each alert threshold is reported once, by one replica.
func TestSpendBudgetAcrossReplicas(t *testing.T) {
	ctx := t.Context()
	srv := sharedServer(t)
	prefix := uniquePrefix(t)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	prices, err := verify.ParsePrices(strings.NewReader("cc,sms,call,whatsapp\n*,0.10,1,0\n"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	alerts := map[int]int{} // threshold: calls
	var cs []*verify.Client
	for range 3 {
		s, err := redisstore.New(newClient(t, srv.Addr()), redisstore.WithPrefix(prefix))
		if err != nil {
			t.Fatal(err)
		}
		c, err := verify.New(fake.MustNew(fake.WithOutboxLimit(8)), verify.WithPolicyStore(s), verify.WithPrices(prices),
			verify.WithFraudGuard(verify.FraudGuard{
				Spend: []verify.SpendBudget{{Scope: verify.Global, Amount: 1, Period: verify.Daily}},
				OnSpend: func(_ context.Context, a verify.SpendAlert) {
					mu.Lock()
					alerts[a.Threshold]++
					mu.Unlock()
				},
				Now: func() time.Time { return at },
			}))
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	var sent, refused atomic.Int64
	var wg sync.WaitGroup
	for r := range cs {
		for g := range 3 {
			wg.Go(func() {
				for i := range 5 {
					_, err := cs[r].Start(ctx, fmt.Sprintf("+1415555%d%d%02d", r, g, i), verify.ChannelSMS, nil)
					var pe *verify.PolicyError
					switch {
					case err == nil:
						sent.Add(1)
					case errors.As(err, &pe) && pe.Policy == verify.PolicySpendBudget:
						refused.Add(1)
					default:
						t.Errorf("send: %v", err)
					}
				}
			})
		}
	}
	wg.Wait()
	if sent.Load() != 10 || refused.Load() != 35 {
		t.Errorf("%d sent and %d refused at 0.10 a send, want 10 (the budget of 1.00) and 35", sent.Load(), refused.Load())
	}
	if want := map[int]int{50: 1, 80: 1, 100: 1}; fmt.Sprint(alerts) != fmt.Sprint(want) {
		t.Errorf("alerts per threshold = %v, want %v", alerts, want)
	}
}
