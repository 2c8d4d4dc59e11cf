// Command quickstart plays Twilio Verify's quickstart flow with verifykit:
// send a code, show the message that was delivered, check a wrong code,
// then the right one.
//
// With no configuration it runs on the embedded fake provider, so it needs
// no account and sends nothing:
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/verify"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "+14155552671", "phone number (or e-mail address with -channel email) to verify")
	channel := fs.String("channel", "sms", "channel: sms, call, whatsapp, email")
	region := fs.String("region", "US", "default region for numbers in national form")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}

	f := fake.MustNew()
	client, err := verify.New(f, verify.WithDefaultRegion(*region))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	fmt.Fprintln(stdout, "verifykit quickstart, on the in-memory fake provider (nothing is really sent)")

	fmt.Fprintf(stdout, "\n1. Start: send a code to %s over %s\n", *to, *channel)
	v, err := client.Start(ctx, *to, verify.Channel(*channel), nil)
	if err != nil {
		return explain(stderr, err)
	}
	fmt.Fprintf(stdout, "   verification %s is %s\n", v.ID, v.Status)

	msg, _ := f.LastMessage(v.To)
	fmt.Fprintf(stdout, "\n2. The user receives, by %s to %s:\n   %q\n", msg.Channel, msg.To, msg.Body)

	wrong := "000000"
	if msg.Code == wrong {
		wrong = "111111"
	}
	fmt.Fprintf(stdout, "\n3. Check a wrong code (%s)\n", wrong)
	v, err = client.CheckID(ctx, v.ID, wrong, nil)
	if err != nil {
		return explain(stderr, err)
	}
	fmt.Fprintf(stdout, "   status %s: a wrong code is not an error; the user may try again\n", v.Status)

	fmt.Fprintf(stdout, "\n4. Check the right code (%s)\n", msg.Code)
	v, err = client.CheckID(ctx, v.ID, msg.Code, nil)
	if err != nil {
		return explain(stderr, err)
	}
	fmt.Fprintf(stdout, "   status %s: %s is verified\n", v.Status, v.To)
	return exitOK
}

// explain prints err in words a person understands and returns the exit
// code for it.
func explain(w io.Writer, err error) int {
	switch {
	case errors.Is(err, verify.ErrInvalidRequest):
		fmt.Fprintln(w, "That input was refused:", err)
		return exitUsage
	default:
		fmt.Fprintln(w, "Failed:", err)
		return exitError
	}
}
