package verifyotel_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/route"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
	"github.com/verifykit/verifykit/verify"
	"github.com/verifykit/verifykit/verify/verifyotel"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// recorders is an SDK TracerProvider and MeterProvider that keep what they
// are given in memory.
type recorders struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
}

func newRecorders(t *testing.T) *recorders {
	t.Helper()
	r := &recorders{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	r.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	r.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	return r
}

// metrics returns every data point of every metric, as "name{attrs}" to
// its value (a histogram's count).
func (r *recorders) metrics(t *testing.T) map[string]float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	key := func(name string, s attribute.Set) string {
		return name + "{" + s.Encoded(attribute.DefaultEncoder()) + "}"
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Count)
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Count)
				}
			default:
				t.Fatalf("metric %s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return out
}

// values returns every string the recorders hold that an exporter would
// send: span names, status descriptions, span and event attributes, and
// metric attributes.
func (r *recorders) values(t *testing.T) []string {
	var out []string
	add := func(kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			out = append(out, string(kv.Key)+"="+kv.Value.String())
		}
	}
	for _, s := range r.spans.Ended() {
		out = append(out, s.Name(), s.Status().Description)
		add(s.Attributes())
		for _, e := range s.Events() {
			out = append(out, e.Name)
			add(e.Attributes)
		}
	}
	for k := range r.metrics(t) {
		out = append(out, k)
	}
	return out
}

// spanSummary is what the tests compare of a span.
type spanSummary struct {
	Name   string
	Attrs  map[string]string
	Status string
}

func (r *recorders) summaries() []spanSummary {
	var out []spanSummary
	for _, s := range r.spans.Ended() {
		ss := spanSummary{Name: s.Name(), Attrs: map[string]string{}, Status: s.Status().Code.String()}
		for _, kv := range s.Attributes() {
			ss.Attrs[string(kv.Key)] = kv.Value.String()
		}
		out = append(out, ss)
	}
	return out
}

// TestSpansAndMetrics runs sends, checks and refusals on the fake and
// compares the spans and metrics.
func TestSpansAndMetrics(t *testing.T) {
	t.Parallel()
	r := newRecorders(t)
	in, err := verifyotel.New(verifyotel.WithTracerProvider(r.tp), verifyotel.WithMeterProvider(r.mp),
		verifyotel.WithSendCost("USD", func(provider string, ch verify.Channel, country string) (float64, bool) {
			if provider == "fake" && ch == verify.ChannelSMS && country == "GB" {
				return 0.0525, true
			}
			return 0, false
		}))
	if err != nil {
		t.Fatal(err)
	}
	f := fake.MustNew()
	c, err := verify.New(f, append(in.Options(), verify.WithResendCooldown(30*time.Second, time.Minute))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const gb = "+442079460000"
	v, err := c.Start(ctx, gb, verify.ChannelSMS, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := f.LastCode(gb)
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	c.CheckID(ctx, v.ID, wrong, nil)
	c.CheckID(ctx, v.ID, code, nil)
	c.Start(ctx, gb, verify.ChannelSMS, nil)                  // refused: cooldown
	c.Start(ctx, fake.NumberLandline, verify.ChannelSMS, nil) // refused by the provider: a landline
	c.CheckID(ctx, v.ID, code, nil)                           // not found: approved already

	want := []spanSummary{
		{"verify start", map[string]string{"verifykit.operation": "start", "verifykit.provider": "fake", "verifykit.outcome": "ok",
			"verifykit.channel": "sms", "verifykit.country": "GB", "verifykit.status": "pending"}, "Unset"},
		{"verify check", map[string]string{"verifykit.operation": "check", "verifykit.provider": "fake", "verifykit.outcome": "ok",
			"verifykit.channel": "sms", "verifykit.status": "pending", "verifykit.check.result": "wrong_code"}, "Unset"},
		{"verify check", map[string]string{"verifykit.operation": "check", "verifykit.provider": "fake", "verifykit.outcome": "ok",
			"verifykit.channel": "sms", "verifykit.status": "approved", "verifykit.check.result": "approved"}, "Unset"},
		{"verify start", map[string]string{"verifykit.operation": "start", "verifykit.provider": "fake", "verifykit.outcome": "too_many_sends",
			"verifykit.channel": "sms", "verifykit.country": "GB", "verifykit.refusal.source": "policy", "verifykit.policy": "cooldown"}, "Error"},
		{"verify start", map[string]string{"verifykit.operation": "start", "verifykit.provider": "fake", "verifykit.outcome": "undeliverable",
			"verifykit.channel": "sms", "verifykit.country": "US", "verifykit.refusal.source": "provider"}, "Error"},
		{"verify check", map[string]string{"verifykit.operation": "check", "verifykit.provider": "fake", "verifykit.outcome": "not_found",
			"verifykit.check.result": "not_found"}, "Error"},
	}
	if diff := cmp.Diff(want, r.summaries()); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
	wantMetrics := map[string]float64{
		"verifykit.operation.duration{verifykit.operation=start,verifykit.outcome=ok,verifykit.provider=fake}":                                                             1,
		"verifykit.operation.duration{verifykit.operation=check,verifykit.outcome=ok,verifykit.provider=fake}":                                                             2,
		"verifykit.operation.duration{verifykit.operation=start,verifykit.outcome=too_many_sends,verifykit.provider=fake}":                                                 1,
		"verifykit.operation.duration{verifykit.operation=start,verifykit.outcome=undeliverable,verifykit.provider=fake}":                                                  1,
		"verifykit.operation.duration{verifykit.operation=check,verifykit.outcome=not_found,verifykit.provider=fake}":                                                      1,
		"verifykit.sends{verifykit.channel=sms,verifykit.country=GB,verifykit.provider=fake}":                                                                              1,
		"verifykit.sends.cost{verifykit.channel=sms,verifykit.country=GB,verifykit.provider=fake}":                                                                         0.0525,
		"verifykit.checks{verifykit.check.result=wrong_code,verifykit.provider=fake}":                                                                                      1,
		"verifykit.checks{verifykit.check.result=approved,verifykit.provider=fake}":                                                                                        1,
		"verifykit.checks{verifykit.check.result=not_found,verifykit.provider=fake}":                                                                                       1,
		"verifykit.refusals{verifykit.operation=start,verifykit.outcome=too_many_sends,verifykit.policy=cooldown,verifykit.provider=fake,verifykit.refusal.source=policy}": 1,
		"verifykit.refusals{verifykit.operation=start,verifykit.outcome=undeliverable,verifykit.policy=,verifykit.provider=fake,verifykit.refusal.source=provider}":        1,
	}
	if diff := cmp.Diff(wantMetrics, r.metrics(t)); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

// TestProviderSpansAreChildren checks that, through the Twilio emulator
// with an otelhttp transport, each HTTP call is a child of the operation's
// span, itself a child of the caller's.
func TestProviderSpansAreChildren(t *testing.T) {
	t.Parallel()
	r := newRecorders(t)
	in, err := verifyotel.New(verifyotel.WithTracerProvider(r.tp), verifyotel.WithMeterProvider(r.mp))
	if err != nil {
		t.Fatal(err)
	}
	srv := twiliotest.NewServer()
	defer srv.Close()
	hc := srv.Client()
	hc.Transport = otelhttp.NewTransport(hc.Transport, otelhttp.WithTracerProvider(r.tp))
	tw, err := twilio.New(twiliotest.DefaultServiceSID, twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL), twilio.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	c, err := verify.New(tw, in.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, root := r.tp.Tracer("test").Start(context.Background(), "sign-up")
	if _, err := c.Start(ctx, "+14155552671", verify.ChannelSMS, nil); err != nil {
		t.Fatal(err)
	}
	root.End()
	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range r.spans.Ended() {
		byName[s.Name()] = s
	}
	op, ok := byName["verify start"]
	if !ok {
		t.Fatalf("no verify start span among %v", names(r.spans.Ended()))
	}
	if op.Parent().SpanID() != root.SpanContext().SpanID() {
		t.Error("the operation's span is not a child of the caller's")
	}
	var http int
	for _, s := range r.spans.Ended() {
		if s.SpanKind().String() == "client" {
			http++
			if s.Parent().SpanID() != op.SpanContext().SpanID() {
				t.Errorf("HTTP span %s is not a child of the operation's", s.Name())
			}
		}
	}
	if http == 0 {
		t.Errorf("no HTTP client span among %v", names(r.spans.Ended()))
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	sort.Strings(out)
	return out
}

// TestNothingLeaks runs flows over the fake and over the Twilio emulator
// (with otelhttp's spans) and checks that no span name, status, attribute
// or metric attribute contains a code that was sent or a phone number or
// e-mail address, in full or as its national digits.
func TestNothingLeaks(t *testing.T) {
	t.Parallel()
	r := newRecorders(t)
	in, err := verifyotel.New(verifyotel.WithTracerProvider(r.tp), verifyotel.WithMeterProvider(r.mp))
	if err != nil {
		t.Fatal(err)
	}
	srv := twiliotest.NewServer()
	defer srv.Close()
	hc := srv.Client()
	hc.Transport = otelhttp.NewTransport(hc.Transport, otelhttp.WithTracerProvider(r.tp), otelhttp.WithMeterProvider(r.mp))
	tw, err := twilio.New(twiliotest.DefaultServiceSID, twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL), twilio.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	f := fake.MustNew()
	secrets := []string{"4155552671", "2079460000", "bob@example.com", "bob", twiliotest.DefaultAuthToken}
	ctx := context.Background()
	for _, tc := range []struct {
		p        provider.Provider
		lastCode func(string) (string, bool)
	}{{f, f.LastCode}, {tw, srv.Emulator.LastCode}} {
		c, err := verify.New(tc.p, append(in.Options(), verify.WithDefaultRegion("US"), verify.WithResendCooldown(30*time.Second, time.Minute))...)
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range []string{"+14155552671", "(415) 555-2671", "+442079460000", "bob@example.com"} {
			ch := verify.ChannelSMS
			if strings.Contains(to, "@") {
				ch = verify.ChannelEmail
			}
			v, err := c.Start(ctx, to, ch, nil)
			if err != nil {
				continue // a cooldown, or a channel the provider lacks: reported too
			}
			norm, _ := c.Normalize(to)
			code, _ := tc.lastCode(norm)
			if code == "" {
				t.Fatalf("no code sent to %s", to)
			}
			secrets = append(secrets, code)
			c.CheckID(ctx, v.ID, "99999999", nil) // wrong
			c.CheckID(ctx, v.ID, code, nil)
			c.CheckID(ctx, v.ID, code, nil) // not found
		}
		c.Check(ctx, "415 555 2671", "123456", nil)
		c.Start(ctx, "+1 415 555", verify.ChannelSMS, nil) // invalid, quoted masked in the error
	}
	values := r.values(t)
	if testing.Verbose() {
		for _, v := range values {
			t.Log(v)
		}
	}
	if len(values) < 20 {
		t.Fatalf("only %d values recorded", len(values))
	}
	for _, v := range values {
		for _, s := range secrets {
			if strings.Contains(v, s) {
				t.Errorf("recorded value %q contains %q", v, s)
			}
		}
	}
}

// TestGlobalProvidersByDefault checks that New without options uses the
// global TracerProvider and MeterProvider.
func TestGlobalProvidersByDefault(t *testing.T) {
	// Not parallel: it sets the global providers.
	r := newRecorders(t)
	setGlobal(t, r)
	in, err := verifyotel.New()
	if err != nil {
		t.Fatal(err)
	}
	c, err := verify.New(fake.MustNew(), in.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(context.Background(), "+14155552671", verify.ChannelSMS, nil); err != nil {
		t.Fatal(err)
	}
	if got := names(r.spans.Ended()); !cmp.Equal(got, []string{"verify start"}) {
		t.Errorf("spans %v, want [verify start]", got)
	}
	if got := r.metrics(t)["verifykit.sends{verifykit.channel=sms,verifykit.country=US,verifykit.provider=fake}"]; got != 1 {
		t.Errorf("verifykit.sends = %v, want 1", got)
	}
}

// TestNewValidates checks the options' validation.
func TestNewValidates(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]verifyotel.Option{
		"nil option":          nil,
		"nil tracer provider": verifyotel.WithTracerProvider(nil),
		"nil meter provider":  verifyotel.WithMeterProvider(nil),
		"no currency":         verifyotel.WithSendCost("", func(string, verify.Channel, string) (float64, bool) { return 0, false }),
		"nil price":           verifyotel.WithSendCost("USD", nil),
	} {
		if _, err := verifyotel.New(o); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// TestRouteHook checks that a Router's calls, failover included, become
// events on the verify operation's span and verifykit.route.calls points.
func TestRouteHook(t *testing.T) {
	t.Parallel()
	r := newRecorders(t)
	in, err := verifyotel.New(verifyotel.WithTracerProvider(r.tp), verifyotel.WithMeterProvider(r.mp))
	if err != nil {
		t.Fatal(err)
	}
	a, b := fake.MustNew(), fake.MustNew()
	a.InjectFault(fake.Fault{Op: fake.OpStart, Err: provider.ErrUnavailable})
	rt, err := route.New([]route.Route{{Name: "a", Provider: a}, {Name: "b", Provider: b}}, route.WithHook(in.RouteHook))
	if err != nil {
		t.Fatal(err)
	}
	c, err := verify.New(rt, in.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(context.Background(), "+14155552671", verify.ChannelSMS, nil); err != nil {
		t.Fatal(err)
	}
	spans := r.spans.Ended()
	if len(spans) != 1 {
		t.Fatalf("spans %v, want one", names(spans))
	}
	var events []string
	for _, e := range spans[0].Events() {
		ev := e.Name
		for _, kv := range e.Attributes {
			ev += " " + string(kv.Key) + "=" + kv.Value.String()
		}
		events = append(events, ev)
	}
	want := []string{
		"route call verifykit.operation=start verifykit.route=a verifykit.outcome=unavailable verifykit.failed_over=true",
		"route call verifykit.operation=start verifykit.route=b verifykit.outcome=ok verifykit.failed_over=false",
	}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("span events (-want +got):\n%s", diff)
	}
	m := r.metrics(t)
	for _, k := range []string{
		"verifykit.route.calls{verifykit.failed_over=true,verifykit.operation=start,verifykit.outcome=unavailable,verifykit.route=a}",
		"verifykit.route.calls{verifykit.failed_over=false,verifykit.operation=start,verifykit.outcome=ok,verifykit.route=b}",
	} {
		if m[k] != 1 {
			t.Errorf("%s = %v, want 1", k, m[k])
		}
	}
}

// TestFraudRefusal checks that a refusal by verify's fraud guard counts as
// a fraud refusal naming the signal.
func TestFraudRefusal(t *testing.T) {
	t.Parallel()
	r := newRecorders(t)
	in, err := verifyotel.New(verifyotel.WithTracerProvider(r.tp), verifyotel.WithMeterProvider(r.mp))
	if err != nil {
		t.Fatal(err)
	}
	c, err := verify.New(fake.MustNew(), append(in.Options(), verify.WithFraudGuard(verify.RecommendedFraudGuard()))...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(context.Background(), "+882 16 3456 789", verify.ChannelSMS, nil); err == nil {
		t.Fatal("the fraud guard let a premium-range number through")
	}
	const k = "verifykit.refusals{verifykit.operation=start,verifykit.outcome=undeliverable,verifykit.policy=premium_range,verifykit.provider=fake,verifykit.refusal.source=fraud}"
	if got := r.metrics(t)[k]; got != 1 {
		t.Errorf("%s = %v, want 1; metrics: %v", k, got, r.metrics(t))
	}
}

// TestSpendBudgetRefusal checks that a refusal by a money budget of the
// fraud guard counts as a fraud refusal naming spend_budget.
func TestSpendBudgetRefusal(t *testing.T) {
	t.Parallel()
	r := newRecorders(t)
	in, err := verifyotel.New(verifyotel.WithTracerProvider(r.tp), verifyotel.WithMeterProvider(r.mp))
	if err != nil {
		t.Fatal(err)
	}
	g := verify.FraudGuard{Spend: []verify.SpendBudget{{Scope: verify.Global, Amount: 0.000001, Period: verify.Monthly}}}
	c, err := verify.New(fake.MustNew(), append(in.Options(), verify.WithFraudGuard(g))...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(context.Background(), "+14155550100", verify.ChannelSMS, nil); err == nil {
		t.Fatal("a send over the budget went through")
	}
	const k = "verifykit.refusals{verifykit.operation=start,verifykit.outcome=rate_limited,verifykit.policy=spend_budget,verifykit.provider=fake,verifykit.refusal.source=fraud}"
	if got := r.metrics(t)[k]; got != 1 {
		t.Errorf("%s = %v, want 1; metrics: %v", k, got, r.metrics(t))
	}
}
