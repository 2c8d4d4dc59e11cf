package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/nyaruka/phonenumbers/v2"
)

// Option configures a Client. Options validate their arguments; New
// returns the first error.
type Option func(*config) error

type config struct {
	region          string
	refuseLandlines bool
	logger          *slog.Logger
	hook            func(context.Context, Event)
	beginHook       func(context.Context, string) context.Context
	minCode         int
	maxCode         int
	name            string
	policy          policyConfig
	prices          *PriceTable // WithPrices; nil: Prices()
}

// WithDefaultRegion sets the region used to read phone numbers written in
// national form, as an ISO 3166-1 alpha-2 code such as "US" or "GB". With
// region US, "(415) 555-2671" becomes +14155552671. By default there is no
// region, and phone numbers must be in international form (+…).
func WithDefaultRegion(region string) Option {
	return func(c *config) error {
		r := strings.ToUpper(region)
		if !phonenumbers.GetSupportedRegions()[r] {
			return fmt.Errorf("verify: WithDefaultRegion: unknown region %q", region)
		}
		c.region = r
		return nil
	}
}

// WithRefuseLandlines makes Start refuse SMS and WhatsApp to numbers the
// numbering plan says are fixed lines, without asking the provider. The
// error matches both ErrInvalidRequest and ErrUndeliverable; offer a call
// instead. Numbers that may be fixed or mobile are let through. By default
// landlines are not refused here (the provider may refuse them).
func WithRefuseLandlines() Option {
	return func(c *config) error {
		c.refuseLandlines = true
		return nil
	}
}

// WithLogger makes the client log one record per operation to l: at Info
// level when it succeeds, at Warn level when it fails. Records carry the
// operation, provider, channel, masked target, status, error code, error
// and duration; never a code. By default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("verify: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithHook makes the client call fn after every operation, on the calling
// goroutine, with the operation's context and an Event describing it. Use it
// for metrics and tracing. fn must be safe for concurrent use. By default
// there is no hook.
func WithHook(fn func(ctx context.Context, e Event)) Option {
	return func(c *config) error {
		if fn == nil {
			return errors.New("verify: WithHook: nil function")
		}
		c.hook = fn
		return nil
	}
}

// WithBeginHook makes the client call fn before every operation, on the
// calling goroutine, with the caller's context and the operation's name
// (Event.Op). The operation runs with the context fn returns: the provider
// call, the policies' store, the logger and the WithHook hook all see it.
// It is for tracing: fn starts a span and returns the context that carries
// it, so the provider's own spans (such as an instrumented http.Client's)
// become its children, and the WithHook hook ends it. fn must be safe for
// concurrent use, quick, and return a context derived from ctx.
func WithBeginHook(fn func(ctx context.Context, op string) context.Context) Option {
	return func(c *config) error {
		if fn == nil {
			return errors.New("verify: WithBeginHook: nil function")
		}
		c.beginHook = fn
		return nil
	}
}

// WithCodeLength sets how many letters or digits a code may have once
// spaces and dashes are removed. Check refuses codes outside [min, max]
// with ErrInvalidRequest without asking the provider, so they do not count
// as wrong codes. The default is 1 to 64: each provider refuses codes
// outside its own range (Twilio's is 4 to 10) with ErrInvalidRequest, and
// those do not count as wrong codes either. Set the range the application's
// provider uses to refuse them without a call.
func WithCodeLength(min, max int) Option {
	return func(c *config) error {
		if min < 1 || max < min || max > 64 {
			return fmt.Errorf("verify: WithCodeLength: %d to %d is not a range within 1 to 64", min, max)
		}
		c.minCode, c.maxCode = min, max
		return nil
	}
}

// WithProviderName sets the provider name used in errors, logs and events.
// By default it is the provider's Name method's result if it has one (see
// provider.Namer), or its Go type.
func WithProviderName(name string) Option {
	return func(c *config) error {
		if name == "" {
			return errors.New("verify: WithProviderName: empty name")
		}
		c.name = name
		return nil
	}
}
