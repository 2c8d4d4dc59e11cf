package verify_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/verify"
)

func TestCost(t *testing.T) {
	table, err := verify.ParsePrices(strings.NewReader("# test\ncc,sms,call,whatsapp\n*,1,2,3\n+44,0.05,0.1,0.02\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := verify.New(fake.MustNew(), verify.WithPrices(table))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		to   string
		ch   verify.Channel
		want float64
	}{
		{"+447911123456", verify.ChannelSMS, 0.05},
		{"+447911123456", verify.ChannelCall, 0.1},
		{"+447911123456", verify.ChannelWhatsApp, 0.02},
		{"+2348031200100", verify.ChannelSMS, 1},
		{"+2348031200100", verify.ChannelWhatsApp, 3},
		{"a@example.com", verify.ChannelEmail, 0},
	} {
		got, err := c.Cost(tc.to, tc.ch)
		if err != nil || got != tc.want {
			t.Errorf("Cost(%s, %s) = %v, %v; want %v", tc.to, tc.ch, got, err, tc.want)
		}
	}
	if _, err := c.Cost("12", verify.ChannelSMS); !errors.Is(err, verify.ErrInvalidRequest) {
		t.Errorf("Cost of a bad number: %v", err)
	}
	// The shipped table has every code's price.
	d, err := verify.New(fake.MustNew())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.Cost("+14155552671", verify.ChannelSMS); err != nil || got <= 0 {
		t.Errorf("shipped price of a US SMS = %v, %v", got, err)
	}
}

func TestParsePricesRejects(t *testing.T) {
	for _, in := range []string{
		"cc,sms,call\n*,1,1\n",
		"cc,sms,call,whatsapp\n+44,1,1,1\n",           // no "*"
		"cc,sms,call,whatsapp\n*,1,1,1\n+44,x,1,1\n",  // not a number
		"cc,sms,call,whatsapp\n*,1,1,1\n+999,1,1,1\n", // not a calling code
		"cc,sms,call,whatsapp\n*,1,1,1\n+44,-1,1,1\n", // negative
	} {
		if _, err := verify.ParsePrices(strings.NewReader(in)); err == nil {
			t.Errorf("ParsePrices(%q) = nil error", in)
		}
	}
}
