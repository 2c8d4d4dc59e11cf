// Command webapp serves a small web application with two-step login built
// on verifykit (see package app):
//
//	go run ./examples/webapp
//
// By default it runs on the built-in fake provider, and the codes it
// "sends" are on http://127.0.0.1:8080/dev/outbox. With the TWILIO_*
// variables set (see twilio.NewFromEnv) it uses Twilio, or the emulator of
// examples/emulator when TWILIO_VERIFY_BASE_URL points at it; with the
// VONAGE_* variables (see vonage.NewFromEnv) it uses Vonage, or the
// emulator of examples/vonage-emulator. With both, it runs on a composite
// (package route): Twilio first, Vonage when Twilio is down.
//
// The outbox shows every code sent, so it is served only when the app
// listens on a loopback address and is not behind a proxy (-trusted-proxy,
// -secure-cookie), unless -dev-outbox asks for it explicitly.
//
// Behind a TLS-terminating reverse proxy, pass -trusted-proxy with the
// proxy's address (its X-Forwarded-For and X-Forwarded-Proto headers are
// then believed), or -secure-cookie to mark the cookies Secure always.
//
// Flags:
//
//	-addr host:port        address to listen on (127.0.0.1:8080)
//	-region CC             region for numbers typed without a country code (US)
//	-secure-cookie         mark the cookies Secure (the app is served over HTTPS)
//	-trusted-proxy CIDRS   comma-separated addresses of reverse proxies to trust
//	-dev-outbox            serve /dev/outbox even on a non-loopback address or
//	                       behind a proxy (never do this on a public address)
//	-provider selfhosted   run verification itself (package selfhosted) with
//	                       its state in memory; codes go to the console, so
//	                       only on a loopback address. Its key is
//	                       VERIFYKIT_KEY (64 hex characters) when set, else
//	                       random. For replicas sharing Redis, run
//	                       examples/webapp/redis (this program plus -redis);
//	                       sharing PostgreSQL, examples/webapp/postgres
//	                       (plus -postgres); the app keeps its users and
//	                       sessions in memory either way.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/verifykit/verifykit/examples/webapp/internal/webmain"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil))
}

// run is the program, with its arguments, environment and outputs.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) int {
	return webmain.Run(ctx, args, getenv, stdout, stderr, ready, webmain.Extension{})
}
