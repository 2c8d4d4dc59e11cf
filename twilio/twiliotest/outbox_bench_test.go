package twiliotest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
)

// BenchmarkRecordFullOutbox measures what the emulator does for each code
// sent once its outbox is full: with a ring buffer the cost does not grow
// with the outbox limit.
func BenchmarkRecordFullOutbox(b *testing.B) {
	for _, limit := range []int{1000, 100000} {
		b.Run(fmt.Sprint(limit), func(b *testing.B) {
			e := MustNew(WithOutboxLimit(limit))
			f := e.services[DefaultServiceSID].fake
			m := fake.Message{To: "+14155552671", Channel: "sms", Code: "123456", VerificationID: "VE00000000000000000000000000000001", SentAt: time.Now()}
			for range limit {
				e.record(context.Background(), DefaultServiceSID, f, m)
				e.recordApproval(m.VerificationID)
			}
			b.ResetTimer()
			for b.Loop() {
				e.record(context.Background(), DefaultServiceSID, f, m)
				e.recordApproval(m.VerificationID)
			}
		})
	}
}
