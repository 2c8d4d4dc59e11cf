package provider

// Channel is how a code is delivered. It is an open vocabulary: the
// constants below are the channels this package knows, and a provider may
// accept and report others (for example "rcs" or a vendor's workflow name)
// by declaring them in [Capabilities.Channels]. Values are passed through
// unchanged.
type Channel string

// The channels this package knows. A provider that cannot deliver over one
// of them leaves it out of [Capabilities.Channels] and refuses it with
// ErrUnsupported or ErrUndeliverable.
const (
	ChannelSMS      Channel = "sms"      // text message to a phone number
	ChannelCall     Channel = "call"     // voice call that reads the code
	ChannelWhatsApp Channel = "whatsapp" // WhatsApp message
	ChannelEmail    Channel = "email"    // e-mail to an address
	ChannelSNA      Channel = "sna"      // Silent Network Authentication through the carrier
	ChannelAuto     Channel = "auto"     // the provider picks the channel (start only)
)

// Known reports whether c is one of the Channel constants. It is
// informational: a channel a provider declares in [Capabilities.Channels]
// is accepted whether this package knows it or not.
func (c Channel) Known() bool {
	switch c {
	case ChannelSMS, ChannelCall, ChannelWhatsApp, ChannelEmail, ChannelSNA, ChannelAuto:
		return true
	}
	return false
}

// Email reports whether c delivers to an e-mail address rather than a phone
// number.
func (c Channel) Email() bool { return c == ChannelEmail }

// Status is the state of a verification. It is an open vocabulary:
// providers map their own values to the constants below where one fits and
// pass any other value through unchanged (Verification.RawStatus always
// holds the provider's own word).
type Status string

// The statuses this package knows.
const (
	StatusPending            Status = "pending"              // code sent, not yet approved
	StatusApproved           Status = "approved"             // the right code was checked
	StatusCanceled           Status = "canceled"             // canceled before approval
	StatusExpired            Status = "expired"              // the validity window ended
	StatusMaxAttemptsReached Status = "max_attempts_reached" // too many wrong checks
	StatusFailed             Status = "failed"               // delivery failed
	StatusDeleted            Status = "deleted"              // removed by the provider
	StatusDenied             Status = "denied"               // the user or the provider refused it (a push or silent-auth rejection)
)

// Known reports whether s is one of the Status constants. It is
// informational: providers may report other statuses.
func (s Status) Known() bool {
	switch s {
	case StatusPending, StatusApproved, StatusCanceled, StatusExpired,
		StatusMaxAttemptsReached, StatusFailed, StatusDeleted, StatusDenied:
		return true
	}
	return false
}

// Final reports whether s is a status a verification cannot leave: every
// known status but StatusPending. Unknown statuses are not final, since
// this package cannot tell.
func (s Status) Final() bool { return s != StatusPending && s.Known() }
