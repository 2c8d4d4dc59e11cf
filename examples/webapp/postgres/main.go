// Command postgres is command webapp (examples/webapp) with one more flag,
// -postgres URL, so that replicas of the web app share one PostgreSQL
// database; it is what examples/webapp/redis is with -redis. It is a
// module of its own so that the PostgreSQL driver stays out of verifykit's
// go.mod. From the repository's root:
//
//	export VERIFYKIT_KEY=$(openssl rand -hex 32)
//	go -C examples/webapp/postgres run . -provider selfhosted -postgres postgres://app@127.0.0.1:5432/app -addr 127.0.0.1:8080
//	go -C examples/webapp/postgres run . -provider selfhosted -postgres postgres://app@127.0.0.1:5432/app -addr 127.0.0.1:8081
//
// Every flag of command webapp works the same; see its documentation.
// With -postgres, the replicas share, in PostgreSQL (store/pgstore, its
// tables created or upgraded at start-up in the schema verifykit_webapp):
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
// login rate limits.
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
	"github.com/verifykit/verifykit/store/pgstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil))
}

// schema is the PostgreSQL schema of the web app's tables.
const schema = "verifykit_webapp"

// run is the program, with its arguments, environment and outputs.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) int {
	var pgURL string
	return webmain.Run(ctx, args, getenv, stdout, stderr, ready, webmain.Extension{
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&pgURL, "postgres", "", "postgres:// `URL` of the database the replicas share; empty keeps everything in memory (one replica)")
		},
		SharedStore: func(ctx context.Context) (webmain.Shared, func(), string, error) {
			if pgURL == "" {
				return nil, nil, "", nil
			}
			// A wrong address or a server that is down stops the program
			// now rather than failing every send later.
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			s, err := pgstore.Open(ctx, pgURL, pgstore.WithSchema(schema))
			if err != nil {
				return nil, nil, "", fmt.Errorf("-postgres: %w", err)
			}
			// Replicas starting at once may all migrate: each migration
			// applies once.
			if err := s.Migrate(ctx); err != nil {
				s.Close()
				return nil, nil, "", fmt.Errorf("-postgres: %w", err)
			}
			return s, s.Close, "in PostgreSQL", nil
		},
	})
}
