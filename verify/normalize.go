package verify

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/verifykit/verifykit/provider"
)

// maxTargetLen bounds what is parsed at all; no phone number or e-mail
// address is longer.
const maxTargetLen = 254

// target is a normalised phone number or e-mail address.
type target struct {
	value    string
	email    bool
	landline bool // phonenumbers says FIXED_LINE
}

// normalize turns what a user typed into a target, or refuses it. It
// classifies landlines only when wantType is set, since that costs another
// pass over the numbering metadata.
func normalize(s, region string, wantType bool) (target, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return target{}, invalid("empty phone number or e-mail address")
	case len(s) > maxTargetLen:
		return target{}, invalid("phone number or e-mail address too long")
	case !utf8.ValidString(s):
		return target{}, invalid("phone number or e-mail address is not valid UTF-8")
	case strings.ContainsFunc(s, unicode.IsControl):
		return target{}, invalid("phone number or e-mail address contains control characters")
	case strings.ContainsRune(s, '@'):
		return normalizeEmail(s)
	}
	return normalizePhone(s, region, wantType)
}

func normalizePhone(s, region string, wantType bool) (target, error) {
	if !strings.HasPrefix(s, "+") && region == "" {
		return target{}, invalid("phone number must be in international form (+…) when no default region is set")
	}
	if t, ok := fastE164(s, wantType); ok {
		return t, nil
	}
	return parsePhone(s, region, wantType)
}

// parsePhone is normalizePhone's full path: phonenumbers' Parse,
// IsValidNumber and Format.
func parsePhone(s, region string, wantType bool) (target, error) {
	n, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return target{}, invalid("not a valid phone number")
	}
	return target{
		value:    phonenumbers.Format(n, phonenumbers.E164),
		landline: wantType && phonenumbers.GetNumberType(n) == phonenumbers.FIXED_LINE,
	}, nil
}

// normalizeEmail accepts the grammar of provider.IsEmail and lower-cases
// the domain.
func normalizeEmail(s string) (target, error) {
	if !provider.IsEmail(s) {
		return target{}, invalid("not a bare e-mail address")
	}
	at := strings.LastIndexByte(s, '@')
	return target{value: s[:at] + "@" + strings.ToLower(s[at+1:]), email: true}, nil
}

// cleanCode removes the spaces and dashes people type in a code and checks
// that what is left could be a code: min to max ASCII letters or digits.
func cleanCode(s string, minLen, maxLen int) (string, error) {
	if len(s) > 4*maxLen+16 {
		return "", invalid("code too long")
	}
	clean := true
	for i := range len(s) {
		if !isCodeByte(s[i]) {
			clean = false
			break
		}
	}
	if !clean {
		var b strings.Builder
		for _, r := range s {
			switch {
			case unicode.IsSpace(r) || r == '-' || r == '\u2010' || r == '\u2011' || r == '\u2013':
			case r < utf8.RuneSelf && isCodeByte(byte(r)):
				b.WriteRune(r)
			default:
				return "", invalid("code may contain only letters and digits")
			}
		}
		s = b.String()
	}
	switch {
	case s == "":
		return "", invalid("empty code")
	case len(s) < minLen:
		return "", invalid("code too short")
	case len(s) > maxLen:
		return "", invalid("code too long")
	}
	return s, nil
}

func isCodeByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
