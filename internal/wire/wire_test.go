package wire

import "testing"

func TestIsE164(t *testing.T) {
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
	for s, want := range map[string]bool{
		"a@example.com": true, "x.y+z@mail.example.co.uk": true,
		"": false, "@example.com": false, "a@": false, "a@b": false, "a b@example.com": false,
		"a@exa\x00mple.com": false, "a@example.com\x7f": false,
	} {
		if got := IsEmail(s); got != want {
			t.Errorf("IsEmail(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidCode(t *testing.T) {
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
	for _, tt := range []struct {
		s, prefix string
		want      bool
	}{
		{"VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "VA", true},
		{"VA0123456789ABCDEFabcdef0123456789", "VA", true},
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
