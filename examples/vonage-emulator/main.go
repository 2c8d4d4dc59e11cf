// Command vonage-emulator runs a local emulator of Vonage's Verify v2 API,
// so that an application in any language — or Vonage's own SDKs — can test
// its verification flow with no Vonage account and no SMS:
//
//	go run ./examples/vonage-emulator -private-key-out /tmp/vonage-emulator.pem
//
// It prints the base URL, the application ID, where the application's
// private key was written (it is made afresh each run and never leaves the
// machine), the API key and secret, and the address of the outbox where the
// "sent" codes appear. It listens on loopback only, unless -allow-remote is
// given.
package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/verifykit/verifykit/examples/internal/serve"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// run serves until ctx ends. ready, if not nil, receives the base URL once
// the server listens.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) int {
	fs := flag.NewFlagSet("vonage-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8026", "address to listen on (port 0 picks a free one)")
	keyOut := fs.String("private-key-out", "", "write the default application's private key (PEM) to this file, mode 0600")
	appID := fs.String("application-id", "", "also accept JWTs of this application ID, signed by the key of -public-key")
	pubKey := fs.String("public-key", "", "PEM file of the public key of -application-id")
	code := fs.String("code", "", "send this code every time (4 to 10 letters or digits); default: random digits")
	maxChecks := fs.Int("max-checks", vonagetest.DefaultMaxChecks, "wrong codes allowed per request before 410")
	callbackURL := fs.String("callback-url", "", "post signed status callbacks here (the HS256 key is $VONAGE_SIGNATURE_SECRET)")
	openControl := fs.Bool("open-control", false, "serve the outbox (/_emulator/) without credentials")
	allowRemote := fs.Bool("allow-remote", false, "allow listening on a non-loopback address (the outbox shows every code)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	prog := serve.Program{Name: "vonage-emulator", Stdout: stdout, Stderr: stderr, Exposed: "the outbox"}
	if status := prog.Check(*addr, *allowRemote); status != 0 {
		return status
	}
	opts := []vonagetest.Option{vonagetest.WithMaxChecks(*maxChecks)}
	if *code != "" {
		opts = append(opts, vonagetest.WithFixedCode(*code))
	}
	if *openControl {
		opts = append(opts, vonagetest.WithOpenControl())
	}
	if *callbackURL != "" {
		secret := os.Getenv("VONAGE_SIGNATURE_SECRET")
		if secret == "" {
			fmt.Fprintln(stderr, "vonage-emulator: -callback-url needs VONAGE_SIGNATURE_SECRET set")
			return 2
		}
		opts = append(opts, vonagetest.WithCallbacks(*callbackURL, []byte(secret)))
	}
	if (*appID == "") != (*pubKey == "") {
		fmt.Fprintln(stderr, "vonage-emulator: -application-id and -public-key go together")
		return 2
	}
	if *appID != "" {
		o, err := applicationOption(*appID, *pubKey)
		if err != nil {
			fmt.Fprintln(stderr, "vonage-emulator:", err)
			return 2
		}
		opts = append(opts, o)
	}
	e, err := vonagetest.New(opts...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	keyLine := "  (pass -private-key-out FILE to get the application's private key)"
	if *keyOut != "" {
		if err := os.WriteFile(*keyOut, vonagetest.DefaultPrivateKeyPEM(), 0o600); err != nil {
			fmt.Fprintln(stderr, "vonage-emulator:", err)
			return 1
		}
		keyLine = "  export VONAGE_PRIVATE_KEY_PATH=" + *keyOut
	}
	l, base, status := prog.Listen(*addr)
	if status != 0 {
		return status
	}
	fmt.Fprintf(stdout, `Vonage Verify emulator listening on %s

  export VONAGE_BASE_URL=%s
  export VONAGE_APPLICATION_ID=%s
%s
  export VONAGE_BRAND=verifykit
  (or Basic auth: VONAGE_API_KEY=%s VONAGE_API_SECRET=%s)

  outbox: %s/_emulator/ (JSON: %s/_emulator/messages; same credentials as the API)

Press Ctrl-C to stop.
`, base, base, vonagetest.DefaultApplicationID, keyLine, vonagetest.DefaultAPIKey, vonagetest.DefaultAPISecret, base, base)
	return prog.Serve(ctx, l, e, base, ready, vonagetest.ConfigureServer)
}

// applicationOption reads an application's public key.
func applicationOption(id, path string) (vonagetest.Option, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("-public-key: no PEM block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, errors.New("-public-key: not a PKIX public key")
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("-public-key: not an RSA key")
	}
	return vonagetest.WithApplication(id, rsaPub), nil
}
