package verify

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/nyaruka/phonenumbers/v2"

	"github.com/verifykit/verifykit/store"
)

// Scope says what a budget counts per: each distinct value of the scope has
// its own counter. See the Per… constants and functions.
type Scope string

// The scopes without a parameter.
const (
	// PerDestination counts per normalised phone number or per mailbox:
	// e-mail addresses that differ only in the case of their local part
	// count as one (and, with WithSubaddressFolding, those that differ
	// only in their tag).
	PerDestination Scope = "destination"
	// PerCountry counts per country calling code of the phone number
	// ("+44"); e-mail addresses are not counted.
	PerCountry Scope = "country"
	// Global counts every request in one counter.
	Global Scope = "global"
)

// PerCaller returns the scope of the caller key called name, which the
// application passes in StartOptions.CallerKeys and CheckOptions.CallerKeys:
// an IP address, a user ID, a session, whatever it trusts. The library never
// reads a header itself. A request without that key is not counted by the
// budget. name is 1 to 32 lower-case letters, digits, '_', '-' or '.'.
func PerCaller(name string) Scope { return Scope("caller:" + name) }

// PerPrefix returns the scope of the first digits digits (1 to 15, after
// the '+') of the phone number, such as "+447700" for PerPrefix(6): a number
// range, where SMS pumping concentrates. E-mail addresses are not counted.
func PerPrefix(digits int) Scope { return Scope("prefix:" + strconv.Itoa(digits)) }

type scopeKind uint8

// scopeKey is the short form of a scope in store keys: "d", "cc", "g",
// "c:NAME" or "pN".
func scopeKey(k scopeKind, name string, digits int) string {
	switch k {
	case scopeDestination:
		return "d"
	case scopeCountry:
		return "cc"
	case scopeGlobal:
		return "g"
	case scopeCaller:
		return "c:" + name
	}
	return "p" + strconv.Itoa(digits)
}

const (
	scopeDestination scopeKind = iota + 1
	scopeCountry
	scopeGlobal
	scopeCaller
	scopePrefix
)

// parse returns the scope's kind and parameter, or an error.
func (s Scope) parse() (kind scopeKind, name string, digits int, err error) {
	switch s {
	case PerDestination:
		return scopeDestination, "", 0, nil
	case PerCountry:
		return scopeCountry, "", 0, nil
	case Global:
		return scopeGlobal, "", 0, nil
	}
	if n, ok := strings.CutPrefix(string(s), "caller:"); ok {
		if !validCallerName(n) {
			return 0, "", 0, fmt.Errorf("caller key name %q is not 1 to 32 characters of a-z, 0-9, underscore, dash and dot", n)
		}
		return scopeCaller, n, 0, nil
	}
	if d, ok := strings.CutPrefix(string(s), "prefix:"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > 15 || strconv.Itoa(n) != d {
			return 0, "", 0, fmt.Errorf("prefix length %q is not 1 to 15", d)
		}
		return scopePrefix, "", n, nil
	}
	return 0, "", 0, fmt.Errorf("unknown scope %q", string(s))
}

func validCallerName(n string) bool {
	if n == "" || len(n) > 32 {
		return false
	}
	for i := range len(n) {
		c := n[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Policy names the rule behind a refusal, in a PolicyError.
type Policy string

// The policies.
const (
	PolicyCooldown    Policy = "cooldown"     // WithResendCooldown
	PolicySendBudget  Policy = "send_budget"  // WithSendBudget
	PolicyCheckBudget Policy = "check_budget" // WithCheckBudget
	PolicyRegion      Policy = "region"       // WithAllowedRegions, WithDeniedRegions
	PolicyPrefix      Policy = "prefix"       // WithDeniedPrefixes
)

// PolicyError is the detail of a refusal by the client's own policies (see
// WithSendBudget and its siblings), reachable with errors.As through the
// *Error that Start or Check returns. Such a refusal made no provider call.
//
// It matches, with errors.Is:
//   - ErrTooManySends for a cooldown or a send budget per destination,
//   - ErrTooManyChecks for a check budget per destination,
//   - ErrUndeliverable for a region or prefix rule,
//   - ErrRateLimited for every other budget.
//
// RetryAfter (and the package's RetryAfter function) reports how long to
// wait, for cooldowns and budgets.
type PolicyError struct {
	// Policy is the rule that refused.
	Policy Policy
	// Scope is what the budget counts per; empty for region and prefix
	// rules.
	Scope Scope
	// Key is the value of the scope that ran out, masked: the masked phone
	// number or e-mail address for PerDestination, the masked caller key
	// for PerCaller, the calling code or prefix, or empty for Global. For
	// a region rule it is the region; for a prefix rule the denied prefix.
	Key string
	// Max and Window are the budget: Max per Window. Zero for other rules.
	// For a spend budget (PolicySpendBudget) Max is 0 and Window is the
	// length of the calendar window that ran out.
	Max    int
	Window time.Duration
	// Amount is, for a spend budget, its amount in the price table's
	// currency; 0 otherwise.
	Amount float64
	// Wait is how long until the request would pass this rule, or 0 when
	// waiting does not help (region and prefix rules).
	Wait time.Duration
}

// Error describes the refusal without revealing the target.
func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString("refused by policy ")
	b.WriteString(string(e.Policy))
	if e.Scope != "" {
		b.WriteString(" per ")
		b.WriteString(string(e.Scope))
	}
	if e.Key != "" {
		b.WriteString(" ")
		b.WriteString(e.Key)
	}
	if e.Max > 0 {
		fmt.Fprintf(&b, " (%d per %v)", e.Max, e.Window)
	}
	if e.Amount > 0 {
		per := "month"
		switch e.Window {
		case time.Hour:
			per = "hour"
		case 24 * time.Hour:
			per = "day"
		}
		fmt.Fprintf(&b, " (%g per %s)", e.Amount, per)
	}
	if e.Wait > 0 {
		fmt.Fprintf(&b, "; retry after %v", e.Wait.Round(time.Millisecond))
	}
	return b.String()
}

// RetryAfter returns Wait, so that RetryAfter(err) finds it (0 when waiting
// does not help).
func (e *PolicyError) RetryAfter() time.Duration { return e.Wait }

// Is reports whether target is the sentinel the refusal matches.
func (e *PolicyError) Is(target error) bool {
	switch e.Policy {
	case PolicyRegion, PolicyPrefix, PolicyPremium:
		return target == ErrUndeliverable
	case PolicyCooldown:
		return target == ErrTooManySends
	}
	if e.Scope == PerDestination {
		if e.Policy == PolicySendBudget {
			return target == ErrTooManySends
		}
		return target == ErrTooManyChecks
	}
	return target == ErrRateLimited
}

// policyStoreError is a failure of the policy store, under fail-closed.
type policyStoreError struct{ err error }

func (e *policyStoreError) Error() string {
	return "policy store failed, request refused: " + e.err.Error()
}
func (e *policyStoreError) Unwrap() error        { return e.err }
func (e *policyStoreError) Is(target error) bool { return target == ErrUnavailable }

// policyConfig is the client's policies, from the options.
type policyConfig struct {
	limiter  store.Limiter
	failOpen bool
	// keyless is set when limiter is a *store.Memory, which keeps no
	// key (only seeded hashes of it) once a call returns: a request's
	// keys may then point into its pooled buffer (see seal).
	keyless bool

	waits      []time.Duration // cooldown; empty: none
	cooldownPf string          // key prefix of the cooldown

	sends  []budget
	checks []budget

	allow, deny  map[string]bool
	denyPrefixes []string

	tagDelims string // WithSubaddressFolding

	fraud *fraud // WithFraudGuard; nil: off

	active bool // any rule configured

	// records remembers the target of each verification started, for
	// CheckID: set when a check budget counts per destination, country or
	// prefix and the store keeps records (store.Memory and Redis do).
	records store.Store
}

// budget is one WithSendBudget or WithCheckBudget.
type budget struct {
	scope    Scope
	kind     scopeKind
	name     string // caller key name
	digits   int    // prefix length
	max      int64
	window   time.Duration
	channels []Channel // nil: every channel
	pf       string    // key prefix
}

// maxWindow bounds windows and waits: a day's budget is the longest that
// makes sense, and a week leaves room.
const maxWindow = 7 * 24 * time.Hour

// WithResendCooldown makes Start refuse to send a code to a destination
// sooner than first after the previous one, with ErrTooManySends and a
// RetryAfter. Each further code to the same destination waits twice as long
// as the one before, up to max; the destination starts again from first
// once no code has been sent to it for an hour after its wait ended.
// first and max are between 1 s and 7 days, and first <= max. By default
// there is no cooldown.
//
// A Start that fails without sending (any error but ErrOutcomeUnknown)
// gives its place back: the user can retry at once. It gives back its own
// hit only, and only while that hit is still the destination's last: a
// wait that another Start left meanwhile (a real send) is never shortened,
// and the failed hit then stays counted. A policy store that cannot name
// hits (store.Taken.Hit 0) gets nothing back. After ErrOutcomeUnknown a
// code may have gone, so the wait stands; RecoverStart is a Start and waits too.
func WithResendCooldown(first, max time.Duration) Option {
	return func(c *config) error {
		if first < time.Second || max < first || max > maxWindow {
			return fmt.Errorf("verify: WithResendCooldown: %v then up to %v is not 1s <= first <= max <= %v", first, max, maxWindow)
		}
		var waits []time.Duration
		for w := first; ; w *= 2 {
			if w >= max || len(waits) == 15 {
				waits = append(waits, max)
				break
			}
			waits = append(waits, w)
		}
		c.policy.waits = waits
		c.policy.cooldownPf = "vk|r|d|" + first.String() + "-" + max.String() + "|*|"
		return nil
	}
}

// cooldownReset is how long a destination keeps its place in the series of
// growing waits after its last wait ended.
const cooldownReset = time.Hour

// WithSendBudget makes Start refuse a send once max codes were sent within
// window per value of scope: per destination, per caller key, per country
// calling code or number prefix, or globally. The window starts at its first
// send and ends window later (a fixed window per value). With channels, only
// Starts on those channels count, so calls (which cost more) can have their
// own, smaller budget; ChannelAuto counts as itself. max is 1 to 1e9 and
// window 1 s to 7 days. Two budgets with the same scope, window and channels
// are refused. By default there is no budget.
//
// A refusal is a *PolicyError: ErrTooManySends per destination,
// ErrRateLimited otherwise, with a RetryAfter. Every budget of a request
// must allow it for it to count against any of them, and a Start that fails
// without sending gives its place back — in the window it was taken in
// only: once that window has ended, nothing is returned to the next one.
func WithSendBudget(scope Scope, max int, window time.Duration, channels ...Channel) Option {
	return func(c *config) error {
		b, err := newBudget("WithSendBudget", "s", scope, max, window, channels)
		if err != nil {
			return err
		}
		c.policy.sends = append(c.policy.sends, b)
		return nil
	}
}

// WithCheckBudget makes Check and CheckID refuse once max wrong codes were
// typed within window per value of scope, across verifications: starting a
// new verification does not reset it. Only wrong codes count (and checks
// whose outcome is unknown); a check that approves, or that the provider
// refuses, gives its place back. max is 1 to 1e9 and window 1 s to 7 days.
// By default there is no budget.
//
// CheckID knows only the ID before it calls the provider. For budgets per
// destination, country and prefix, Start therefore remembers the target of
// each verification in the policy store (one more write per Start, one
// more read per CheckID), which must keep records (store.Memory, the Redis
// store and every store.Store do; New refuses a store.Limiter that is not
// one). CheckID never runs with fewer budgets than Check: for an ID whose
// target the client does not remember — an ID Start did not return (other
// spellings of it included), one started by a client with another policy
// store, or one whose record the store lost — it fails closed with
// ErrNotFound and no provider call. Replicas must therefore share the
// policy store (WithPolicyStore). Only a failure of the store itself,
// under WithPolicyFailOpen, lets CheckID go ahead without these budgets.
//
// A refusal is a *PolicyError: ErrTooManyChecks per destination,
// ErrRateLimited otherwise, with a RetryAfter.
func WithCheckBudget(scope Scope, max int, window time.Duration) Option {
	return func(c *config) error {
		b, err := newBudget("WithCheckBudget", "c", scope, max, window, nil)
		if err != nil {
			return err
		}
		c.policy.checks = append(c.policy.checks, b)
		return nil
	}
}

func newBudget(opt, kind string, scope Scope, max int, window time.Duration, channels []Channel) (budget, error) {
	k, name, digits, err := scope.parse()
	if err != nil {
		return budget{}, fmt.Errorf("verify: %s: %v", opt, err)
	}
	if max < 1 || max > 1e9 {
		return budget{}, fmt.Errorf("verify: %s: max %d is not 1 to 1e9", opt, max)
	}
	if window < time.Second || window > maxWindow {
		return budget{}, fmt.Errorf("verify: %s: window %v is not 1s to %v", opt, window, maxWindow)
	}
	chs := "*"
	if len(channels) > 0 {
		channels = slices.Clone(channels)
		slices.Sort(channels)
		channels = slices.Compact(channels)
		names := make([]string, len(channels))
		for i, ch := range channels {
			if !ch.Known() {
				return budget{}, fmt.Errorf("verify: %s: unknown channel %q", opt, string(ch))
			}
			names[i] = string(ch)
		}
		chs = strings.Join(names, ",")
	}
	return budget{
		scope: scope, kind: k, name: name, digits: digits,
		max: int64(max), window: window, channels: channels,
		pf: "vk|" + kind + "|" + scopeKey(k, name, digits) + "|" + window.String() + "|" + chs + "|",
	}, nil
}

// WithSubaddressFolding makes the policies (cooldowns, and budgets per
// destination) count e-mail addresses that differ only in a sub-address
// tag as one mailbox: the local part is cut at the first of delims, so
// "alice+1@example.com" and "alice+2@example.com" count as
// "alice@example.com". delims is 1 to 4 of the characters + - = _ ~ (the
// usual tag separators are "+", and "-" at some hosts; pass the ones your
// users' mail hosts use). A local part that begins with a delimiter is not
// cut. Codes are still sent to the address as typed. By default tags are
// kept: at hosts without sub-addressing, alice+1 and alice+2 are two
// mailboxes. The case of the local part is always folded.
func WithSubaddressFolding(delims string) Option {
	return func(c *config) error {
		if delims == "" || len(delims) > 4 || strings.Trim(delims, "+-=_~") != "" {
			return fmt.Errorf("verify: WithSubaddressFolding: %q is not 1 to 4 of + - = _ ~", delims)
		}
		c.policy.tagDelims = delims
		return nil
	}
}

// WithAllowedRegions makes Start refuse phone numbers outside the given
// regions (ISO 3166-1 alpha-2 codes such as "US", "GB"), with
// ErrUndeliverable and no provider call. Numbers that belong to no region
// (+800, +882 and other international services) are refused too. E-mail
// addresses are not affected. By default every region is allowed.
func WithAllowedRegions(regions ...string) Option {
	return func(c *config) error {
		m, err := regionSet("WithAllowedRegions", regions)
		if err != nil {
			return err
		}
		c.policy.allow = m
		return nil
	}
}

// WithDeniedRegions makes Start refuse phone numbers of the given regions,
// with ErrUndeliverable and no provider call. By default no region is
// denied.
func WithDeniedRegions(regions ...string) Option {
	return func(c *config) error {
		m, err := regionSet("WithDeniedRegions", regions)
		if err != nil {
			return err
		}
		c.policy.deny = m
		return nil
	}
}

func regionSet(opt string, regions []string) (map[string]bool, error) {
	if len(regions) == 0 {
		return nil, fmt.Errorf("verify: %s: no region", opt)
	}
	supported := phonenumbers.GetSupportedRegions()
	m := make(map[string]bool, len(regions))
	for _, r := range regions {
		u := strings.ToUpper(r)
		if !supported[u] {
			return nil, fmt.Errorf("verify: %s: unknown region %q", opt, r)
		}
		m[u] = true
	}
	return m, nil
}

// WithDeniedPrefixes makes Start refuse phone numbers that begin with one
// of the given prefixes, written in international form ("+882", "+44 70"),
// with ErrUndeliverable and no provider call: the premium and high-cost
// ranges SMS pumping goes for. The prefixes are matched against the
// normalised number, so national forms and spacing cannot slip past. See
// HighCostPrefixes for a starting list. By default no prefix is denied.
func WithDeniedPrefixes(prefixes ...string) Option {
	return func(c *config) error {
		if len(prefixes) == 0 {
			return errors.New("verify: WithDeniedPrefixes: no prefix")
		}
		for _, p := range prefixes {
			clean, ok := cleanPrefix(p)
			if !ok {
				return fmt.Errorf("verify: WithDeniedPrefixes: %q is not + and 1 to 15 digits", p)
			}
			if !slices.Contains(c.policy.denyPrefixes, clean) {
				c.policy.denyPrefixes = append(c.policy.denyPrefixes, clean)
			}
		}
		return nil
	}
}

// cleanPrefix removes spaces, dashes, dots and parentheses from p and
// checks that what is left is '+' and 1 to 15 digits.
func cleanPrefix(p string) (string, bool) {
	b := make([]byte, 0, len(p))
	for i := range len(p) {
		switch c := p[i]; {
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		case c == '+' && len(b) == 0, '0' <= c && c <= '9' && len(b) > 0:
			b = append(b, c)
		default:
			return "", false
		}
	}
	if len(b) < 2 || len(b) > 16 {
		return "", false
	}
	return string(b), true
}

// HighCostPrefixes returns international ranges that ordinary users never
// verify with and that cost far more than a mobile number: the ITU's
// non-geographic codes for satellite services (+870 Inmarsat, +881
// global mobile satellite systems), international networks (+882, +883)
// and international premium-rate and shared-cost services (+979, +808).
// Pass them to WithDeniedPrefixes, adding the premium ranges of the
// countries you serve. The list is a new slice each call.
func HighCostPrefixes() []string {
	return []string{"+808", "+870", "+881", "+882", "+883", "+979"}
}

// WithPolicyStore makes the policies keep their counters in l instead of
// a memory store of the client's own, so that replicas of the application
// share them: the Redis store (module
// github.com/verifykit/verifykit/store/redisstore) for many replicas, or a
// *store.Memory shared by several clients. By default each client counts
// in its own store.Memory, bounded to store.DefaultMaxEntries counters.
func WithPolicyStore(l store.Limiter) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("verify: WithPolicyStore: nil store")
		}
		c.policy.limiter = l
		return nil
	}
}

// WithPolicyFailOpen makes the client go ahead with a Start or Check when
// the policy store fails, instead of refusing it with ErrUnavailable (the
// default, fail closed). The operation then runs unprotected; its Event
// carries the store's error in PolicyErr, and the log record is a warning,
// so you can alert on it.
func WithPolicyFailOpen() Option {
	return func(c *config) error {
		c.policy.failOpen = true
		return nil
	}
}

// init validates the policies as a whole and fills in the default store.
func (p *policyConfig) init() error {
	seen := map[string]bool{}
	for _, bs := range [][]budget{p.sends, p.checks} {
		for _, b := range bs {
			if seen[b.pf] {
				return fmt.Errorf("verify: two budgets per %s per %v on the same channels", b.scope, b.window)
			}
			seen[b.pf] = true
		}
	}
	p.active = len(p.waits) > 0 || len(p.sends) > 0 || len(p.checks) > 0 ||
		p.allow != nil || p.deny != nil || len(p.denyPrefixes) > 0 || p.fraud != nil
	if p.limiter == nil && (len(p.waits) > 0 || len(p.sends) > 0 || len(p.checks) > 0 || p.fraud != nil) {
		m, err := store.NewMemory()
		if err != nil {
			return err
		}
		p.limiter = m
	}
	for _, b := range p.checks {
		if b.kind == scopeDestination || b.kind == scopeCountry || b.kind == scopePrefix {
			var ok bool
			if p.records, ok = p.limiter.(store.Store); !ok {
				return fmt.Errorf("verify: WithCheckBudget per %s needs a policy store that keeps records (a store.Store), so that CheckID knows the target; %T keeps none", b.scope, p.limiter)
			}
			break
		}
	}
	_, p.keyless = p.limiter.(*store.Memory)
	if p.fraud != nil {
		p.fraud.plain = p.keyless
	}
	if p.fraud != nil && p.records == nil {
		// CheckID teaches the guard the target's approval.
		p.records, _ = p.limiter.(store.Store)
	}
	return nil
}

// rule is what a limit of a request stands for, to explain a refusal.
type rule struct {
	policy Policy
	b      *budget   // nil for the cooldown
	value  string    // the scope's value (unmasked)
	fr     fraudRule // a limit of the fraud guard; zero otherwise
}

// policyReq is one request's limits; pooled, so that a Start allocates
// only its keys.
type policyReq struct {
	limits  []store.Limit
	rules   []rule
	offs    [][2]int // each key's place in buf, until seal
	buf     []byte
	skipped error  // a store failure let through under fail-open
	hit     uint64 // the Take's Taken.Hit, for Release

	// The last value hashed, and its hash: a destination is in several
	// keys of a request.
	hashOf string
	hash   [22]byte
	hashed bool
}

var reqPool = sync.Pool{New: func() any { return new(policyReq) }}

func (r *policyReq) free() {
	if r == nil {
		return
	}
	clear(r.limits)
	clear(r.rules)
	r.limits, r.rules, r.offs, r.buf, r.skipped, r.hit = r.limits[:0], r.rules[:0], r.offs[:0], r.buf[:0], nil, 0
	r.hashOf, r.hashed = "", false
	reqPool.Put(r)
}

// add appends a limit whose key is pf and the scope's value; seal makes
// the keys strings. Destinations and caller keys are personal data, which
// store keys must not carry: they are replaced by the first 128 bits of
// their SHA-256, in unpadded base64url (22 bytes, however long the
// value). Calling codes and prefixes are kept as they are. Keys look like
// "vk|s|c:ip|1h0m0s|*|" followed by the value: the kind (s send budget, c
// check budget, r cooldown), the scope, the window, the channels.
func (r *policyReq) add(pf, value string, lim store.Limit, ru rule) {
	start := len(r.buf)
	r.buf = append(r.buf, pf...)
	if ru.b == nil || ru.b.kind == scopeDestination || ru.b.kind == scopeCaller {
		if !r.hashed || r.hashOf != value {
			sum := sha256.Sum256([]byte(value))
			base64.RawURLEncoding.Encode(r.hash[:], sum[:16])
			r.hashOf, r.hashed = value, true
		}
		r.buf = append(r.buf, r.hash[:]...)
	} else {
		r.buf = append(r.buf, value...)
	}
	// Key temporarily holds the offsets; seal turns them into strings.
	lim.Key = ""
	r.limits = append(r.limits, lim)
	r.rules = append(r.rules, ru)
	r.offs = append(r.offs, [2]int{start, len(r.buf)})
}

// bufAt returns where the key of limit i starts in buf: its length when
// the request had i limits.
func (r *policyReq) bufAt(i int) int {
	if i == 0 {
		return 0
	}
	return r.offs[i-1][1]
}

// seal turns the buffered keys into one string and points every limit's
// key into it: one allocation for all keys. With alias, for a store that
// keeps no key once its call returns (policyConfig.keyless), the string
// is the buffer itself and nothing is allocated: the keys are valid only
// until the buffer changes (the next add after a seal, or free), and
// nothing reads them after that.
func (r *policyReq) seal(alias bool) {
	var all string
	if alias {
		all = unsafe.String(unsafe.SliceData(r.buf), len(r.buf))
	} else {
		all = string(r.buf)
	}
	for i := range r.limits {
		o := r.offs[i]
		r.limits[i].Key = all[o[0]:o[1]]
	}
}
