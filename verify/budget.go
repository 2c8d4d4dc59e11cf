package verify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/verifykit/verifykit/store"
)

// PolicySpendBudget: a money budget of the fraud guard (FraudGuard.Spend)
// would be exceeded by the send. Waiting until the budget's window ends
// helps.
const PolicySpendBudget Policy = "spend_budget"

// Period is the window of a spend budget: a calendar hour, day or month
// in UTC. Windows are calendar-aligned, not rolling, because providers'
// bills are per calendar month, and in UTC so that replicas in any time
// zone agree on where a window ends; an operator whose bills follow
// another zone's month sets the monthly budget with that offset in mind.
type Period uint8

// The periods.
const (
	Hourly Period = iota + 1
	Daily
	Monthly
)

// String returns "hour", "day" or "month".
func (p Period) String() string {
	switch p {
	case Hourly:
		return "hour"
	case Daily:
		return "day"
	case Monthly:
		return "month"
	}
	return "Period(" + strconv.Itoa(int(p)) + ")"
}

// window returns the UTC window of p that holds t: a number naming it,
// its start and its end.
func (p Period) window(t time.Time) (id int64, start, end time.Time) {
	t = t.UTC()
	switch p {
	case Hourly:
		start = t.Truncate(time.Hour)
		return start.Unix() / 3600, start, start.Add(time.Hour)
	case Daily:
		start = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return start.Unix() / 86400, start, start.AddDate(0, 0, 1)
	}
	start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return int64(t.Year())*12 + int64(t.Month()) - 1, start, start.AddDate(0, 1, 0)
}

// SpendBudget caps what the sends the fraud guard screens may cost in one
// Period, globally or per country (FraudGuard.Spend). Costs come from the
// client's price table (WithPrices); the store counts them in integer
// micro-units of its currency.
type SpendBudget struct {
	// Scope is Global or PerCountry (each country calling code has its
	// own budget of Amount).
	Scope Scope
	// Amount is the budget, in the price table's currency: more than 0
	// and at most 1e9.
	Amount float64
	// Period is the window: Hourly, Daily or Monthly.
	Period Period
}

// SpendThresholds are the shares of a spend budget, in percent, at which
// FraudGuard.OnSpend is called.
var spendThresholds = [...]int64{50, 80, 100}

// SpendAlert reports that a spend budget reached a threshold in one
// window: FraudGuard.OnSpend is called once per budget, window and
// threshold (50, 80 and 100 percent) across all the replicas sharing the
// policy store.
type SpendAlert struct {
	// Budget is the budget, as configured.
	Budget SpendBudget
	// Key is the calling code of a PerCountry budget ("+44"), or "".
	Key string
	// Start and End bound the window (UTC).
	Start, End time.Time
	// Threshold is the share reached, in percent: 50, 80 or 100. 100 is
	// reported when a send fills the budget exactly, or when the budget
	// first refuses a send.
	Threshold int
	// Spent is what the window's sends cost so far, after the send that
	// reached the threshold; 0 when the threshold is 100 and a refusal
	// reached it (the store does not say how much was spent then).
	Spent float64
}

// spendBudget is a SpendBudget, ready to use.
type spendBudget struct {
	SpendBudget
	max int64  // Amount in micro-units
	pf  string // key prefix
}

// micro returns an amount in integer micro-units.
func micro(x float64) int64 { return int64(math.Round(x * 1e6)) }

// fromMicro returns an amount of micro-units as a float.
func fromMicro(n int64) float64 { return float64(n) / 1e6 }

// newSpend checks and prepares the spend budgets.
func newSpend(bs []SpendBudget) ([]spendBudget, error) {
	out := make([]spendBudget, 0, len(bs))
	for _, b := range bs {
		if b.Scope != Global && b.Scope != PerCountry {
			return nil, fmt.Errorf("spend budget per %q: scope is not Global or PerCountry", string(b.Scope))
		}
		if !(b.Amount > 0 && b.Amount <= 1e9) || micro(b.Amount) < 1 {
			return nil, fmt.Errorf("spend budget amount %v is not more than 0 and at most 1e9", b.Amount)
		}
		if b.Period < Hourly || b.Period > Monthly {
			return nil, fmt.Errorf("spend budget period %v is not Hourly, Daily or Monthly", b.Period)
		}
		sk := "g"
		if b.Scope == PerCountry {
			sk = "cc"
		}
		pf := "vk|f|$|" + sk + "|" + b.Period.String() + "|"
		for _, o := range out {
			if o.pf == pf {
				return nil, fmt.Errorf("two spend budgets per %s per %v", b.Scope, b.Period)
			}
		}
		out = append(out, spendBudget{SpendBudget: b, max: micro(b.Amount), pf: pf})
	}
	return out, nil
}

// addSpend appends to r the limit of every spend budget for a send to the
// country cc that costs cost micro-units, at now.
func (f *fraud) addSpend(r *policyReq, cc string, cost int64, now time.Time) {
	if cost <= 0 {
		return // free: nothing to count (a Cost of 0 would count 1)
	}
	for i := range f.spend {
		b := &f.spend[i]
		value := ""
		if b.Scope == PerCountry {
			if cc == "" {
				continue
			}
			value = cc
		}
		id, start, end := b.Period.window(now)
		// The key names the window, so a window's counter is never
		// carried into the next; it lives until the window's end.
		r.addGuard(b.pf, value, nil, false, id, b.max, end.Sub(now),
			rule{policy: PolicySpendBudget, value: value, fr: fraudRule{scope: b.Scope, max: b.max, window: end.Sub(start), spend: b, start: start.Unix()}})
		l := &r.limits[len(r.limits)-1]
		l.Cost = cost
	}
}

// spendPrice returns what a send to e164 over ch costs, in micro-units,
// from the client's price table; 0 without spend budgets.
func (c *Client) spendPrice(f *fraud, e164 string, ch Channel) int64 {
	if len(f.spend) == 0 {
		return 0
	}
	p := c.cfg.prices
	if p == nil {
		p = shippedPrices()
	}
	return micro(p.Of(e164, ch))
}

// spendTaken calls OnSpend for every threshold that the request's taken
// spend limits crossed.
func (c *Client) spendTaken(ctx context.Context, r *policyReq) {
	for i := range r.rules {
		ru := &r.rules[i]
		if ru.fr.spend == nil {
			continue
		}
		l := &r.limits[i]
		before := l.Count - l.Cost
		for _, pct := range spendThresholds {
			if before*100 < ru.fr.spend.max*pct && ru.fr.spend.max*pct <= l.Count*100 {
				c.spendAlert(ctx, ru, l, int(pct), l.Count)
			}
		}
	}
}

// spendAlert calls OnSpend for a threshold of the spend limit l unless it
// was called for it in the window already, here or on another replica:
// a record in the policy store, created once per budget, window and
// threshold, decides which call is the first. When the store cannot tell
// (it keeps no records, or fails), the hook is called: an alert twice is
// better than none.
func (c *Client) spendAlert(ctx context.Context, ru *rule, l *store.Limit, pct int, spent int64) {
	f := c.cfg.policy.fraud
	if f.g.OnSpend == nil {
		return
	}
	b := ru.fr.spend
	start := time.Unix(ru.fr.start, 0).UTC()
	_, _, end := b.Period.window(start)
	marker := "vk|f|$a|" + l.Key + "|" + strconv.Itoa(pct)
	f.mu.Lock()
	_, seen := f.alerted[marker]
	f.mu.Unlock()
	if seen {
		return
	}
	if s := c.cfg.policy.records; s != nil {
		ttl := max(end.Sub(f.now()), time.Second)
		_, err := s.CompareAndSwap(context.WithoutCancel(ctx), marker, 0, []byte{1}, ttl)
		if errors.Is(err, store.ErrConflict) {
			f.remember(marker, end)
			return
		}
	}
	f.remember(marker, end)
	f.g.OnSpend(ctx, SpendAlert{Budget: b.SpendBudget, Key: ru.value, Start: start, End: end, Threshold: pct, Spent: fromMicro(spent)})
}

// remember notes that the alert marker was called for, until end.
func (f *fraud) remember(marker string, end time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if len(f.alerted) >= 1024 {
		for k, e := range f.alerted {
			if !now.Before(e) {
				delete(f.alerted, k)
			}
		}
		if len(f.alerted) >= 1024 {
			clear(f.alerted)
		}
	}
	f.alerted[marker] = end
}
