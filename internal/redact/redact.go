// Package redact is the one routine every package that quotes a server
// (twilio, vonage, selfhosted's gateways and SMTP) runs that text through
// before it reaches an error: redact the secrets the request carried (in
// every encoding a server may quote them in), mask what looks like a phone
// number or an e-mail address, and only then cut the text to its bound on
// a UTF-8 character boundary, so that no secret or number straddles the
// cut and the result is always valid UTF-8.
package redact

import (
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/verifykit/verifykit/internal/mask"
)

// Redactor removes secrets from text a server sent back. A server or a
// proxy that quotes the request may quote the Authorization header, a
// token, or either in another encoding, so the redactor looks for each
// secret as raw text, in base64 (standard and URL alphabets, padded or
// not, at any alignment inside a longer base64 text) and in hex, and
// matches each of those through percent-encoding, JSON escapes (\uXXXX,
// \/) and HTML character references. The nil *Redactor knows no secret;
// its Sanitize still redacts the extra secrets, masks and cuts.
type Redactor struct {
	needles []string // decoded forms to look for, longest first
	longest int      // the longest needle, in bytes
}

// minNeedle is the shortest base64 or hex fragment the redactor looks for:
// shorter ones would match unrelated text.
const minNeedle = 8

// New returns a Redactor for secrets (empty ones are ignored).
func New(secrets ...string) *Redactor { return NewBasic("", "", secrets...) }

// NewBasic returns a Redactor for HTTP Basic credentials (user and
// password: the password, and the header's base64 of "user:password")
// and for the other secrets.
func NewBasic(user, password string, secrets ...string) *Redactor {
	r := &Redactor{}
	add := func(s string, minLen int) {
		if len(s) >= max(minLen, 1) && !slices.Contains(r.needles, s) {
			r.needles = append(r.needles, s)
		}
	}
	addSecret := func(secret string) {
		if secret == "" {
			return
		}
		add(secret, 1)
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			// The part of any base64 text that depends on the secret
			// alone, for each of the three alignments it can start at.
			for k := range 3 {
				e := enc.EncodeToString(append(make([]byte, k), secret...))
				from, to := (8*k+5)/6, 8*(k+len(secret))/6
				add(e[from:max(from, to)], minNeedle)
			}
		}
		add(hex.EncodeToString([]byte(secret)), minNeedle)
		add(strings.ToUpper(hex.EncodeToString([]byte(secret))), minNeedle)
	}
	if user != "" || password != "" {
		basic := user + ":" + password
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			add(enc.EncodeToString([]byte(basic)), 1)
		}
	}
	addSecret(password)
	for _, s := range secrets {
		addSecret(s)
	}
	slices.SortFunc(r.needles, func(a, b string) int { return len(b) - len(a) })
	if len(r.needles) > 0 {
		r.longest = len(r.needles[0])
	}
	return r
}

// Sanitize returns s (New(secrets...).Sanitize(s, limit)) for one-off use.
func Sanitize(s string, limit int, secrets ...string) string {
	return New(secrets...).Sanitize(s, limit)
}

// Sanitize prepares a server's text for an error: it redacts the
// redactor's secrets and extra (such as the codes the request carried),
// makes the text valid UTF-8, masks what looks like a phone number or an
// e-mail address (but not Twilio SIDs or UUIDs), and only then cuts the
// result to at most limit bytes on a character boundary, so that no
// secret or number can straddle the cut.
func (r *Redactor) Sanitize(s string, limit int, extra ...string) string {
	var needles []string
	longest := 0
	if r != nil {
		needles, longest = r.needles, r.longest
	}
	// Only the start of a long message is kept: look at it, and far enough
	// past it to see whole any secret or number that begins inside it (an
	// encoded byte takes at most 6 bytes).
	for _, x := range extra {
		longest = max(longest, len(x))
	}
	if window := limit + 6*max(longest, 32) + 64; len(s) > window {
		s = s[:window]
	}
	var spans [][2]int
	for _, n := range needles {
		spans = findEncoded(s, n, spans)
	}
	for _, x := range extra {
		if x != "" {
			spans = findEncoded(s, x, spans)
		}
	}
	s = redactSpans(s, spans)
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = maskTargets(s)
	return cut(s, limit)
}

// cut returns s cut to at most limit bytes, on a UTF-8 character boundary.
func cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	i := limit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// findEncoded appends to spans the byte ranges of s that decode to needle,
// each character of it written as itself or percent-encoded, as a JSON
// escape or as an HTML character reference.
func findEncoded(s, needle string, spans [][2]int) [][2]int {
	for i := 0; i < len(s); i++ {
		j, k := i, 0
		for ; k < len(needle) && j < len(s); k++ {
			c, n := decodeAt(s, j)
			if c != needle[k] {
				break
			}
			j += n
		}
		if k == len(needle) {
			spans = append(spans, [2]int{i, j})
			i = j - 1
		}
	}
	return spans
}

// decodeAt returns the byte that s, from i, stands for, and the number of
// bytes that spell it: %XX, \uXXXX, \xXX, a backslash before a
// punctuation character, &#NN; and &#xXX;, or the byte itself.
func decodeAt(s string, i int) (byte, int) {
	hexAt := func(j int) (byte, bool) {
		if j+2 > len(s) {
			return 0, false
		}
		v, err := strconv.ParseUint(s[j:j+2], 16, 8)
		return byte(v), err == nil
	}
	switch rest := s[i:]; {
	case rest[0] == '%':
		if b, ok := hexAt(i + 1); ok {
			return b, 3
		}
	case strings.HasPrefix(rest, `\u00`) || strings.HasPrefix(rest, `\U00`):
		if b, ok := hexAt(i + 4); ok {
			return b, 6
		}
	case strings.HasPrefix(rest, `\x`):
		if b, ok := hexAt(i + 2); ok {
			return b, 4
		}
	case len(rest) > 1 && rest[0] == '\\' && strings.IndexByte(`/\"'+=-_`, rest[1]) >= 0:
		return rest[1], 2
	case strings.HasPrefix(rest, "&#"):
		if end := strings.IndexByte(rest[:min(len(rest), 10)], ';'); end > 2 {
			num, base := rest[2:end], 10
			if num[0] == 'x' || num[0] == 'X' {
				num, base = num[1:], 16
			}
			if v, err := strconv.ParseUint(num, base, 8); err == nil && v < 0x80 {
				return byte(v), end + 1
			}
		}
	}
	return s[i], 1
}

// encodedRun reports whether c can belong to the encoded text around a
// secret: base64 (either alphabet), hex, and the characters of
// percent-encoding, JSON escapes and character references.
func encodedRun(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte(`+/=-_%\&#;`, c) >= 0
}

// redactSpans replaces each span, widened to the whole encoded text around
// it (the rest of a base64 text carries bits of the secret too), with
// "[redacted]".
func redactSpans(s string, spans [][2]int) string {
	if len(spans) == 0 {
		return s
	}
	for k := range spans {
		a, b := spans[k][0], spans[k][1]
		for a > 0 && encodedRun(s[a-1]) {
			a--
		}
		for b < len(s) && encodedRun(s[b]) {
			b++
		}
		spans[k] = [2]int{a, b}
	}
	slices.SortFunc(spans, func(x, y [2]int) int { return x[0] - y[0] })
	var out strings.Builder
	last := 0
	for _, sp := range spans {
		if sp[1] <= last {
			continue
		}
		if sp[0] >= last {
			out.WriteString(s[last:sp[0]])
			out.WriteString("[redacted]")
		}
		last = sp[1]
	}
	out.WriteString(s[last:])
	return out.String()
}

var (
	phoneLike = regexp.MustCompile(`\+?[0-9][0-9 ().-]{6,20}[0-9]`)
	emailLike = regexp.MustCompile(`[^\s@"'<>()]+@[^\s@"'<>()]+`)
	// idLike matches the identifiers a message may name and masking must
	// leave alone: Twilio SIDs (two capital letters and 32 hex digits,
	// such as VA… and VE…) and UUIDs (Vonage's request IDs).
	idLike = regexp.MustCompile(`[A-Z]{2}[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
)

// maskTargets masks what looks like a phone number or an e-mail address in
// s, leaving Twilio SIDs and UUIDs as they are.
func maskTargets(s string) string {
	ids := idLike.FindAllStringIndex(s, -1)
	var out strings.Builder
	last := 0
	for _, id := range ids {
		out.WriteString(maskText(s[last:id[0]]))
		out.WriteString(s[id[0]:id[1]])
		last = id[1]
	}
	out.WriteString(maskText(s[last:]))
	return out.String()
}

func maskText(s string) string {
	if s == "" {
		return s
	}
	s = emailLike.ReplaceAllStringFunc(s, mask.Target)
	return phoneLike.ReplaceAllStringFunc(s, mask.Target)
}
