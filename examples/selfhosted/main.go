// Command selfhosted runs verification itself, with no hosted Verify
// service: a small JSON HTTP service on the selfhosted provider, its state
// in Redis so that any number of replicas can serve one verification.
//
//	go run . -addr 127.0.0.1:8081 -redis redis://127.0.0.1:6379/0
//
// Endpoints (form posts; answers are JSON):
//
//	POST /start  to=+14155552671&channel=sms   → {"id":"VE…","status":"pending"}
//	POST /check  id=VE…&code=123456            → {"id":"VE…","status":"approved"}
//
// Every replica must have the same application key: VERIFYKIT_KEY, 64 hex
// characters (32 bytes, for example from `openssl rand -hex 32`), with its
// ID in VERIFYKIT_KEY_ID (default "k1"). Without -redis the state is in
// memory (one replica), and without VERIFYKIT_KEY a random key is made.
//
// Codes go out through the gateways configured in the environment:
// GATEWAYAPI_TOKEN and GATEWAYAPI_SENDER, or MESSAGEBIRD_ACCESS_KEY and
// MESSAGEBIRD_ORIGINATOR, for sms; SMTP_ADDR (host:587), SMTP_USERNAME,
// SMTP_PASSWORD and SMTP_FROM for email. A channel with no gateway goes to
// the console (the code is printed), which is allowed only on a loopback
// address: for development.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/verifykit/verifykit/examples/internal/serve"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/redisstore"
	"github.com/verifykit/verifykit/verify"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) int {
	fs := flag.NewFlagSet("selfhosted", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8081", "address to listen on")
	redisURL := fs.String("redis", "", "redis:// `URL` of the shared state; empty keeps it in memory (one replica)")
	appName := fs.String("app-name", "verifykit demo", "application name in the messages")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "selfhosted:", err)
		return 1
	}
	defer l.Close()
	loopback := l.Addr().(*net.TCPAddr).IP.IsLoopback()
	p, closeStore, desc, err := newProvider(ctx, *redisURL, *appName, getenv, loopback, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "selfhosted:", err)
		return 2
	}
	defer closeStore()
	client, err := verify.New(p)
	if err != nil {
		fmt.Fprintln(stderr, "selfhosted:", err)
		return 2
	}
	base := "http://" + l.Addr().String()
	fmt.Fprintf(stdout, "selfhosted listening on %s, %s\n", base, desc)
	err = serve.Run(ctx, l, handler(client), func() {
		if ready != nil {
			ready <- base
		}
	})
	if err != nil {
		fmt.Fprintln(stderr, "selfhosted:", err)
		return 1
	}
	return 0
}

// newProvider builds the provider from the flags and the environment.
func newProvider(ctx context.Context, redisURL, appName string, getenv func(string) string, loopback bool, console io.Writer) (*selfhosted.Provider, func(), string, error) {
	key, err := selfhosted.KeyFromEnvFunc(getenv, "VERIFYKIT_KEY")
	switch {
	case errors.Is(err, selfhosted.ErrNoKey) && redisURL == "":
		key = selfhosted.GenerateKey("random")
	case errors.Is(err, selfhosted.ErrNoKey):
		return nil, nil, "", errors.New("with -redis, every replica needs the same VERIFYKIT_KEY")
	case err != nil:
		return nil, nil, "", err
	}
	var st store.Store
	closeStore := func() {}
	desc := "state in memory (one replica)"
	if redisURL != "" {
		rs, err := redisstore.Open(ctx, redisURL, redisstore.WithPrefix("verifykit:"))
		if err != nil {
			return nil, nil, "", err
		}
		st, closeStore, desc = rs, func() { _ = rs.Close() }, "state in Redis"
	} else {
		m, err := store.NewMemory()
		if err != nil {
			return nil, nil, "", err
		}
		st = m
	}
	opts := []selfhosted.Option{selfhosted.WithAppName(appName)}
	var sms, email selfhosted.Sender
	switch {
	case getenv("GATEWAYAPI_TOKEN") != "":
		s, err := selfhosted.NewGatewayAPI(getenv("GATEWAYAPI_TOKEN"), getenv("GATEWAYAPI_SENDER"))
		if err != nil {
			return nil, nil, "", err
		}
		sms = s
	case getenv("MESSAGEBIRD_ACCESS_KEY") != "":
		s, err := selfhosted.NewMessageBird(getenv("MESSAGEBIRD_ACCESS_KEY"), getenv("MESSAGEBIRD_ORIGINATOR"))
		if err != nil {
			return nil, nil, "", err
		}
		sms = s
	}
	if getenv("SMTP_ADDR") != "" {
		s, err := selfhosted.NewSMTP(getenv("SMTP_ADDR"), getenv("SMTP_USERNAME"), getenv("SMTP_PASSWORD"), getenv("SMTP_FROM"))
		if err != nil {
			return nil, nil, "", err
		}
		email = s
	}
	if sms == nil || email == nil {
		if !loopback {
			return nil, nil, "", errors.New("a channel has no gateway and the console sender is for loopback addresses only: configure GATEWAYAPI_*, MESSAGEBIRD_* and SMTP_*")
		}
		out := &selfhosted.Outbox{Log: func(to, text string) { fmt.Fprintf(console, "console sender: to %s: %s\n", to, text) }}
		if sms == nil {
			sms = out
			desc += ", sms on the console"
		}
		if email == nil {
			email = out
			desc += ", email on the console"
		}
	}
	opts = append(opts, selfhosted.WithSender(sms, provider.ChannelSMS), selfhosted.WithSender(email, provider.ChannelEmail))
	p, err := selfhosted.New(st, key, opts...)
	if err != nil {
		closeStore()
		return nil, nil, "", err
	}
	return p, closeStore, desc, nil
}

// handler serves /start and /check.
func handler(client *verify.Client) http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v verify.Verification, err error) {
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			status := http.StatusBadGateway
			switch {
			case errors.Is(err, verify.ErrInvalidRequest):
				status = http.StatusBadRequest
			case errors.Is(err, verify.ErrNotFound):
				status = http.StatusNotFound
			case errors.Is(err, verify.ErrTooManyChecks), errors.Is(err, verify.ErrTooManySends), errors.Is(err, verify.ErrRateLimited):
				status = http.StatusTooManyRequests
			}
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"id": v.ID, "status": string(v.Status)})
	}
	mux.HandleFunc("POST /start", func(w http.ResponseWriter, r *http.Request) {
		ch := verify.Channel(r.FormValue("channel"))
		if ch == "" {
			ch = verify.ChannelSMS
		}
		v, err := client.Start(r.Context(), r.FormValue("to"), ch, nil)
		reply(w, v, err)
	})
	mux.HandleFunc("POST /check", func(w http.ResponseWriter, r *http.Request) {
		var v verify.Verification
		var err error
		if id := r.FormValue("id"); id != "" {
			v, err = client.CheckID(r.Context(), id, r.FormValue("code"), nil)
		} else {
			v, err = client.Check(r.Context(), r.FormValue("to"), r.FormValue("code"), nil)
		}
		reply(w, v, err)
	})
	return mux
}
