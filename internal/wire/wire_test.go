package wire

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestIsE164(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"+14155552671": true, "+442071838750": true, "+12345678": true, "+123456789012345": true,
		"": false, "+": false, "14155552671": false, "+04155552671": false, "+1234567": false,
		"+1234567890123456": false, "+1415555267a": false, "+1 4155552671": false,
	} {
		if got := IsE164(s); got != want {
			t.Errorf("IsE164(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestIsEmail(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"a@example.com": true, "x.y+z@mail.example.co.uk": true,
		"": false, "@example.com": false, "a@": false, "a@b": false, "a b@example.com": false,
		"a@exa\x00mple.com": false, "a@example.com\x7f": false,
		// Issue 10: invalid UTF-8 was accepted.
		"a\xff@example.com": false, "\xff@example.com": false, "a@exa\xffmple.com": false,
		"ü@example.com": true, "o'brien@example.com": true, "A@EXAMPLE.COM": true,
		"\"a b\"@example.com": false, "a.@example.com": false, ".a@example.com": false, "a..b@example.com": false,
		"a@-example.com": false, "a@example.123": false, "a@[1.2.3.4]": false, "a@b@example.com": false,
		"a\ufffd@example.com": false, "a@bücher.de": false, "a@xn--bcher-kva.de": true,
		"Alice <a@example.com>": false,
	} {
		if got := IsEmail(s); got != want {
			t.Errorf("IsEmail(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidCode(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"1234": true, "1234567890": true, "AbC123": true,
		"123": false, "12345678901": false, "12 34": false, "12-34": false, "": false, "１２３４": false,
	} {
		if got := ValidCode(s); got != want {
			t.Errorf("ValidCode(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidSID(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s, prefix string
		want      bool
	}{
		{"VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "VA", true},
		{"VA0123456789abcdefabcdef0123456789", "VA", true},
		{"VA0123456789ABCDEFabcdef0123456789", "VA", false}, // one spelling: lower case
		{"VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaA", "VA", false},
		{"vaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "VA", false},
		{"VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "VA", false},
		{"VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "VA", false},
		{"VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "VA", false},
		{"VAgaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "VA", false},
		{"", "VA", false},
	} {
		if got := ValidSID(tt.s, tt.prefix); got != tt.want {
			t.Errorf("ValidSID(%q, %q) = %v, want %v", tt.s, tt.prefix, got, tt.want)
		}
	}
}

// FuzzIsEmail checks the properties the address grammar promises: an
// accepted address is valid UTF-8 with no space or control character, has
// one local part of 1 to 64 bytes and a lower-cased domain it still
// accepts.
func FuzzIsEmail(f *testing.F) {
	for _, s := range []string{"a@example.com", "a\xff@example.com", "ü@example.com", "\"a\"@example.com", "a@b@c.de", "a@xn--bcher-kva.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !IsEmail(s) {
			return
		}
		if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
			t.Fatalf("IsEmail(%q) = true for a string with bad characters", s)
		}
		at := strings.LastIndexByte(s, '@')
		if at < 1 || at > 64 || strings.Contains(s[:at], "@") || len(s) > 254 {
			t.Fatalf("IsEmail(%q) = true for a bad split", s)
		}
		if !IsEmail(s[:at] + "@" + strings.ToLower(s[at+1:])) {
			t.Fatalf("IsEmail(%q) = true but false with the domain lower-cased", s)
		}
	})
}

func TestUUID(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"123e4567-e89b-42d3-a456-426614174000": true, "123E4567-E89B-42D3-A456-426614174000": true,
		"": false, "123e4567e89b42d3a456426614174000": false, "123e4567-e89b-42d3-a456-42661417400g": false,
		"123e4567-e89b-42d3-a456_426614174000": false, "123e4567-e89b-42d3-a456-4266141740000": false,
	} {
		if got := IsUUID(s); got != want {
			t.Errorf("IsUUID(%q) = %v, want %v", s, got, want)
		}
	}
	a, b := NewUUID(), NewUUID()
	if !IsUUID(a) || a == b || a[14] != '4' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Errorf("NewUUID = %q, %q: want two different version 4 UUIDs", a, b)
	}
}
