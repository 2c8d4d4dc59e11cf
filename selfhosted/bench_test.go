package selfhosted_test

import (
	"context"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
)

// BenchmarkStartCheck measures one Start and one Check with the right code
// on the memory store, with a sender that only keeps the code.
func BenchmarkStartCheck(b *testing.B) {
	pair := startCheck(b)
	b.ReportAllocs()
	for b.Loop() {
		pair()
	}
}

// startCheck returns one Start and one Check with the right code on the
// memory store, with a sender that only keeps the code.
func startCheck(tb testing.TB) func() {
	m, _ := store.NewMemory()
	var code string
	sender := selfhosted.SenderFunc(func(_ context.Context, msg selfhosted.Message) error {
		code = msg.Code
		return nil
	})
	p, err := selfhosted.New(m, testKey, selfhosted.WithSender(sender, provider.ChannelSMS))
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	req := provider.StartRequest{To: to, Channel: provider.ChannelSMS}
	return func() {
		v, err := p.Start(ctx, req)
		if err != nil {
			tb.Fatal(err)
		}
		got, err := p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
		if err != nil || !got.Approved() {
			tb.Fatal(got, err)
		}
	}
}
