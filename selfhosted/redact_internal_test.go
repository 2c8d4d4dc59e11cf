package selfhosted

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestRedactKeepsUTF8: a gateway's text cut to its bound, or invalid
// UTF-8 from the gateway, never reaches an error as broken UTF-8.
func TestRedactKeepsUTF8(t *testing.T) {
	s := &httpSender{secrets: []string{"tok-secret"}}
	for _, text := range []string{
		strings.Repeat("a", 199) + "é and more", // the cut splits "é"
		"bad \xff byte",
	} {
		got := s.redact(text, Message{To: "+14155552671", Code: "123456"})
		if !utf8.ValidString(got) || len(got) > 203 {
			t.Errorf("redact(%q) = %q: not valid UTF-8 or too long", text, got)
		}
	}
}
