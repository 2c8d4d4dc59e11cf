package twiliotest

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkRecordFullOutbox measures what the emulator does for each code
// sent once its outbox is full: with a ring buffer the cost does not grow
// with the outbox limit.
func BenchmarkRecordFullOutbox(b *testing.B) {
	for _, limit := range []int{1000, 100000} {
		b.Run(fmt.Sprint(limit), func(b *testing.B) {
			e := MustNew(WithOutboxLimit(limit))
			m := Message{To: "+14155552671", Channel: "sms", Code: "123456", VerificationSID: "VE00000000000000000000000000000001", ServiceSID: DefaultServiceSID, SentAt: time.Now()}
			for range limit {
				e.record(DefaultServiceSID, nil, m)
				e.recordApproval(m.VerificationSID)
			}
			b.ResetTimer()
			for b.Loop() {
				e.record(DefaultServiceSID, nil, m)
				e.recordApproval(m.VerificationSID)
			}
		})
	}
}
