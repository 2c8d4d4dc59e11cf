package provider

import (
	"context"
	"fmt"
	"time"
)

// Provider is the interface a verification provider implements. Both
// methods must be safe for concurrent use.
//
// Applications do not call a Provider directly; they wrap it with
// verify.New.
type Provider interface {
	// Start sends a code to req.To over req.Channel, or re-sends the code of
	// the verification already pending for req.To. The request has already
	// been normalised and validated by the verify client (see the package
	// doc); providers refuse only what their own API would refuse.
	Start(ctx context.Context, req StartRequest) (Verification, error)

	// Check verifies a code. A wrong code is not an error: the result has
	// status StatusPending and err is nil.
	Check(ctx context.Context, req CheckRequest) (Verification, error)
}

// Canceler is implemented by providers that can cancel a pending
// verification by ID.
type Canceler interface {
	// Cancel cancels the pending verification with the given ID and returns
	// it with status StatusCanceled. A verification that is no longer pending
	// gives ErrNotFound.
	Cancel(ctx context.Context, id string) (Verification, error)
}

// Fetcher is implemented by providers that can look a verification up by ID.
type Fetcher interface {
	// Fetch returns the pending verification with the given ID. A
	// verification that was approved, canceled or has expired gives
	// ErrNotFound.
	Fetch(ctx context.Context, id string) (Verification, error)
}

// Namer is implemented by providers that report a short name, such as
// "fake", for errors, logs and hooks.
type Namer interface {
	// Name returns the provider's short, lower-case name.
	Name() string
}

// Extension is a provider-specific parameter carried by a [StartRequest] or
// a [CheckRequest]. Each provider package defines its own extension types;
// a provider applies the extensions addressed to it and ignores those
// addressed to other providers, so an application may pass extensions for
// several providers at once.
type Extension interface {
	// ExtensionFor returns the name of the provider the extension is meant
	// for, the same name that provider's Name method returns.
	ExtensionFor() string
}

// StartRequest asks a provider to send a verification code.
//
// Its String method redacts CustomCode, so a StartRequest can be logged or
// printed with %v without revealing a code.
type StartRequest struct {
	// To is the target: a phone number in E.164 form (+14155552671) or a
	// lower-cased e-mail address. Required.
	To string
	// Channel is how the code is delivered. Required.
	Channel Channel
	// Locale selects the language of the message (for example "en" or
	// "pt-BR"). Empty means the provider's default.
	Locale string
	// FriendlyName overrides the name of the application in the message.
	// Empty means the provider's configured name.
	FriendlyName string
	// CustomCode, when not empty, is the code to send instead of one the
	// provider generates. Providers that do not allow it return
	// ErrUnsupported. It is a secret and is never printed.
	CustomCode string
	// Reference is the caller's correlation identifier. Providers that can
	// attach it to the verification do so; all others ignore it.
	Reference string
	// Extensions carries provider-specific parameters.
	Extensions []Extension
}

// String returns a description of the request for logs, with the target
// masked and any custom code redacted.
func (r StartRequest) String() string {
	s := "StartRequest{To:" + maskTarget(r.To) + " Channel:" + string(r.Channel)
	if r.CustomCode != "" {
		s += " CustomCode:" + redacted
	}
	return s + "}"
}

// GoString is like String, so %#v does not reveal a code either.
func (r StartRequest) GoString() string { return r.String() }

// Format prints what String does for every verb (%d and %x included), so
// no verb prints the custom code or the whole target.
func (r StartRequest) Format(f fmt.State, verb rune) { formatString(f, verb, r.String()) }

// CheckRequest asks a provider to verify a code. At least one of ID and To
// is set; when both are, they name the same verification.
//
// Its String method redacts Code, so a CheckRequest can be logged or printed
// with %v without revealing the code.
type CheckRequest struct {
	// ID is the verification's ID as returned by Start.
	ID string
	// To is the target the code was sent to, in the same form as
	// StartRequest.To.
	To string
	// Code is what the user typed, already cleaned by the verify client. It
	// is a secret and is never printed.
	Code string
	// Extensions carries provider-specific parameters.
	Extensions []Extension
}

// String returns a description of the request for logs, with the target
// masked and the code redacted.
func (r CheckRequest) String() string {
	s := "CheckRequest{"
	if r.ID != "" {
		s += "ID:" + r.ID + " "
	}
	if r.To != "" {
		s += "To:" + maskTarget(r.To) + " "
	}
	return s + "Code:" + redacted + "}"
}

// GoString is like String, so %#v does not reveal the code either.
func (r CheckRequest) GoString() string { return r.String() }

// Format prints what String does for every verb, so no verb prints the
// code or the whole target.
func (r CheckRequest) Format(f fmt.State, verb rune) { formatString(f, verb, r.String()) }

const redacted = "[redacted]"

// Verification is the state of a verification as a provider reports it.
type Verification struct {
	// ID is the provider's opaque, non-empty identifier.
	ID string
	// To is the target in normalised form.
	To string
	// Channel is the channel of the latest send.
	Channel Channel
	// Status is the verification's status. Providers map their own values to
	// the Status constants and pass unknown values through unchanged.
	Status Status
	// RawStatus is the status exactly as the provider reported it.
	RawStatus string
	// CreatedAt and UpdatedAt are the provider's timestamps, zero when the
	// provider does not report them.
	CreatedAt, UpdatedAt time.Time
	// ExpiresAt is when the code stops being valid, zero when unknown.
	ExpiresAt time.Time
	// SendAttempts lists each time the code was sent, oldest first, when
	// the provider reports them.
	SendAttempts []SendAttempt
	// SNAURL is the URL the device must open over its mobile data to
	// complete silent network auth, on a verification started over
	// ChannelSNA; empty otherwise. Hand it only to the device being
	// verified: whoever opens it over that SIM's connection proves the
	// number. It is never printed.
	SNAURL string
	// Detail is the provider's own representation of the verification (a
	// pointer to a type of the provider's package), or nil. Use a type
	// assertion to read provider-specific fields.
	Detail any
}

// Approved reports whether the verification's status is StatusApproved.
func (v Verification) Approved() bool { return v.Status == StatusApproved }

// String returns a short description of the verification with the target
// masked.
func (v Verification) String() string {
	return "Verification{ID:" + v.ID + " To:" + maskTarget(v.To) + " Channel:" + string(v.Channel) + " Status:" + string(v.Status) + "}"
}

// GoString is like String, so %#v masks the target too.
func (v Verification) GoString() string { return v.String() }

// Format prints what String does for every verb, so no verb prints the
// SNA URL or the whole target.
func (v Verification) Format(f fmt.State, verb rune) { formatString(f, verb, v.String()) }

// SendAttempt records one delivery of a code.
type SendAttempt struct {
	// Time is when the code was sent.
	Time time.Time
	// Channel is the channel it was sent over.
	Channel Channel
	// ID is the provider's identifier of the attempt, if any.
	ID string
}
