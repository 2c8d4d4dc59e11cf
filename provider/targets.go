package provider

import "github.com/verifykit/verifykit/internal/wire"

// IsPhone reports whether to is a phone number in E.164 form: '+' and 8 to
// 15 digits, the first not zero.
func IsPhone(to string) bool { return wire.IsE164(to) }

// IsEmail reports whether to is an e-mail address in the grammar every
// layer of verifykit accepts:
//
//   - valid UTF-8, at most 254 bytes, split at its last '@';
//   - a local part of 1 to 64 bytes: atoms separated by single dots, with no
//     leading or trailing dot, an atom being ASCII letters, digits and
//     !#$%&'*+-/=?^_`{|}~, or non-ASCII letters, digits and marks; no quoted
//     strings, comments or display names;
//   - a domain that is an ASCII DNS host name (an international domain in its
//     xn-- form): at least two labels of letters, digits and inner hyphens,
//     each 1 to 63 bytes, at most 253 bytes in all, the last not all digits.
//
// Letter case is kept; the verify client lower-cases the domain.
func IsEmail(to string) bool { return wire.IsEmail(to) }

// ChannelFits reports whether a code can be sent over ch to the target to,
// given in normalised form: channel email needs an e-mail address (see
// [IsEmail]), channel auto a phone number or an e-mail address, and every
// other known channel a phone number (see [IsPhone]). For a channel this
// package does not know, either kind of target fits: the provider that
// declares the channel refuses what it cannot deliver.
//
// It is the one check of this kind: the verify client, the providers and
// their emulators all call it, so they refuse the same targets.
func ChannelFits(ch Channel, to string) bool {
	switch {
	case ch == ChannelEmail:
		return IsEmail(to)
	case ch == ChannelAuto || !ch.Known():
		return IsPhone(to) || IsEmail(to)
	}
	return IsPhone(to)
}
