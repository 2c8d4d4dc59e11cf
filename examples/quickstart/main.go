// Command quickstart plays Twilio Verify's quickstart with verifykit:
// send a code, then check what the user typed.
//
// With no command it runs on the embedded fake provider and plays the whole
// flow in one process (start, the delivered message, a wrong code, the
// right code), so it needs no account and sends nothing, even when the
// TWILIO_* variables below are set:
//
//	go run ./examples/quickstart
//
// With TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and
// TWILIO_API_SECRET) and TWILIO_VERIFY_SERVICE_SID set, it talks to Twilio
// (or, with TWILIO_VERIFY_BASE_URL, to the emulator of examples/emulator):
//
//	go run ./examples/quickstart start -to "+14155552671" -channel sms
//	go run ./examples/quickstart check -to "+14155552671" -code 123456
//	go run ./examples/quickstart interactive -to "(415) 555-2671" -region US
//
// The totp-… commands do the same for an authenticator app (TOTP factor):
// totp-demo plays enrolment, confirmation and login on the fake;
// totp-enroll, totp-confirm, totp-check, totp-list and totp-delete talk to
// Twilio or the emulator:
//
//	go run ./examples/quickstart totp-demo -qr /tmp/qr.png
//	go run ./examples/quickstart totp-enroll -identity 5f0c6b1e-user-0001 -qr /tmp/qr.png
//	go run ./examples/quickstart totp-confirm -identity 5f0c6b1e-user-0001 -factor YF… -code 123456
//
// Each failure is explained in words and has its own exit code (see the
// exit constants).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/verify"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes: one per decision a script calling the quickstart makes.
const (
	exitOK             = 0
	exitFailed         = 1  // an error not listed below
	exitUsage          = 2  // bad flags or input (number format, channel, code)
	exitWrongCode      = 3  // the code was wrong; the user may try again
	exitNotFound       = 4  // expired, canceled or already approved: start again
	exitTooManyChecks  = 5  // too many wrong codes
	exitTooManySends   = 6  // too many codes sent
	exitRateLimited    = 7  // slow down
	exitUndeliverable  = 8  // try another channel
	exitOutcomeUnknown = 9  // the request may have worked: check before retrying
	exitConfig         = 10 // credentials, service or provider unavailable
)

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	configured := getenv(twilio.EnvServiceSID) != ""
	cmd := "demo"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	} else if configured {
		// The bare command always plays on the fake, as the usage says;
		// the Twilio settings are for the other commands.
		fmt.Fprintln(stderr, "(Twilio is configured, but the bare quickstart plays on the fake; use start, check or interactive to talk to Twilio.)")
	}
	if cmd == "help" {
		fmt.Fprintln(stdout, helpText)
		return exitOK
	}
	if strings.HasPrefix(cmd, "totp") {
		return runTOTP(ctx, cmd, args, getenv, stdout, stderr) // totp.go
	}
	fs := flag.NewFlagSet("quickstart "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "+14155552671", "phone number, or e-mail address with -channel email")
	channel := fs.String("channel", "sms", "channel: sms, call, whatsapp or email")
	code := fs.String("code", "", "the code the user received (check)")
	region := fs.String("region", "US", "region for numbers in national form, such as US or GB")
	if rc, ok := parseFlags(fs, args); !ok {
		return rc
	}
	opts := []verify.Option{verify.WithDefaultRegion(*region)}
	switch cmd {
	case "demo":
		return demo(ctx, *to, verify.Channel(*channel), opts, stdout, stderr)
	case "start", "check", "interactive":
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s\n", cmd, usage)
		return exitUsage
	}
	if !configured {
		fmt.Fprintf(stderr, "%s needs Twilio: set %s, %s and %s (or %s, %s).\nTo try it without an account, run the emulator: go run ./examples/emulator\n",
			cmd, twilio.EnvServiceSID, twilio.EnvAccountSID, twilio.EnvAuthToken, twilio.EnvAPIKey, twilio.EnvAPISecret)
		return exitConfig
	}
	p, err := twilio.NewFromEnvFunc(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "Twilio is not configured correctly:", err)
		return exitConfig
	}
	client, err := verify.New(p, opts...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	switch cmd {
	case "start":
		return start(ctx, client, *to, verify.Channel(*channel), stdout, stderr)
	case "check":
		if *code == "" {
			fmt.Fprintln(stderr, "check needs -code")
			return exitUsage
		}
		return check(ctx, client, *to, *code, stdout, stderr)
	}
	if rc := start(ctx, client, *to, verify.Channel(*channel), stdout, stderr); rc != exitOK {
		return rc
	}
	in := bufio.NewScanner(stdin)
	for {
		fmt.Fprint(stdout, "Enter the code you received: ")
		if !in.Scan() {
			fmt.Fprintln(stdout)
			return exitFailed
		}
		rc := check(ctx, client, *to, in.Text(), stdout, stderr)
		if rc != exitWrongCode && rc != exitUsage {
			return rc
		}
	}
}

const usage = `usage:
  quickstart                                    play the whole flow on the built-in fake
  quickstart start -to NUMBER [-channel sms|call|whatsapp|email] [-region US]
  quickstart check -to NUMBER -code CODE [-region US]
  quickstart interactive -to NUMBER [-channel …]   start, then ask for the code

` + totpUsage

// helpText is what help, -h and a command's -h print: every command, then
// the exit codes.
const helpText = usage + `

  quickstart help                               this text; a command's flags: quickstart COMMAND -h

exit codes:
  0 approved or done; 1 another failure; 2 bad flags or input; 3 wrong code;
  4 expired, canceled or already approved; 5 too many wrong codes;
  6 too many codes sent; 7 rate limited; 8 undeliverable on this channel;
  9 outcome unknown (check before retrying); 10 configuration`

// parseFlags parses args into fs. With -h or -help it prints every command
// and fs's flags, and returns exitOK with ok false; on a bad flag it returns
// exitUsage with ok false.
func parseFlags(fs *flag.FlagSet, args []string) (rc int, ok bool) {
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nflags of %s:\n", helpText, fs.Name())
		fs.PrintDefaults()
	}
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return exitOK, false
	case err != nil:
		return exitUsage, false
	}
	return exitOK, true
}

func start(ctx context.Context, client *verify.Client, to string, ch verify.Channel, stdout, stderr io.Writer) int {
	v, err := client.Start(ctx, to, ch, nil)
	if err != nil {
		return explain(stderr, err)
	}
	fmt.Fprintf(stdout, "Sent a code to %s by %s (verification %s, %s).\n", v.To, v.Channel, v.ID, v.Status)
	return exitOK
}

func check(ctx context.Context, client *verify.Client, to, code string, stdout, stderr io.Writer) int {
	v, err := client.Check(ctx, to, code, nil)
	if err != nil {
		return explain(stderr, err)
	}
	if !v.Approved() {
		fmt.Fprintln(stdout, "That code is not right. The verification is still pending: try again.")
		return exitWrongCode
	}
	fmt.Fprintf(stdout, "Approved: %s is verified.\n", v.To)
	return exitOK
}

// explain prints err in words a person understands and returns its exit
// code.
func explain(w io.Writer, err error) int {
	say := func(rc int, format string, args ...any) int {
		fmt.Fprintf(w, format+"\n", args...)
		return rc
	}
	switch verify.CodeOf(err) {
	case verify.CodeInvalidRequest:
		return say(exitUsage, "That was refused before anything was sent. Phone numbers need the country code (+1 415 555 2671), or a national number with -region; codes are 4 to 10 letters or digits.\n(%v)", err)
	case verify.CodeNotFound:
		return say(exitNotFound, "There is no pending verification for this number: the code expired, was already used, or was never sent. Start again.")
	case verify.CodeTooManyChecks:
		return say(exitTooManyChecks, "Too many wrong codes for this verification. Wait for it to expire (10 minutes), then start again.")
	case verify.CodeTooManySends:
		return say(exitTooManySends, "Too many codes were sent to this number. Use the last code received, or wait 10 minutes.")
	case verify.CodeRateLimited:
		if d, ok := verify.RetryAfter(err); ok {
			return say(exitRateLimited, "Twilio is rate limiting requests. Wait %v and try again.", d)
		}
		return say(exitRateLimited, "Twilio is rate limiting requests. Wait a little and try again.")
	case verify.CodeUndeliverable:
		return say(exitUndeliverable, "This channel cannot reach that number (a landline, a disabled channel or a blocked country). Try -channel call.")
	case verify.CodeOutcomeUnknown:
		return say(exitOutcomeUnknown, "No answer came back, so it is unknown whether this worked: a code may have been sent, or approved. Check the status before trying again.")
	case verify.CodeUnauthorized:
		return say(exitConfig, "Twilio refused the credentials. Check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or the API key).")
	case verify.CodeUnavailable, verify.CodeUnsupported:
		return say(exitConfig, "The provider could not do this: %v", err)
	}
	return say(exitFailed, "Failed: %v", err)
}

// demo plays the whole flow on the fake.
func demo(ctx context.Context, to string, ch verify.Channel, opts []verify.Option, stdout, stderr io.Writer) int {
	f := fake.MustNew()
	client, err := verify.New(f, opts...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	fmt.Fprintln(stdout, "verifykit quickstart, on the in-memory fake provider (nothing is really sent)")

	fmt.Fprintf(stdout, "\n1. Start: send a code to %s over %s\n", to, ch)
	v, err := client.Start(ctx, to, ch, nil)
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
