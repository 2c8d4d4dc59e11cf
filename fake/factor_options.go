package fake

import (
	"context"
	"fmt"
	"time"

	"github.com/verifykit/verifykit/internal/emuserver"
)

// WithFactorLimits sets how many wrong codes a factor accepts within window
// (confirmations and challenges together); the next code, right or wrong,
// fails with ErrTooManyChecks until the window ends. The window starts at
// the first wrong code; a right code ends it. The defaults are
// DefaultFactorMaxChecks (5) and DefaultFactorCheckWindow (10 minutes).
func WithFactorLimits(maxWrong int, window time.Duration) Option {
	return func(c *config) error {
		if maxWrong < 1 || window <= 0 {
			return fmt.Errorf("fake: WithFactorLimits: need at least 1 wrong code and a positive window")
		}
		c.FactorMaxWrong, c.FactorWindow = maxWrong, window
		return nil
	}
}

// WithFactorIssuer sets the issuer named in TOTP key URIs, which
// authenticator apps show above the account name, at most 64 bytes. The
// default is the friendly name (WithFriendlyName), as Twilio uses the
// service's name.
func WithFactorIssuer(issuer string) Option {
	return func(c *config) error {
		return emuserver.Set("fake", "WithFactorIssuer", issuer, issuer != "" && len(issuer) <= 64, "issuer must be 1 to 64 bytes", &c.FactorIssuer)
	}
}

// WithOnFactor registers fn to be called after every factor operation
// (enrol, confirm, challenge, fetch, list, delete), with an event that
// carries no secret and no code. fn is called without the fake's lock held,
// on the calling goroutine, with the caller's context, and must be safe for
// concurrent use.
func WithOnFactor(fn func(ctx context.Context, e FactorEvent)) Option {
	return func(c *config) error {
		if fn == nil {
			return fmt.Errorf("fake: WithOnFactor: nil function")
		}
		c.OnFactor = fn
		return nil
	}
}
