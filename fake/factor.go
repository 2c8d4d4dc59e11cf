package fake

import (
	"context"
	"errors"
	"time"

	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/internal/fakeconf"
	"github.com/verifykit/verifykit/provider"
)

// The factor operations of a Fake, in errors, faults and FactorEvents. For
// these operations a Fault's To field matches the identity.
const (
	OpDeleteIdentity  Op = engine.OpDeleteIdentity
	OpEnrollFactor    Op = engine.OpEnrollFactor
	OpConfirmFactor   Op = engine.OpConfirmFactor
	OpFetchFactor     Op = engine.OpFetchFactor
	OpListFactors     Op = engine.OpListFactors
	OpDeleteFactor    Op = engine.OpDeleteFactor
	OpChallengeFactor Op = engine.OpChallengeFactor
	OpFetchChallenge  Op = engine.OpFetchChallenge
)

// The factor defaults of a Fake.
const (
	// DefaultFactorMaxChecks is how many wrong codes a factor accepts in
	// DefaultFactorCheckWindow (confirmations and challenges together);
	// the next code, right or wrong, fails with ErrTooManyChecks until the
	// window ends. Twilio allows 5 wrong codes to confirm a TOTP factor.
	DefaultFactorMaxChecks = fakeconf.DefaultFactorMaxChecks
	// DefaultFactorCheckWindow is the window of DefaultFactorMaxChecks. It
	// starts with the first wrong code and ends 10 minutes later; a right
	// code also ends it.
	DefaultFactorCheckWindow = fakeconf.DefaultFactorCheckWindow
)

// FactorEvent describes one factor operation of a Fake, for WithOnFactor.
// It never carries a secret or a code.
type FactorEvent struct {
	// Op is the operation.
	Op Op
	// Identity is the identity operated on.
	Identity string
	// FactorID and ChallengeID are set when the operation names them.
	FactorID, ChallengeID string
	// FactorStatus is the factor's status after the operation, when known.
	FactorStatus provider.FactorStatus
	// ChallengeStatus is a challenge's status after the operation.
	ChallengeStatus provider.ChallengeStatus
	// Err is the operation's error, or nil.
	Err error
	// At is the time of the operation by the fake's clock.
	At time.Time
	// Lifecycle is the event a provider would report (a factor created,
	// verified or deleted, a challenge approved or denied), or nil when
	// the operation changed no such state or failed.
	Lifecycle *provider.LifecycleEvent
}

// factorHook applies the fake's faults to factor operations.
func (f *Fake) factorHook(_ context.Context, op, identity string) (pre, post error) {
	ft := f.takeFault(Op(op), identity)
	switch {
	case ft == nil:
		return nil, nil
	case ft.Processed:
		return nil, ft.err(Op(op))
	}
	return ft.err(Op(op)), nil
}

// factorErr returns the fake's error for the factor engine's.
func factorErr(err error) error {
	if err == nil {
		return nil // before errors.As, whose target would escape
	}
	var ee *engine.Error
	if errors.As(err, &ee) {
		return &Error{Op: Op(ee.Op), Kind: ee.Kind, Reason: Reason(ee.Reason), Wait: ee.Wait, msg: ee.Msg, date: ee.Date}
	}
	return err
}

// DeleteIdentity deletes identity with its factors and challenges. An
// unknown identity gives ErrNotFound.
func (f *Fake) DeleteIdentity(ctx context.Context, identity string) error {
	return factorErr(f.factors.DeleteIdentity(ctx, identity))
}

// EnrollFactor creates a TOTP factor for req.Identity (creating the identity
// if needed). The secret is generated from the fake's seed (the same calls
// in the same order give the same secrets), from crypto/rand with
// WithRandomCodes, or taken from req.Secret. The result carries the secret
// and its otpauth URI, with the issuer set by WithFactorIssuer; no later
// call returns them.
func (f *Fake) EnrollFactor(ctx context.Context, req provider.EnrollRequest) (provider.Enrollment, error) {
	e, err := f.factors.EnrollFactor(ctx, req)
	return e, factorErr(err)
}

// ConfirmFactor verifies an unverified factor with the first code from the
// app. A wrong code leaves it unverified, with no error.
func (f *Fake) ConfirmFactor(ctx context.Context, req provider.ConfirmRequest) (provider.Factor, error) {
	fa, err := f.factors.UpdateFactor(ctx, req.Identity, req.FactorID, engine.FactorUpdate{Code: req.Code})
	return fa, factorErr(err)
}

// FetchFactor returns a factor without its secret.
func (f *Fake) FetchFactor(ctx context.Context, identity, id string) (provider.Factor, error) {
	fa, err := f.factors.FetchFactor(ctx, identity, id)
	return fa, factorErr(err)
}

// ListFactors returns identity's factors, oldest first, without secrets.
func (f *Fake) ListFactors(ctx context.Context, identity string) ([]provider.Factor, error) {
	l, err := f.factors.ListFactors(ctx, identity)
	return l, factorErr(err)
}

// DeleteFactor deletes a factor; its codes no longer work.
func (f *Fake) DeleteFactor(ctx context.Context, identity, id string) error {
	return factorErr(f.factors.DeleteFactor(ctx, identity, id))
}

// ChallengeFactor checks req.Code for a verified factor and records the
// challenge. The right code approves it; a wrong code, or a code of a time
// step already accepted for this factor (a replay), leaves it pending, with
// no error. A challenge of an unverified factor fails with
// ErrInvalidRequest.
func (f *Fake) ChallengeFactor(ctx context.Context, req provider.ChallengeRequest) (provider.Challenge, error) {
	c, err := f.factors.ChallengeFactor(ctx, req)
	return c, factorErr(err)
}

// FetchChallenge returns a challenge of identity; a pending one whose
// expiry passed is reported expired.
func (f *Fake) FetchChallenge(ctx context.Context, identity, id string) (provider.Challenge, error) {
	c, err := f.factors.FetchChallenge(ctx, identity, id)
	return c, factorErr(err)
}

// FactorCode returns the code an authenticator app shows now, by the
// fake's clock, for a factor the fake holds. Tests use it as a user would
// read their phone. It is for tests only: the fake keeps no secret out of
// reach of its own caller.
func (f *Fake) FactorCode(identity, factorID string) (string, bool) {
	return f.factors.Code(identity, factorID)
}

var _ provider.FactorProvider = (*Fake)(nil)
