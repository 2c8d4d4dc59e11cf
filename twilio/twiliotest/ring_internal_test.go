package twiliotest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
)

func TestRing(t *testing.T) {
	t.Parallel()
	r := ring[int]{limit: 3}
	for i := range 7 {
		r.add(i)
		want := []int{}
		for j := max(0, i-2); j <= i; j++ {
			want = append(want, j)
		}
		if diff := cmp.Diff(want, r.slice()); diff != "" {
			t.Fatalf("after adding %d (-want +got):\n%s", i, diff)
		}
		for k := range r.len() {
			if r.at(k) != want[k] {
				t.Fatalf("at(%d) = %d, want %d", k, r.at(k), want[k])
			}
		}
	}
}

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
				e.record(DefaultServiceSID, f, m)
				e.recordApproval(m.VerificationID)
			}
			b.ResetTimer()
			for b.Loop() {
				e.record(DefaultServiceSID, f, m)
				e.recordApproval(m.VerificationID)
			}
		})
	}
}
