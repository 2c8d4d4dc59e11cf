package verify

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/verifykit/verifykit/store"
)

// TestFraudDecisionAllocs checks that a decision of the recommended guard
// on the memory store that lets the send through allocates nothing: the
// memory store keeps no key, so the request's keys stay in its pooled
// buffer instead of being copied into a new string.
func TestFraudDecisionAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops pooled requests")
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := benchGuard(t, &now)
	ctx := context.Background()
	tos := make([]target, 64)
	keys := make([]map[string]string, len(tos))
	for i := range tos {
		tos[i] = target{value: "+1" + strconv.Itoa(2000000000+i*104729)}
		keys[i] = map[string]string{"ip": "198.51.100." + strconv.Itoa(i)}
	}
	i := 0
	n := testing.AllocsPerRun(50, func() {
		j := i % len(tos)
		i++
		now = now.Add(3 * time.Hour)
		if r, err := c.startPolicy(ctx, tos[j], ChannelSMS, keys[j]); err != nil {
			t.Fatal(err)
		} else {
			_ = c.finish(ctx, r, true)
		}
	})
	if n != 0 {
		t.Errorf("a decision allocates %v times; want 0", n)
	}
}

// TestSealAlias checks that the keys a request points into its buffer
// are those it copies out of it.
func TestSealAlias(t *testing.T) {
	build := func(alias bool) []string {
		r := &policyReq{}
		r.add("vk|s|a|", "+15551234567", store.Limit{Max: 1, Window: time.Minute}, rule{policy: PolicySendBudget})
		r.addGuard("vk|f|p|1m0s|", "+1555", nil, false, 7, 3, time.Minute, rule{policy: PolicyVelocity})
		r.seal(alias)
		var ks []string
		for _, l := range r.limits {
			ks = append(ks, l.Key)
		}
		return ks
	}
	copied, aliased := build(false), build(true)
	if len(copied) != 2 || copied[0] != aliased[0] || copied[1] != aliased[1] || copied[1] != "vk|f|p|1m0s|+1555|7" {
		t.Errorf("aliased keys %q, copied %q", aliased, copied)
	}
}
