// Command example runs a sign-up check against the Twilio Verify emulator
// with verifyotel and otelhttp wired to the stdout exporters: it prints
// the spans (the operation's span and, under it, the HTTP calls to the
// emulator) and then the metrics, as JSON.
//
//	go run ./example
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
	"github.com/verifykit/verifykit/verify"
	"github.com/verifykit/verifykit/verify/verifyotel"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// run is the program, writing the telemetry to out.
func run(ctx context.Context, out io.Writer) error {
	// The SDK, exporting to out. A real program exports over OTLP instead.
	spans, err := stdouttrace.New(stdouttrace.WithWriter(out), stdouttrace.WithPrettyPrint())
	if err != nil {
		return err
	}
	metrics, err := stdoutmetric.New(stdoutmetric.WithWriter(out), stdoutmetric.WithPrettyPrint())
	if err != nil {
		return err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metrics)))
	defer mp.Shutdown(ctx) // exports the metrics
	defer tp.Shutdown(ctx)
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)

	// The Twilio Verify emulator stands in for Twilio.
	srv := twiliotest.NewServer()
	defer srv.Close()

	// otelhttp's transport makes each HTTP call to the provider a span,
	// a child of the verify operation's span.
	hc := srv.Client()
	hc.Transport = otelhttp.NewTransport(hc.Transport)
	tw, err := twilio.New(twiliotest.DefaultServiceSID,
		twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL), twilio.WithHTTPClient(hc))
	if err != nil {
		return err
	}

	// verifyotel uses the global providers set above.
	in, err := verifyotel.New(verifyotel.WithSendCost("USD", func(provider string, ch verify.Channel, country string) (float64, bool) {
		return 0.05, ch == verify.ChannelSMS // the application's own price list
	}))
	if err != nil {
		return err
	}
	client, err := verify.New(tw, in.Options()...)
	if err != nil {
		return err
	}

	ctx, signup := tp.Tracer("example").Start(ctx, "sign-up")
	defer signup.End()
	v, err := client.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
	if err != nil {
		return err
	}
	code, _ := srv.Emulator.LastCode("+14155552671") // what the user would type
	typo := "000000"
	if typo == code {
		typo = "111111"
	}
	if _, err := client.CheckID(ctx, v.ID, typo, nil); err != nil { // a wrong code is an outcome, not an error
		return err
	}
	res, err := client.CheckID(ctx, v.ID, code, nil)
	if err != nil {
		return err
	}
	if !res.Approved() {
		return fmt.Errorf("not approved: %s", res.Status)
	}
	return nil
}
