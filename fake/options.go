package fake

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// DefaultSeed is the seed of the code generator when no option picks
// another source of codes. A new Fake with default options generates the
// same sequence of codes every time.
const DefaultSeed uint64 = 0x5eed

// FirstDefaultCode is the first code a Fake with default code options
// generates. The codes after it follow from DefaultSeed too, but only the
// first is promised here: tests that need a known code should use
// WithFixedCode or read it with LastCode.
const FirstDefaultCode = "250614"

// Option configures a Fake. Options validate their arguments: New returns
// an error for an option it cannot apply.
type Option func(*config) error

type codeSource int

const (
	codesSeeded codeSource = iota
	codesFixed
	codesCrypto
)

type config struct {
	now          func() time.Time
	validity     time.Duration
	maxSends     int
	maxChecks    int
	goneAtMax    bool
	codeLength   int
	source       codeSource
	seed         uint64
	fixedCode    string
	customCodes  bool
	friendlyName string
	outboxLimit  int
	disabled     map[provider.Channel]bool
	onSend       func(context.Context, Message)
	factor       factorConfig // see factor_options.go

	idPrefix, attemptPrefix string    // see WithIDPrefixes
	factorPrefixes          [3]string // entity, factor, challenge; see WithFactorIDPrefixes
}

func defaultConfig() config {
	return config{
		now:          time.Now,
		validity:     10 * time.Minute,
		maxSends:     5,
		maxChecks:    5,
		codeLength:   6,
		source:       codesSeeded,
		seed:         DefaultSeed,
		friendlyName: "verifykit",
		outboxLimit:  1000,
	}
}

// WithClock makes the fake read the time from now instead of time.Now.
// Pass the Now method of a [Clock] to control time from a test.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return fmt.Errorf("fake: WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithValidity sets how long a code stays valid after its verification is
// first started. The default is 10 minutes, Twilio's default.
func WithValidity(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("fake: WithValidity: %v is not positive", d)
		}
		c.validity = d
		return nil
	}
}

// WithMaxSends sets how many times a code may be sent for one verification;
// the next Start to the same target fails with ErrTooManySends until the
// verification ends. The default is 5, Twilio's limit.
func WithMaxSends(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("fake: WithMaxSends: %d is less than 1", n)
		}
		c.maxSends = n
		return nil
	}
}

// WithMaxChecks sets how many wrong codes a verification accepts; the next
// Check fails with ErrTooManyChecks until the verification expires. The
// default is 5, Twilio's limit.
func WithMaxChecks(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("fake: WithMaxChecks: %d is less than 1", n)
		}
		c.maxChecks = n
		return nil
	}
}

// WithMaxChecksGone makes a verification vanish once it has had the maximum
// number of wrong codes, so the next Check gives ErrNotFound instead of
// ErrTooManyChecks. Twilio's documentation describes both behaviours; the
// default is ErrTooManyChecks, which is what Twilio has been observed to
// answer.
func WithMaxChecksGone() Option {
	return func(c *config) error {
		c.goneAtMax = true
		return nil
	}
}

// WithCodeLength sets the number of digits of generated codes, from 4 to
// 10. The default is 6.
func WithCodeLength(n int) Option {
	return func(c *config) error {
		if n < 4 || n > 10 {
			return fmt.Errorf("fake: WithCodeLength: %d is outside 4 to 10", n)
		}
		c.codeLength = n
		return nil
	}
}

// WithSeed makes codes come from a pseudo-random generator seeded with
// seed. The default seed is DefaultSeed.
func WithSeed(seed uint64) Option {
	return func(c *config) error {
		c.source, c.seed = codesSeeded, seed
		return nil
	}
}

// WithFixedCode makes every verification use code, which must be 4 to 10
// ASCII letters or digits.
func WithFixedCode(code string) Option {
	return func(c *config) error {
		if !wire.ValidCode(code) {
			return fmt.Errorf("fake: WithFixedCode: a code must be 4 to 10 ASCII letters or digits")
		}
		c.source, c.fixedCode = codesFixed, code
		return nil
	}
}

// WithRandomCodes makes codes, and the random part of verification IDs,
// come from crypto/rand, as they would in production. Tests then read codes
// from the outbox.
func WithRandomCodes() Option {
	return func(c *config) error {
		c.source = codesCrypto
		return nil
	}
}

// WithCustomCodes sets whether Start accepts a caller-supplied code
// (StartRequest.CustomCode). The default is false: a custom code gives
// ErrUnsupported, as on a Twilio service without custom codes enabled.
func WithCustomCodes(enabled bool) Option {
	return func(c *config) error {
		c.customCodes = enabled
		return nil
	}
}

// WithFriendlyName sets the application name rendered in message bodies,
// at most 30 characters. The default is "verifykit".
func WithFriendlyName(name string) Option {
	return func(c *config) error {
		if name == "" || len(name) > 30 {
			return fmt.Errorf("fake: WithFriendlyName: name must be 1 to 30 bytes")
		}
		c.friendlyName = name
		return nil
	}
}

// WithOutboxLimit sets how many messages the outbox keeps; older ones are
// dropped first. The default is 1000.
func WithOutboxLimit(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("fake: WithOutboxLimit: %d is less than 1", n)
		}
		c.outboxLimit = n
		return nil
	}
}

// WithDisabledChannels makes Start over any of the given channels fail with
// ErrUndeliverable (ReasonChannelDisabled), as on a service with those
// channels switched off. By default every channel is enabled.
func WithDisabledChannels(channels ...provider.Channel) Option {
	return func(c *config) error {
		for _, ch := range channels {
			if !ch.Known() {
				return fmt.Errorf("fake: WithDisabledChannels: unknown channel %q", ch)
			}
			if c.disabled == nil {
				c.disabled = make(map[provider.Channel]bool)
			}
			c.disabled[ch] = true
		}
		return nil
	}
}

// WithIDPrefixes puts verification before the 32 hex digits of every
// verification ID and attempt before those of every send attempt's ID. By
// default IDs are the 32 hex digits alone: opaque, like any provider's. An
// emulator of a service whose IDs have a shape uses it (twiliotest passes
// "VE" and "VL", the shape of Twilio's SIDs). A prefix is at most 8 ASCII
// letters or digits.
func WithIDPrefixes(verification, attempt string) Option {
	return func(c *config) error {
		if err := checkPrefixes("WithIDPrefixes", verification, attempt); err != nil {
			return err
		}
		c.idPrefix, c.attemptPrefix = verification, attempt
		return nil
	}
}

// WithFactorIDPrefixes is WithIDPrefixes for the IDs of entities, factors
// and challenges. By default they are 32 hex digits alone, like
// verification IDs; twiliotest passes "YE", "YF" and "YC", the shape of
// Twilio's SIDs. A prefix is at most 8 ASCII letters or digits.
func WithFactorIDPrefixes(entity, factor, challenge string) Option {
	return func(c *config) error {
		if err := checkPrefixes("WithFactorIDPrefixes", entity, factor, challenge); err != nil {
			return err
		}
		c.factorPrefixes = [3]string{entity, factor, challenge}
		return nil
	}
}

// checkPrefixes reports a prefix that is not at most 8 ASCII letters or
// digits.
func checkPrefixes(option string, prefixes ...string) error {
	for _, p := range prefixes {
		if len(p) > 8 || strings.Trim(p, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return fmt.Errorf("fake: %s: %q is not at most 8 ASCII letters or digits", option, p)
		}
	}
	return nil
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
		c.onSend = fn
		return nil
	}
}
