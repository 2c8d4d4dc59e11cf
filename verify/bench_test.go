package verify_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/verify"
)

// BenchmarkClientStartCheck measures Start and Check through the client on
// the fake: the fake's cost plus normalisation (phone-number parsing) and
// error handling.
func BenchmarkClientStartCheck(b *testing.B) {
	ctx := context.Background()
	c, _ := verify.New(fake.MustNew(fake.WithFixedCode("123456"), fake.WithOutboxLimit(64)))
	tos := make([]string, 1<<12)
	for i := range tos {
		tos[i] = "+1415555" + strconv.Itoa(1000+i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		to := tos[i&(len(tos)-1)]
		i++
		if _, err := c.Start(ctx, to, verify.ChannelSMS, nil); err != nil {
			b.Fatal(err)
		}
		if v, err := c.Check(ctx, to, "123456", nil); err != nil || !v.Approved() {
			b.Fatal(v, err)
		}
	}
}
