package verify

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	_ "embed"
)

//go:embed frauddata/prices.csv
var priceData string

// Price is what one verification send costs, in a currency of the
// table's choosing (the shipped table is in US dollars), per channel.
type Price struct {
	SMS, Call, WhatsApp float64
}

// PriceTable is the price of a send per country calling code and channel.
// It is read-only once made, and safe for concurrent use.
type PriceTable struct {
	byCC map[string]Price
	def  Price
}

// Prices returns the price table shipped with the package
// (verify/frauddata/prices.csv, with its sources and date): indicative
// figures, to be replaced by your provider's rate card (ParsePrices).
func Prices() *PriceTable {
	t, err := ParsePrices(strings.NewReader(priceData))
	if err != nil {
		panic(err)
	}
	return t
}

// ParsePrices reads a price table in the format of
// verify/frauddata/prices.csv: lines starting with "#" are comments, then
// the header "cc,sms,call,whatsapp", then one line per calling code
// ("+44") and one for "*", the price of every other code (required).
func ParsePrices(r io.Reader) (*PriceTable, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = 4
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != "cc,sms,call,whatsapp" {
		return nil, fmt.Errorf("price table: header is not cc,sms,call,whatsapp")
	}
	t := &PriceTable{byCC: map[string]Price{}}
	haveDef := false
	for _, rec := range recs[1:] {
		var v [3]float64
		for i, f := range rec[1:] {
			if v[i], err = strconv.ParseFloat(f, 64); err != nil || v[i] < 0 || v[i] > 1e6 {
				return nil, fmt.Errorf("price table: %s: price %q is not a number from 0 to 1e6", rec[0], f)
			}
		}
		p := Price{SMS: v[0], Call: v[1], WhatsApp: v[2]}
		if rec[0] == "*" {
			t.def, haveDef = p, true
			continue
		}
		if c, ok := cleanPrefix(rec[0]); !ok || len(c) > 4 || callingCode(c+"0000000") != c {
			return nil, fmt.Errorf("price table: %q is not a country calling code", rec[0])
		}
		t.byCC[rec[0]] = p
	}
	if !haveDef {
		return nil, errors.New(`price table: no line for "*"`)
	}
	return t, nil
}

// Of returns the price of a send to the E.164 number e164 over ch: 0 for
// e-mail, SNA and channels the table has no column for but ChannelAuto,
// which is priced as SMS.
func (t *PriceTable) Of(e164 string, ch Channel) float64 {
	p, ok := t.byCC[callingCode(e164)]
	if !ok {
		p = t.def
	}
	switch ch {
	case ChannelSMS, ChannelAuto:
		return p.SMS
	case ChannelCall:
		return p.Call
	case ChannelWhatsApp:
		return p.WhatsApp
	}
	return 0
}

// WithPrices sets the price table Cost uses; by default it is Prices(),
// the shipped table.
func WithPrices(t *PriceTable) Option {
	return func(c *config) error {
		if t == nil {
			return errors.New("verify: WithPrices: nil table")
		}
		c.prices = t
		return nil
	}
}

// Cost returns what a Start to to over ch would cost, from the client's
// price table (WithPrices), without sending anything: 0 for e-mail and
// SNA. It fails with ErrInvalidRequest for a target Start would refuse.
func (c *Client) Cost(to string, ch Channel) (float64, error) {
	t, err := c.target(to, false)
	if err != nil {
		return 0, &Error{Op: "cost", Provider: c.cfg.name, Target: c.masked(to, err), Err: err}
	}
	if t.email {
		return 0, nil
	}
	p := c.cfg.prices
	if p == nil {
		p = shippedPrices()
	}
	return p.Of(t.value, ch), nil
}

var shippedPrices = sync.OnceValue(Prices)
