// Package twiliosender delivers the self-hosted provider's codes through
// Twilio Programmable Messaging (sms, whatsapp) and Programmable Voice
// (call), over the twilio package's HTTP layer (credentials, the retry
// rule that never repeats what may have been sent, typed errors), so
// verifykit holds one copy of it.
package twiliosender

import (
	"context"
	"encoding/xml"
	"errors"
	"strings"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/twilio"
)

// Sender is a selfhosted.Sender over a twilio.Client.
type Sender struct {
	c         *twilio.Client
	account   string
	from      string
	templates selfhosted.Templates
	voice     selfhosted.Templates
}

// DefaultVoice are the texts a call reads, by locale; {code} is read digit
// by digit, twice. New takes the map as it is when New is called; change it
// only before creating Senders.
var DefaultVoice = selfhosted.Templates{
	"en": "Your {app} verification code is {code}. Again: {code}.",
	"de": "Ihr {app}-Bestätigungscode ist {code}. Noch einmal: {code}.",
	"es": "Tu código de verificación de {app} es {code}. Otra vez: {code}.",
	"fr": "Votre code de vérification {app} est {code}. Je répète : {code}.",
	"pt": "O seu código de verificação do {app} é {code}. Repito: {code}.",
}

// New returns a Sender that sends from from (a phone number, or a
// Messaging Service SID MG… for sms) on the account accountSID (AC…),
// through c (whose credentials must belong to that account). It fails when
// c is nil or accountSID or from is empty; it does not call Twilio. A Sender
// is safe for concurrent use, as c is.
func New(c *twilio.Client, accountSID, from string) (*Sender, error) {
	if c == nil || accountSID == "" || from == "" {
		return nil, errors.New("twiliosender: New needs a client, an account SID and a sender")
	}
	return &Sender{c: c, account: accountSID, from: from, templates: selfhosted.DefaultTemplates, voice: DefaultVoice}, nil
}

// Send delivers m: a text for sms and whatsapp, a call that reads the code
// for call. Its errors are those of twilio.Client.SendMessage and StartCall
// (typed as the provider sentinels; provider.ErrOutcomeUnknown when the
// message or call may have gone out) and never contain m.Code; any other
// channel gives a *selfhosted.SendError matching provider.ErrInvalidRequest.
func (s *Sender) Send(ctx context.Context, m selfhosted.Message) error {
	switch m.Channel {
	case provider.ChannelSMS:
		_, err := s.c.SendMessage(ctx, s.account, s.from, m.To, s.templates.Render(m), m.Code)
		return err
	case provider.ChannelWhatsApp:
		_, err := s.c.SendMessage(ctx, s.account, "whatsapp:"+s.from, "whatsapp:"+m.To, s.templates.Render(m), m.Code)
		return err
	case provider.ChannelCall:
		spoken := m
		spoken.Code = strings.Join(strings.Split(m.Code, ""), " ")
		var b strings.Builder
		b.WriteString("<Response><Say>")
		_ = xml.EscapeText(&b, []byte(s.voice.Render(spoken)))
		b.WriteString("</Say></Response>")
		_, err := s.c.StartCall(ctx, s.account, s.from, m.To, b.String(), m.Code)
		return err
	}
	return &selfhosted.SendError{Sender: "twilio", Kind: provider.ErrInvalidRequest, Message: "channel " + string(m.Channel) + " is not sms, whatsapp or call"}
}
