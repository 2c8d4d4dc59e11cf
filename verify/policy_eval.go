package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers/v2"

	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/store"
)

// startPolicy applies the policies to a Start of the normalised target t.
// It returns the request's taken limits, to be finished by afterStart, or
// a refusal. A nil request means there was nothing to count.
func (c *Client) startPolicy(ctx context.Context, t target, ch Channel, keys map[string]string) (*policyReq, error) {
	p := &c.cfg.policy
	if !p.active {
		return nil, nil
	}
	if !t.email {
		if err := p.numberRules(t.value); err != nil {
			return nil, err
		}
	}
	var fr *fraud
	if p.fraud != nil && !t.email && p.fraud.guards(ch) {
		fr = p.fraud
		if pr := fr.premiumOf(t.value); pr != "" {
			d := fr.decision(ch, callingCode(t.value), t.value[:min(len(t.value), 1+fr.digits)],
				&rule{policy: PolicyPremium, value: pr}, 0)
			c.fraudReport(ctx, d)
			if !fr.g.RecordOnly {
				return nil, fraudError(d)
			}
		}
	}
	if len(p.waits) == 0 && len(p.sends) == 0 && fr == nil {
		return nil, nil
	}
	r := reqPool.Get().(*policyReq)
	dest := p.destination(t.value, t.email)
	if len(p.waits) > 0 {
		r.add(p.cooldownPf, dest, store.Limit{Window: cooldownReset, Waits: p.waits}, rule{policy: PolicyCooldown, value: dest})
	}
	for i := range p.sends {
		b := &p.sends[i]
		if b.channels != nil && !slices.Contains(b.channels, ch) {
			continue
		}
		if v, ok := b.value(dest, t.email, keys); ok {
			r.add(b.pf, v, store.Limit{Max: b.max, Window: b.window}, rule{policy: PolicySendBudget, b: b, value: v})
		}
	}
	if fr == nil {
		return c.take(ctx, r)
	}
	return c.takeGuarded(ctx, r, fr, t.value, ch, keys)
}

// takeGuarded adds the fraud guard's limits to r and takes them all in
// one step. Under RecordOnly, a refusal by the guard is reported and the
// other policies' limits are taken again without the guard's.
func (c *Client) takeGuarded(ctx context.Context, r *policyReq, fr *fraud, e164 string, ch Channel, keys map[string]string) (*policyReq, error) {
	n := len(r.limits)
	price := c.spendPrice(fr, e164, ch)
	cc, prefix := fr.screen(r, e164, keys, price)
	if len(r.limits) == 0 {
		r.free()
		return nil, nil
	}
	r.seal(c.cfg.policy.keyless)
	res, err := c.cfg.policy.limiter.Take(ctx, r.limits)
	if err == nil && !res.OK {
		// Before a conversion refusal, learn the approvals the other
		// replicas counted; if there are more, decide again once.
		if ru := &r.rules[min(max(res.Refused, 0), len(r.rules)-1)]; ru.policy == PolicyConversion &&
			fr.refresh(ctx, c.cfg.policy.limiter, cc, prefix, ru.value) {
			r.limits, r.rules, r.offs = r.limits[:n], r.rules[:n], r.offs[:n]
			r.buf = r.buf[:r.bufAt(n)]
			fr.screen(r, e164, keys, price)
			r.seal(c.cfg.policy.keyless)
			res, err = c.cfg.policy.limiter.Take(ctx, r.limits)
		}
	}
	if err != nil || res.OK {
		if err == nil && fr.g.OnDecision != nil {
			c.fraudReport(ctx, fr.decision(ch, cc, prefix, nil, 0))
		}
		if err == nil && len(fr.spend) > 0 {
			c.spendTaken(ctx, r)
		}
		return c.taken(ctx, r, res, err)
	}
	ri := min(max(res.Refused, 0), len(r.rules)-1)
	ru := &r.rules[ri]
	if ru.fr.scope == "" {
		return c.taken(ctx, r, res, err)
	}
	if ru.fr.spend != nil {
		c.spendAlert(ctx, ru, &r.limits[ri], 100, 0)
	}
	d := fr.decision(ch, cc, prefix, ru, res.RetryAfter)
	c.fraudReport(ctx, d)
	if !fr.g.RecordOnly {
		r.free()
		return nil, fraudError(d)
	}
	r.limits, r.rules, r.offs = r.limits[:n], r.rules[:n], r.offs[:n]
	return c.take(ctx, r)
}

// checkPolicy applies the check budgets to a Check of the normalised
// target to, or of a verification known by its ID only (to is empty):
// then the target is the one Start remembered for the ID, if any.
func (c *Client) checkPolicy(ctx context.Context, to, id string, keys map[string]string) (*policyReq, error) {
	p := &c.cfg.policy
	if len(p.checks) == 0 {
		return nil, nil
	}
	var skipped error
	if to == "" && p.records != nil {
		rec, err := p.records.Get(ctx, targetKey(id))
		switch {
		case err != nil && p.failOpen && ctx.Err() == nil:
			skipped = err // go on with the budgets that need no target
		case err != nil:
			return nil, &policyStoreError{err: err}
		case rec.Found():
			to = string(rec.Value)
		default:
			// Checking with fewer budgets than Check would let other
			// spellings of an ID, or IDs started elsewhere, past them.
			return nil, errUnknownTarget
		}
	}
	r := reqPool.Get().(*policyReq)
	r.skipped = skipped
	email := strings.Contains(to, "@")
	to = p.destination(to, email)
	for i := range p.checks {
		b := &p.checks[i]
		if to == "" && b.kind != scopeCaller && b.kind != scopeGlobal {
			continue
		}
		if v, ok := b.value(to, email, keys); ok {
			r.add(b.pf, v, store.Limit{Max: b.max, Window: b.window}, rule{policy: PolicyCheckBudget, b: b, value: v})
		}
	}
	return c.take(ctx, r)
}

// errUnknownTarget refuses a CheckID whose target the client does not
// remember while check budgets need it.
var errUnknownTarget = fmt.Errorf("%w: no verification this client started has this ID (check budgets need its target)", ErrNotFound)

// take counts the request's limits in the store.
func (c *Client) take(ctx context.Context, r *policyReq) (*policyReq, error) {
	if len(r.limits) == 0 {
		if r.skipped != nil {
			return r, nil
		}
		r.free()
		return nil, nil
	}
	r.seal(c.cfg.policy.keyless)
	res, err := c.cfg.policy.limiter.Take(ctx, r.limits)
	return c.taken(ctx, r, res, err)
}

// taken finishes take with the store's answer.
func (c *Client) taken(ctx context.Context, r *policyReq, res store.Taken, err error) (*policyReq, error) {
	switch {
	case err != nil && c.cfg.policy.failOpen && ctx.Err() == nil:
		r.limits = r.limits[:0] // nothing was taken, so nothing to give back
		r.skipped = err
		return r, nil
	case err != nil:
		r.free()
		return nil, &policyStoreError{err: err}
	case !res.OK:
		pe := r.refusal(res)
		r.free()
		return nil, pe
	}
	r.hit = res.Hit
	return r, nil
}

// finish gives the request's limits back unless keep, and returns the
// store failure let through under fail-open, if any.
func (c *Client) finish(ctx context.Context, r *policyReq, keep bool) error {
	if r == nil {
		return nil
	}
	skipped := r.skipped
	if !keep && len(r.limits) > 0 && r.hit != 0 {
		// The store gives back this request's own hits only: never a
		// wait that a later Start left, nor budget of a later window. A
		// store that cannot tell hits apart (Hit 0) keeps them, and so
		// does a failed give-back: the safe side.
		for i := range r.limits {
			r.limits[i].Hit = r.hit
		}
		_ = c.cfg.policy.limiter.Release(context.WithoutCancel(ctx), r.limits)
	}
	r.free()
	return skipped
}

// refusal describes the refusing limit of res.
func (r *policyReq) refusal(res store.Taken) *PolicyError {
	i := res.Refused
	if i < 0 || i >= len(r.rules) {
		i = 0
	}
	ru := r.rules[i]
	pe := &PolicyError{Policy: ru.policy, Wait: res.RetryAfter}
	if ru.b == nil {
		pe.Scope, pe.Key = PerDestination, mask.Target(ru.value)
		return pe
	}
	pe.Scope, pe.Max, pe.Window = ru.b.scope, int(ru.b.max), ru.b.window
	switch ru.b.kind {
	case scopeDestination, scopeCaller:
		pe.Key = mask.Target(ru.value)
	case scopeCountry, scopePrefix:
		pe.Key = ru.value
	}
	return pe
}

// value returns the budget's scope value for a request to the normalised
// target to (empty when unknown), or false when the budget does not count
// the request.
func (b *budget) value(to string, email bool, keys map[string]string) (string, bool) {
	switch b.kind {
	case scopeGlobal:
		return "", true
	case scopeCaller:
		k, ok := keys[b.name]
		return k, ok && k != ""
	case scopeDestination:
		return to, to != ""
	}
	if to == "" || email {
		return "", false
	}
	if b.kind == scopeCountry {
		cc := callingCode(to)
		return cc, cc != ""
	}
	return to[:min(len(to), 1+b.digits)], true
}

// destination returns the value that stands for the normalised target to
// in policy keys: the number itself, or for an e-mail address its mailbox,
// so that spellings reaching one mailbox share their cooldown and budgets.
// The local part is lower-cased (the domain already is), and with
// WithSubaddressFolding its tag is dropped. What is sent stays as typed.
func (p *policyConfig) destination(to string, email bool) string {
	if !email {
		return to
	}
	at := strings.LastIndexByte(to, '@')
	if at < 0 {
		return to
	}
	local, domain := to[:at], to[at:]
	if i := strings.IndexAny(local, p.tagDelims); p.tagDelims != "" && i > 0 {
		local = local[:i]
	}
	return foldCase(local) + domain
}

// foldCase maps every letter of s to one representative of its case
// class (Unicode simple case folding; ASCII letters to lower case), so that
// spellings differing only in case give one string.
func foldCase(s string) string {
	ascii := true
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	return strings.Map(func(r rune) rune {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		if 'A' <= m && m <= 'Z' {
			m += 'a' - 'A'
		}
		return m
	}, s)
}

// numberRules applies the prefix and region rules to an E.164 number.
func (p *policyConfig) numberRules(e164 string) error {
	for _, pf := range p.denyPrefixes {
		if strings.HasPrefix(e164, pf) {
			return &PolicyError{Policy: PolicyPrefix, Key: pf}
		}
	}
	if p.allow == nil && p.deny == nil {
		return nil
	}
	region := regionOf(e164)
	if p.deny[region] || p.allow != nil && !p.allow[region] {
		return &PolicyError{Policy: PolicyRegion, Key: region}
	}
	return nil
}

// callingCode returns the country calling code at the start of an E.164
// number, such as "+44", or "". Calling codes are 1 to 3 digits and none is
// a prefix of another.
func callingCode(e164 string) string {
	known := callingCodes()
	n := 0
	for l := 1; l <= 3 && l < len(e164); l++ {
		d := e164[l]
		if d < '0' || d > '9' {
			return ""
		}
		n = 10*n + int(d-'0')
		if known[n] {
			return e164[:1+l]
		}
	}
	return ""
}

// callingCodes tells, for each number below 1000, whether it is a country
// calling code: a table, since a fraud guard decision asks for each
// number (phonenumbers answers from a map, up to three times).
var callingCodes = sync.OnceValue(func() *[1000]bool {
	var t [1000]bool
	for n := range t {
		t[n] = len(phonenumbers.GetRegionCodesForCountryCode(n)) > 0
	}
	return &t
})

// regionOf returns the region of an E.164 number ("001" for international
// services), or "". Only calling codes shared by several regions (+1, +7,
// +44, …) need the number parsed again.
func regionOf(e164 string) string {
	cc := callingCode(e164)
	if cc == "" {
		return ""
	}
	n, _ := strconv.Atoi(cc[1:])
	if regions := phonenumbers.GetRegionCodesForCountryCode(n); len(regions) == 1 {
		return regions[0]
	}
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return ""
	}
	return phonenumbers.GetRegionCodeForNumber(num)
}

// keptAfterStart reports whether a Start's hits stay counted: when it may
// have sent a code.
func keptAfterStart(err error) bool {
	return err == nil || errors.Is(err, ErrOutcomeUnknown)
}

// keptAfterCheck reports whether a Check's hits stay counted: when the code
// was wrong, or may have been.
func keptAfterCheck(v Verification, err error) bool {
	if err != nil {
		return errors.Is(err, ErrOutcomeUnknown)
	}
	return !v.Approved()
}

// policyAttrs adds the policy's attributes to a log record: which rule
// refused, or that the store failed and the request went ahead.
func (e Event) policyAttrs(attrs []slog.Attr) []slog.Attr {
	var pe *PolicyError
	if errors.As(e.Err, &pe) {
		attrs = append(attrs, slog.String("policy", string(pe.Policy)))
		if pe.Scope != "" {
			attrs = append(attrs, slog.String("scope", string(pe.Scope)))
		}
		if pe.Wait > 0 {
			attrs = append(attrs, slog.Duration("retry_after", pe.Wait))
		}
	}
	if e.PolicyErr != nil {
		attrs = append(attrs, slog.String("policy_error", e.PolicyErr.Error()), slog.Bool("policy_skipped", true))
	}
	return attrs
}

// targetTTL is how long the client remembers the target of a
// verification it started, for the check budgets of CheckID: longer than
// any provider keeps a verification pending.
const targetTTL = 24 * time.Hour

// targetKey is the store key of the target remembered for verification
// id (an ID is 1 to 64 printable characters, and not personal data).
func targetKey(id string) string { return "vk|id|" + id }

// rememberTarget records, when check budgets need the target and CheckID
// cannot know it, the normalised target of the verification id that Start
// just started. On a failure Start still succeeds (the code is already on
// its way), and CheckID of this verification fails closed with ErrNotFound.
func (c *Client) rememberTarget(ctx context.Context, id, to string) {
	p := &c.cfg.policy
	if p.records == nil || id == "" {
		return
	}
	_, _ = p.records.CompareAndSwap(context.WithoutCancel(ctx), targetKey(id), 0, []byte(to), targetTTL)
}
