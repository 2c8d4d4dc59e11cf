// Command emulator runs a local emulator of the Twilio Verify v2 API, so
// that an application in any language can test its verification flow with
// no Twilio account and no SMS:
//
//	go run ./examples/emulator
//
// It prints the base URL, the credentials and the service SID to use, and
// the address of the outbox where the "sent" codes appear. It listens on
// loopback only, unless -allow-remote is given. The outbox and the other
// /_emulator/ endpoints need the same credentials as the API, unless
// -open-control is given.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/verifykit/verifykit/examples/internal/serve"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// run serves until ctx ends. ready, if not nil, receives the base URL once
// the server listens.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) int {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8025", "address to listen on (port 0 picks a free one)")
	accountSID := fs.String("account-sid", twiliotest.DefaultAccountSID, "Account SID clients authenticate with")
	authToken := fs.String("auth-token", twiliotest.DefaultAuthToken, "Auth Token clients authenticate with")
	serviceSID := fs.String("service-sid", twiliotest.DefaultServiceSID, "SID of the Verify Service created at start")
	code := fs.String("code", "", "send this code every time (4 to 10 letters or digits); default: deterministic codes")
	validity := fs.Duration("validity", 10*time.Minute, "how long a code stays valid")
	maxSends := fs.Int("max-sends", 5, "sends allowed per verification")
	maxChecks := fs.Int("max-checks", 5, "wrong codes allowed per verification")
	publicBase := fs.String("public-base", "", "base of the URLs in responses, for an emulator behind a proxy (default: the address each request came to)")
	allowRemote := fs.Bool("allow-remote", false, "allow listening on a non-loopback address (the outbox shows every code)")
	openControl := fs.Bool("open-control", false, "serve the outbox, faults and clock (/_emulator/) without credentials")
	maxPending := fs.Int("max-pending", twiliotest.DefaultMaxPending, "pending verifications held at most; one more start answers 429/20429")
	maxServices := fs.Int("max-services", twiliotest.DefaultMaxServices, "Verify Services held at most")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	prog := serve.Program{Name: "emulator", Stdout: stdout, Stderr: stderr, Exposed: "the outbox and fault endpoints"}
	if status := prog.Check(*addr, *allowRemote); status != 0 {
		return status
	}
	opts := []twiliotest.Option{
		twiliotest.WithCredentials(*accountSID, *authToken),
		twiliotest.WithDefaultService(*serviceSID),
		twiliotest.WithValidity(*validity), twiliotest.WithMaxSends(*maxSends), twiliotest.WithMaxChecks(*maxChecks),
		twiliotest.WithMaxPending(*maxPending),
		twiliotest.WithMaxServices(*maxServices),
	}
	if *code != "" {
		opts = append(opts, twiliotest.WithFixedCode(*code))
	}
	if *openControl {
		opts = append(opts, twiliotest.WithOpenControl())
	}
	if *publicBase != "" {
		opts = append(opts, twiliotest.WithPublicBaseURL(*publicBase))
	}
	e, err := twiliotest.New(opts...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	l, base, status := prog.Listen(*addr)
	if status != 0 {
		return status
	}
	fmt.Fprintf(stdout, `Twilio Verify emulator listening on %s

  export TWILIO_VERIFY_BASE_URL=%s
  export TWILIO_ACCOUNT_SID=%s
  export TWILIO_AUTH_TOKEN=%s
  export TWILIO_VERIFY_SERVICE_SID=%s

  outbox: %s/_emulator/ (JSON: %s/_emulator/messages)%s

Press Ctrl-C to stop.
`, base, base, *accountSID, *authToken, *serviceSID, base, base, controlNote(*openControl))
	return prog.Serve(ctx, l, e, base, ready, twiliotest.ConfigureServer)
}

// controlNote says how to reach the /_emulator/ endpoints.
func controlNote(open bool) string {
	if open {
		return "\n  (open to anyone who can reach it: -open-control)"
	}
	return "\n  (log in with the Account SID and Auth Token, as for the API)"
}
