// Package wire holds the input checks that Twilio Verify applies, shared by
// the twilio client, the fake and the emulator so that all three refuse the
// same things.
package wire

import "strings"

// IsE164 reports whether s is '+' followed by 8 to 15 digits, the first not
// zero.
func IsE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsEmail reports whether s looks like a bare e-mail address: something,
// '@', a domain with a dot, at most 254 bytes, no spaces or control
// characters.
func IsEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 || len(s) > 254 || !strings.Contains(s[at+1:], ".") {
		return false
	}
	for i := range len(s) {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// ValidCode reports whether s could be a verification code: 4 to 10 ASCII
// letters or digits, the range Twilio accepts.
func ValidCode(s string) bool {
	if len(s) < 4 || len(s) > 10 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// ValidSID reports whether s is prefix followed by 32 hex digits, the shape
// of every Twilio SID (VA… for a service, VE… for a verification).
func ValidSID(s, prefix string) bool {
	if len(s) != 34 || s[:2] != prefix {
		return false
	}
	for i := 2; i < 34; i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
