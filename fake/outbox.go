package fake

import (
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers/v2"

	"github.com/verifykit/verifykit/internal/fakeconf"
	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/provider"
)

// Message is one code the fake "sent".
//
// Its String method redacts Code and Body, so printing a Message with %v
// does not reveal the code; read the fields to get it.
type Message struct {
	// To is the target, in normalised form.
	To string
	// Channel is the channel it was sent over (never ChannelAuto).
	Channel provider.Channel
	// Code is the verification code.
	Code string
	// Body is the message as a person would receive it, for example
	// "Your verifykit verification code is: 123456".
	Body string
	// VerificationID is the ID of the verification the code belongs to.
	VerificationID string
	// FriendlyName is the application name used in Body.
	FriendlyName string
	// Locale is the locale the start asked for, if any.
	Locale string
	// SentAt is when it was sent, by the fake's clock.
	SentAt time.Time
}

// String describes the message with the target masked and the code and body
// redacted.
func (m Message) String() string {
	return "Message{To:" + mask.Target(m.To) + " Channel:" + string(m.Channel) +
		" VerificationID:" + m.VerificationID + " Code:[redacted] Body:[redacted]}"
}

// GoString is like String.
func (m Message) GoString() string { return m.String() }

// rendered returns m with its Body, which the outbox leaves empty until the
// message is read (most messages never are).
func (m Message) rendered() Message {
	if m.Body == "" {
		m.Body = fakeconf.Body(m.FriendlyName, m.Code)
	}
	return m
}

// Messages returns a copy of the outbox, oldest first.
func (f *Fake) Messages() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.outbox.Slice()
	for i := range out {
		out[i] = out[i].rendered()
	}
	return out
}

// LastMessage returns the most recent message sent to the target to. to
// may be spelled any way verify.Client accepts: E.164, an international
// form with spaces or punctuation, a national form (read in the region of
// the number the message went to), an e-mail address with the domain in
// any case.
func (f *Fake) LastMessage(to string) (Message, bool) {
	m, ok := f.lastMessage(to)
	return m.rendered(), ok
}

// lastMessage is LastMessage without rendering the body. It finds the
// target by its exact form first, then reads to the way verify.Client
// reads what a user typed (see sameTarget).
func (f *Fake) lastMessage(to string) (Message, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := f.outbox.Last(func(m Message) bool { return m.To == to }); ok {
		return m, true
	}
	typed := strings.TrimSpace(to)
	if typed == "" || len(typed) > 254 {
		return Message{}, false
	}
	read := map[string]string{} // region → typed read in that region
	return f.outbox.Last(func(m Message) bool { return sameTarget(typed, m.To, read) })
}

// sameTarget reports whether typed names the normalised target sent, as
// verify.Client would read it: an e-mail address with its domain in any
// case, a phone number in international form with any punctuation, or in
// national form read in the region of sent (the client reads it in its
// default region, which is the region of the number it sent to). read
// caches typed's reading per region.
func sameTarget(typed, sent string, read map[string]string) bool {
	if at := strings.LastIndexByte(typed, '@'); at >= 0 {
		return strings.Contains(sent, "@") && typed[:at]+"@"+strings.ToLower(typed[at+1:]) == sent
	}
	if !strings.HasPrefix(sent, "+") {
		return false
	}
	region := ""
	if !strings.HasPrefix(typed, "+") {
		n, err := phonenumbers.Parse(sent, "")
		if err != nil {
			return false
		}
		region = phonenumbers.GetRegionCodeForNumber(n)
	}
	e164, seen := read[region]
	if !seen {
		if n, err := phonenumbers.Parse(typed, region); err == nil && phonenumbers.IsValidNumber(n) {
			e164 = phonenumbers.Format(n, phonenumbers.E164)
		}
		read[region] = e164
	}
	return e164 != "" && e164 == sent
}

// LastCode returns the code most recently sent to the target to, which
// may be spelled any way verify.Client accepts (see LastMessage): a test
// can pass the number as its user typed it.
func (f *Fake) LastCode(to string) (string, bool) {
	m, ok := f.lastMessage(to)
	return m.Code, ok
}
