package main

import (
	"context"
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

const totpUsage = `authenticator apps (TOTP):
  quickstart totp-demo [-qr FILE.png]                 enrol, confirm and log in on the built-in fake
  quickstart totp-enroll -identity ID [-name Phone] [-qr FILE.png]
  quickstart totp-confirm -identity ID -factor YF… -code CODE
  quickstart totp-check -identity ID -factor YF… -code CODE
  quickstart totp-list -identity ID
  quickstart totp-delete -identity ID [-factor YF…]  (without -factor: the identity and all its factors)`

// runTOTP runs the totp-… commands.
func runTOTP(ctx context.Context, cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("quickstart "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	identity := fs.String("identity", "5f0c6b1e-demo-user", "the user's stable ID: 8 to 64 letters, digits or dashes, not personal data")
	name := fs.String("name", "Phone", "the factor's name, shown in the authenticator app")
	factor := fs.String("factor", "", "the factor's ID (YF…), as totp-enroll printed it")
	code := fs.String("code", "", "the code the authenticator app shows")
	qr := fs.String("qr", "", "write the QR code to this PNG file (totp-enroll, totp-demo)")
	if rc, ok := parseFlags(fs, args); !ok {
		return rc
	}
	if cmd == "totp-demo" {
		return totpDemo(ctx, *qr, stdout, stderr)
	}
	switch cmd {
	case "totp-enroll", "totp-confirm", "totp-check", "totp-list", "totp-delete":
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s\n", cmd, totpUsage)
		return exitUsage
	}
	if getenv(twilio.EnvServiceSID) == "" {
		fmt.Fprintf(stderr, "%s needs Twilio: set %s, %s and %s.\nTo try it without an account, run the emulator (go run ./examples/emulator), or: go run ./examples/quickstart totp-demo\n",
			cmd, twilio.EnvServiceSID, twilio.EnvAccountSID, twilio.EnvAuthToken)
		return exitConfig
	}
	p, err := twilio.NewFromEnvFunc(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "Twilio is not configured correctly:", err)
		return exitConfig
	}
	client, err := verify.New(p)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfig
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	needs := func(flags ...string) bool {
		for _, f := range flags {
			if fs.Lookup(f).Value.String() == "" {
				fmt.Fprintf(stderr, "%s needs -%s\n", cmd, f)
				return false
			}
		}
		return true
	}
	switch cmd {
	case "totp-enroll":
		e, err := client.EnrollTOTP(ctx, *identity, *name, nil)
		if err != nil {
			return explainTOTP(stderr, err)
		}
		return showEnrollment(e, *qr, stdout, stderr)
	case "totp-confirm":
		if !needs("factor", "code") {
			return exitUsage
		}
		f, err := client.ConfirmFactor(ctx, *identity, *factor, *code)
		if err != nil {
			return explainTOTP(stderr, err)
		}
		if !f.Verified() {
			fmt.Fprintln(stdout, "That code is not right; the factor is still unverified. Try the code the app shows now.")
			return exitWrongCode
		}
		fmt.Fprintf(stdout, "Factor %s is verified: it can be used to log in.\n", f.ID)
	case "totp-check":
		if !needs("factor", "code") {
			return exitUsage
		}
		ch, err := client.CheckFactor(ctx, *identity, *factor, *code)
		if err != nil {
			return explainTOTP(stderr, err)
		}
		if !ch.Approved() {
			fmt.Fprintln(stdout, "That code is not right, or was already used. Try the next code the app shows.")
			return exitWrongCode
		}
		fmt.Fprintf(stdout, "Approved (challenge %s).\n", ch.ID)
	case "totp-list":
		list, err := client.ListFactors(ctx, *identity)
		if err != nil {
			return explainTOTP(stderr, err)
		}
		for _, f := range list {
			fmt.Fprintf(stdout, "%s  %-10s  %-8s  %s\n", f.ID, f.Status, f.Type, f.FriendlyName)
		}
		if len(list) == 0 {
			fmt.Fprintln(stdout, "No factors.")
		}
	case "totp-delete":
		if *factor != "" {
			err = client.DeleteFactor(ctx, *identity, *factor)
		} else {
			err = client.DeleteIdentity(ctx, *identity)
		}
		if err != nil {
			return explainTOTP(stderr, err)
		}
		fmt.Fprintln(stdout, "Deleted.")
	}
	return exitOK
}

// showEnrollment prints what the user adds to their authenticator app.
func showEnrollment(e verify.Enrollment, qr string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "Factor %s (%s) for %s.\n", e.ID, e.Status, e.Identity)
	fmt.Fprintf(stdout, "Add it to an authenticator app: scan the QR code, or type the key %s\n", e.Secret)
	fmt.Fprintf(stdout, "Key URI: %s\n", e.URI)
	if qr != "" {
		png, err := e.QRCodePNG(256)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailed
		}
		if err := os.WriteFile(qr, png, 0o600); err != nil {
			fmt.Fprintln(stderr, "writing the QR code:", err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "QR code written to %s.\n", qr)
	}
	fmt.Fprintln(stdout, "This is the only time the key is shown. Then confirm the factor with the first code the app shows.")
	return exitOK
}

// explainTOTP explains a factor error.
func explainTOTP(w io.Writer, err error) int {
	switch verify.CodeOf(err) {
	case verify.CodeInvalidRequest:
		fmt.Fprintf(w, "Refused: identities are 8 to 64 letters, digits or dashes; factor IDs come from totp-enroll; codes are 3 to 8 digits; a factor must be confirmed before it can log in.\n(%v)\n", err)
		return exitUsage
	case verify.CodeNotFound:
		fmt.Fprintln(w, "No such factor for this identity (it may have been deleted).")
		return exitNotFound
	case verify.CodeTooManyChecks:
		wait := "a few minutes"
		if d, ok := verify.RetryAfter(err); ok {
			wait = d.String()
		}
		fmt.Fprintf(w, "Too many wrong codes for this factor. Wait %s, or log in another way.\n", wait)
		return exitTooManyChecks
	}
	return explain(w, err)
}

// totpDemo plays enrolment, confirmation and login on the fake, reading
// codes as the user's authenticator app would show them.
func totpDemo(ctx context.Context, qr string, stdout, stderr io.Writer) int {
	clock := fake.NewClock(time.Now().Truncate(30 * time.Second))
	f := fake.MustNew(fake.WithClock(clock.Now), fake.WithRandomCodes(), fake.WithFactorIssuer("verifykit demo"))
	client, _ := verify.New(f)
	const user = "5f0c6b1e-demo-user"
	fmt.Fprintln(stdout, "verifykit quickstart: an authenticator app (TOTP), on the in-memory fake provider")

	fmt.Fprintln(stdout, "\n1. Enrol: create a factor for the user")
	e, err := client.EnrollTOTP(ctx, user, "Phone", nil)
	if err != nil {
		return explainTOTP(stderr, err)
	}
	if rc := showEnrollment(e, qr, indent{stdout}, stderr); rc != exitOK {
		return rc
	}

	code, _ := f.FactorCode(user, e.ID)
	fmt.Fprintf(stdout, "\n2. Confirm with the first code the app shows (%s)\n", code)
	fa, err := client.ConfirmFactor(ctx, user, e.ID, code)
	if err != nil {
		return explainTOTP(stderr, err)
	}
	fmt.Fprintf(stdout, "   factor %s\n", fa.Status)

	clock.Advance(30 * time.Second)
	code, _ = f.FactorCode(user, e.ID)
	fmt.Fprintf(stdout, "\n3. Log in with the code the app shows 30 seconds later (%s)\n", code)
	ch, err := client.CheckFactor(ctx, user, e.ID, code)
	if err != nil {
		return explainTOTP(stderr, err)
	}
	fmt.Fprintf(stdout, "   challenge %s\n", ch.Status)

	fmt.Fprintf(stdout, "\n4. The same code again (a replay)\n")
	ch, err = client.CheckFactor(ctx, user, e.ID, code)
	if err != nil {
		return explainTOTP(stderr, err)
	}
	fmt.Fprintf(stdout, "   challenge %s: a code approves only once\n", ch.Status)
	return exitOK
}

// indent writes through to w with three spaces before each line.
type indent struct{ w io.Writer }

func (i indent) Write(p []byte) (int, error) {
	s := strings.TrimSuffix(string(p), "\n")
	_, err := io.WriteString(i.w, "   "+strings.ReplaceAll(s, "\n", "\n   ")+"\n")
	return len(p), err
}
