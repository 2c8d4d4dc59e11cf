package verify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// RecoverStart and RecoverCheck recover from a lost answer, each after the
// operation its name says: RecoverStart after Start, RecoverCheck after
// Check, CheckID or Approve.

// RecoverStart returns the verification pending for to, starting one when
// there is none. It is how an application recovers the ID after Start answered
// ErrOutcomeUnknown (a code may have been sent, and there is no ID to
// keep):
//
//   - On a provider with Capabilities().ResendOnStart (Twilio, the fake) it
//     is Start: the pending code is re-sent under the same ID, which spends
//     one send.
//   - On a provider that answers a repeated Start with ErrConflict and
//     names the pending verification (provider.PendingID; Vonage does),
//     nothing is sent: RecoverStart returns that verification, fetched when the
//     provider can fetch it, otherwise with its ID, target, the channel
//     asked for and StatusPending.
//   - An ErrConflict that names no verification is returned as it is.
//
// Errors are Start's (or Fetch's, for the fetch of the pending one).
func (c *Client) RecoverStart(ctx context.Context, to string, ch Channel, opts *StartOptions) (Verification, error) {
	v, err := c.Start(ctx, to, ch, opts)
	if err == nil || !errors.Is(err, ErrConflict) {
		return v, err
	}
	id, ok := PendingID(err)
	if !ok {
		return Verification{}, err
	}
	norm, nerr := c.Normalize(to)
	if nerr != nil { // cannot happen: Start normalised it already
		return Verification{}, err
	}
	// The provider named the verification pending for to: CheckID's
	// budgets need its target, as after a Start.
	c.rememberTarget(ctx, id, norm)
	if _, ok := c.p.(provider.Fetcher); ok {
		v, ferr := c.Fetch(ctx, id)
		if !errors.Is(ferr, ErrUnsupported) { // a Fetcher may not fetch every verification
			return v, ferr
		}
	}
	return Verification{ID: id, To: norm, Channel: ch, Status: StatusPending, RawStatus: string(StatusPending)}, nil
}

// RecoverCheck tells what can be known of the verification id after Check,
// CheckID or Approve answered ErrOutcomeUnknown (the request may have
// approved it, and if it did, the verification is gone). It needs a
// provider.Fetcher; others give ErrUnsupported.
//
//   - A nil error: the provider still holds the verification. Status
//     pending means the code was not approved, and the user may enter it
//     again; a provider may also report a final status, such as approved.
//   - An error matching ErrOutcomeUnknown (and ErrNotFound): the
//     verification is gone, approved or expired or canceled, and which of
//     them is unknown. Never report a wrong code; fail closed and start a
//     new verification.
//   - Any other error is Fetch's.
func (c *Client) RecoverCheck(ctx context.Context, id string) (Verification, error) {
	ctx = c.enter(ctx, "recover check")
	begin := time.Now()
	var v Verification
	id, err := cleanID(id)
	if err == nil {
		if fp, ok := c.p.(provider.Fetcher); !ok {
			err = fmt.Errorf("%w: provider %s cannot fetch, so a lost answer cannot be resolved", ErrUnsupported, c.cfg.name)
		} else if err = ctx.Err(); err == nil {
			v, err = fp.Fetch(ctx, id)
			if errors.Is(err, ErrNotFound) {
				err = &goneError{err: err}
			}
		}
	}
	return c.done(ctx, "recover check", v.Channel, id, begin, v, err)
}

// goneError is the answer of RecoverCheck for a verification the provider no
// longer holds: it matches ErrOutcomeUnknown as well as what the provider
// said (ErrNotFound), since a gone verification may have been approved.
type goneError struct{ err error }

func (e *goneError) Error() string {
	return "outcome unknown: the verification is gone (approved, expired or canceled; which is unknown): " + e.err.Error()
}

func (e *goneError) Unwrap() error { return e.err }

func (e *goneError) Is(target error) bool { return target == ErrOutcomeUnknown }
