package twiliotest

import (
	"fmt"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// TestAttemptsConvertedAfterEviction: once the oldest attempts are
// dropped, an approval still converts every kept attempt of its
// verification (re-sends between other verifications' attempts included)
// and no other.
func TestAttemptsConvertedAfterEviction(t *testing.T) {
	e := MustNew()
	at := time.Unix(1_700_000_000, 0)
	sends := map[string][]provider.SendAttempt{}
	record := func(verif string, i int) {
		sends[verif] = append(sends[verif], provider.SendAttempt{ID: fmt.Sprintf("VL%032d", i), Channel: provider.ChannelSMS, Time: at})
		e.recordAttempt("VA1", "en", 6, provider.Verification{ID: verif, To: "+14155550100", SendAttempts: sends[verif]})
	}
	record("VEa", 0) // dropped below
	record("VEa", 1)
	for i := 2; i <= maxAttempts-3; i++ {
		record("VEb", i)
	}
	record("VEc", 10001)
	record("VEd", 10002)
	record("VEc", 10003)
	e.convertAttempts("VEa")
	e.convertAttempts("VEc")
	a := &e.api
	if a.find(fmt.Sprintf("VL%032d", 0)) != nil || a.attempts.Len() != maxAttempts {
		t.Fatalf("the oldest attempt is kept (%d attempts)", a.attempts.Len())
	}
	for i, want := range map[int]bool{1: true, 10001: true, 10003: true, 9997: false, 10002: false} {
		if got := a.find(fmt.Sprintf("VL%032d", i)); got == nil || got.converted != want {
			t.Errorf("attempt %d: %+v, want converted %v", i, got, want)
		}
	}
}
