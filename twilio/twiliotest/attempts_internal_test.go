package twiliotest

import (
	"fmt"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// TestAttemptsConvertedAfterEviction: once the oldest attempts are
// dropped, an approval still converts every kept attempt of its
// verification and no other.
func TestAttemptsConvertedAfterEviction(t *testing.T) {
	e := MustNew()
	at := time.Unix(1_700_000_000, 0)
	record := func(verif string, i int) {
		e.recordAttempt("VA1", "en", 6, provider.Verification{ID: verif, To: "+14155550100",
			SendAttempts: []provider.SendAttempt{{ID: fmt.Sprintf("VL%032d", i), Channel: provider.ChannelSMS, Time: at}}})
	}
	record("VEa", 0) // dropped below
	record("VEa", 1)
	for i := 2; i <= maxAttempts; i++ {
		record("VEb", i)
	}
	e.convertAttempts("VEa")
	a := &e.api
	if a.byAttempt[fmt.Sprintf("VL%032d", 0)] != nil || len(a.attempts) != maxAttempts {
		t.Fatalf("the oldest attempt is kept (%d attempts)", len(a.attempts))
	}
	if kept := a.byAttempt[fmt.Sprintf("VL%032d", 1)]; kept == nil || !kept.converted {
		t.Errorf("the kept attempt of the approved verification is not converted")
	}
	if other := a.byAttempt[fmt.Sprintf("VL%032d", 2)]; other.converted {
		t.Errorf("another verification's attempt was converted")
	}
}
