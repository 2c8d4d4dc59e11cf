package mask

import (
	"strings"
	"testing"
)

func TestTarget(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"+14155552671", "+14*******71"},
		{"+447400123456", "+44********56"},
		{"+1234", "*****"},
		{"+123456", "*******"},
		{"+1234567", "+12***67"},
		{"alice@example.com", "a****@example.com"},
		{"a@example.com", "*@example.com"},
		{"ab@example.com", "**@example.com"},
		{"abcd@EXAMPLE.com", "a***@EXAMPLE.com"},
		{"bobby@ex\nample.com", "b****@ex*ample.com"},
		{"+14\x00155552671", "+14********71"},
		// Punctuation people type is dropped, not shown: no stray bracket.
		{"(415) 555-2671", "415*****71"},
		{"+1 (415) 555-2671", "+14*******71"},
		{"020 7946 0000", "020******00"},
		{"203.0.113.77", "203*******77"},
		{"(((", "*"},
	}
	for _, tt := range tests {
		if got := Target(tt.in); got != tt.want {
			t.Errorf("Target(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTargetBoundsLength(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("9", 10000)
	if got := Target(long); len(got) != maxLen {
		t.Errorf("len(Target(10000 digits)) = %d, want %d", len(got), maxLen)
	}
	email := strings.Repeat("x", 5000) + "@" + strings.Repeat("y", 5000)
	if got := Target(email); len(got) != 2*maxLen+1 {
		t.Errorf("len(Target(long email)) = %d, want %d", len(got), 2*maxLen+1)
	}
}

func FuzzTarget(f *testing.F) {
	for _, s := range []string{"+14155552671", "alice@example.com", "", "@", "a@b@c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Target(s)
		if len(got) > 2*maxLen+1 {
			t.Fatalf("Target(%q) is %d bytes long", s, len(got))
		}
		for i := range len(got) {
			if c := got[i]; c <= ' ' || c >= 0x7f {
				t.Fatalf("Target(%q) = %q contains byte %#x", s, got, c)
			}
		}
		// A masked phone number must never show more than 5 of its
		// characters.
		if !strings.Contains(s, "@") && len(s) >= 6 {
			if shown := len(got) - strings.Count(got, "*"); shown > 5 {
				t.Fatalf("Target(%q) = %q shows %d characters", s, got, shown)
			}
		}
	})
}
