package twilio

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// The operations of Programmable Messaging and Voice, in errors
// (RequestError.Op).
const (
	opSendMessage = "send message"
	opStartCall   = "start call"
)

// Delivery is the answer of SendMessage or StartCall.
type Delivery struct {
	// SID is the message's (SM…, MM…) or call's (CA…) SID.
	SID string `json:"sid"`
	// Status is Twilio's status of it, such as "queued".
	Status string `json:"status"`
}

// SendMessage sends a text message through Twilio Programmable Messaging
// (POST /2010-04-01/Accounts/{accountSID}/Messages.json with To, From or
// MessagingServiceSid, and Body), with the client's credentials, retry
// rule and error mapping: a message is retried only when it provably did
// not reach Twilio, and a lost answer gives ErrOutcomeUnknown. from is a
// phone number or a Messaging Service SID (MG…). secret, when not empty,
// is a value in body (a code) that never comes back in an error.
//
// It is the hook the self-hosted provider's Twilio sender uses, so that
// verifykit has one copy of the Twilio HTTP layer.
func (c *Client) SendMessage(ctx context.Context, accountSID, from, to, body, secret string) (Delivery, error) {
	form := url.Values{"To": {to}, "Body": {body}}
	if strings.HasPrefix(from, "MG") {
		form.Set("MessagingServiceSid", from)
	} else {
		form.Set("From", from)
	}
	return c.deliver(ctx, opSendMessage, accountSID, "Messages.json", form, secret)
}

// StartCall places a voice call through Twilio Programmable Voice (POST
// /2010-04-01/Accounts/{accountSID}/Calls.json with To, From and Twiml)
// that plays twiml, such as <Response><Say>…</Say></Response>, with the
// same rules as SendMessage.
func (c *Client) StartCall(ctx context.Context, accountSID, from, to, twiml, secret string) (Delivery, error) {
	form := url.Values{"To": {to}, "From": {from}, "Twiml": {twiml}}
	return c.deliver(ctx, opStartCall, accountSID, "Calls.json", form, secret)
}

func (c *Client) deliver(ctx context.Context, op, accountSID, resource string, form url.Values, secret string) (Delivery, error) {
	if !wire.ValidSID(accountSID, "AC") {
		return Delivery{}, &RequestError{Op: op, Err: errors.New("account SID must be AC and 32 hex digits"), kind: provider.ErrInvalidRequest}
	}
	var d Delivery
	err := c.do(ctx, call{
		op: op, method: http.MethodPost, url: c.apiURL() + "/2010-04-01/Accounts/" + accountSID + "/" + resource,
		form: form, ok: okCreated, secret: secret,
		check: func() error {
			if d.SID == "" {
				return errors.New("no sid")
			}
			return nil
		},
	}, &d)
	return d, err
}

// apiURL returns the base URL of api.twilio.com that matches the client's
// Verify base URL (same edge and region), or the base URL itself when it
// is not a Twilio host (an emulator or a test server).
func (c *Client) apiURL() string {
	u := *c.base
	if rest, ok := strings.CutPrefix(u.Host, "verify."); ok && strings.HasSuffix(rest, "twilio.com") {
		u.Host = "api." + rest
	}
	return strings.TrimRight(u.String(), "/")
}
