package selfhosted

import (
	"errors"
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

// TestRedactMasksBeforeTheCut: a gateway's (or SMTP server's) text is
// redacted, masked and only then cut, with the routine the hosted
// providers share: a number other than the target is masked too, and a
// number at the cut leaves no digits behind.
func TestRedactMasksBeforeTheCut(t *testing.T) {
	s := &httpSender{secrets: []string{"tok-secret"}}
	m := Message{To: "+14155552671", Code: "123456"}
	got := s.redact("forwarded to +447700900123 and ops@example.com", m)
	if strings.Contains(got, "7700900") || strings.Contains(got, "ops@") {
		t.Errorf("redact = %q: a number or address is not masked", got)
	}
	got = s.redact(strings.Repeat("a", 194)+"+447700900123", m)
	if strings.Contains(got, "770") {
		t.Errorf("redact = %q: the cut left digits of a number", got)
	}
	smtp := &SMTP{username: "u", password: "p4ssw0rd-x"}
	got = smtp.redact("550 mailbox bob@example.org unknown, code 123456 "+strings.Repeat("é", 400), m)
	if strings.Contains(got, "bob@") || strings.Contains(got, "123456") || len(got) > 512 || !utf8.ValidString(got) {
		t.Errorf("SMTP redact = %q (%d bytes)", got, len(got))
	}
}

// TestRedactErrAnyEncoding: a transport error that quotes a credential
// (a URL, a proxy's echo of the request) loses it in every encoding the
// shared routine knows, not only as raw text, and keeps the cause.
func TestRedactErrAnyEncoding(t *testing.T) {
	s := &httpSender{secrets: []string{"tok-secret-42"}}
	cause := errors.New(`Post "https://gw.example/send?auth=dG9rLXNlY3JldC00Mg&raw=tok-secret-42": proxy said 746f6b2d7365637265742d3432`)
	err := s.redactErr(cause)
	for _, leak := range []string{"tok-secret-42", "dG9rLXNlY3JldC00Mg", "746f6b2d7365637265742d3432"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("redactErr = %q: reveals %q", err, leak)
		}
	}
	if !errors.Is(err, cause) {
		t.Errorf("redactErr = %v: does not wrap its cause", err)
	}
}
