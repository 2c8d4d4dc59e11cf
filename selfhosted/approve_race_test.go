package selfhosted_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
)

// barrierStore holds the next n reads until all n have read, so n
// concurrent checks all decide on the same version of a record: the
// interleaving that a fast in-memory store almost never produces by itself.
type barrierStore struct {
	store.Store
	left atomic.Int32
	wg   sync.WaitGroup
}

func (b *barrierStore) arm(n int) {
	b.wg.Add(n)
	b.left.Store(int32(n))
}

func (b *barrierStore) Get(ctx context.Context, key string) (store.Record, error) {
	r, err := b.Store.Get(ctx, key)
	if b.left.Add(-1) >= 0 {
		b.wg.Done()
		b.wg.Wait()
	}
	return r, err
}

// TestReplicasApproveOnceSameVersion makes four replicas read the same
// version of one verification and then check its right code: exactly one
// approves (the compare-and-delete that wins), the others find it gone.
func TestReplicasApproveOnceSameVersion(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newClock()
	m, _ := store.NewMemory(store.WithClock(c.Now))
	bs := &barrierStore{Store: m}
	out := new(selfhosted.Outbox)
	const n = 4
	var replicas []*selfhosted.Provider
	for range n {
		p, err := selfhosted.New(bs, testKey, selfhosted.WithClock(c.Now), selfhosted.WithSender(out, provider.ChannelSMS))
		if err != nil {
			t.Fatal(err)
		}
		// The first operation reads the key check record once: do it now,
		// so the barrier below holds only the checks' reads.
		if _, err := p.Fetch(ctx, "VE0000"); err == nil {
			t.Fatal("Fetch of a malformed ID succeeded")
		}
		replicas = append(replicas, p)
	}
	for round := range 5 {
		v, err := replicas[round%n].Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
		if err != nil {
			t.Fatal(err)
		}
		code, _ := out.LastCode(to)
		bs.arm(n - 1) // the replica that started it checks on the version it wrote, without a read
		var approved, gone atomic.Int32
		var wg sync.WaitGroup
		for _, p := range replicas {
			wg.Go(func() {
				got, err := p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
				switch {
				case err == nil && got.Approved():
					approved.Add(1)
				case errors.Is(err, provider.ErrNotFound):
					gone.Add(1)
				default:
					t.Errorf("Check = %v, %v", got, err)
				}
			})
		}
		wg.Wait()
		if approved.Load() != 1 || gone.Load() != n-1 {
			t.Fatalf("round %d: %d approved, %d not found; want 1 and %d", round, approved.Load(), gone.Load(), n-1)
		}
	}
}

// TestReplicasTOTPApproveOnceSameVersion makes four replicas read the same
// version of an identity's record and then challenge its factor with the
// same right code: exactly one approves, the others see a replay.
func TestReplicasTOTPApproveOnceSameVersion(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newClock()
	m, _ := store.NewMemory(store.WithClock(c.Now))
	bs := &barrierStore{Store: m}
	out := new(selfhosted.Outbox)
	const n = 4
	var replicas []*selfhosted.Provider
	for range n {
		p, err := selfhosted.New(bs, testKey, selfhosted.WithClock(c.Now), selfhosted.WithSender(out, provider.ChannelSMS))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Fetch(ctx, "VE0000"); err == nil { // reads the key check record now
			t.Fatal("Fetch of a malformed ID succeeded")
		}
		replicas = append(replicas, p)
	}
	const identity = "user-0001-race"
	e, err := replicas[0].EnrollFactor(ctx, provider.EnrollRequest{Identity: identity, Type: provider.FactorTOTP, FriendlyName: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := totp.DecodeSecret(e.Secret)
	ver := totp.NewVerifier(secret, e.TOTP)
	if f, err := replicas[1].ConfirmFactor(ctx, provider.ConfirmRequest{Identity: identity, FactorID: e.ID, Code: ver.Code(ver.Step(c.Now()))}); err != nil || !f.Verified() {
		t.Fatalf("ConfirmFactor = %v, %v", f, err)
	}
	for round := range 5 {
		c.Advance(30 * time.Second)
		code := ver.Code(ver.Step(c.Now()))
		bs.arm(n)
		var approved, refused atomic.Int32
		var wg sync.WaitGroup
		for _, p := range replicas {
			wg.Go(func() {
				ch, err := p.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: code})
				switch {
				case err != nil:
					t.Errorf("ChallengeFactor = %v, %v", ch, err)
				case ch.Approved():
					approved.Add(1)
				default:
					refused.Add(1)
				}
			})
		}
		wg.Wait()
		if approved.Load() != 1 || refused.Load() != n-1 {
			t.Fatalf("round %d: %d approved, %d not approved; want 1 and %d", round, approved.Load(), refused.Load(), n-1)
		}
	}
}
