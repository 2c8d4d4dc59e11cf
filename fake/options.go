package fake

import (
	"context"
	"fmt"
	"time"

	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/fakeconf"
	"github.com/verifykit/verifykit/internal/httpopt"
	"github.com/verifykit/verifykit/internal/wire"
)

// DefaultSeed is the seed of the code generator when no option picks
// another source of codes. A new Fake with default options generates the
// same sequence of codes every time.
const DefaultSeed uint64 = fakeconf.DefaultSeed

// FirstDefaultCode is the first code a Fake with default code options
// generates. The codes after it follow from DefaultSeed too, but only the
// first is promised here: tests that need a known code should use
// WithFixedCode or read it with LastCode.
const FirstDefaultCode = "250614"

// Option configures a Fake. Options validate their arguments: New returns
// an error for an option it cannot apply.
type Option func(*config) error

// config is what the options set, a struct other layers of the module
// read (see internal/fakeconf).
type config = fakeconf.Config

// WithClock makes the fake read the time from now instead of time.Now.
// Pass the Now method of a [Clock] to control time from a test.
func WithClock(now func() time.Time) Option {
	return func(c *config) error { return httpopt.SetClock("fake", now, &c.Now) }
}

// WithValidity sets how long a code stays valid after its verification is
// first started. The default is 10 minutes, Twilio's default.
func WithValidity(d time.Duration) Option {
	return func(c *config) error {
		return emuserver.Set("fake", "WithValidity", d, d > 0, "not positive", &c.Validity)
	}
}

// WithMaxSends sets how many times a code may be sent for one verification;
// the next Start to the same target fails with ErrTooManySends until the
// verification ends. The default is 5, Twilio's limit.
func WithMaxSends(n int) Option {
	return func(c *config) error { return emuserver.SetCount("fake", "WithMaxSends", n, &c.MaxSends) }
}

// WithMaxChecks sets how many wrong codes a verification accepts; the next
// Check fails with ErrTooManyChecks until the verification expires. The
// default is 5, Twilio's limit.
func WithMaxChecks(n int) Option {
	return func(c *config) error { return emuserver.SetCount("fake", "WithMaxChecks", n, &c.MaxChecks) }
}

// WithCodeLength sets the number of digits of generated codes, from 4 to
// 10. The default is 6.
func WithCodeLength(n int) Option {
	return func(c *config) error {
		return emuserver.Set("fake", "WithCodeLength", n, n >= 4 && n <= 10, "outside 4 to 10", &c.CodeLength)
	}
}

// WithSeed makes codes come from a pseudo-random generator seeded with
// seed. The default seed is DefaultSeed.
func WithSeed(seed uint64) Option {
	return func(c *config) error {
		c.Source, c.Seed = fakeconf.Seeded, seed
		return nil
	}
}

// WithFixedCode makes every verification use code, which must be 4 to 10
// ASCII letters or digits.
func WithFixedCode(code string) Option {
	return func(c *config) error {
		c.Source = fakeconf.Fixed
		return emuserver.Set("fake", "WithFixedCode", code, wire.ValidCode(code), "a code must be 4 to 10 ASCII letters or digits", &c.FixedCode)
	}
}

// WithRandomCodes makes codes, and the random part of verification IDs,
// come from crypto/rand, as they would in production. Tests then read codes
// from the outbox.
func WithRandomCodes() Option {
	return func(c *config) error {
		c.Source = fakeconf.Crypto
		return nil
	}
}

// WithCustomCodes sets whether Start accepts a caller-supplied code
// (StartRequest.CustomCode). The default is false: a custom code gives
// ErrUnsupported, as on a Twilio service without custom codes enabled.
func WithCustomCodes(enabled bool) Option {
	return func(c *config) error {
		c.CustomCodes = enabled
		return nil
	}
}

// WithFriendlyName sets the application name rendered in message bodies,
// at most 30 characters. The default is "verifykit".
func WithFriendlyName(name string) Option {
	return func(c *config) error {
		return emuserver.Set("fake", "WithFriendlyName", name, name != "" && len(name) <= 30, "name must be 1 to 30 bytes", &c.FriendlyName)
	}
}

// WithOutboxLimit sets how many messages the outbox keeps; older ones are
// dropped first. The default is 1000.
func WithOutboxLimit(n int) Option {
	return func(c *config) error { return emuserver.SetCount("fake", "WithOutboxLimit", n, &c.OutboxLimit) }
}

// WithOnSend registers fn to be called with every message the fake sends,
// after it is added to the outbox. fn is called without the fake's lock
// held, from the goroutine that called Start, with Start's context, and
// must be safe for concurrent use.
func WithOnSend(fn func(ctx context.Context, m Message)) Option {
	return func(c *config) error {
		if fn == nil {
			return fmt.Errorf("fake: WithOnSend: nil function")
		}
		c.OnSend = fn
		return nil
	}
}
