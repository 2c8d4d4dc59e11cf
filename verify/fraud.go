package verify

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "embed"

	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/store"
)

// The fraud guard's signals, as the Policy of a refusal or of a
// FraudDecision.
const (
	// PolicyPremium: the number is in a premium-rate or shared-cost range
	// (FraudGuard.Premium). Waiting does not help.
	PolicyPremium Policy = "premium_range"
	// PolicyVelocity: too many sends per caller IP address or IP range,
	// per number prefix or per country within a short window.
	PolicyVelocity Policy = "velocity"
	// PolicyConversion: too many sends that did not end approved, per
	// country or per number prefix, for the verified traffic it has.
	PolicyConversion Policy = "conversion"
	// PolicySequence: a run of sends to neighbouring numbers (one block
	// of 100 consecutive numbers).
	PolicySequence Policy = "sequence"
)

// The scopes the fraud guard adds to those of the budgets.
const (
	// PerIPRange counts per IPv4 /24 or IPv6 /48 of the caller's address.
	PerIPRange Scope = "ip_range"
	// PerNumberBlock counts per block of 100 consecutive numbers.
	PerNumberBlock Scope = "number_block"
)

// Rate is Max sends per Window.
type Rate struct {
	Max    int
	Window time.Duration
}

// Conversion is the allowance of sends that have not (yet) ended
// approved, in one hour or one day, per country or per number prefix: the
// larger of Floor and Share × the sends that ended approved there in the
// same or the previous hour (or day), and for an hour at least a sixth of
// the day's allowance. Floor is the allowance of a new or rare country or
// prefix; it grows with the verified traffic.
type Conversion struct {
	Floor int
	Share float64
}

// FraudGuard configures the fraud guard against SMS pumping (toll fraud),
// for WithFraudGuard. RecommendedFraudGuard returns the recommended
// setup; zero fields of a Rate or Conversion turn that signal off.
//
// The guard applies to Starts to phone numbers on the channels that cost
// money (Channels), never to e-mail. It decides from signals counted in
// the policy store (WithPolicyStore), so replicas sharing the store share
// them, in the same single Take as the other policies:
//   - premium-rate and shared-cost ranges (Premium);
//   - send velocity per caller IP address and per IPv4 /24 or IPv6 /48
//     (the application passes the address as the caller key IPKey), per
//     number prefix and per country;
//   - conversion: sends that did not end approved, per country and per
//     prefix, per hour and per day, against the verified traffic the
//     client has seen there (Check and CheckID teach it);
//   - sequential-number runs: sends per block of 100 consecutive numbers.
//
// Each country and each prefix has its own counters, so an attack on one
// never uses up the allowance of another.
type FraudGuard struct {
	// RecordOnly decides, logs and reports every decision but sends
	// anyway: run it first, watch the decisions, then enforce.
	RecordOnly bool
	// IPKey names the caller key (StartOptions.CallerKeys) that holds the
	// caller's IP address; "" turns the IP signals off.
	IPKey string
	// PrefixDigits is how many digits after the '+' make a number prefix
	// (1 to 12); 0 means 6.
	PrefixDigits int
	// Channels are the channels the guard applies to; nil means SMS, call
	// and WhatsApp. Add ChannelEmail only if e-mail costs you money.
	Channels []Channel
	// Premium are the ranges refused outright, in international form;
	// RecommendedFraudGuard sets PremiumRanges().
	Premium []string

	// PerIP and PerIPRange bound the sends per caller IP address and per
	// /24 (IPv4) or /48 (IPv6).
	PerIP, PerIPRange Rate
	// PerPrefix and PerCountry bound the sends per number prefix and per
	// country calling code: bursts.
	PerPrefix, PerCountry Rate
	// Sequence bounds the sends per block of 100 consecutive numbers.
	Sequence Rate
	// CountryHour, CountryDay, PrefixHour and PrefixDay are the
	// conversion allowances.
	CountryHour, CountryDay, PrefixHour, PrefixDay Conversion

	// Spend are money budgets per hour, day or month (UTC calendar
	// windows), globally or per country: a send whose price (WithPrices)
	// would take a budget past its Amount is refused with a PolicyError of
	// PolicySpendBudget, with a RetryAfter until the window ends. A send
	// that fails without sending gives its cost back, in its window only.
	// Free sends (price 0) are not counted.
	Spend []SpendBudget
	// OnSpend, when set, is called when a spend budget reaches 50, 80 and
	// 100 percent in a window: once per budget, window and threshold, on
	// the replica whose send reached it (see SpendAlert), on the calling
	// goroutine.
	OnSpend func(ctx context.Context, a SpendAlert)

	// OnDecision, when set, is called with every decision on a guarded
	// Start (allow included), on the calling goroutine. Refusals and
	// recorded decisions are also logged at Warn level to the client's
	// logger (WithLogger), with the signal, its scope, masked key, limit
	// and the verified count it was computed from.
	OnDecision func(ctx context.Context, d FraudDecision)
	// Now is the clock of the hour and day buckets; nil means time.Now.
	Now func() time.Time
}

// RecommendedFraudGuard returns the recommended guard: enforcing, with
// the caller key "ip" as the IP address, and the thresholds the
// simulations of examples/fraudsim were tuned with (see docs/fraud.md).
func RecommendedFraudGuard() FraudGuard {
	return FraudGuard{
		IPKey:       "ip",
		Premium:     PremiumRanges(),
		PerIP:       Rate{Max: 10, Window: time.Hour},
		PerIPRange:  Rate{Max: 100, Window: time.Hour},
		PerPrefix:   Rate{Max: 30, Window: time.Minute},
		PerCountry:  Rate{Max: 1000, Window: time.Minute},
		Sequence:    Rate{Max: 4, Window: time.Hour},
		CountryHour: Conversion{Floor: 10, Share: 0.5},
		CountryDay:  Conversion{Floor: 10, Share: 0.5},
		PrefixHour:  Conversion{Floor: 6, Share: 0.5},
		PrefixDay:   Conversion{Floor: 12, Share: 0.5},
	}
}

// FraudAction is what the guard decided.
type FraudAction string

// The actions.
const (
	FraudAllow  FraudAction = "allow"  // no signal fired
	FraudRefuse FraudAction = "refuse" // a signal fired; nothing was sent
	FraudRecord FraudAction = "record" // a signal fired under RecordOnly; sent anyway
)

// FraudDecision explains one decision of the guard.
type FraudDecision struct {
	Action  FraudAction
	Channel Channel
	// Country and Prefix are the number's calling code and prefix.
	Country, Prefix string
	// Signal, Scope and Key name the signal that fired (empty on allow);
	// Key is masked when it is personal data.
	Signal Policy
	Scope  Scope
	Key    string
	// Max and Window are the limit that was reached. For a conversion
	// signal Max is the allowance of unapproved sends, computed from
	// Verified, the approved sends it was learned from.
	Max      int
	Window   time.Duration
	Verified int
	// Amount is, for a spend budget, the budget's amount (Max is 0).
	Amount float64
	// Wait is how long until the send would pass, or 0 when waiting does
	// not help.
	Wait time.Duration
}

// WithFraudGuard turns the fraud guard on (see FraudGuard); by default it
// is off. Use WithFraudGuard(RecommendedFraudGuard()) for the recommended
// setup.
func WithFraudGuard(g FraudGuard) Option {
	return func(c *config) error {
		fg, err := newFraud(g)
		if err != nil {
			return fmt.Errorf("verify: WithFraudGuard: %v", err)
		}
		c.policy.fraud = fg
		return nil
	}
}

//go:embed frauddata/premium-ranges.txt
var premiumData string

// PremiumRanges returns the premium-rate and shared-cost ranges shipped
// with the package (verify/frauddata/premium-ranges.txt, with its sources
// and date), a new slice each call.
func PremiumRanges() []string {
	r, err := ParseRanges(strings.NewReader(premiumData))
	if err != nil {
		panic(err)
	}
	return r
}

// ParseRanges reads a list of number ranges in the format of
// verify/frauddata/premium-ranges.txt: one range in international form per
// line, "#" starting a comment.
func ParseRanges(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		p, ok := cleanPrefix(line)
		if !ok {
			return nil, fmt.Errorf("line %d: %q is not + and 1 to 15 digits", n, line)
		}
		out = append(out, p)
	}
	return out, sc.Err()
}

// fraud is the guard, ready to use.
type fraud struct {
	g   FraudGuard
	now func() time.Time
	// plain is set when the policy store is a *store.Memory, which keeps
	// no key (only 128 bits of seeded hashes of it, see store.Memory): the
	// addresses and numbers then go into the guard's keys as they are,
	// without the SHA-256 that keeps them out of the other stores (a tenth
	// of a decision).
	plain    bool
	channels []Channel
	premium  [10][]string // by the first digit after the '+', in the order of FraudGuard.Premium
	digits   int

	pfIP, pfRange, pfPrefix, pfCountry, pfSeq string
	pfCH, pfCD, pfPH, pfPD                    string // conversion counters
	scopeIP, scopePrefix                      Scope
	pfVH, pfVD                                string // verified counters
	spend                                     []spendBudget

	mu       sync.Mutex
	verified map[string]*[2]vcount // the hour and day counters, by "c|" or "p|" and the country or prefix (vslot)
	alerted  map[string]time.Time  // spend alerts called, until their window's end
	reads    map[string]time.Time  // when refresh last read a country or prefix
}

// vcount is what the client knows of a verified counter: the approved
// sends of the bucket cur, and of the one before.
type vcount struct {
	cur        int64
	curN, prev int64
}

const maxVerifiedCache = 1 << 16

func newFraud(g FraudGuard) (*fraud, error) {
	f := &fraud{g: g, now: g.Now, digits: g.PrefixDigits}
	if f.now == nil {
		f.now = time.Now
	}
	if f.digits == 0 {
		f.digits = 6
	}
	if f.digits < 1 || f.digits > 12 {
		return nil, fmt.Errorf("PrefixDigits %d is not 1 to 12", g.PrefixDigits)
	}
	f.channels = g.Channels
	if f.channels == nil {
		f.channels = []Channel{ChannelSMS, ChannelCall, ChannelWhatsApp}
	}
	for _, ch := range f.channels {
		if !ch.Known() {
			return nil, fmt.Errorf("unknown channel %q", string(ch))
		}
	}
	for _, p := range g.Premium {
		c, ok := cleanPrefix(p)
		if !ok {
			return nil, fmt.Errorf("premium range %q is not + and 1 to 15 digits", p)
		}
		f.premium[c[1]-'0'] = append(f.premium[c[1]-'0'], c)
	}
	if g.IPKey != "" && !validCallerName(g.IPKey) {
		return nil, fmt.Errorf("IPKey %q is not 1 to 32 characters of a-z, 0-9, underscore, dash and dot", g.IPKey)
	}
	for _, r := range []Rate{g.PerIP, g.PerIPRange, g.PerPrefix, g.PerCountry, g.Sequence} {
		if r.Max < 0 || r.Max > 1e9 || r.Max > 0 && (r.Window < time.Second || r.Window > maxWindow) {
			return nil, fmt.Errorf("rate %d per %v is not 1 to 1e9 per 1s to %v", r.Max, r.Window, maxWindow)
		}
	}
	for _, cv := range []Conversion{g.CountryHour, g.CountryDay, g.PrefixHour, g.PrefixDay} {
		if cv.Floor < 0 || cv.Floor > 1e9 || cv.Share < 0 || cv.Share > 100 || math.IsNaN(cv.Share) {
			return nil, fmt.Errorf("conversion floor %d and share %v are not 0 to 1e9 and 0 to 100", cv.Floor, cv.Share)
		}
	}
	var err error
	if f.spend, err = newSpend(g.Spend); err != nil {
		return nil, err
	}
	f.alerted = make(map[string]time.Time)
	f.reads = make(map[string]time.Time)
	rate := func(kind string, r Rate) string { return "vk|f|" + kind + "|" + r.Window.String() + "|" }
	f.pfIP, f.pfRange = rate("ip", g.PerIP), rate("ipr", g.PerIPRange)
	f.pfPrefix, f.pfCountry = rate("p", g.PerPrefix), rate("cc", g.PerCountry)
	f.pfSeq = rate("seq", g.Sequence)
	f.pfCH, f.pfCD = "vk|f|u|cc|h|", "vk|f|u|cc|d|"
	f.pfPH, f.pfPD = "vk|f|u|p|h|", "vk|f|u|p|d|"
	f.pfVH, f.pfVD = "vk|f|v|h|", "vk|f|v|d|"
	f.verified = make(map[string]*[2]vcount)
	f.scopeIP, f.scopePrefix = PerCaller(g.IPKey), PerPrefix(f.digits)
	return f, nil
}

// guards reports whether the guard applies to a Start on ch.
func (f *fraud) guards(ch Channel) bool { return slices.Contains(f.channels, ch) }

// premiumOf returns the premium range e164 is in, or "".
// Only the ranges that share e164's first digit can hold it, so the
// first match is the same as in the whole list.
func (f *fraud) premiumOf(e164 string) string {
	if len(e164) < 2 || e164[1] < '0' || e164[1] > '9' {
		return ""
	}
	for _, p := range f.premium[e164[1]-'0'] {
		if strings.HasPrefix(e164, p) {
			return p
		}
	}
	return ""
}

// vslot returns where the verified counter of kind lives in the cache:
// the hour ('h', 'H') and day ('d', 'D') counters of a country ('c') or
// of a prefix ('p') share one entry, so a decision looks up two.
func vslot(kind byte) (group byte, i int) {
	switch kind {
	case 'h':
		return 'c', 0
	case 'd':
		return 'c', 1
	case 'H':
		return 'p', 0
	}
	return 'p', 1
}

// entryLocked returns, with f.mu held, the cache entry of the country
// (group 'c') or prefix ('p') value, or nil.
func (f *fraud) entryLocked(group byte, value string) *[2]vcount {
	var buf [40]byte
	return f.verified[string(append(append(buf[:0], group, '|'), value...))]
}

// known returns what v says of the approved sends for bucket b: the
// larger of bucket b's and the previous bucket's.
func (v *vcount) known(b int64) int64 {
	switch v.cur {
	case b:
		return max(v.curN, v.prev)
	case b - 1:
		return v.curN
	}
	return 0
}

// knownLocked returns, with f.mu held, what the client knows of the
// approved sends of the verified counter (kind, value) for bucket b.
func (f *fraud) knownLocked(kind byte, value string, b int64) int64 {
	g, i := vslot(kind)
	if e := f.entryLocked(g, value); e != nil {
		return e[i].known(b)
	}
	return 0
}

// learn records that bucket b of the verified counter (kind, value) holds
// n approved sends, as the store answered.
func (f *fraud) learn(kind byte, value string, b, n int64) {
	g, i := vslot(kind)
	k := string(g) + "|" + value
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.verified[k]
	if e == nil {
		if len(f.verified) >= maxVerifiedCache {
			clear(f.verified) // forget; the store keeps the counts
		}
		e = new([2]vcount)
		f.verified[k] = e
	}
	v := &e[i]
	switch {
	case b > v.cur:
		if b == v.cur+1 {
			v.prev = v.curN
		} else {
			v.prev = 0
		}
		v.cur, v.curN = b, n
	case b == v.cur:
		v.curN = max(v.curN, n)
	}
}

// allowance is max(floor, share × verified).
func (cv Conversion) allowance(verified int64) int64 {
	return max(int64(cv.Floor), int64(cv.Share*float64(verified)))
}

// fraudRule explains a limit the guard added.
type fraudRule struct {
	scope    Scope
	max      int64
	window   time.Duration
	verified int64
	spend    *spendBudget // a spend budget's limit
	start    int64        // its window's start, Unix seconds
}

// screen adds the guard's limits for a Start of the E.164 number e164 on
// ch to r, or returns the premium range refusal. The country and prefix
// of the number are returned for the decision.
func (f *fraud) screen(r *policyReq, e164 string, keys map[string]string, cost int64) (cc, prefix string) {
	cc = callingCode(e164)
	prefix = e164[:min(len(e164), 1+f.digits)]
	g := &f.g
	now := f.now()
	hour, day := now.Unix()/3600, now.Unix()/86400
	if g.IPKey != "" && (g.PerIP.Max > 0 || g.PerIPRange.Max > 0) {
		if ip := keys[g.IPKey]; ip != "" {
			if g.PerIP.Max > 0 {
				r.addGuard(f.pfIP, ip, nil, !f.plain, -1, int64(g.PerIP.Max), g.PerIP.Window,
					rule{policy: PolicyVelocity, value: ip, fr: fraudRule{scope: f.scopeIP, max: int64(g.PerIP.Max), window: g.PerIP.Window}})
			}
			if g.PerIPRange.Max > 0 {
				if raw, ok := ipRange(ip); ok {
					r.addGuard(f.pfRange, "", raw[:], !f.plain, -1, int64(g.PerIPRange.Max), g.PerIPRange.Window,
						rule{policy: PolicyVelocity, value: ip, fr: fraudRule{scope: PerIPRange, max: int64(g.PerIPRange.Max), window: g.PerIPRange.Window}})
				}
			}
		}
	}
	if g.PerPrefix.Max > 0 {
		r.addGuard(f.pfPrefix, prefix, nil, false, -1, int64(g.PerPrefix.Max), g.PerPrefix.Window,
			rule{policy: PolicyVelocity, value: prefix, fr: fraudRule{scope: f.scopePrefix, max: int64(g.PerPrefix.Max), window: g.PerPrefix.Window}})
	}
	if g.PerCountry.Max > 0 && cc != "" {
		r.addGuard(f.pfCountry, cc, nil, false, -1, int64(g.PerCountry.Max), g.PerCountry.Window,
			rule{policy: PolicyVelocity, value: cc, fr: fraudRule{scope: PerCountry, max: int64(g.PerCountry.Max), window: g.PerCountry.Window}})
	}
	if g.Sequence.Max > 0 && len(e164) > 6 {
		block := e164[:len(e164)-2]
		r.addGuard(f.pfSeq, block, nil, !f.plain, -1, int64(g.Sequence.Max), g.Sequence.Window,
			rule{policy: PolicySequence, value: prefix, fr: fraudRule{scope: PerNumberBlock, max: int64(g.Sequence.Max), window: g.Sequence.Window}})
	}
	// The hour's allowance is at least a sixth of the day's, so that an
	// hour with few approvals (a quiet hour, or one an attack used up)
	// does not starve the next.
	var known [4]int64 // CD, CH, PD, PH
	if g.CountryDay != (Conversion{}) || g.CountryHour != (Conversion{}) || g.PrefixDay != (Conversion{}) || g.PrefixHour != (Conversion{}) {
		f.mu.Lock()
		if e := f.entryLocked('c', cc); e != nil {
			known[0], known[1] = e[1].known(day), e[0].known(hour)
		}
		if e := f.entryLocked('p', prefix); e != nil {
			known[2], known[3] = e[1].known(day), e[0].known(hour)
		}
		f.mu.Unlock()
	}
	conv := func(pf string, value string, v int64, scope Scope, cv Conversion, b int64, window time.Duration, atLeast int64) int64 {
		if cv.Floor == 0 && cv.Share == 0 || value == "" {
			return 0
		}
		a := max(cv.allowance(v), atLeast)
		// The counter counts the sends of the bucket, less those that
		// ended approved (learnApproval gives them back).
		r.addGuard(pf, value, nil, false, b, max(1, a), 2*window,
			rule{policy: PolicyConversion, value: value, fr: fraudRule{scope: scope, max: a, window: window, verified: v}})
		return a
	}
	a := conv(f.pfCD, cc, known[0], PerCountry, g.CountryDay, day, 24*time.Hour, 0)
	conv(f.pfCH, cc, known[1], PerCountry, g.CountryHour, hour, time.Hour, a/6)
	a = conv(f.pfPD, prefix, known[2], f.scopePrefix, g.PrefixDay, day, 24*time.Hour, 0)
	conv(f.pfPH, prefix, known[3], f.scopePrefix, g.PrefixHour, hour, time.Hour, a/6)
	f.addSpend(r, cc, cost, now)
	return cc, prefix
}

// addGuard appends a limit of the guard: its key is pf and value (or
// raw), hashed when hash is set, and "|" and bucket unless bucket < 0.
func (r *policyReq) addGuard(pf, value string, raw []byte, hash bool, bucket, max int64, window time.Duration, ru rule) {
	start := len(r.buf)
	r.buf = append(r.buf, pf...)
	switch {
	case raw != nil && !hash:
		r.buf = append(r.buf, raw...)
	case raw != nil:
		sum := sha256.Sum256(raw)
		var h [22]byte
		base64.RawURLEncoding.Encode(h[:], sum[:16])
		r.buf = append(r.buf, h[:]...)
	case hash:
		if !r.hashed || r.hashOf != value {
			sum := sha256.Sum256([]byte(value))
			base64.RawURLEncoding.Encode(r.hash[:], sum[:16])
			r.hashOf, r.hashed = value, true
		}
		r.buf = append(r.buf, r.hash[:]...)
	default:
		r.buf = append(r.buf, value...)
	}
	if bucket >= 0 {
		r.buf = append(r.buf, '|')
		r.buf = strconv.AppendInt(r.buf, bucket, 10)
	}
	r.limits = append(r.limits, store.Limit{Max: max, Window: window})
	r.rules = append(r.rules, ru)
	r.offs = append(r.offs, [2]int{start, len(r.buf)})
}

// ipRange returns the /24 of an IPv4 address or the /48 of an IPv6 one,
// as 16 bytes and the prefix length.
func ipRange(s string) ([17]byte, bool) {
	var raw [17]byte
	if v4, ok := parseIPv4(s); ok {
		raw[10], raw[11] = 0xff, 0xff // as netip's As16 of an IPv4 address
		copy(raw[12:15], v4[:3])
		raw[16] = 24
		return raw, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return raw, false
	}
	return addrRange(a), true
}

// addrRange is ipRange of a parsed address.
func addrRange(a netip.Addr) [17]byte {
	var raw [17]byte
	a = a.Unmap()
	b := a.As16()
	if a.Is4() {
		copy(raw[:], b[:15])
		raw[16] = 24
	} else {
		copy(raw[:], b[:6])
		raw[16] = 48
	}
	return raw
}

// parseIPv4 parses the dotted-quad IPv4 addresses that netip.ParseAddr
// parses (four fields of 0 to 255, without leading zeros), four times
// faster; it reports false for everything else, which ipRange leaves to
// netip.
func parseIPv4(s string) ([4]byte, bool) {
	var a [4]byte
	f, v, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || f == 4 {
				return a, false
			}
			a[f] = byte(v)
			f, v, digits = f+1, 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || digits > 0 && v == 0 {
			return a, false // not a digit, or a leading zero
		}
		v, digits = 10*v+int(c-'0'), digits+1
		if v > 255 {
			return a, false
		}
	}
	return a, f == 4
}

// learnApproval teaches the guard that a send to the E.164 number e164
// ended approved, in two calls of the store: a Take counts it in the
// store's verified counters of the current hour and day (whose totals,
// every replica's approvals included, the client remembers for the
// allowances), and a Release takes the send out of the conversion
// counters (on every replica sharing the store).
//
// The send's own hit is not known here (Check names the target, not the
// Start), so the give-back names the newest possible hit: any hit of the
// counter's current bucket, which is what an approval should take back.
func (f *fraud) learnApproval(ctx context.Context, s store.Limiter, e164 string) {
	if len(e164) < 3 || e164[0] != '+' {
		return
	}
	cc := callingCode(e164)
	prefix := e164[:min(len(e164), 1+f.digits)]
	now := f.now()
	ctx = context.WithoutCancel(ctx)
	var give, seen []store.Limit
	var cs []verifiedCounter
	for _, c := range f.verifiedCounters(cc, prefix, now) {
		b := strconv.FormatInt(c.b, 10)
		give = append(give, store.Limit{Key: c.pf + c.value + "|" + b, Max: 1, Window: 2 * c.window, Hit: math.MaxInt64})
		seen = append(seen, store.Limit{Key: c.key(f), Max: maxVerified, Window: 2 * c.window})
		cs = append(cs, c)
	}
	if len(give) == 0 {
		return
	}
	if res, err := s.Take(ctx, seen); err == nil && res.OK {
		for i, c := range cs {
			f.learn(c.kind, c.value, c.b, seen[i].Count)
		}
	}
	_ = s.Release(ctx, give)
}

// maxVerified is the Max of a verified counter: never reached.
const maxVerified = 1 << 60

// verifiedCounter is one of the conversion counters of a send and its
// verified counter.
type verifiedCounter struct {
	pf     string // the conversion counter's key prefix
	kind   byte
	value  string
	b      int64 // bucket
	window time.Duration
	vpf    string // the verified counter's key prefix
}

// key returns the verified counter's key.
func (c verifiedCounter) key(f *fraud) string {
	return c.vpf + string(c.kind) + "|" + c.value + "|" + strconv.FormatInt(c.b, 10)
}

// verifiedCounters returns the conversion counters that apply to a send
// to the country cc and prefix at now.
func (f *fraud) verifiedCounters(cc, prefix string, now time.Time) []verifiedCounter {
	hour, day := now.Unix()/3600, now.Unix()/86400
	g := &f.g
	all := [...]struct {
		cv Conversion
		verifiedCounter
	}{
		{g.CountryHour, verifiedCounter{f.pfCH, 'h', cc, hour, time.Hour, f.pfVH}},
		{g.CountryDay, verifiedCounter{f.pfCD, 'd', cc, day, 24 * time.Hour, f.pfVD}},
		{g.PrefixHour, verifiedCounter{f.pfPH, 'H', prefix, hour, time.Hour, f.pfVH}},
		{g.PrefixDay, verifiedCounter{f.pfPD, 'D', prefix, day, 24 * time.Hour, f.pfVD}},
	}
	var out []verifiedCounter
	for _, c := range all {
		if c.cv != (Conversion{}) && c.value != "" {
			out = append(out, c.verifiedCounter)
		}
	}
	return out
}

// refreshEvery is how often, at most, a replica reads the verified
// counters of one country or prefix from the store before a conversion
// refusal there: often enough to see the other replicas' approvals, and
// at most one read per prefix in that time under attack.
const refreshEvery = 10 * time.Second

// refresh reads, before a conversion refusal of a send to cc and prefix,
// the verified counters from the store, so that approvals other replicas
// counted since this one last learned raise the allowance. It reads at
// most once per refreshEvery per value of the refusing rule, and reports
// whether the client learned more approvals than it knew.
func (f *fraud) refresh(ctx context.Context, s store.Limiter, cc, prefix, value string) bool {
	rd, ok := s.(store.CountReader)
	if !ok {
		return false
	}
	now := f.now()
	f.mu.Lock()
	last, seen := f.reads[value]
	if seen && now.Sub(last) < refreshEvery && !now.Before(last) {
		f.mu.Unlock()
		return false
	}
	if len(f.reads) >= maxVerifiedCache {
		clear(f.reads)
	}
	f.reads[value] = now
	f.mu.Unlock()
	cs := f.verifiedCounters(cc, prefix, now)
	if len(cs) == 0 {
		return false
	}
	ls := make([]store.Limit, len(cs))
	for i, c := range cs {
		ls[i].Key = c.key(f)
	}
	if rd.Counts(context.WithoutCancel(ctx), ls) != nil {
		return false
	}
	grew := false
	for i, c := range cs {
		f.mu.Lock()
		before := f.knownLocked(c.kind, c.value, c.b)
		f.mu.Unlock()
		f.learn(c.kind, c.value, c.b, ls[i].Count)
		f.mu.Lock()
		grew = grew || f.knownLocked(c.kind, c.value, c.b) > before
		f.mu.Unlock()
	}
	return grew
}

// decision describes the guard's refusal (or, with pe nil, its allowing)
// of a Start.
func (f *fraud) decision(ch Channel, cc, prefix string, ru *rule, wait time.Duration) FraudDecision {
	d := FraudDecision{Action: FraudAllow, Channel: ch, Country: cc, Prefix: prefix}
	if ru == nil {
		return d
	}
	d.Action = FraudRefuse
	if f.g.RecordOnly {
		d.Action = FraudRecord
	}
	d.Signal, d.Wait = ru.policy, wait
	d.Scope, d.Max, d.Window, d.Verified = ru.fr.scope, int(ru.fr.max), ru.fr.window, int(ru.fr.verified)
	if ru.fr.spend != nil {
		d.Max, d.Amount = 0, ru.fr.spend.Amount
	}
	d.Key = fraudKey(ru)
	return d
}

// fraudKey is the Key of a guard rule's refusal, masked when personal.
func fraudKey(ru *rule) string {
	switch ru.fr.scope {
	case PerIPRange:
		if raw, ok := ipRange(ru.value); ok {
			if raw[16] == 24 {
				return fmt.Sprintf("%d.%d.%d.0/24", raw[12], raw[13], raw[14])
			}
			return fmt.Sprintf("%x:%x:%x::/48", uint16(raw[0])<<8|uint16(raw[1]), uint16(raw[2])<<8|uint16(raw[3]), uint16(raw[4])<<8|uint16(raw[5]))
		}
		return ""
	case PerCountry, PerNumberBlock:
		return ru.value
	case Global:
		return ""
	}
	if ru.policy == PolicyPremium || strings.HasPrefix(string(ru.fr.scope), "prefix:") {
		return ru.value
	}
	return mask.Target(ru.value)
}

// fraudReport tells the operator about a decision: to the hook, and to
// the client's logger (WithLogger), at Warn level, for a refusal or a
// recorded one.
func (c *Client) fraudReport(ctx context.Context, d FraudDecision) {
	f := c.cfg.policy.fraud
	if f.g.OnDecision != nil {
		f.g.OnDecision(ctx, d)
	}
	if d.Action == FraudAllow {
		return
	}
	l := c.cfg.logger
	if l == nil || !l.Enabled(ctx, slog.LevelWarn) {
		return
	}
	attrs := []slog.Attr{
		slog.String("action", string(d.Action)),
		slog.String("signal", string(d.Signal)),
		slog.String("scope", string(d.Scope)),
		slog.String("key", d.Key),
		slog.String("channel", string(d.Channel)),
		slog.String("country", d.Country),
		slog.String("prefix", d.Prefix),
		slog.Int("max", d.Max),
	}
	if d.Window > 0 {
		attrs = append(attrs, slog.Duration("window", d.Window))
	}
	if d.Amount > 0 {
		attrs = append(attrs, slog.Float64("amount", d.Amount))
	}
	if d.Signal == PolicyConversion {
		attrs = append(attrs, slog.Int("verified", d.Verified))
	}
	if d.Wait > 0 {
		attrs = append(attrs, slog.Duration("retry_after", d.Wait))
	}
	l.LogAttrs(ctx, slog.LevelWarn, "verify fraud guard", attrs...)
}

// fraudError is the PolicyError of a guard refusal.
func fraudError(d FraudDecision) *PolicyError {
	return &PolicyError{Policy: d.Signal, Scope: d.Scope, Key: d.Key, Max: d.Max, Amount: d.Amount, Window: d.Window, Wait: d.Wait}
}

// fraudLearn teaches the guard that the verification to to (or, when to
// is empty, the one with the given ID) ended approved.
func (c *Client) fraudLearn(ctx context.Context, to, id string) {
	p := &c.cfg.policy
	if to == "" && p.records != nil {
		rec, err := p.records.Get(context.WithoutCancel(ctx), targetKey(id))
		if err != nil || !rec.Found() {
			return
		}
		to = string(rec.Value)
	}
	if to == "" || strings.Contains(to, "@") {
		return
	}
	p.fraud.learnApproval(ctx, p.limiter, to)
}
