package twilio

// formBody builds an application/x-www-form-urlencoded body directly, as
// url.Values.Encode would for the same pairs added in key order, without
// the map, the slices and the string copies.
type formBody []byte

// add appends k=v, escaped as url.QueryEscape does, unless v is empty.
func (f *formBody) add(k, v string) {
	if v == "" {
		return
	}
	b := *f
	if len(b) > 0 {
		b = append(b, '&')
	}
	b = appendQueryEscape(b, k)
	b = append(b, '=')
	*f = appendQueryEscape(b, v)
}

// appendQueryEscape appends s to b escaped as url.QueryEscape does: the
// unreserved characters as they are, a space as '+', every other byte as
// %XX (upper-case hex).
func appendQueryEscape(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}
