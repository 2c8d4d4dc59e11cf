package selfhosted

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/verifykit/verifykit/provider"
)

// MessageBird sends SMS through MessageBird's (Bird's) SMS API: a JSON POST
// to https://rest.messagebird.com/messages with the header
// "Authorization: AccessKey <key>" and the fields originator, body and
// recipients; 201 Created means accepted. Errors come back as
// {"errors":[{"code":…,"description":…,"parameter":…}]}.
type MessageBird struct {
	s          *httpSender
	accessKey  string
	originator string
}

// NewMessageBird returns a MessageBird sender. originator is the sender
// shown on the phone: a phone number or up to 11 letters and digits.
func NewMessageBird(accessKey, originator string, opts ...HTTPOption) (*MessageBird, error) {
	if accessKey == "" || originator == "" {
		return nil, errors.New("selfhosted: NewMessageBird needs an access key and an originator")
	}
	s, err := newHTTPSender("messagebird", "https://rest.messagebird.com", opts)
	if err != nil {
		return nil, err
	}
	s.secrets = []string{accessKey}
	return &MessageBird{s: s, accessKey: accessKey, originator: originator}, nil
}

// String describes the sender without its access key.
func (b *MessageBird) String() string {
	return "selfhosted.MessageBird{URL:" + b.s.base + " AccessKey:[redacted]}"
}

// GoString is like String.
func (b *MessageBird) GoString() string { return b.String() }

// Format prints what String does for every verb, so no verb prints the
// access key.
func (b *MessageBird) Format(f fmt.State, verb rune) { formatString(f, verb, b.String()) }

// Send sends m as an SMS, rendered with the sender's templates. Every
// failure is a *SendError (see Sender for its kinds); a message on another
// channel than sms, or to no phone number, matches provider.ErrInvalidRequest.
func (b *MessageBird) Send(ctx context.Context, m Message) error {
	num, err := msisdn(m.To)
	if err != nil || m.Channel != provider.ChannelSMS {
		return b.s.fail(m, provider.ErrInvalidRequest, 0, nil, errors.New("MessageBird sends sms to phone numbers"))
	}
	n, _ := strconv.ParseUint(num, 10, 64)
	body, _ := json.Marshal(struct {
		Originator string   `json:"originator"`
		Body       string   `json:"body"`
		Recipients []uint64 `json:"recipients"`
	}{b.originator, b.s.templates.Render(m), []uint64{n}})
	h := http.Header{"Authorization": {"AccessKey " + b.accessKey}}
	status, rh, answer, err := b.s.post(ctx, m, "/messages", "application/json", h, body)
	if err != nil {
		return err
	}
	if status == http.StatusCreated || status == http.StatusOK {
		return nil
	}
	e := b.s.fail(m, classify(status), status, rh, nil)
	e.Wait = retryAfter(rh)
	var ans struct {
		Errors []struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
			Parameter   string `json:"parameter"`
		} `json:"errors"`
	}
	if json.Unmarshal(answer, &ans) == nil && len(ans.Errors) > 0 {
		first := ans.Errors[0]
		e.Code = strconv.Itoa(first.Code)
		e.Message = b.s.redact(first.Description, m)
		switch first.Code {
		case 2: // request not allowed: the access key
			e.Kind = provider.ErrUnauthorized
		case 25: // not enough balance
			e.Kind = provider.ErrUnavailable
		}
	}
	return e
}

// GatewayAPI sends SMS through GatewayAPI's REST API: a JSON POST to
// https://gatewayapi.com/rest/mtsms with the header
// "Authorization: Token <token>" and the fields sender, message and
// recipients (each {"msisdn": <number without +>}); 200 with
// {"ids":[…]} means accepted. Errors come back as
// {"code":"0x…","message":…,"incident_uuid":…}.
type GatewayAPI struct {
	s      *httpSender
	token  string
	sender string
}

// NewGatewayAPI returns a GatewayAPI sender. sender is the name or number
// shown on the phone (up to 11 letters or 15 digits). For the EU platform
// pass WithGatewayURL("https://gatewayapi.eu").
func NewGatewayAPI(token, sender string, opts ...HTTPOption) (*GatewayAPI, error) {
	if token == "" || sender == "" {
		return nil, errors.New("selfhosted: NewGatewayAPI needs a token and a sender")
	}
	s, err := newHTTPSender("gatewayapi", "https://gatewayapi.com", opts)
	if err != nil {
		return nil, err
	}
	s.secrets = []string{token}
	return &GatewayAPI{s: s, token: token, sender: sender}, nil
}

// String describes the sender without its token.
func (g *GatewayAPI) String() string {
	return "selfhosted.GatewayAPI{URL:" + g.s.base + " Token:[redacted]}"
}

// GoString is like String.
func (g *GatewayAPI) GoString() string { return g.String() }

// Format prints what String does for every verb, so no verb prints the
// token.
func (g *GatewayAPI) Format(f fmt.State, verb rune) { formatString(f, verb, g.String()) }

// Send sends m as an SMS, rendered with the sender's templates. Every
// failure is a *SendError (see Sender for its kinds); a message on another
// channel than sms, or to no phone number, matches provider.ErrInvalidRequest.
func (g *GatewayAPI) Send(ctx context.Context, m Message) error {
	num, err := msisdn(m.To)
	if err != nil || m.Channel != provider.ChannelSMS {
		return g.s.fail(m, provider.ErrInvalidRequest, 0, nil, errors.New("GatewayAPI sends sms to phone numbers"))
	}
	n, _ := strconv.ParseUint(num, 10, 64)
	type recipient struct {
		MSISDN uint64 `json:"msisdn"`
	}
	body, _ := json.Marshal(struct {
		Sender     string      `json:"sender"`
		Message    string      `json:"message"`
		Recipients []recipient `json:"recipients"`
	}{g.sender, g.s.templates.Render(m), []recipient{{n}}})
	h := http.Header{"Authorization": {"Token " + g.token}}
	status, rh, answer, err := g.s.post(ctx, m, "/rest/mtsms", "application/json", h, body)
	if err != nil {
		return err
	}
	if status == http.StatusOK {
		var ok struct {
			IDs []json.Number `json:"ids"`
		}
		if json.Unmarshal(answer, &ok) == nil && len(ok.IDs) > 0 {
			return nil
		}
		// A 200 without IDs: accepted or not, no one can say.
		e := g.s.fail(m, provider.ErrOutcomeUnknown, status, rh, nil)
		e.Message = "the answer carries no message ID"
		return e
	}
	e := g.s.fail(m, classify(status), status, rh, nil)
	e.Wait = retryAfter(rh)
	var ans struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(answer, &ans) == nil {
		e.Code, e.Message = g.s.redact(ans.Code, m), g.s.redact(ans.Message, m)
	}
	return e
}
