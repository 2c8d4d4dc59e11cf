package provider

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// FactorProvider is implemented by providers that manage factors a user
// holds, such as an authenticator app (TOTP) and, later, a push device. It
// is a separate capability from Provider: a provider may offer codes it
// sends, factors, or both. verify.Client type-asserts it and answers
// ErrUnsupported when a provider lacks it.
//
// Factors belong to an identity that the application chooses (see
// [ValidIdentity]). Their lifecycle is: EnrollFactor (status
// FactorUnverified; the secret is returned this once) → ConfirmFactor with
// the first code (FactorVerified) → ChallengeFactor at each login (a code
// approves or not: an outcome, not an error) → DeleteFactor.
//
// Every method must be safe for concurrent use. A provider compares codes
// in constant time, accepts a code at most once (the same factor and time
// step never approve twice, even under concurrent calls), and limits wrong
// codes per factor with ErrTooManyChecks.
type FactorProvider interface {
	// EnrollFactor creates a factor for req.Identity, creating the identity
	// if needed. The result's status is FactorUnverified; for a TOTP factor
	// it carries the shared secret and its otpauth URI, which no later call
	// returns.
	EnrollFactor(ctx context.Context, req EnrollRequest) (Enrollment, error)

	// ConfirmFactor verifies an unverified factor with the first code the
	// user read from it. A wrong code is not an error: the factor is
	// returned still FactorUnverified. Confirming a verified factor returns
	// it unchanged when the code is right.
	ConfirmFactor(ctx context.Context, req ConfirmRequest) (Factor, error)

	// ChallengeFactor checks a code for a verified factor, as a login does.
	// The right code gives a challenge with status ChallengeApproved; a
	// wrong or replayed code gives one that is not approved (typically
	// ChallengePending) and no error. A challenge of an unverified factor
	// fails with ErrInvalidRequest.
	ChallengeFactor(ctx context.Context, req ChallengeRequest) (Challenge, error)

	// FetchChallenge returns a challenge of identity by ID.
	FetchChallenge(ctx context.Context, identity, challengeID string) (Challenge, error)

	// FetchFactor returns a factor of identity by ID, without its secret.
	FetchFactor(ctx context.Context, identity, factorID string) (Factor, error)

	// ListFactors returns identity's factors, without secrets, oldest
	// first. An identity without factors, or unknown, gives an empty list.
	ListFactors(ctx context.Context, identity string) ([]Factor, error)

	// DeleteFactor deletes a factor; its codes no longer work.
	DeleteFactor(ctx context.Context, identity, factorID string) error

	// DeleteIdentity deletes identity with all its factors and challenges.
	DeleteIdentity(ctx context.Context, identity string) error
}

// ValidIdentity reports whether s can be a factor identity: 8 to 64 ASCII
// letters, digits and dashes, a shape every provider can store. An
// identity is the application's stable, opaque ID for a user, such as a
// UUID; it must not be personal data (a phone number, an e-mail address or
// a name).
func ValidIdentity(s string) bool {
	if len(s) < 8 || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// FactorType is the kind of a factor. Values other than the constants are
// passed through unchanged when a provider reports one this package does
// not know.
type FactorType string

// The factor types.
const (
	FactorTOTP FactorType = "totp" // an authenticator app's time-based codes (RFC 6238)
	FactorPush FactorType = "push" // a device that approves a pushed challenge
)

// FactorStatus is the state of a factor.
type FactorStatus string

// The factor statuses.
const (
	FactorUnverified FactorStatus = "unverified" // enrolled, not yet confirmed with a code
	FactorVerified   FactorStatus = "verified"   // confirmed: usable for challenges
)

// ChallengeStatus is the state of a challenge.
type ChallengeStatus string

// The challenge statuses.
const (
	ChallengePending  ChallengeStatus = "pending"  // not (yet) approved: a wrong or replayed code
	ChallengeApproved ChallengeStatus = "approved" // the right code, once
	ChallengeDenied   ChallengeStatus = "denied"   // refused on the device (push)
	ChallengeExpired  ChallengeStatus = "expired"  // no answer before its expiry
)

// Algorithm is the HMAC hash of a TOTP factor.
type Algorithm string

// The TOTP algorithms. SHA-1 is what every authenticator app supports;
// several apps ignore the others.
const (
	AlgSHA1   Algorithm = "sha1"
	AlgSHA256 Algorithm = "sha256"
	AlgSHA512 Algorithm = "sha512"
)

// TOTPConfig is the configuration of a TOTP factor. In a request, zero
// fields mean the provider's defaults, which each provider documents (and
// its conformance harness declares). Many authenticator apps support only
// 6 digits, 30 seconds and SHA-1.
type TOTPConfig struct {
	// Digits is the code length, 3 to 8.
	Digits int
	// Period is the time step, 20 to 60 seconds in whole seconds.
	Period time.Duration
	// Skew is how many time steps before and after the current one are
	// also accepted, 0 to 2.
	Skew int
	// Algorithm is the HMAC hash.
	Algorithm Algorithm
}

// Validate returns an error naming the first field of c outside the ranges
// the verify client accepts (3 to 8 digits, a step of 20 to 60 whole
// seconds, a skew of 0 to 2, SHA-1, SHA-256 or SHA-512). Zero fields are
// valid: they mean the provider's default (for Skew, see
// EnrollRequest.SkewSet). A provider may accept less.
func (c TOTPConfig) Validate() error {
	switch {
	case c.Digits != 0 && (c.Digits < 3 || c.Digits > 8):
		return fmt.Errorf("TOTP digits %d outside 3 to 8", c.Digits)
	case c.Period != 0 && (c.Period < 20*time.Second || c.Period > 60*time.Second || c.Period%time.Second != 0):
		return fmt.Errorf("TOTP period %v is not 20 to 60 whole seconds", c.Period)
	case c.Skew < 0 || c.Skew > 2:
		return fmt.Errorf("TOTP skew %d outside 0 to 2", c.Skew)
	}
	switch c.Algorithm {
	case "", AlgSHA1, AlgSHA256, AlgSHA512:
	default:
		return fmt.Errorf("TOTP algorithm %q is not sha1, sha256 or sha512", string(c.Algorithm))
	}
	return nil
}

// EnrollRequest asks a provider to create a factor.
type EnrollRequest struct {
	// Identity is the user's identity; see ValidIdentity. Required.
	Identity string
	// Type is the factor type. Required; providers that do not offer it
	// return ErrUnsupported.
	Type FactorType
	// FriendlyName names the factor for the user, at most 64 bytes; an
	// authenticator app shows it as the account name. It should not be
	// personal data. Required.
	FriendlyName string
	// TOTP configures a TOTP factor; zero fields mean the provider's
	// defaults.
	TOTP TOTPConfig
	// SkewSet marks TOTP.Skew as chosen, so that a skew of 0 is applied
	// rather than the provider's default.
	SkewSet bool
	// Secret is a Base32 shared secret chosen by the caller (for a TOTP
	// factor migrated from elsewhere). Empty means the provider generates
	// one, which is what applications should normally do. It is never
	// printed.
	Secret string
	// Extensions carries provider-specific parameters.
	Extensions []Extension
}

// String describes the request without its secret.
func (r EnrollRequest) String() string {
	s := "EnrollRequest{Identity:" + maskTarget(r.Identity) + " Type:" + string(r.Type) + " FriendlyName:" + strconv.Quote(r.FriendlyName)
	if r.Secret != "" {
		s += " Secret:" + redacted
	}
	return s + "}"
}

// GoString is like String, so %#v does not reveal the secret either.
func (r EnrollRequest) GoString() string { return r.String() }

// Format makes every verb print String, so no verb reveals the secret.
func (r EnrollRequest) Format(f fmt.State, verb rune) { formatString(f, verb, r.String()) }

// ConfirmRequest asks a provider to verify a new factor with its first code.
type ConfirmRequest struct {
	// Identity and FactorID name the factor. Required.
	Identity, FactorID string
	// Code is what the user read from the app. It is a secret and is never
	// printed.
	Code string
	// Extensions carries provider-specific parameters.
	Extensions []Extension
}

// String describes the request with the code redacted.
func (r ConfirmRequest) String() string {
	return "ConfirmRequest{Identity:" + maskTarget(r.Identity) + " FactorID:" + r.FactorID + " Code:" + redacted + "}"
}

// GoString is like String.
func (r ConfirmRequest) GoString() string { return r.String() }

// Format makes every verb print String, so no verb reveals the code.
func (r ConfirmRequest) Format(f fmt.State, verb rune) { formatString(f, verb, r.String()) }

// ChallengeRequest asks a provider to check a code for a verified factor.
// For a push factor (later), Code is empty and the challenge stays pending
// until the device answers.
type ChallengeRequest struct {
	// Identity and FactorID name the factor. Required.
	Identity, FactorID string
	// Code is what the user typed (TOTP). It is a secret and is never
	// printed.
	Code string
	// ExpiresAt, when not zero, is when a pending challenge expires. The
	// provider documents its default and how far ahead it may be.
	ExpiresAt time.Time
	// Extensions carries provider-specific parameters, such as a push
	// challenge's message.
	Extensions []Extension
}

// String describes the request with the code redacted.
func (r ChallengeRequest) String() string {
	return "ChallengeRequest{Identity:" + maskTarget(r.Identity) + " FactorID:" + r.FactorID + " Code:" + redacted + "}"
}

// GoString is like String.
func (r ChallengeRequest) GoString() string { return r.String() }

// Format makes every verb print String, so no verb reveals the code.
func (r ChallengeRequest) Format(f fmt.State, verb rune) { formatString(f, verb, r.String()) }

// Factor is a factor as a provider reports it, without its secret.
type Factor struct {
	// ID is the provider's opaque identifier of the factor.
	ID string
	// Identity is the identity the factor belongs to.
	Identity string
	// Type is the factor type.
	Type FactorType
	// Status is FactorUnverified or FactorVerified.
	Status FactorStatus
	// FriendlyName is the factor's name.
	FriendlyName string
	// TOTP is a TOTP factor's configuration, with every field set.
	TOTP TOTPConfig
	// Push is a push factor's configuration, or nil for other types.
	Push *PushFactorConfig
	// CreatedAt and UpdatedAt are the provider's timestamps.
	CreatedAt, UpdatedAt time.Time
	// Detail is the provider's own representation of the factor (a
	// pointer to a type of the provider's package), or nil.
	Detail any
}

// Verified reports whether the factor's status is FactorVerified.
func (f Factor) Verified() bool { return f.Status == FactorVerified }

// String describes the factor.
func (f Factor) String() string {
	return "Factor{ID:" + f.ID + " Identity:" + maskTarget(f.Identity) + " Type:" + string(f.Type) + " Status:" + string(f.Status) + "}"
}

// GoString is like String.
func (f Factor) GoString() string { return f.String() }

// Enrollment is the result of EnrollFactor: the new factor and, for a TOTP
// factor, its secret. This is the only time a provider returns the secret:
// show it (as a QR code of URI) and forget it. Every way of printing an
// Enrollment redacts the secret and the URI; read the fields to use them.
type Enrollment struct {
	Factor
	// Secret is the Base32 shared secret, without padding.
	Secret string
	// URI is the otpauth://totp/… key URI an authenticator app reads from a
	// QR code. It contains the secret.
	URI string
}

// String describes the enrolment with the secret and URI redacted.
func (e Enrollment) String() string {
	return "Enrollment{" + e.Factor.String() + " Secret:" + redacted + " URI:" + redacted + "}"
}

// GoString is like String.
func (e Enrollment) GoString() string { return e.String() }

// Format makes every verb, %v, %+v, %#v, %s, %q and the rest, print
// String, so no verb reveals the secret.
func (e Enrollment) Format(f fmt.State, verb rune) { formatString(f, verb, e.String()) }

// Challenge is a challenge as a provider reports it: one check of a code
// (or, for push, one request to the device).
type Challenge struct {
	// ID is the provider's opaque identifier of the challenge.
	ID string
	// Identity and FactorID name the factor challenged.
	Identity, FactorID string
	// Status is the challenge's status.
	Status ChallengeStatus
	// CreatedAt, UpdatedAt, RespondedAt and ExpiresAt are the provider's
	// timestamps; RespondedAt is zero until the challenge is answered.
	CreatedAt, UpdatedAt, RespondedAt, ExpiresAt time.Time
	// Push is what a push challenge shows on the phone, or nil for other
	// types.
	Push *PushDetails
	// Detail is the provider's own representation of the challenge (a
	// pointer to a type of the provider's package), or nil.
	Detail any
}

// Approved reports whether the challenge's status is ChallengeApproved.
func (c Challenge) Approved() bool { return c.Status == ChallengeApproved }

// String describes the challenge.
func (c Challenge) String() string {
	return "Challenge{ID:" + c.ID + " FactorID:" + c.FactorID + " Status:" + string(c.Status) + "}"
}

// GoString is like String.
func (c Challenge) GoString() string { return c.String() }

// formatString writes s for any verb, quoting it for %q.
func formatString(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = f.Write([]byte(s))
}
