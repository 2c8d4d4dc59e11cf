package provider

// Channel is how a code is delivered. Values other than the constants below
// may appear in a Verification when a provider reports a channel this
// package does not know yet; they are passed through unchanged.
type Channel string

// The channels every provider understands. A provider that cannot deliver
// over one of them returns ErrUnsupported or ErrUndeliverable.
const (
	ChannelSMS      Channel = "sms"      // text message to a phone number
	ChannelCall     Channel = "call"     // voice call that reads the code
	ChannelWhatsApp Channel = "whatsapp" // WhatsApp message
	ChannelEmail    Channel = "email"    // e-mail to an address
	ChannelSNA      Channel = "sna"      // Silent Network Authentication through the carrier
	ChannelAuto     Channel = "auto"     // the provider picks the channel (start only)
)

// Known reports whether c is one of the Channel constants.
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

// Status is the state of a verification. Values other than the constants
// below are passed through unchanged when a provider reports a status this
// package does not know yet.
type Status string

// The statuses a verification can have.
const (
	StatusPending            Status = "pending"              // code sent, not yet approved
	StatusApproved           Status = "approved"             // the right code was checked
	StatusCanceled           Status = "canceled"             // canceled before approval
	StatusExpired            Status = "expired"              // the validity window ended
	StatusMaxAttemptsReached Status = "max_attempts_reached" // too many wrong checks
	StatusFailed             Status = "failed"               // delivery failed
	StatusDeleted            Status = "deleted"              // removed by the provider
)

// Known reports whether s is one of the Status constants.
func (s Status) Known() bool {
	switch s {
	case StatusPending, StatusApproved, StatusCanceled, StatusExpired,
		StatusMaxAttemptsReached, StatusFailed, StatusDeleted:
		return true
	}
	return false
}
