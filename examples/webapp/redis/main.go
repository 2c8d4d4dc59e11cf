// Command redis is command webapp (examples/webapp) with one more flag,
// -redis URL, so that replicas of the web app share one Redis. It is a
// module of its own so that the Redis client stays out of verifykit's
// go.mod. From the repository's root:
//
//	export VERIFYKIT_KEY=$(openssl rand -hex 32)
//	go -C examples/webapp/redis run . -provider selfhosted -redis redis://127.0.0.1:6379/0 -addr 127.0.0.1:8080
//	go -C examples/webapp/redis run . -provider selfhosted -redis redis://127.0.0.1:6379/0 -addr 127.0.0.1:8081
//
// Every flag of command webapp works the same; see its documentation.
// With -redis, the replicas share, in Redis (store/redisstore):
//
//   - with -provider selfhosted, the verifications (the codes, their
//     expiry, their send and check limits, one approval each) and the TOTP
//     factors (their encrypted secrets, replay refusal): every replica
//     needs the same VERIFYKIT_KEY (64 hex characters) to open them;
//   - verify's abuse policies (app.Policies: send and check budgets per
//     account and per IP address, the resend cooldown per number), whatever
//     the provider.
//
// They do not share the demo's accounts and sessions, which each replica
// keeps in its own memory (package app), nor the app's own sign-up and
// login rate limits. A real deployment keeps its users in a database that
// every replica reads, and its sessions in a shared store or behind a load
// balancer with sticky sessions; the web app here does neither.
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

	"github.com/verifykit/verifykit/examples/webapp/internal/webmain"
	"github.com/verifykit/verifykit/store/redisstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil))
}

// run is the program, with its arguments, environment and outputs.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) int {
	var redisURL string
	return webmain.Run(ctx, args, getenv, stdout, stderr, ready, webmain.Extension{
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&redisURL, "redis", "", "redis:// `URL` of the store the replicas share; empty keeps everything in memory (one replica)")
		},
		SharedStore: func(ctx context.Context) (webmain.Shared, func(), string, error) {
			if redisURL == "" {
				return nil, nil, "", nil
			}
			// Open pings the server, so that a wrong address or a server
			// that is down stops the program now rather than failing every
			// send later.
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			s, err := redisstore.Open(ctx, redisURL, redisstore.WithPrefix("verifykit:webapp:"))
			if err != nil {
				return nil, nil, "", fmt.Errorf("-redis: %w", err)
			}
			return s, func() { _ = s.Close() }, "in Redis", nil
		},
	})
}
