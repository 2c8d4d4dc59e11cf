package servertest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
)

// OneRoundTrip checks that each operation of s (and of store.Limiter, when
// s has it) is one round trip to the server once the server knows the
// store's statements or scripts: trips returns how many round trips s
// has made so far.
func OneRoundTrip(t *testing.T, s store.Store, trips func() int64) {
	ctx := t.Context()
	var r store.Record
	var err error
	type op struct {
		name string
		do   func() error
	}
	ops := []op{
		{"Get", func() error { _, err := s.Get(ctx, "k"); return err }},
		{"CompareAndSwap create", func() error { r, err = s.CompareAndSwap(ctx, "k", 0, []byte("v"), time.Minute); return err }},
		{"CompareAndSwap update", func() error { r, err = s.CompareAndSwap(ctx, "k", r.Version, []byte("w"), time.Minute); return err }},
		{"CompareAndSwap conflict", func() error {
			_, err := s.CompareAndSwap(ctx, "k", r.Version+1, []byte("w"), time.Minute)
			if errors.Is(err, store.ErrConflict) {
				return nil
			}
			return fmt.Errorf("a stale version: %v, want ErrConflict", err)
		}},
		{"CompareAndDelete", func() error { _, err := s.CompareAndDelete(ctx, "k", r.Version); return err }},
		{"Incr", func() error { _, _, err := s.Incr(ctx, "c", time.Minute); return err }},
	}
	if l, ok := s.(store.Limiter); ok {
		limits := []store.Limit{{Key: "cd", Window: time.Hour, Waits: []time.Duration{30 * time.Second, time.Minute}}}
		for i := range 6 {
			limits = append(limits, store.Limit{Key: fmt.Sprint("b", i), Max: 100, Window: time.Hour})
		}
		ops = append(ops,
			op{"Take", func() error { _, err := l.Take(ctx, limits); return err }},
			op{"Take refused", func() error {
				res, err := l.Take(ctx, limits)
				if err == nil && res.OK {
					return errors.New("taken twice within the cooldown")
				}
				return err
			}},
			op{"Release", func() error { return l.Release(ctx, limits) }})
	}
	// Teach the server the statements or scripts.
	for _, o := range ops {
		_ = o.do()
	}
	for _, o := range ops {
		before := trips()
		if err := o.do(); err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		if got := trips() - before; got != 1 {
			t.Errorf("%s made %d round trips, want 1", o.name, got)
		}
	}
}

// RoundTripsPerRequest counts the round trips to the server of each
// verify request under docs/policies.md's sign-up policy, its state in s:
// trips returns how many round trips s has made so far. A Start is one
// for all its counters (one script or statement) and, since a check
// budget counts per destination, one to remember the verification's
// target for CheckID; a wrong code one, a right one two (the give-back
// of its place), CheckID one more (the target's read).
func RoundTripsPerRequest(t *testing.T, s store.Limiter, trips func() int64) {
	ctx := t.Context()
	client, err := verify.New(fake.MustNew(fake.WithFixedCode("123456")),
		verify.WithPolicyStore(s),
		verify.WithResendCooldown(30*time.Second, 10*time.Minute),
		verify.WithSendBudget(verify.PerDestination, 5, time.Hour),
		verify.WithSendBudget(verify.PerDestination, 10, 24*time.Hour),
		verify.WithSendBudget(verify.PerCaller("ip"), 10, time.Hour),
		verify.WithSendBudget(verify.PerPrefix(6), 30, time.Hour),
		verify.WithSendBudget(verify.Global, 2000, 24*time.Hour),
		verify.WithSendBudget(verify.PerDestination, 2, 24*time.Hour, verify.ChannelCall),
		verify.WithAllowedRegions("US", "CA", "GB"),
		verify.WithDeniedPrefixes(verify.HighCostPrefixes()...),
		verify.WithCheckBudget(verify.PerDestination, 10, time.Hour),
		verify.WithCheckBudget(verify.PerCaller("ip"), 30, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{"ip": "203.0.113.9"}
	var lastID string
	start := func(to string) error {
		v, err := client.Start(ctx, to, verify.ChannelSMS, &verify.StartOptions{CallerKeys: keys})
		if err == nil {
			lastID = v.ID
		}
		return err
	}
	check := func(to, code string) error {
		_, err := client.Check(ctx, to, code, &verify.CheckOptions{CallerKeys: keys})
		return err
	}
	// Teach the server the statements or scripts.
	if err := start("+14155550100"); err != nil {
		t.Fatal(err)
	}
	_, _ = client.CheckID(ctx, lastID, "000000", &verify.CheckOptions{CallerKeys: keys})
	_ = check("+14155550100", "123456")
	for _, op := range []struct {
		name string
		do   func() error
		want int64
	}{
		{"Start", func() error { return start("+14155550101") }, 2},
		{"Start refused by the cooldown", func() error { _ = start("+14155550101"); return nil }, 1},
		{"Start refused by the region rule", func() error { _ = start("+33612345678"); return nil }, 0},
		{"Check with a wrong code", func() error { return check("+14155550101", "000000") }, 1},
		{"Check with the right code", func() error { return check("+14155550101", "123456") }, 2},
		{"Start to another number", func() error { return start("+14155550102") }, 2},
		{"CheckID with a wrong code", func() error {
			_, err := client.CheckID(ctx, lastID, "000000", &verify.CheckOptions{CallerKeys: keys})
			return err
		}, 2},
	} {
		before := trips()
		if err := op.do(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		if got := trips() - before; got != op.want {
			t.Errorf("%s made %d round trips, want %d", op.name, got, op.want)
		}
	}
}
