package redisstore_test

import (
	"context"
	"errors"
	"fmt"
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
// allowance; and a decision is one round trip.
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

	// Replica 0 sends 20 codes into +447911 that end approved; replica 1,
	// which saw none of the approvals, still has the prefix's whole
	// floor for sends that do not end approved.
	for i := range 20 {
		to := fmt.Sprintf("+447911%02d0000", i)
		if err := fraudStart(ctx, rs[0].c, to, fmt.Sprintf("198.51.100.%d", i)); err != nil {
			t.Fatalf("converted send %d: %v", i, err)
		}
		if v, err := rs[0].c.Check(ctx, to, "123456", nil); err != nil || !v.Approved() {
			t.Fatalf("check %d: %v %v", i, v.Status, err)
		}
	}
	for i := range rec.PrefixHour.Floor {
		if err := fraudStart(ctx, rs[1].c, fmt.Sprintf("+4479111%d9999", i), fmt.Sprintf("192.0.2.%d", i)); err != nil {
			t.Fatalf("replica 1, unconverted send %d after replica 0's approvals: %v", i, err)
		}
	}
	err := fraudStart(ctx, rs[1].c, "+447911199899", "192.0.2.99")
	if pe := (*verify.PolicyError)(nil); !errors.As(err, &pe) || pe.Policy != verify.PolicyConversion {
		t.Errorf("replica 1 past the floor: %v, want a conversion refusal", err)
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
	before = rs[2].ops.Load()
	err = fraudStart(ctx, rs[2].c, "+2348039990000", "192.0.2.201")
	if got := rs[2].ops.Load() - before; err == nil || got != 1 {
		t.Errorf("a refused Start: %v after %d Redis commands, want a refusal after 1", err, got)
	}
}
