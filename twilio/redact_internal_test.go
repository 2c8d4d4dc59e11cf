package twilio

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

const fuzzToken = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

// fuzzEncodings are the ways FuzzSanitize writes the credentials.
var fuzzEncodings = []func(user, token string) string{
	func(_, t string) string { return t },
	func(u, t string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+t)) },
	func(u, t string) string { return base64.RawURLEncoding.EncodeToString([]byte(u + ":" + t)) },
	func(_, t string) string { return base64.StdEncoding.EncodeToString([]byte("z" + t)) },
	func(u, t string) string {
		return url.QueryEscape("Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+t)))
	},
	func(u, t string) string {
		var b strings.Builder
		for _, c := range []byte(base64.StdEncoding.EncodeToString([]byte(u + ":" + t))) {
			fmt.Fprintf(&b, `\u%04X`, c)
		}
		return b.String()
	},
	func(_, t string) string {
		var b strings.Builder
		for _, c := range []byte(t) {
			fmt.Fprintf(&b, "&#%d;", c)
		}
		return b.String()
	},
}

// FuzzSanitize puts the credentials, in one of several encodings, between
// arbitrary text, and checks that sanitize never lets a piece of the token
// through that the surrounding text did not hold itself, never returns more
// than maxMessage bytes or invalid UTF-8, and never panics.
func FuzzSanitize(f *testing.F) {
	f.Add("", "", uint8(0), "")
	f.Add(strings.Repeat("a ", 250), " tail", uint8(1), "123456")
	f.Add("%4", "&#x", uint8(5), "")
	f.Add("\\u00", "\\", uint8(6), "code")
	const user = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	r := newRedactor(user, fuzzToken)
	f.Fuzz(func(t *testing.T, prefix, suffix string, enc uint8, code string) {
		in := prefix + fuzzEncodings[int(enc)%len(fuzzEncodings)](user, fuzzToken) + suffix
		out := r.sanitize(in, code)
		if len(out) > maxMessage || !utf8.ValidString(out) {
			t.Fatalf("sanitize gave %d bytes, valid UTF-8 %v", len(out), utf8.ValidString(out))
		}
		for i := 0; i+8 <= len(fuzzToken); i++ {
			frag := fuzzToken[i : i+8]
			if strings.Contains(out, frag) && !strings.Contains(prefix, frag) && !strings.Contains(suffix, frag) {
				t.Fatalf("%q leaks in %q", frag, out)
			}
		}
		// Arbitrary text alone never panics either.
		r.sanitize(prefix+suffix, code)
	})
}

func TestDecodeAt(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]struct {
		c byte
		n int
	}{
		"%2B": {'+', 3}, "%2b": {'+', 3}, "%2": {'%', 1}, `\u002f`: {'/', 6}, `\u012f`: {'\\', 1},
		`\x41`: {'A', 4}, `\/`: {'/', 2}, "&#43;": {'+', 5}, "&#x2F;": {'/', 6}, "&#x;": {'&', 1},
		"&#999;": {'&', 1}, "a": {'a', 1}, "&#": {'&', 1},
	} {
		c, n := decodeAt(in, 0)
		if c != want.c || n != want.n {
			t.Errorf("decodeAt(%q) = %q, %d; want %q, %d", in, c, n, want.c, want.n)
		}
	}
}
