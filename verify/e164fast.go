package verify

import (
	"regexp"
	"sync"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/nyaruka/phonenumbers/v2/metadata"
)

// This file is the fast path of phone-number normalisation: input already
// in E.164 form ("+" and digits) is checked against the same numbering
// metadata phonenumbers uses, with the same rules as phonenumbers.Parse
// followed by IsValidNumber (and GetNumberType), but with the patterns
// compiled once and no allocation. It only ever accepts: whenever a rule it
// does not reproduce could apply (a national prefix, a leading zero, a
// region without metadata) or the number looks invalid, it gives up and
// normalizePhone takes the full path, so every answer is the full path's.
// FuzzFastE164 and TestFastE164MatchesPhonenumbers prove the two agree.

// nonGeoRegion is phonenumbers' region code for non-geographical entities
// (such as +800 numbers).
const nonGeoRegion = "001"

// maxCountryCodeLen and the NSN bounds are phonenumbers' own.
const (
	maxCountryCodeLen = 3
	minNSNLen         = 2
	maxNSNLen         = 17
)

// desc is a compiled phonenumbers.PhoneNumberDesc.
type desc struct {
	lengths []int32
	re      *regexp.Regexp // nil: matches no number (no pattern)
}

// matches is phonenumbers' isNumberMatchingDesc: a possible length (when
// the desc lists any) and a full match of the national number pattern.
func (d *desc) matches(nsn string) bool {
	if d.re == nil {
		return false
	}
	if len(d.lengths) > 0 {
		found := false
		for _, l := range d.lengths {
			if int32(len(nsn)) == l {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return d.re.MatchString(nsn)
}

// region is the compiled metadata of one region (or non-geographical
// calling code).
type region struct {
	ok              bool // every pattern compiled
	countryCode     int
	general         desc
	premium         desc
	tollFree        desc
	sharedCost      desc
	voip            desc
	personal        desc
	pager           desc
	uan             desc
	voicemail       desc
	fixedLine       desc
	mobile          desc
	sameMobileFixed bool
	leadingDigits   *regexp.Regexp // nil when the region has none
	nationalPrefix  *regexp.Regexp // nil when the region has none
}

// numberType is phonenumbers' getNumberTypeHelper.
func (r *region) numberType(nsn string) phonenumbers.PhoneNumberType {
	switch {
	case !r.general.matches(nsn):
		return phonenumbers.UNKNOWN
	case r.premium.matches(nsn):
		return phonenumbers.PREMIUM_RATE
	case r.tollFree.matches(nsn):
		return phonenumbers.TOLL_FREE
	case r.sharedCost.matches(nsn):
		return phonenumbers.SHARED_COST
	case r.voip.matches(nsn):
		return phonenumbers.VOIP
	case r.personal.matches(nsn):
		return phonenumbers.PERSONAL_NUMBER
	case r.pager.matches(nsn):
		return phonenumbers.PAGER
	case r.uan.matches(nsn):
		return phonenumbers.UAN
	case r.voicemail.matches(nsn):
		return phonenumbers.VOICEMAIL
	case r.fixedLine.matches(nsn):
		if r.sameMobileFixed || r.mobile.matches(nsn) {
			return phonenumbers.FIXED_LINE_OR_MOBILE
		}
		return phonenumbers.FIXED_LINE
	case !r.sameMobileFixed && r.mobile.matches(nsn):
		return phonenumbers.MOBILE
	}
	return phonenumbers.UNKNOWN
}

// valid reports whether numberType(nsn) != UNKNOWN, testing the likely
// types first (mobile, since codes are mostly sent to mobiles, then fixed
// line): the answer does not depend on the order, only the type does.
func (r *region) valid(nsn string) bool {
	if !r.general.matches(nsn) {
		return false
	}
	return !r.sameMobileFixed && r.mobile.matches(nsn) || r.fixedLine.matches(nsn) ||
		r.premium.matches(nsn) || r.tollFree.matches(nsn) || r.sharedCost.matches(nsn) ||
		r.voip.matches(nsn) || r.personal.matches(nsn) || r.pager.matches(nsn) ||
		r.uan.matches(nsn) || r.voicemail.matches(nsn)
}

// compiled holds the compiled regions, by the metadata they were compiled
// from, so that metadata phonenumbers swaps in is compiled afresh.
var compiled sync.Map // *metadata.PhoneMetadata → *region

func compile(m *metadata.PhoneMetadata) *region {
	if r, ok := compiled.Load(m); ok {
		return r.(*region)
	}
	r := &region{ok: true, countryCode: int(m.GetCountryCode()), sameMobileFixed: m.GetSameMobileAndFixedLinePattern()}
	re := func(pattern, suffix string) *regexp.Regexp {
		if pattern == "" {
			return nil
		}
		x, err := regexp.Compile("^(?:" + pattern + ")" + suffix)
		if err != nil {
			r.ok = false
		}
		return x
	}
	d := func(pd *metadata.PhoneNumberDesc) desc {
		if pd == nil {
			return desc{}
		}
		return desc{lengths: pd.PossibleLength, re: re(pd.GetNationalNumberPattern(), "$")}
	}
	r.general, r.premium, r.tollFree = d(m.GetGeneralDesc()), d(m.GetPremiumRate()), d(m.GetTollFree())
	r.sharedCost, r.voip, r.personal = d(m.GetSharedCost()), d(m.GetVoip()), d(m.GetPersonalNumber())
	r.pager, r.uan, r.voicemail = d(m.GetPager()), d(m.GetUan()), d(m.GetVoicemail())
	r.fixedLine, r.mobile = d(m.GetFixedLine()), d(m.GetMobile())
	r.leadingDigits = re(m.GetLeadingDigits(), "")
	r.nationalPrefix = re(m.GetNationalPrefixForParsing(), "")
	got, _ := compiled.LoadOrStore(m, r)
	return got.(*region)
}

// regionMetadata is phonenumbers' getMetadataForRegionOrCallingCode,
// compiled; nil when there is no metadata.
func regionMetadata(cc int, code string) *region {
	var m *metadata.PhoneMetadata
	var ok bool
	if code == nonGeoRegion {
		m, ok = metadata.NonGeoMetadata(cc)
	} else if code != "" && metadata.SupportedRegions()[code] {
		m, ok = metadata.RegionMetadata(code)
	}
	if !ok || m == nil {
		return nil
	}
	if r := compile(m); r.ok {
		return r
	}
	return nil
}

// fastE164 normalises s when it is a valid phone number in E.164 form,
// exactly as normalizePhone would, and reports ok. ok is false when s is
// not in that form, may be invalid, or needs a rule this path does not
// reproduce: the caller must then take the full path.
func fastE164(s string, wantType bool) (t target, ok bool) {
	if len(s) < 4 || len(s) > 1+maxCountryCodeLen+maxNSNLen || s[0] != '+' || s[1] == '0' {
		return target{}, false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return target{}, false
		}
	}
	// The country calling code is the shortest prefix that is one, as in
	// phonenumbers' extractCountryCode.
	digits := s[1:]
	codes := metadata.CountryCodeToRegion()
	cc, nsn := 0, ""
	var regions []string
	for i := 1; i <= maxCountryCodeLen && i <= len(digits); i++ {
		n := 0
		for _, c := range []byte(digits[:i]) {
			n = n*10 + int(c-'0')
		}
		if rs, found := codes[n]; found {
			cc, nsn, regions = n, digits[i:], rs
			break
		}
	}
	// A leading zero in the national number (Italy's) is kept apart by
	// Parse; leave it to the full path, as too short or too long numbers.
	if cc == 0 || len(regions) == 0 || len(nsn) < minNSNLen || len(nsn) > maxNSNLen || nsn[0] == '0' {
		return target{}, false
	}
	// Parse strips a national prefix that the number starts with, even
	// after a country calling code. Leave every number that could have one
	// to the full path.
	main := regionMetadata(cc, regions[0])
	if main == nil || main.nationalPrefix != nil && main.nationalPrefix.MatchString(nsn) {
		return target{}, false
	}
	// IsValidNumber: the region the number belongs to, then its types.
	code, known := regions[0], false // known: code was chosen for being valid
	if len(regions) > 1 {
		code = ""
		for _, rc := range regions {
			r := regionMetadata(cc, rc)
			if r == nil {
				return target{}, false
			}
			if r.leadingDigits != nil {
				if r.leadingDigits.MatchString(nsn) {
					code = rc
					break
				}
			} else if r.valid(nsn) {
				code, known = rc, true
				break
			}
		}
	}
	r := regionMetadata(cc, code)
	if r == nil || code != nonGeoRegion && r.countryCode != cc {
		return target{}, false
	}
	if !wantType {
		if !known && !r.valid(nsn) {
			return target{}, false
		}
		return target{value: s}, true
	}
	typ := r.numberType(nsn)
	if typ == phonenumbers.UNKNOWN {
		return target{}, false
	}
	return target{value: s, landline: typ == phonenumbers.FIXED_LINE}, true
}
