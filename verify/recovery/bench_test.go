package recovery_test

import (
	"context"
	"testing"
	"time"

	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify/recovery"
)

// BenchmarkUse measures one check of a wrong code against a full set of 10
// codes at the default cost (every code is hashed, used or not).
func BenchmarkUse(b *testing.B) {
	st, _ := store.NewMemory()
	codes, _ := recovery.New(st, nopFactors{}, recovery.WithAttemptLimit(100, time.Hour))
	ctx := context.Background()
	if _, err := codes.Issue(ctx, "0b9a3c4d-user-0001"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codes.Use(ctx, "0b9a3c4d-user-0001", "zzzz-zzzz-zzzz"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssue measures generating and storing a set of 10 codes at the
// default cost.
func BenchmarkIssue(b *testing.B) {
	st, _ := store.NewMemory()
	codes, _ := recovery.New(st, nopFactors{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codes.Issue(ctx, "0b9a3c4d-user-0001"); err != nil {
			b.Fatal(err)
		}
		if err := codes.Delete(ctx, "0b9a3c4d-user-0001"); err != nil {
			b.Fatal(err)
		}
	}
}
