package twiliotest

import (
	"fmt"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// TestAttemptsConvertedAfterEviction: the emulator keeps WithOutboxLimit
// attempts; once the oldest are dropped, an approval still converts every
// kept attempt of its verification (re-sends between other verifications'
// attempts included) and no other.
func TestAttemptsConvertedAfterEviction(t *testing.T) {
	const limit = 8
	e := MustNew(WithOutboxLimit(limit))
	at := time.Unix(1_700_000_000, 0)
	sends := map[string][]provider.SendAttempt{}
	record := func(verif string, i int) {
		sends[verif] = append(sends[verif], provider.SendAttempt{ID: fmt.Sprintf("VL%032d", i), Channel: provider.ChannelSMS, Time: at})
		e.recordAttempt("VA1", "en", 6, provider.Verification{ID: verif, To: "+14155550100", SendAttempts: sends[verif]})
	}
	record("VEa", 0) // dropped below
	record("VEa", 1)
	for i := 2; i <= limit-3; i++ {
		record("VEb", i)
	}
	record("VEc", limit-2)
	record("VEd", limit-1)
	record("VEc", limit)
	e.convertAttempts("VEa")
	e.convertAttempts("VEc")
	a := &e.api
	if a.find(fmt.Sprintf("VL%032d", 0)) != nil || a.attempts.Len() != limit {
		t.Fatalf("the oldest attempt is kept (%d attempts)", a.attempts.Len())
	}
	for i, want := range map[int]bool{1: true, limit - 2: true, limit: true, limit - 3: false, limit - 1: false} {
		if got := a.find(fmt.Sprintf("VL%032d", i)); got == nil || got.converted != want {
			t.Errorf("attempt %d: %+v, want converted %v", i, got, want)
		}
	}
}
