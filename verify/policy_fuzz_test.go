package verify

import (
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/store"
)

// FuzzPolicyKeys checks the store keys the policies build from what callers
// send (caller keys, destinations) and from what operators configure
// (scopes, prefixes): every scope that parses gives a key prefix with a
// fixed shape; a key is its prefix and a value of bounded length in
// printable ASCII, so nothing personal or hostile reaches the store as it
// is; and two different values never share a key.
func FuzzPolicyKeys(f *testing.F) {
	for _, s := range [][3]string{
		{"caller:ip", "203.0.113.9", "203.0.113.10"},
		{"caller:user", "u-1", "u-1\x00"},
		{"destination", "+14155552671", "+14155552672"},
		{"destination", "a|b@example.com", "a@example.com"},
		{"prefix:6", "+447400123456", "+447400123457"},
		{"country", "+44", "+1"},
		{"global", "", ""},
		{"caller:a|b", "x", "y"},
		{"prefix:016", "+1", "+2"},
		{"caller:" + strings.Repeat("x", 40), "x", "y"},
		{"caller:s", strings.Repeat("s", 300), strings.Repeat("s", 299)},
		{"destination", "Alice@Example.com", "alice+tag@example.com"},
		{"destination", "+a@example.com", "ÄLICE-x@example.com"},
		{"destination", "\u212Aate\u017F@example.com", "x"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, scope, a, b string) {
		bud, err := newBudget("fuzz", "s", Scope(scope), 1, time.Minute, nil)
		if err != nil {
			return
		}
		if strings.Count(bud.pf, "|") != 5 || !strings.HasPrefix(bud.pf, "vk|s|") {
			t.Fatalf("scope %q gives key prefix %q, want 5 separators", scope, bud.pf)
		}
		if strings.Count(string(Scope(scope)), "|") != 0 {
			t.Fatalf("scope %q with a separator parsed", scope)
		}
		hashed := bud.kind == scopeDestination || bud.kind == scopeCaller
		key := func(v string) string {
			r := &policyReq{}
			r.add(bud.pf, v, store.Limit{Max: 1, Window: time.Minute}, rule{policy: PolicySendBudget, b: &bud, value: v})
			r.seal(false)
			return r.limits[0].Key
		}
		ka, kb := key(a), key(b)
		for _, k := range []string{ka, kb} {
			if !strings.HasPrefix(k, bud.pf) {
				t.Fatalf("key %q lacks its prefix %q", k, bud.pf)
			}
			v := k[len(bud.pf):]
			if hashed && len(v) != 22 {
				t.Fatalf("hashed value %q is %d bytes, want 22", v, len(v))
			}
			if hashed {
				for i := range len(v) {
					if c := v[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_') {
						t.Fatalf("hashed value %q is not base64url", v)
					}
				}
			}
		}
		if a != b && ka == kb {
			t.Fatalf("values %q and %q share the key %q", a, b, ka)
		}
		if a == b && ka != kb {
			t.Fatalf("value %q gives two keys", a)
		}
		checkMailbox(t, a, b)
	})
}

// checkMailbox checks the mailbox a destination key stands for when a is
// an e-mail address: spellings that differ in the case of the local part
// (and, with folding, in a tag) give one destination, which is stable, and
// the domain is kept; b is a tag to try.
func checkMailbox(t *testing.T, a, b string) {
	tv, err := normalize(a, "", false)
	if err != nil || !tv.email {
		return
	}
	at := strings.LastIndexByte(tv.value, '@')
	local, domain := tv.value[:at], tv.value[at:]
	for _, delims := range []string{"", "+", "+-"} {
		p := &policyConfig{tagDelims: delims}
		d := p.destination(tv.value, true)
		if p.destination(d, true) != d {
			t.Fatalf("destination(%q) = %q is not stable", tv.value, d)
		}
		if !strings.HasSuffix(d, domain) || strings.LastIndexByte(d, '@') != len(d)-len(domain) {
			t.Fatalf("destination(%q) = %q lost the domain %q", tv.value, d, domain)
		}
		for _, other := range []string{strings.ToUpper(local), swapASCIICase(local)} {
			if got := p.destination(other+domain, true); got != d {
				t.Fatalf("with delims %q, %q is %q but %q is %q", delims, tv.value, d, other+domain, got)
			}
		}
		if delims == "" || local == "" || strings.ContainsAny(local[:1], delims) {
			continue
		}
		base := local
		if i := strings.IndexAny(local, delims); i > 0 {
			base = local[:i]
		}
		if tag := strings.Map(func(r rune) rune {
			if r == '@' || r < ' ' || r >= 0x7f {
				return -1
			}
			return r
		}, b); true {
			if got := p.destination(base+delims[:1]+tag+domain, true); got != d {
				t.Fatalf("with delims %q, %q is %q but the tagged %q is %q", delims, tv.value, d, base+delims[:1]+tag+domain, got)
			}
		}
	}
}

// swapASCIICase swaps the case of the ASCII letters of s.
func swapASCIICase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case 'A' <= c && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

// FuzzDeniedPrefix checks that a prefix is accepted only as '+' and 1 to 15
// digits once spacing is removed, and that a number is denied exactly when
// it begins with the clean prefix.
func FuzzDeniedPrefix(f *testing.F) {
	for _, s := range []string{"+882", "+44 (70)", "+1-900", "882", "+", "++1", "+1+2", "+\u0661", "+1234567890123456"} {
		f.Add(s, "+8823421234")
	}
	f.Fuzz(func(t *testing.T, p, number string) {
		clean, ok := cleanPrefix(p)
		if !ok {
			return
		}
		if len(clean) < 2 || len(clean) > 16 || clean[0] != '+' || strings.Trim(clean[1:], "0123456789") != "" {
			t.Fatalf("cleanPrefix(%q) = %q", p, clean)
		}
		cfg := policyConfig{denyPrefixes: []string{clean}}
		err := cfg.numberRules(number)
		if (err != nil) != strings.HasPrefix(number, clean) {
			t.Fatalf("prefix %q, number %q: %v", clean, number, err)
		}
	})
}
