package fake_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
)

// targets are distinct E.164 numbers, built before the timer starts.
func targets(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "+1415" + strconv.Itoa(1000000+i)
	}
	return out
}

// BenchmarkFakeStartCheck measures one Start and one right-code Check, the
// cost a test pays per verification flow.
func BenchmarkFakeStartCheck(b *testing.B) {
	ctx := context.Background()
	f := fake.MustNew(fake.WithFixedCode("123456"), fake.WithOutboxLimit(64))
	tos := targets(1 << 12)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		to := tos[i&(len(tos)-1)]
		i++
		if _, err := f.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS}); err != nil {
			b.Fatal(err)
		}
		v, err := f.Check(ctx, provider.CheckRequest{To: to, Code: "123456"})
		if err != nil || !v.Approved() {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkFakeStartCheckParallel is BenchmarkFakeStartCheck from
// GOMAXPROCS goroutines at once, each with its own targets.
func BenchmarkFakeStartCheckParallel(b *testing.B) {
	ctx := context.Background()
	f := fake.MustNew(fake.WithFixedCode("123456"), fake.WithOutboxLimit(64))
	tos := targets(1 << 16)
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		base := int(next.Add(1)) << 12
		i := 0
		for pb.Next() {
			to := tos[(base+i)&(len(tos)-1)]
			i = (i + 1) & (1<<12 - 1)
			if _, err := f.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS}); err != nil {
				b.Error(err)
				return
			}
			if v, err := f.Check(ctx, provider.CheckRequest{To: to, Code: "123456"}); err != nil || !v.Approved() {
				b.Error(v, err)
				return
			}
		}
	})
}
