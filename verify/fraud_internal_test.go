package verify

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers/v2"
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

// TestCallingCodeTable checks the calling code table against the plain
// reading: the shortest of the first one to three digits that
// phonenumbers knows as a country code.
func TestCallingCodeTable(t *testing.T) {
	want := func(e164 string) string {
		for l := 1; l <= 3 && l < len(e164); l++ {
			n, err := strconv.Atoi(e164[1 : 1+l])
			if err == nil && len(phonenumbers.GetRegionCodesForCountryCode(n)) > 0 {
				return e164[:1+l]
			}
		}
		return ""
	}
	for n := range 100000 {
		s := strconv.Itoa(n)
		for _, e := range []string{"+" + s, "+" + s + "5550123", "+0" + s, "+" + s + "x"} {
			if got, w := callingCode(e), want(e); got != w {
				t.Fatalf("callingCode(%q) = %q, want %q", e, got, w)
			}
		}
	}
}

// TestParseIPv4MatchesNetip: ipRange's fast IPv4 path parses exactly the
// dotted quads netip.ParseAddr parses, to the same address.
func TestParseIPv4MatchesNetip(t *testing.T) {
	in := []string{"0.0.0.0", "255.255.255.255", "198.51.100.7", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.00",
		"256.1.1.1", "1.2.3.4 ", "1..3.4", ".1.2.3", "1.2.3.", "1.2.3.-4", "::1", "::ffff:1.2.3.4", "", "1.2.3.4%x", "1000.1.1.1"}
	for n := range 3000 {
		in = append(in, strconv.Itoa(n%300)+"."+strconv.Itoa(n/7)+".0"+strconv.Itoa(n%3)+"."+strconv.Itoa(n))
		in = append(in, strconv.Itoa(n%260)+"."+strconv.Itoa(n/12)+"."+strconv.Itoa(n%10)+"."+strconv.Itoa(n%257))
	}
	for _, s := range in {
		got, ok := parseIPv4(s)
		a, err := netip.ParseAddr(s)
		if ok != (err == nil && a.Is4()) || ok && got != a.As4() {
			t.Errorf("parseIPv4(%q) = %v, %v; netip: %v, %v", s, got, ok, a, err)
		}
		var want [17]byte
		if err == nil {
			want = addrRange(a)
		}
		if r, rok := ipRange(s); rok != (err == nil) || r != want {
			t.Errorf("ipRange(%q) = %v, %v, want %v", s, r, rok, want)
		}
	}
}
