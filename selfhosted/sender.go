package selfhosted

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/provider"
)

// Message is what a Sender delivers: a code, to a target, over a channel.
// Its String method masks the target and redacts the code.
type Message struct {
	// To is the target: an E.164 phone number or an e-mail address.
	To string
	// Channel is the channel to deliver over, such as provider.ChannelSMS.
	Channel provider.Channel
	// Code is the one-time code. It is a secret and is never printed.
	Code string
	// Locale is the language asked for, such as "en" or "pt-BR"; empty
	// means the sender's default.
	Locale string
	// AppName is the application's name, to put in the text.
	AppName string
}

// String describes the message with the target masked and the code
// redacted.
func (m Message) String() string {
	return "Message{To:" + mask.Target(m.To) + " Channel:" + string(m.Channel) + " Locale:" + m.Locale + " Code:[redacted]}"
}

// GoString is like String.
func (m Message) GoString() string { return m.String() }

// Format prints what String does for every verb, so no verb prints the
// code or the whole target.
func (m Message) Format(f fmt.State, verb rune) { formatString(f, verb, m.String()) }

// Text returns the message's text in its locale (see Templates), for
// senders that deliver text.
func (m Message) Text() string { return DefaultTemplates.Render(m) }

// Sender delivers codes. Implementations must be safe for concurrent use.
//
// Send's error tells the provider what happened, with the provider
// sentinels: provider.ErrUnavailable, provider.ErrUndeliverable,
// provider.ErrInvalidRequest, provider.ErrUnauthorized or
// provider.ErrRateLimited when the message was certainly not delivered
// (the provider then takes the send back), and provider.ErrOutcomeUnknown
// when it may have been (any other error is treated so). A sender retries
// only when the message was provably not accepted.
type Sender interface {
	// Send delivers m, or says why not (see above).
	Send(ctx context.Context, m Message) error
}

// SenderFunc is a Sender made of a function.
type SenderFunc func(ctx context.Context, m Message) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

// Templates are the texts of messages by locale: each maps a locale (a
// language tag such as "pt-BR" or a language such as "pt") to a text in
// which {code} and {app} are replaced. A message's locale is looked up
// whole, then by its language, then "en".
type Templates map[string]string

// DefaultTemplates are the English text and a few translations.
var DefaultTemplates = Templates{
	"en": "Your {app} verification code is: {code}",
	"de": "Ihr {app}-Bestätigungscode lautet: {code}",
	"es": "Tu código de verificación de {app} es: {code}",
	"fr": "Votre code de vérification {app} est : {code}",
	"pt": "O seu código de verificação do {app} é: {code}",
}

// Render returns the text of m.
func (t Templates) Render(m Message) string {
	tpl, ok := t[m.Locale]
	if !ok {
		if i := strings.IndexAny(m.Locale, "-_"); i > 0 {
			tpl, ok = t[m.Locale[:i]]
		}
	}
	if !ok {
		if tpl, ok = t["en"]; !ok {
			tpl = DefaultTemplates["en"]
		}
	}
	app := m.AppName
	if app == "" {
		app = "verification"
	}
	return strings.NewReplacer("{code}", m.Code, "{app}", app).Replace(tpl)
}

// Outbox is a Sender for development and tests: it delivers nothing and
// keeps the messages, so a test or a developer can read the codes. Do not
// use it in production. The zero value is ready to use; it is safe for
// concurrent use and keeps at most the last 1000 messages.
type Outbox struct {
	mu   sync.Mutex
	msgs []Message
	// Log, when set, is called with each message's text (which contains
	// the code) and masked target, for a development server's console.
	Log func(to, text string)
}

// Send records m.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return &SendError{Sender: "outbox", Kind: provider.ErrUnavailable, To: mask.Target(m.To), Err: err} // nothing kept
	}
	o.mu.Lock()
	if len(o.msgs) >= 1000 {
		o.msgs = append(o.msgs[:0], o.msgs[1:]...)
	}
	o.msgs = append(o.msgs, m)
	log := o.Log
	o.mu.Unlock()
	if log != nil {
		log(mask.Target(m.To), m.Text())
	}
	return nil
}

// LastCode returns the code most recently sent to to.
func (o *Outbox) LastCode(to string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.msgs) - 1; i >= 0; i-- {
		if o.msgs[i].To == to {
			return o.msgs[i].Code, true
		}
	}
	return "", false
}

// Messages returns a copy of the messages sent, oldest first.
func (o *Outbox) Messages() []Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Message(nil), o.msgs...)
}
