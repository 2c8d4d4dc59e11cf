// Package mask hides most of a phone number or e-mail address, so errors and
// log lines can name a target without revealing it.
package mask

import "strings"

// maxLen bounds the length of a masked value, so hostile input cannot make a
// log line arbitrarily long.
const maxLen = 64

// Target masks a phone number or an e-mail address.
//
// A phone number keeps its first three and last two characters
// ("+14155552671" becomes "+14******71"); the spaces, brackets and dashes
// of a number as typed are dropped ("(415) 555-2671" becomes
// "415*****71"). An e-mail address keeps the first character of the local
// part and the whole domain ("alice@example.com"
// becomes "a****@example.com"). Values too short to hide anything that way
// are masked entirely. Bytes that are not printable ASCII are masked too,
// and the result is at most about 130 bytes long, so it is always safe to
// put in a log line.
func Target(s string) string {
	if s == "" {
		return ""
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		return keep(s[:at], 1, 0) + "@" + keep(s[at+1:], maxLen, 0)
	}
	return phone(s)
}

// phone masks a phone number, keeping its first three and last two
// characters. The spaces, brackets and dashes people type in a number are
// dropped first, so that they neither take the place of a digit nor show
// as a stray bracket.
func phone(s string) string {
	if len(s) > 4*maxLen {
		s = s[:4*maxLen]
	}
	if strings.ContainsAny(s, typed) {
		s = strings.Map(func(r rune) rune {
			if strings.ContainsRune(typed, r) {
				return -1
			}
			return r
		}, s)
		if s == "" {
			return "*"
		}
	}
	return keep(s, 3, 2)
}

// typed is the punctuation phone drops.
const typed = " ()-"

// keep returns s (cut to maxLen bytes) with all but its first head and last
// tail bytes replaced by '*'. When that would hide fewer than three bytes,
// every byte is hidden. Bytes that are not printable ASCII are always
// hidden.
func keep(s string, head, tail int) string {
	if len(s) > maxLen {
		s = s[:maxLen]
	}
	if head+tail < maxLen && len(s) < head+tail+3 {
		head, tail = 0, 0
	}
	b := make([]byte, len(s))
	for i := range len(s) {
		c := s[i]
		if (i < head || i >= len(s)-tail) && c > ' ' && c < 0x7f {
			b[i] = c
		} else {
			b[i] = '*'
		}
	}
	return string(b)
}
