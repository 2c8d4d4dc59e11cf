// Command webapp serves a small web application with two-step login built
// on verifykit (see package app):
//
//	go run ./examples/webapp
//
// By default it runs on the built-in fake provider, and the codes it
// "sends" are on http://127.0.0.1:8080/dev/outbox. With the TWILIO_*
// variables set (see twilio.NewFromEnv) it uses Twilio, or the emulator of
// examples/emulator when TWILIO_VERIFY_BASE_URL points at it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/verifykit/verifykit/examples/internal/serve"
	"github.com/verifykit/verifykit/examples/webapp/app"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/verify"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) int {
	fs := flag.NewFlagSet("webapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	region := fs.String("region", "US", "region for phone numbers typed without a country code")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var p provider.Provider
	var outbox *fake.Fake
	if getenv(twilio.EnvServiceSID) != "" {
		tp, err := twilio.NewFromEnvFunc(getenv)
		if err != nil {
			fmt.Fprintln(stderr, "webapp:", err)
			return 2
		}
		p = tp
	} else {
		outbox = fake.MustNew(fake.WithRandomCodes(), fake.WithFriendlyName("verifykit demo"))
		p = outbox
	}
	client, err := verify.New(p, verify.WithDefaultRegion(*region))
	if err != nil {
		fmt.Fprintln(stderr, "webapp:", err)
		return 2
	}
	a, err := app.New(app.Config{Verify: client, Outbox: outbox})
	if err != nil {
		fmt.Fprintln(stderr, "webapp:", err)
		return 1
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "webapp:", err)
		return 1
	}
	base := "http://" + l.Addr().String()
	fmt.Fprintf(stdout, "webapp listening on %s\n", base)
	if outbox != nil {
		fmt.Fprintf(stdout, "on the built-in fake provider: codes appear on %s/dev/outbox\n", base)
	}
	err = serve.Run(ctx, l, a, func() {
		if ready != nil {
			ready <- base
		}
	})
	if err != nil {
		fmt.Fprintln(stderr, "webapp:", err)
		return 1
	}
	return 0
}
