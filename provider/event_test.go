package provider_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// TestLifecycleEvent_EveryVerbMasks: no fmt verb prints the identity or
// the target whole.
func TestLifecycleEvent_EveryVerbMasks(t *testing.T) {
	t.Parallel()
	const identity, target = "5f0c6b1e-user-0001", "+14155552671"
	e := provider.LifecycleEvent{
		Kind: provider.EventChallengeApproved, Provider: "twilio", Identity: identity, Target: target,
		FactorID: "YF0123", ChallengeID: "YC0123", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	for _, v := range []any{e, &e} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%o"} {
			s := fmt.Sprintf(verb, v)
			if strings.Contains(s, identity) || strings.Contains(s, target) || strings.Contains(s, fmt.Sprintf("%x", target)[:10]) {
				t.Errorf("%s of %T prints the identity or target: %s", verb, v, s)
			}
		}
	}
	if s := e.String(); !strings.Contains(s, "challenge.approved") || !strings.Contains(s, "YC0123") || !strings.Contains(s, "2026-01-02T03:04:05Z") {
		t.Errorf("String = %s, want the kind, IDs and time", s)
	}
}
