package verify

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// Channel is how a code is delivered. See the Channel constants.
type Channel = provider.Channel

// The channels.
const (
	ChannelSMS      = provider.ChannelSMS      // text message
	ChannelCall     = provider.ChannelCall     // voice call
	ChannelWhatsApp = provider.ChannelWhatsApp // WhatsApp message
	ChannelEmail    = provider.ChannelEmail    // e-mail
	ChannelSNA      = provider.ChannelSNA      // Silent Network Authentication
	ChannelAuto     = provider.ChannelAuto     // the provider picks
)

// Status is the state of a verification. See the Status constants.
type Status = provider.Status

// The statuses.
const (
	StatusPending            = provider.StatusPending
	StatusApproved           = provider.StatusApproved
	StatusCanceled           = provider.StatusCanceled
	StatusExpired            = provider.StatusExpired
	StatusMaxAttemptsReached = provider.StatusMaxAttemptsReached
	StatusFailed             = provider.StatusFailed
	StatusDeleted            = provider.StatusDeleted
	StatusDenied             = provider.StatusDenied
)

// Verification is the state of a verification, as Start, Check, Cancel and
// Fetch return it. Use its Approved method after Check.
type Verification = provider.Verification

// SendAttempt records one delivery of a code.
type SendAttempt = provider.SendAttempt

// Extension is a provider-specific parameter, such as a twilio.StartParams,
// passed in StartOptions or CheckOptions.
type Extension = provider.Extension

// The sentinel errors, the same values as in package provider so that
// errors.Is works across both. See the package documentation for what each
// asks the caller to do.
var (
	ErrInvalidRequest = provider.ErrInvalidRequest
	ErrNotFound       = provider.ErrNotFound
	ErrTooManyChecks  = provider.ErrTooManyChecks
	ErrTooManySends   = provider.ErrTooManySends
	ErrRateLimited    = provider.ErrRateLimited
	ErrUndeliverable  = provider.ErrUndeliverable
	ErrUnauthorized   = provider.ErrUnauthorized
	ErrUnsupported    = provider.ErrUnsupported
	ErrUnavailable    = provider.ErrUnavailable
	ErrConflict       = provider.ErrConflict
	ErrOutcomeUnknown = provider.ErrOutcomeUnknown
	ErrNotYet         = provider.ErrNotYet
)

// PendingID reports the ID of the verification already pending for a
// target, when err (typically ErrConflict from Start) carries it.
func PendingID(err error) (string, bool) { return provider.PendingID(err) }

// RetryAfter reports how long the provider asked the caller to wait before
// trying again, when err carries that advice (typically with
// ErrRateLimited).
func RetryAfter(err error) (time.Duration, bool) { return provider.RetryAfter(err) }

// StartOptions are the optional parameters of Client.Start. A nil
// *StartOptions means all defaults; Start does not modify it.
type StartOptions struct {
	// Locale selects the message's language, such as "en" or "pt-BR".
	// Empty means the provider's default.
	Locale string
	// FriendlyName overrides the application name in the message.
	FriendlyName string
	// CustomCode is a code the application generated, sent instead of one
	// the provider makes. Most providers must be configured to allow it. It
	// is a secret: it never appears in errors or logs.
	CustomCode string
	// Reference is a correlation identifier for the application's own
	// records; providers that can store it do.
	Reference string
	// Extensions carries provider-specific parameters.
	Extensions []Extension
	// CallerKeys are the application's own keys for the caller, by name,
	// for the budgets per caller (see PerCaller): an IP address, a user
	// ID, a session ID. They never reach the provider.
	CallerKeys map[string]string
}

// String describes the options with the custom code redacted and only the
// names of the caller keys (their values, such as IP addresses, are not
// printed).
func (o StartOptions) String() string {
	var b strings.Builder
	b.WriteString("StartOptions{Locale:" + o.Locale + " FriendlyName:" + o.FriendlyName + " Reference:" + o.Reference)
	if o.CustomCode != "" {
		b.WriteString(" CustomCode:[redacted]")
	}
	if len(o.Extensions) > 0 {
		b.WriteString(" Extensions:" + strconv.Itoa(len(o.Extensions)))
	}
	if len(o.CallerKeys) > 0 {
		names := make([]string, 0, len(o.CallerKeys))
		for k := range o.CallerKeys {
			names = append(names, k)
		}
		slices.Sort(names)
		b.WriteString(" CallerKeys:" + strings.Join(names, ","))
	}
	b.WriteString("}")
	return b.String()
}

// GoString is like String.
func (o StartOptions) GoString() string { return o.String() }

// Format prints what String does for every verb (%d and %x included).
func (o StartOptions) Format(f fmt.State, verb rune) {
	s := o.String()
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = io.WriteString(f, s)
}

// CheckOptions are the optional parameters of Client.Check and
// Client.CheckID. A nil *CheckOptions means all defaults.
type CheckOptions struct {
	// Extensions carries provider-specific parameters, such as the amount
	// and payee of a PSD2 check.
	Extensions []Extension
	// CallerKeys are the application's own keys for the caller, by name,
	// for the check budgets per caller (see PerCaller).
	CallerKeys map[string]string
}

// FallBack reports whether err (typically from CheckSNA) says the silent
// network auth attempt failed in a way another channel may still succeed:
// start again over SMS, say. It is false for ErrNotYet, for a bad number
// and for an outcome that may have been processed. See provider.FallBack.
func FallBack(err error) bool { return provider.FallBack(err) }
