package fake_test

import (
	"context"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
)

// BenchmarkFakeTOTPCheck measures one right-code TOTP check
// (ChallengeFactor) on the fake: each iteration moves the clock one time
// step, so every code is fresh, and reads the code from a table built
// with the timer stopped.
func BenchmarkFakeTOTPCheck(b *testing.B) {
	ctx := context.Background()
	clock := fake.NewClock(time.Unix(1_700_000_000, 0))
	f := fake.MustNew(fake.WithClock(clock.Now))
	const id = "bench-user-0001"
	e, err := f.EnrollFactor(ctx, provider.EnrollRequest{Identity: id, Type: provider.FactorTOTP, FriendlyName: "phone"})
	if err != nil {
		b.Fatal(err)
	}
	key, _ := totp.DecodeSecret(e.Secret)
	v := totp.NewVerifier(key, provider.TOTPConfig{})
	first, _ := f.FactorCode(id, e.ID)
	if _, err := f.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: id, FactorID: e.ID, Code: first}); err != nil {
		b.Fatal(err)
	}
	const n = 1 << 14
	step := v.Step(clock.Now())
	codes := make([]string, n)
	fill := func() { // the codes of the next n time steps
		for i := range codes {
			step++
			codes[i] = v.Code(step)
		}
	}
	fill()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == n {
			b.StopTimer()
			fill()
			i = 0
			b.StartTimer()
		}
		clock.Advance(30 * time.Second)
		c, err := f.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: e.ID, Code: codes[i]})
		if err != nil || !c.Approved() {
			b.Fatal(c, err)
		}
		i++
	}
}

// BenchmarkFakeTOTPWrongCode measures a wrong-code check, which computes
// every code the skew allows.
func BenchmarkFakeTOTPWrongCode(b *testing.B) {
	ctx := context.Background()
	clock := fake.NewClock(time.Unix(1_700_000_000, 0))
	f := fake.MustNew(fake.WithClock(clock.Now), fake.WithFactorLimits(1<<30, time.Hour))
	const id = "bench-user-0001"
	e, _ := f.EnrollFactor(ctx, provider.EnrollRequest{Identity: id, Type: provider.FactorTOTP, FriendlyName: "phone"})
	code, _ := f.FactorCode(id, e.ID)
	f.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: id, FactorID: e.ID, Code: code})
	wrong := "000000"
	if code == wrong {
		wrong = "000001"
	}
	b.ReportAllocs()
	for b.Loop() {
		if c, err := f.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: e.ID, Code: wrong}); err != nil || c.Approved() {
			b.Fatal(c, err)
		}
	}
}
