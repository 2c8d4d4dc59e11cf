package verify

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
)

// Factor is a factor the user holds, such as an authenticator app, as
// EnrollTOTP, ConfirmFactor, FetchFactor and ListFactors return it. It
// never carries the secret.
type Factor = provider.Factor

// Challenge is one check of a factor's code, as CheckFactor returns it.
// Use its Approved method.
type Challenge = provider.Challenge

// TOTPConfig is a TOTP factor's configuration: digits (3 to 8), time step
// (20 to 60 s), skew (0 to 2 steps) and algorithm. Zero fields mean the
// provider's defaults, which each provider documents (every provider in
// this module: 6 digits, 30 s, skew 1, SHA-1, what every authenticator app
// supports).
type TOTPConfig = provider.TOTPConfig

// FactorType is the kind of a factor, such as FactorTOTP; the same type as
// provider.FactorType.
type FactorType = provider.FactorType

// FactorStatus is a factor's status (unverified, verified); the same type
// as provider.FactorStatus.
type FactorStatus = provider.FactorStatus

// ChallengeStatus is a challenge's status (pending, approved, denied,
// expired); the same type as provider.ChallengeStatus.
type ChallengeStatus = provider.ChallengeStatus

// Algorithm is a TOTP factor's HMAC algorithm; the same type as
// provider.Algorithm.
type Algorithm = provider.Algorithm

// The factor types, statuses and algorithms.
const (
	FactorTOTP        = provider.FactorTOTP
	FactorPush        = provider.FactorPush
	FactorUnverified  = provider.FactorUnverified
	FactorVerified    = provider.FactorVerified
	ChallengePending  = provider.ChallengePending
	ChallengeApproved = provider.ChallengeApproved
	ChallengeDenied   = provider.ChallengeDenied
	ChallengeExpired  = provider.ChallengeExpired
	AlgSHA1           = provider.AlgSHA1
	AlgSHA256         = provider.AlgSHA256
	AlgSHA512         = provider.AlgSHA512
)

// Enrollment is the result of EnrollTOTP: the new, unverified factor and,
// this once, its secret and otpauth URI. Show the URI as a QR code
// (QRCodePNG or QRCodeDataURL) for the user to scan, and the secret as a
// fallback to type in; then forget both. Printing an Enrollment with any
// fmt verb redacts the secret and the URI.
type Enrollment struct {
	provider.Enrollment
}

// QRCodePNG returns the enrolment's otpauth URI as a QR code: a PNG image
// of size×size pixels (at least 64, at most 2048), for an <img> element or
// a file. The image contains the secret: serve it only to the user
// enrolling, with Cache-Control: no-store.
func (e Enrollment) QRCodePNG(size int) ([]byte, error) {
	if e.URI == "" {
		return nil, fmt.Errorf("verify: QR code: %w: the enrolment has no URI", ErrInvalidRequest)
	}
	b, err := totp.QRPNG(e.URI, size)
	if err != nil {
		return nil, fmt.Errorf("verify: QR code: %w: %v", ErrInvalidRequest, err)
	}
	return b, nil
}

// QRCodeDataURL is like QRCodePNG but returns a data: URL
// ("data:image/png;base64,…") that an <img src> can show without another
// request.
func (e Enrollment) QRCodeDataURL(size int) (string, error) {
	b, err := e.QRCodePNG(size)
	if err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b), nil
}

// EnrollOptions are the optional parameters of EnrollTOTP. A nil
// *EnrollOptions means all defaults.
type EnrollOptions struct {
	// Config sets the factor's TOTP configuration; zero fields mean the
	// provider's defaults (see TOTPConfig). Many apps
	// ignore other values: change them only for apps known to honour them.
	Config TOTPConfig
	// ZeroSkew applies a skew of 0 (only the current time step's code is
	// accepted) instead of the default 1.
	ZeroSkew bool
	// Secret is a Base32 secret to use instead of one the provider
	// generates, for a factor migrated from elsewhere. It is never printed.
	Secret string
	// Extensions carries provider-specific parameters.
	Extensions []Extension
}

// String describes the options with the secret redacted.
func (o EnrollOptions) String() string {
	s := fmt.Sprintf("EnrollOptions{Config:%+v ZeroSkew:%v", o.Config, o.ZeroSkew)
	if o.Secret != "" {
		s += " Secret:[redacted]"
	}
	return s + "}"
}

// GoString is like String.
func (o EnrollOptions) GoString() string { return o.String() }

// Format prints what String does for every verb, so no verb prints the
// secret.
func (o EnrollOptions) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, o.String()) }

func (c *Client) factors() (provider.FactorProvider, error) {
	fp, ok := c.p.(provider.FactorProvider)
	if !ok {
		return nil, fmt.Errorf("%w: provider %s does not offer factors", ErrUnsupported, c.cfg.name)
	}
	return fp, nil
}

// checkIdentity validates identity and returns its masked form for errors
// and logs. Identities should not be personal data, but an application may
// pass one that is by mistake, so they are masked like targets.
func checkIdentity(identity string) (string, error) {
	masked := mask.Target(identity)
	if !provider.ValidIdentity(identity) {
		return masked, invalid("identity must be 8 to 64 letters, digits or dashes")
	}
	return masked, nil
}

// cleanTOTPCode removes spaces and dashes and checks that 3 to 8 digits
// remain.
func cleanTOTPCode(code string) (string, error) {
	s, err := cleanCode(code, 3, 8)
	if err != nil {
		return "", err
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return "", invalid("an authenticator code has only digits")
		}
	}
	return s, nil
}

// factorDone wraps err, reports the operation to the logger and the hook,
// and returns err.
func (c *Client) factorDone(ctx context.Context, op, target string, begin time.Time, status string, err error) error {
	if err != nil {
		err = &Error{Op: op, Provider: c.cfg.name, Target: target, Err: err}
		status = ""
	}
	if c.cfg.logger == nil && c.cfg.hook == nil {
		return err
	}
	e := Event{
		Op:       op,
		Provider: c.cfg.name,
		Target:   target,
		Status:   Status(status),
		Code:     CodeOf(err),
		Err:      err,
		Duration: time.Since(begin),
	}
	if c.cfg.logger != nil {
		e.log(ctx, c.cfg.logger)
	}
	if c.cfg.hook != nil {
		c.cfg.hook(ctx, e)
	}
	return err
}

// factorTarget returns the event target of a factor operation.
func factorTarget(maskedIdentity, id string) string {
	if id == "" {
		return maskedIdentity
	}
	return maskedIdentity + "/" + id
}

// EnrollTOTP creates an authenticator-app (TOTP) factor for identity, named
// friendlyName (1 to 64 bytes of UTF-8 without control characters; apps
// show it as the account name, so it should not be personal data either:
// "Phone" or "Work laptop"). The
// factor is FactorUnverified until ConfirmFactor gets a right code.
//
// The result carries the secret and its otpauth URI this once: show the
// QR code (Enrollment.QRCodePNG) and forget them.
//
// # Errors
//
// A malformed identity, name or configuration gives ErrInvalidRequest and
// asks nothing of the provider. A provider without factors gives
// ErrUnsupported.
func (c *Client) EnrollTOTP(ctx context.Context, identity, friendlyName string, opts *EnrollOptions) (Enrollment, error) {
	const op = "enroll factor"
	ctx = c.enter(ctx, op)
	begin := time.Now()
	if opts == nil {
		opts = &EnrollOptions{}
	}
	masked, err := checkIdentity(identity)
	switch {
	case err != nil:
	case friendlyName == "" || len(friendlyName) > 64:
		err = invalid("friendly name must be 1 to 64 bytes")
	case !printable(friendlyName):
		err = invalid("friendly name must be UTF-8 without control characters")
	case opts.Config.Validate() != nil:
		err = invalid(opts.Config.Validate().Error())
	case opts.ZeroSkew && opts.Config.Skew != 0:
		err = invalid("ZeroSkew with a non-zero skew")
	}
	var out Enrollment
	var fp provider.FactorProvider
	if err == nil {
		fp, err = c.factors()
	}
	if err == nil {
		if err = ctx.Err(); err == nil {
			out.Enrollment, err = fp.EnrollFactor(ctx, provider.EnrollRequest{
				Identity: identity, Type: provider.FactorTOTP, FriendlyName: friendlyName,
				TOTP: opts.Config, SkewSet: opts.ZeroSkew, Secret: opts.Secret, Extensions: opts.Extensions,
			})
		}
	}
	if err != nil {
		out = Enrollment{}
	}
	return out, c.factorDone(ctx, op, factorTarget(masked, out.ID), begin, string(out.Status), err)
}

// ConfirmFactor verifies a new factor with the first code the user read
// from the app (spaces and dashes ignored). A wrong code is not an error:
// the factor stays FactorUnverified and the user may try again; use the
// result's Verified method.
//
// # Errors
//
// ErrNotFound: no such factor for identity. ErrTooManyChecks: too many
// wrong codes; wait (see RetryAfter) or enrol again. ErrOutcomeUnknown: the
// provider may have verified it; fetch it before telling the user.
func (c *Client) ConfirmFactor(ctx context.Context, identity, factorID, code string) (Factor, error) {
	return factorCall(ctx, c, "confirm factor", identity, &factorID, &code, factorStatus, func(ctx context.Context, fp provider.FactorProvider) (Factor, error) {
		return fp.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: identity, FactorID: factorID, Code: code})
	})
}

// CheckFactor checks a code from a verified factor, as a login does
// (spaces and dashes ignored). A wrong code, or a code already used (the
// same time step approves once), is not an error: the challenge is not
// approved. Use the result's Approved method.
//
// # Errors
//
// ErrInvalidRequest: the code cannot be a code, or the factor is not
// verified yet (neither counts as a wrong code). ErrNotFound: no such
// factor. ErrTooManyChecks: too many wrong codes for this factor; refuse
// the login (RetryAfter says when the provider will accept codes again)
// and offer another factor. ErrOutcomeUnknown: the code may have been
// approved; ask the user for the next code rather than refusing.
func (c *Client) CheckFactor(ctx context.Context, identity, factorID, code string) (Challenge, error) {
	return factorCall(ctx, c, "check factor", identity, &factorID, &code, challengeStatus, func(ctx context.Context, fp provider.FactorProvider) (Challenge, error) {
		return fp.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: factorID, Code: code})
	})
}

// FetchFactor returns one of identity's factors, without its secret.
func (c *Client) FetchFactor(ctx context.Context, identity, factorID string) (Factor, error) {
	return factorCall(ctx, c, "fetch factor", identity, &factorID, nil, factorStatus, func(ctx context.Context, fp provider.FactorProvider) (Factor, error) {
		return fp.FetchFactor(ctx, identity, factorID)
	})
}

// ListFactors returns identity's factors, oldest first, without secrets.
// An identity with no factors has an empty list and no error. An empty
// list is not proof that an account has no two-step login (state lost
// from a provider's store reads as none on a replica that never saw it):
// keep "this account has two-step login" in your own database and refuse
// a login when it is on and no factor is listed (docs/security.md).
func (c *Client) ListFactors(ctx context.Context, identity string) ([]Factor, error) {
	return factorCall(ctx, c, "list factors", identity, nil, nil, nil, func(ctx context.Context, fp provider.FactorProvider) ([]Factor, error) {
		return fp.ListFactors(ctx, identity)
	})
}

// DeleteFactor deletes one of identity's factors; its codes stop working
// at once. ErrNotFound means there was no such factor.
func (c *Client) DeleteFactor(ctx context.Context, identity, factorID string) error {
	_, err := factorCall(ctx, c, "delete factor", identity, &factorID, nil, nil, func(ctx context.Context, fp provider.FactorProvider) (struct{}, error) {
		return struct{}{}, fp.DeleteFactor(ctx, identity, factorID)
	})
	return err
}

// DeleteIdentity deletes identity with all its factors, as when a user
// closes their account. ErrNotFound means the provider knew no such
// identity.
func (c *Client) DeleteIdentity(ctx context.Context, identity string) error {
	_, err := factorCall(ctx, c, "delete identity", identity, nil, nil, nil, func(ctx context.Context, fp provider.FactorProvider) (struct{}, error) {
		return struct{}{}, fp.DeleteIdentity(ctx, identity)
	})
	return err
}

// FetchChallenge returns one of identity's challenges by the ID
// CheckFactor returned.
func (c *Client) FetchChallenge(ctx context.Context, identity, challengeID string) (Challenge, error) {
	return factorCall(ctx, c, "fetch challenge", identity, &challengeID, nil, challengeStatus, func(ctx context.Context, fp provider.FactorProvider) (Challenge, error) {
		return fp.FetchChallenge(ctx, identity, challengeID)
	})
}

// factorCall is the common course of the factor methods but EnrollTOTP:
// check identity, then *id (a factor or challenge ID, when id is not nil)
// and *code (when code is not nil), cleaning them in place so call sees
// the clean values; find the factor provider; run call, with the context
// the begin hook returned, unless ctx is done;
// and report through factorDone, with status(result) as the status (none
// when status is nil). On failure the result is T's zero value.
func factorCall[T any](ctx context.Context, c *Client, op, identity string, id, code *string, status func(T) string, call func(context.Context, provider.FactorProvider) (T, error)) (T, error) {
	ctx = c.enter(ctx, op)
	begin := time.Now()
	masked, err := checkIdentity(identity)
	if err == nil && id != nil {
		*id, err = cleanFactorID(*id)
	}
	if err == nil && code != nil {
		*code, err = cleanTOTPCode(*code)
	}
	var out T
	var fp provider.FactorProvider
	if err == nil {
		fp, err = c.factors()
	}
	if err == nil {
		if err = ctx.Err(); err == nil {
			out, err = call(ctx, fp)
		}
	}
	if err != nil {
		var zero T
		out = zero
	}
	target, st := masked, ""
	if id != nil {
		target = factorTarget(masked, *id)
	}
	if status != nil {
		st = status(out)
	}
	return out, c.factorDone(ctx, op, target, begin, st, err)
}

func factorStatus(f Factor) string        { return string(f.Status) }
func challengeStatus(ch Challenge) string { return string(ch.Status) }

// cleanFactorID checks a factor or challenge ID like a verification ID.
func cleanFactorID(id string) (string, error) {
	if _, err := cleanID(id); err != nil {
		return "", invalid("factor or challenge ID must be 1 to 64 characters that can be in a URL path")
	}
	return id, nil
}

// printable reports whether s, a label an authenticator app shows, is valid
// UTF-8 without control characters (C0, C1) or bidirectional controls,
// which would garble or disguise the label.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return false
		}
	}
	return true
}
