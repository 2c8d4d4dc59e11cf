// Package verifyotel reports a verify.Client's operations to
// OpenTelemetry: a span for each operation, and metrics for sends (by
// provider, channel and country), check outcomes, refusals by a policy or
// by the provider, an estimated cost when the application supplies
// prices, and latency.
//
// It lives in its own module, so that the core verifykit module does not
// depend on OpenTelemetry; verify's logger and hooks remain the
// zero-dependency path. It hooks into the client with verify.WithBeginHook
// and verify.WithHook:
//
//	in, err := verifyotel.New() // the global TracerProvider and MeterProvider
//	client, err := verify.New(p, in.Options()...)
//
// # Spans
//
// Each operation is a span named "verify " followed by the operation
// ("verify start", "verify check", "verify enroll factor"…), a child of the
// span in the caller's context. The provider call runs in the span's
// context, so the provider's own spans are its children: give the Twilio
// or Vonage client an *http.Client whose Transport is otelhttp's, and each
// HTTP attempt (retries included) appears under the operation. A failed
// operation has status Error, described by the error's text, which masks
// the target and never contains a code or a credential.
//
// # Attributes
//
// Spans and metrics carry only these attributes, none of which can hold a
// code, a secret or a phone number or e-mail address, masked or not:
// verifykit.operation, verifykit.provider, verifykit.channel,
// verifykit.country (the region of the number a start went to, such as
// "GB"), verifykit.outcome (verify.Code: "ok", "rate_limited"…),
// verifykit.status (the verification's status), verifykit.check.result,
// verifykit.refusal.source and verifykit.policy (see the metrics), and,
// for a route.Router's calls (RouteHook), verifykit.route and
// verifykit.failed_over.
//
// # Metrics
//
//	verifykit.operation.duration  histogram, s   every operation: operation, provider, outcome
//	verifykit.sends               counter        successful starts: provider, channel, country
//	verifykit.checks              counter        checks (check, check factor): provider, check.result
//	verifykit.refusals            counter        refusals: operation, provider, outcome, refusal.source, policy
//	verifykit.sends.cost          counter        with WithSendCost: provider, channel, country
//	verifykit.route.calls         counter        with RouteHook: operation, route, outcome, failed_over
//
// verifykit.check.result is "approved", "wrong_code" (the code did not
// match; the verification is still pending) or, for a failed check, the
// outcome ("not_found", "too_many_checks"…). verifykit.refusal.source is
// "policy" for a refusal by one of verify's policies (verifykit.policy
// names it: "cooldown", "send_budget", "region", "prefix"…), "fraud" for
// one by its fraud guard (verify.WithFraudGuard; verifykit.policy names
// the signal: "premium_range", "velocity", "conversion", "sequence"), and
// "provider" for a start the provider refused as undeliverable (its own
// fraud blocks among them), rate-limited or over its send limit.
//
// verifykit knows no prices: verifykit.sends.cost exists only when
// WithSendCost gives a price per send.
package verifyotel

import (
	"context"
	"errors"
	"time"

	"github.com/verifykit/verifykit/route"
	"github.com/verifykit/verifykit/verify"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/verifykit/verifykit/verify/verifyotel"

// The attribute keys.
const (
	KeyOperation     = attribute.Key("verifykit.operation")
	KeyProvider      = attribute.Key("verifykit.provider")
	KeyChannel       = attribute.Key("verifykit.channel")
	KeyCountry       = attribute.Key("verifykit.country")
	KeyOutcome       = attribute.Key("verifykit.outcome")
	KeyStatus        = attribute.Key("verifykit.status")
	KeyCheckResult   = attribute.Key("verifykit.check.result")
	KeyRefusalSource = attribute.Key("verifykit.refusal.source")
	KeyPolicy        = attribute.Key("verifykit.policy")
	KeyRoute         = attribute.Key("verifykit.route")
	KeyFailedOver    = attribute.Key("verifykit.failed_over")
)

// Option configures an Instrumentation.
type Option func(*config) error

type config struct {
	tp       trace.TracerProvider
	mp       metric.MeterProvider
	currency string
	cost     func(provider string, ch verify.Channel, country string) (float64, bool)
}

// WithTracerProvider makes the Instrumentation create its spans with tp
// instead of the global TracerProvider (otel.GetTracerProvider).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) error {
		if tp == nil {
			return errors.New("verifyotel: WithTracerProvider: nil provider")
		}
		c.tp = tp
		return nil
	}
}

// WithMeterProvider makes the Instrumentation record its metrics with mp
// instead of the global MeterProvider (otel.GetMeterProvider).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) error {
		if mp == nil {
			return errors.New("verifyotel: WithMeterProvider: nil provider")
		}
		c.mp = mp
		return nil
	}
}

// WithSendCost records the estimated cost of each successful start in the
// verifykit.sends.cost counter, in currency (an ISO 4217 code such as
// "USD", the counter's unit). price returns the price of one send by a
// provider (verify.Event.Provider) over a channel to a country (empty when
// unknown, as for e-mail), and false when it does not know one; such sends
// add nothing. verifykit knows no prices: they come from the application's
// contract with its provider.
func WithSendCost(currency string, price func(provider string, ch verify.Channel, country string) (float64, bool)) Option {
	return func(c *config) error {
		if currency == "" || price == nil {
			return errors.New("verifyotel: WithSendCost: needs a currency and a price function")
		}
		c.currency, c.cost = currency, price
		return nil
	}
}

// Instrumentation turns a verify.Client's operations into spans and
// metrics. Create one with New and install it with Options (or Begin and
// Hook). It is safe for concurrent use, and one Instrumentation may serve
// any number of clients.
type Instrumentation struct {
	tracer   trace.Tracer
	duration metric.Float64Histogram
	sends    metric.Int64Counter
	checks   metric.Int64Counter
	refusals metric.Int64Counter
	routes   metric.Int64Counter
	cost     metric.Float64Counter // nil without WithSendCost
	price    func(provider string, ch verify.Channel, country string) (float64, bool)
}

// New returns an Instrumentation over the global TracerProvider and
// MeterProvider, unless options name others.
func New(opts ...Option) (*Instrumentation, error) {
	var cfg config
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("verifyotel: nil option")
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	in := &Instrumentation{tracer: cfg.tp.Tracer(ScopeName), price: cfg.cost}
	m := cfg.mp.Meter(ScopeName)
	var err, e error
	in.duration, e = m.Float64Histogram("verifykit.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("How long each verify operation took, provider call included."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10))
	err = errors.Join(err, e)
	in.sends, e = m.Int64Counter("verifykit.sends", metric.WithUnit("{send}"),
		metric.WithDescription("Codes sent: successful starts, by provider, channel and country."))
	err = errors.Join(err, e)
	in.checks, e = m.Int64Counter("verifykit.checks", metric.WithUnit("{check}"),
		metric.WithDescription("Checks of a code, by result: approved, wrong_code, or the failure's outcome."))
	err = errors.Join(err, e)
	in.refusals, e = m.Int64Counter("verifykit.refusals", metric.WithUnit("{refusal}"),
		metric.WithDescription("Operations refused by a policy or by the provider."))
	err = errors.Join(err, e)
	in.routes, e = m.Int64Counter("verifykit.route.calls", metric.WithUnit("{call}"),
		metric.WithDescription("Calls a route.Router made to its routes, failovers included."))
	err = errors.Join(err, e)
	if cfg.cost != nil {
		in.cost, e = m.Float64Counter("verifykit.sends.cost", metric.WithUnit("{"+cfg.currency+"}"),
			metric.WithDescription("Estimated cost of the codes sent, from the application's prices."))
		err = errors.Join(err, e)
	}
	if err != nil {
		return nil, err
	}
	return in, nil
}

// Options returns the verify options that install in: WithBeginHook(in.Begin)
// and WithHook(in.Hook). A client that needs a hook of its own passes
// verify.WithBeginHook(in.Begin) and a WithHook function that calls
// in.Hook.
func (in *Instrumentation) Options() []verify.Option {
	return []verify.Option{verify.WithBeginHook(in.Begin), verify.WithHook(in.Hook)}
}

// spanKey marks the span Begin started, so that Hook ends that span and no
// other.
type spanKey struct{}

// Begin starts the operation's span; it is a verify.WithBeginHook function.
func (in *Instrumentation) Begin(ctx context.Context, op string) context.Context {
	ctx, span := in.tracer.Start(ctx, "verify "+op, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(KeyOperation.String(op)))
	return context.WithValue(ctx, spanKey{}, span)
}

// Hook ends the operation's span and records its metrics; it is a
// verify.WithHook function. Without Begin it records a span after the
// fact, from the event's duration (the provider's spans are then its
// siblings, not its children).
func (in *Instrumentation) Hook(ctx context.Context, e verify.Event) {
	span, ok := ctx.Value(spanKey{}).(trace.Span)
	if !ok {
		_, span = in.tracer.Start(ctx, "verify "+e.Op, trace.WithSpanKind(trace.SpanKindInternal),
			trace.WithTimestamp(time.Now().Add(-e.Duration)), trace.WithAttributes(KeyOperation.String(e.Op)))
	}
	outcome := KeyOutcome.String(string(e.Code))
	base := []attribute.KeyValue{KeyOperation.String(e.Op), KeyProvider.String(e.Provider)}
	attrs := append(base, outcome)
	if e.Channel != "" {
		attrs = append(attrs, KeyChannel.String(string(e.Channel)))
	}
	if e.Country != "" {
		attrs = append(attrs, KeyCountry.String(e.Country))
	}
	if e.Status != "" {
		attrs = append(attrs, KeyStatus.String(string(e.Status)))
	}
	source, policy := refusal(e)
	if source != "" {
		attrs = append(attrs, KeyRefusalSource.String(source))
	}
	if policy != "" {
		attrs = append(attrs, KeyPolicy.String(policy))
	}
	result := checkResult(e)
	if result != "" {
		attrs = append(attrs, KeyCheckResult.String(result))
	}
	span.SetAttributes(attrs...)
	if e.Err != nil {
		span.SetStatus(codes.Error, e.Err.Error())
	}
	span.End()

	in.duration.Record(ctx, e.Duration.Seconds(), metric.WithAttributes(append(base, outcome)...))
	if e.Op == "start" && e.Err == nil {
		sent := metric.WithAttributes(KeyProvider.String(e.Provider), KeyChannel.String(string(e.Channel)), KeyCountry.String(e.Country))
		in.sends.Add(ctx, 1, sent)
		if in.cost != nil {
			if p, ok := in.price(e.Provider, e.Channel, e.Country); ok {
				in.cost.Add(ctx, p, sent)
			}
		}
	}
	if result != "" {
		in.checks.Add(ctx, 1, metric.WithAttributes(KeyProvider.String(e.Provider), KeyCheckResult.String(result)))
	}
	if source != "" {
		in.refusals.Add(ctx, 1, metric.WithAttributes(KeyOperation.String(e.Op), KeyProvider.String(e.Provider),
			outcome, KeyRefusalSource.String(source), KeyPolicy.String(policy)))
	}
}

// checkResult is the verifykit.check.result of a check, "" for other
// operations.
func checkResult(e verify.Event) string {
	if e.Op != "check" && e.Op != "check factor" {
		return ""
	}
	switch {
	case e.Err != nil:
		return string(e.Code)
	case e.Status == verify.StatusApproved:
		return "approved"
	case e.Status == verify.StatusPending:
		return "wrong_code"
	}
	return string(e.Status)
}

// refusal returns who refused the operation ("policy", "fraud" or
// "provider") and the policy or fraud signal, or "" when it was not
// refused.
func refusal(e verify.Event) (source, policy string) {
	if e.Err == nil {
		return "", ""
	}
	if pe, ok := errors.AsType[*verify.PolicyError](e.Err); ok {
		switch pe.Policy {
		case verify.PolicyPremium, verify.PolicyVelocity, verify.PolicyConversion, verify.PolicySequence, verify.PolicySpendBudget:
			return "fraud", string(pe.Policy)
		}
		return "policy", string(pe.Policy)
	}
	if e.Op == "start" {
		switch e.Code {
		case verify.CodeUndeliverable, verify.CodeRateLimited, verify.CodeTooManySends:
			return "provider", ""
		}
	}
	return "", ""
}

// RouteHook records a route.Router's call to one of its routes; it is a
// route.WithHook function. The call becomes an event named "route call" on
// the span in ctx (the verify operation's, when the Router serves a
// verify.Client instrumented by in), and a verifykit.route.calls data
// point, with the operation, the route, the outcome and whether the
// Router failed over to the next route. The verification ID is left out.
func (in *Instrumentation) RouteHook(ctx context.Context, e route.Event) {
	attrs := []attribute.KeyValue{KeyOperation.String(e.Op), KeyRoute.String(e.Route),
		KeyOutcome.String(string(verify.CodeOf(e.Err))), KeyFailedOver.Bool(e.FailedOver)}
	trace.SpanFromContext(ctx).AddEvent("route call", trace.WithAttributes(attrs...))
	in.routes.Add(ctx, 1, metric.WithAttributes(attrs...))
}
