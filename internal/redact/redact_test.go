package redact

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

const fuzzToken = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

// maxMessage is the bound twilio and vonage give a server's text.
const maxMessage = 512

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
// than maxMessage bytes or invalid UTF-8, and never panics. It is the
// twilio table's fuzz target, run once here for every package that
// quotes a server.
func FuzzSanitize(f *testing.F) {
	f.Add("", "", uint8(0), "")
	f.Add(strings.Repeat("a ", 250), " tail", uint8(1), "123456")
	f.Add("%4", "&#x", uint8(5), "")
	f.Add("\\u00", "\\", uint8(6), "code")
	const user = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	r := NewBasic(user, fuzzToken)
	f.Fuzz(func(t *testing.T, prefix, suffix string, enc uint8, code string) {
		in := prefix + fuzzEncodings[int(enc)%len(fuzzEncodings)](user, fuzzToken) + suffix
		out := r.Sanitize(in, maxMessage, code)
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
		r.Sanitize(prefix+suffix, maxMessage, code)
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

// TestSanitize is the table every quoting package relies on: secrets in
// their encodings are redacted, phone numbers and e-mail addresses are
// masked before the cut (so none survives in part at the cut), IDs are
// kept, and the cut falls on a character boundary.
func TestSanitize(t *testing.T) {
	t.Parallel()
	r := NewBasic("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", fuzzToken)
	for _, tc := range []struct {
		name, in string
		limit    int
		extra    []string
		want     string
	}{
		{"token", "bad token " + fuzzToken, 512, nil, "bad token [redacted]"},
		{"code", "code 482913 refused", 512, []string{"482913"}, "code [redacted] refused"},
		{"phone and e-mail", "to +14155552671 or alice@example.com", 512, nil, "to +14*******71 or a****@example.com"},
		{"IDs kept", "VE0123456789abcdef0123456789abcdef c11236f4-00bf-4b89-84ba-88b25df97315", 512, nil,
			"VE0123456789abcdef0123456789abcdef c11236f4-00bf-4b89-84ba-88b25df97315"},
		{"a number at the cut is masked first", "aaaa +14155552671", 12, nil, "aaaa +14****"},
		{"the cut falls between characters", "aaaé", 4, nil, "aaa"},
		{"invalid UTF-8 is replaced", "a\xffb", 512, nil, "a\uFFFDb"},
		{"a secret at the cut", "aaaa " + fuzzToken, 10, nil, "aaaa [reda"},
	} {
		if got := r.Sanitize(tc.in, tc.limit, tc.extra...); got != tc.want {
			t.Errorf("%s: Sanitize(%q, %d) = %q, want %q", tc.name, tc.in, tc.limit, got, tc.want)
		}
	}
	var nilR *Redactor
	if got := nilR.Sanitize("code 4829 to +14155552671", 512, "4829"); got != "code [redacted] to +14*******71" {
		t.Errorf("nil Redactor: %q", got)
	}
	if got := Sanitize("secret s3cr3t-value", 512, "s3cr3t-value"); got != "secret [redacted]" {
		t.Errorf("Sanitize: %q", got)
	}
}

// FuzzCut checks that cut never gives more than limit bytes, keeps a valid
// string valid, and keeps a prefix.
func FuzzCut(f *testing.F) {
	f.Add("aaaé", 4)
	f.Add("", 0)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 0 || limit > 1<<16 {
			return
		}
		out := cut(s, limit)
		if len(out) > limit || !strings.HasPrefix(s, out) || utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("cut(%q, %d) = %q", s, limit, out)
		}
	})
}

// each writes every byte of s with format (a fmt verb taking the byte).
func each(s, format string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		fmt.Fprintf(&b, format, c)
	}
	return b.String()
}

// TestSanitizeEncodings checks each encoding the Redactor's doc names, and
// that every occurrence is redacted, not only the first: a secret written
// right after itself or after another one, in any of those encodings, and
// secrets that overlap.
func TestSanitizeEncodings(t *testing.T) {
	t.Parallel()
	// Bytes whose hex has letters (J, o, Z, ...), and ends that do not
	// belong to an encoded run, so that redaction cannot reach the next
	// secret by widening over it.
	const s1, s2, s3 = "~Jo.Zk?O~", "~second.secret~", `~x/y-z"~`
	r := New(s1, s2, s3)
	b64 := func(enc *base64.Encoding, prefix string) string { return enc.EncodeToString([]byte(prefix + s1)) }
	for _, tc := range []struct{ name, in, want string }{
		{"raw", "a " + s1 + " b", "a [redacted] b"},
		{"percent upper", "a " + each(s1, "%%%02X") + " b", "a [redacted] b"},
		{"percent lower", "a " + each(s1, "%%%02x") + " b", "a [redacted] b"},
		{"percent mixed with raw", "a ~Jo%2eZk%3FO~ b", "a [redacted] b"},
		{"JSON \\u upper hex", "a " + each(s1, `\u%04X`) + " b", "a [redacted] b"},
		{"JSON \\u lower hex", "a " + each(s1, `\u%04x`) + " b", "a [redacted] b"},
		{"JSON \\U", "a " + each(s1, `\U%04X`) + " b", "a [redacted] b"},
		{"\\x", "a " + each(s1, `\x%02x`) + " b", "a [redacted] b"},
		{"JSON \\/, \\- and \\\"", `a ~x\/y\-z\"~ b`, "a [redacted] b"},
		{"HTML decimal", "a " + each(s1, "&#%d;") + " b", "a [redacted] b"},
		{"HTML decimal, leading zeros", "a " + each(s1, "&#%04d;") + " b", "a [redacted] b"},
		{"HTML hex lower", "a " + each(s1, "&#x%x;") + " b", "a [redacted] b"},
		{"HTML hex upper", "a " + each(s1, "&#X%X;") + " b", "a [redacted] b"},
		{"HTML hex mixed case", "a &#x7E;&#x4a;&#X6F;&#x2e;&#x5a;&#x6B;&#x3f;&#X4f;&#x7e; b", "a [redacted] b"},
		{"HTML mixed with raw", "a ~J&#111;.Z&#x6b;?O~ b", "a [redacted] b"},
		{"hex lower", "a " + each(s1, "%02x") + " b", "a [redacted] b"},
		{"hex upper", "a " + each(s1, "%02X") + " b", "a [redacted] b"},
		{"base64 std padded", "a " + b64(base64.StdEncoding, "") + " b", "a [redacted] b"},
		{"base64 URL raw", "a " + b64(base64.RawURLEncoding, "") + " b", "a [redacted] b"},
		{"base64 at offset 1", "a " + b64(base64.StdEncoding, "x") + " b", "a [redacted] b"},
		{"base64 at offset 2", "a " + b64(base64.RawURLEncoding, "xy") + " b", "a [redacted] b"},
		{"base64 percent-encoded", "a " + url.QueryEscape(b64(base64.StdEncoding, "xyz")) + " b", "a [redacted] b"},
		{"twice in a row", "a " + s1 + s1 + " b", "a [redacted][redacted] b"},
		{"twice, second encoded", "a " + s1 + each(s1, "&#%d;") + " b", "a [redacted] b"}, // one encoded run
		{"twice, first encoded", "a " + each(s1, "%%%02X") + s1 + " b", "a [redacted] b"},
		{"twice apart", "a " + s1 + " and " + s1 + " b", "a [redacted] and [redacted] b"},
		{"three times", s1 + s1 + " " + s1, "[redacted][redacted] [redacted]"},
		{"another right after", "a " + s1 + s2 + " b", "a [redacted][redacted] b"},
		{"another right before", "a " + s2 + s1 + " b", "a [redacted][redacted] b"},
		{"another apart, encoded", "a " + s1 + " " + each(s2, "&#x%x;") + " b", "a [redacted] [redacted] b"},
		{"not a secret", "a ~Jo.Zk?O! &#126;Jo b", "a ~Jo.Zk?O! &#126;Jo b"},
	} {
		if diff := cmp.Diff(tc.want, r.Sanitize(tc.in, 512)); diff != "" {
			t.Errorf("%s: Sanitize(%q) (-want +got):\n%s", tc.name, tc.in, diff)
		}
	}
	// A secret inside another: one redaction, whichever matched.
	if diff := cmp.Diff("a [redacted] b", Sanitize("a ~outer~inner~~ b", 512, "~inner~", "~outer~inner~~")); diff != "" {
		t.Errorf("nested (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("a [redacted][redacted] b", Sanitize("a ~one~~one~ b", 512, "~one~")); diff != "" {
		t.Errorf("an extra secret twice (-want +got):\n%s", diff)
	}
}
