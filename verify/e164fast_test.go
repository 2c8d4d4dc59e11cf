package verify

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nyaruka/phonenumbers/v2"
	"github.com/verifykit/verifykit/provider"
)

// agree checks that the fast path, when it decides, gives exactly the full
// path's answer, with and without the number's type. It reports whether
// the fast path decided.
func agree(t *testing.T, s string) bool { return agreeIn(t, s, "") }

// agreeIn is agree, checking the full path with the default region too
// when region is set: Parse ignores it for "+…" input.
func agreeIn(t *testing.T, s, region string) bool {
	t.Helper()
	decided := false
	for _, wantType := range []bool{false, true} {
		fast, ok := fastE164(s, wantType)
		if !ok {
			continue
		}
		decided = true
		full, err := parsePhone(s, "", wantType)
		if err != nil {
			t.Fatalf("fastE164(%q, %v) accepts %+v; the full path refuses it: %v", s, wantType, fast, err)
		}
		if diff := cmp.Diff(full, fast, cmp.AllowUnexported(target{})); diff != "" {
			t.Fatalf("fastE164(%q, %v) differs from the full path (-full +fast):\n%s", s, wantType, diff)
		}
		if region == "" {
			continue
		}
		full, err = parsePhone(s, region, wantType)
		if err != nil || full != fast {
			t.Fatalf("fastE164(%q, %v) = %+v; full path with region %s: %+v, %v", s, wantType, fast, region, full, err)
		}
	}
	return decided
}

// TestFastE164MatchesPhonenumbers sweeps every region's example number of
// every type, and each with every digit changed to 0, 1, 5 or 9, dropped,
// or preceded by a 0 or a 5: the fast path must agree with the full path on all of them,
// and decide most of the valid ones (or it would be no fast path).
func TestFastE164MatchesPhonenumbers(t *testing.T) {
	t.Parallel()
	types := []phonenumbers.PhoneNumberType{
		phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE,
		phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER,
		phonenumbers.UAN, phonenumbers.VOICEMAIL,
	}
	seen := map[string]bool{}
	var examples []string
	add := func(n *phonenumbers.PhoneNumber) {
		if n == nil {
			return
		}
		if s := phonenumbers.Format(n, phonenumbers.E164); !seen[s] {
			seen[s] = true
			examples = append(examples, s)
		}
	}
	for r := range phonenumbers.GetSupportedRegions() {
		for _, typ := range types {
			add(phonenumbers.GetExampleNumberForTypeInRegion(r, typ))
		}
	}
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		add(phonenumbers.GetExampleNumberForNonGeoEntity(cc))
	}
	// The sweep is single-threaded and takes seconds; under the race
	// detector (ten times slower, nothing to find here) or -short, check
	// the examples and every tenth one's variants.
	light := raceEnabled || testing.Short()
	valid, decided, checked := 0, 0, 0
	for n, s := range examples {
		if _, err := parsePhone(s, "", false); err == nil {
			valid++
			if agreeIn(t, s, "DE") {
				decided++
			}
		}
		if light && n%10 != 0 {
			continue
		}
		for i := 1; i < len(s); i++ {
			for _, d := range "0159" {
				agree(t, s[:i]+string(d)+s[i+1:])
				checked++
			}
			agree(t, s[:i]+"0"+s[i:])
			agree(t, s[:i]+"5"+s[i:])
			checked += 2
			agree(t, s[:i]+s[i+1:])
			checked++
		}
	}
	t.Logf("%d example numbers, %d valid, %d decided by the fast path; %d variants checked", len(examples), valid, decided, checked)
	if valid < 500 || decided < valid*8/10 {
		t.Fatalf("the fast path decides %d of %d valid example numbers; want at least 80%%", decided, valid)
	}
}

// TestFastE164Cases pins what the fast path leaves to the full path.
func TestFastE164Cases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		decides bool
	}{
		{"+14155552671", true},
		{"+442071838750", true},
		{"+4402071838750", false}, // a national prefix after the country code: Parse strips it
		{"+390612345678", false},  // Italy's leading zero
		{"+1415555267", false},    // too short: invalid, for the full path to refuse
		{"+14155552671 ", false},  // not bare E.164
		{"+1 415 555 2671", false},
		{"14155552671", false},
		{"+04155552671", false},
		{"+999123456789", false}, // no such country code
		{"+", false},
		{"", false},
	} {
		if got := agree(t, tc.in); got != tc.decides {
			t.Errorf("fastE164(%q) decided = %v, want %v", tc.in, got, tc.decides)
		}
	}
}

// FuzzFastE164 checks the fast path against the full path on any input.
func FuzzFastE164(f *testing.F) {
	for _, s := range []string{"+14155552671", "+442071838750", "+4402071838750", "+390612345678", "+80012345678", "+8821234567", "+79123456789", "+5491123456789", "+12425551234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { agree(t, s) })
}

// TestNormCacheBounded fills the cache far beyond its size from several
// goroutines and checks that it stays bounded and answers what was put.
func TestNormCacheBounded(t *testing.T) {
	t.Parallel()
	var c normCache
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 5 * normCacheSize {
				s := "+1415" + strconv.Itoa(2000000+g*10*normCacheSize+i)
				c.put(s, target{value: s}, i%2 == 0)
				if got, ok := c.get(s, false); ok && got.value != s {
					panic(fmt.Sprintf("get(%q) = %q", s, got.value))
				}
			}
		})
	}
	wg.Wait()
	if n := len(c.cur) + len(c.old); n > 2*normCacheSize {
		t.Fatalf("the cache holds %d entries; want at most %d", n, 2*normCacheSize)
	}
	c.put("+14155552671", target{value: "+14155552671"}, false)
	if _, ok := c.get("+14155552671", true); ok {
		t.Fatal("a target cached without its type answers a lookup that wants it")
	}
	if got, ok := c.get("+14155552671", false); !ok || got.value != "+14155552671" {
		t.Fatalf("get = %+v, %v", got, ok)
	}
}

// TestNormalizeOnce checks that a number the client has normalised is
// not parsed again (a cache hit allocates nothing, a parse dozens of
// times), and that the fast path allocates nothing either.
func TestNormalizeOnce(t *testing.T) {
	c, err := New(nopStarter{}, WithDefaultRegion("US"))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"(415) 555-2671", " +1 415 555 2671", "+14155552671"} {
		first, err := c.target(in, false)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(20, func() {
			if again, err := c.target(in, false); err != nil || again != first {
				t.Fatalf("target(%q) = %+v, %v; first %+v", in, again, err, first)
			}
		}); n != 0 {
			t.Errorf("normalising %q again allocates %v times; want a cache hit (0)", in, n)
		}
	}
	if raceEnabled {
		return // regexp's pooled machines are dropped: it allocates
	}
	if n := testing.AllocsPerRun(20, func() { fastE164("+442071838750", true) }); n != 0 {
		t.Errorf("fastE164 allocates %v times; want 0", n)
	}
}

// nopStarter is a provider that is never called.
type nopStarter struct{}

func (nopStarter) Start(context.Context, provider.StartRequest) (provider.Verification, error) {
	panic("not called")
}

func (nopStarter) Check(context.Context, provider.CheckRequest) (provider.Verification, error) {
	panic("not called")
}

// BenchmarkFastE164 is the fast path on a number of each of the busiest
// calling codes; compare BenchmarkParsePhone.
func BenchmarkFastE164(b *testing.B) {
	in := []string{"+14155552671", "+442071838750", "+4915123456789", "+919876543210", "+5511987654321"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := fastE164(in[i%len(in)], false); !ok {
			b.Fatal(in[i%len(in)])
		}
		i++
	}
}

// BenchmarkParsePhone is the full path on the same numbers.
func BenchmarkParsePhone(b *testing.B) {
	in := []string{"+14155552671", "+442071838750", "+4915123456789", "+919876543210", "+5511987654321"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := parsePhone(in[i%len(in)], "", false); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
