package twilio

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/internal/wire"
)

// SafeListNumber is a phone number on the account's Safe List: Twilio's
// fraud guard and geo permissions never block verifications sent to it.
// The Safe List belongs to the account, not to a Verify Service.
type SafeListNumber struct {
	SID         string `json:"sid"`          // GN…
	PhoneNumber string `json:"phone_number"` // E.164
	URL         string `json:"url"`
}

// String describes n with its phone number masked.
func (n SafeListNumber) String() string {
	return "twilio.SafeListNumber{SID:" + n.SID + " PhoneNumber:" + mask.Target(n.PhoneNumber) + "}"
}

// GoString is like String.
func (n SafeListNumber) GoString() string { return n.String() }

const (
	opCreateSafeList = "create safe list number"
	opFetchSafeList  = "fetch safe list number"
	opDeleteSafeList = "delete safe list number"
)

func checkSafeListNumber(op, phone string) error {
	if !wire.IsE164(phone) {
		return invalidInput(op, "phone number must be in E.164 form")
	}
	return nil
}

// safeListCheck says why n is not an answer about phone.
func safeListCheck(n *SafeListNumber, phone string) func() error {
	return func() error {
		switch {
		case !wire.ValidSID(n.SID, "GN"):
			return errors.New("the answer has no safe list SID")
		case n.PhoneNumber != phone:
			return errors.New("the answer is about another phone number")
		}
		return nil
	}
}

// CreateSafeListNumber adds phone (E.164) to the account's Safe List, with
// POST /v2/SafeList/Numbers.
//
// API: https://www.twilio.com/docs/verify/api/safe-list#add-a-phone-number-to-safe-list
func (c *Client) CreateSafeListNumber(ctx context.Context, phone string) (SafeListNumber, error) {
	if err := checkSafeListNumber(opCreateSafeList, phone); err != nil {
		return SafeListNumber{}, err
	}
	var n SafeListNumber
	err := c.do(ctx, call{
		op: opCreateSafeList, method: http.MethodPost, path: "/v2/SafeList/Numbers",
		form: url.Values{"PhoneNumber": {phone}}, ok: okCreated, check: safeListCheck(&n, phone),
	}, &n)
	return n, err
}

// FetchSafeListNumber returns phone's entry on the Safe List, with GET
// /v2/SafeList/Numbers/{PhoneNumber}. A number that is not on the list
// answers an error that matches provider.ErrNotFound.
//
// API: https://www.twilio.com/docs/verify/api/safe-list#check-if-a-phone-number-is-in-safe-list
func (c *Client) FetchSafeListNumber(ctx context.Context, phone string) (SafeListNumber, error) {
	if err := checkSafeListNumber(opFetchSafeList, phone); err != nil {
		return SafeListNumber{}, err
	}
	var n SafeListNumber
	err := c.do(ctx, call{
		op: opFetchSafeList, method: http.MethodGet, path: "/v2/SafeList/Numbers/" + phone,
		ok: okOK, check: safeListCheck(&n, phone),
	}, &n)
	return n, err
}

// DeleteSafeListNumber removes phone from the Safe List, with DELETE
// /v2/SafeList/Numbers/{PhoneNumber}.
//
// API: https://www.twilio.com/docs/verify/api/safe-list#remove-a-phone-number-from-safe-list
func (c *Client) DeleteSafeListNumber(ctx context.Context, phone string) error {
	if err := checkSafeListNumber(opDeleteSafeList, phone); err != nil {
		return err
	}
	return c.do(ctx, call{op: opDeleteSafeList, method: http.MethodDelete, path: "/v2/SafeList/Numbers/" + phone, ok: okDeleted}, nil)
}
