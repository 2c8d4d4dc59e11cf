package verify

import (
	"strings"
	"testing"
)

// TestPremiumOfFirstMatch checks the indexed premium lookup against the
// plain reading of FraudGuard.Premium: the first range, in the
// configured order, that the number starts with.
func TestPremiumOfFirstMatch(t *testing.T) {
	ranges := append(PremiumRanges(), "+9", "+44", "+1")
	f, err := newFraud(FraudGuard{Premium: ranges})
	if err != nil {
		t.Fatal(err)
	}
	want := func(e164 string) string {
		for _, p := range ranges {
			if strings.HasPrefix(e164, p) {
				return p
			}
		}
		return ""
	}
	nums := []string{"", "+", "+x1", "+0123", "+33612345678", "+4915112345678", "+5511987654321"}
	for _, p := range ranges {
		nums = append(nums, p+"1234567", p[:len(p)-1]+"0", p[:2])
	}
	for _, n := range nums {
		if got, w := f.premiumOf(n), want(n); got != w {
			t.Errorf("premiumOf(%q) = %q, want %q", n, got, w)
		}
	}
}
