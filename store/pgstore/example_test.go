package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store/pgstore"
	"github.com/verifykit/verifykit/verify"
)

// exampleURL is the database of the examples: a real server is needed, so
// the examples have no "Output:" comment (go test only compiles them) and
// TestExamples runs them against the tests' server, checking what they
// print, or skips when PostgreSQL is not installed.
var exampleURL = os.Getenv("DATABASE_URL")

// Open the store at start-up, create or upgrade its tables, and share it
// between the self-hosted provider and verify's policies.
func Example() {
	ctx := context.Background()
	s, err := pgstore.Open(ctx, exampleURL, pgstore.WithSchema("verifykit"))
	if err != nil {
		log.Fatal(err) // matches provider.ErrUnavailable when the server does not answer
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	out := new(selfhosted.Outbox) // a real application sends through an SMS gateway
	key := selfhosted.Key{ID: "2026-12", Secret: []byte("0123456789abcdef0123456789abcdef")}
	p, err := selfhosted.New(s, key, selfhosted.WithSender(out, provider.ChannelSMS))
	if err != nil {
		log.Fatal(err)
	}
	client, err := verify.New(p,
		verify.WithPolicyStore(s), // the same tables: every replica sees every limit
		verify.WithResendCooldown(30*time.Second, 10*time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	const to = "+14155552671"
	if _, err := client.Start(ctx, to, verify.ChannelSMS, nil); err != nil {
		log.Fatal(err)
	}
	_, err = client.Start(ctx, to, verify.ChannelSMS, nil)
	fmt.Println("second send at once refused:", errors.Is(err, verify.ErrTooManySends))
	code, _ := out.LastCode(to)
	res, err := client.Check(ctx, to, code, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("approved:", res.Approved())
}

// The migrations as SQL, for an application that applies them with its
// own migration tool rather than calling Migrate.
func ExampleMigrations() {
	ms, err := pgstore.Migrations(pgstore.WithSchema("auth"), pgstore.WithTablePrefix("otp_"))
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range ms {
		fmt.Printf("%d %s: creates the records table: %v\n", m.Version, m.Name, strings.Contains(m.SQL, `CREATE TABLE "auth"."otp_records"`))
	}
	// Output:
	// 1 0001_init.sql: creates the records table: true
	// 2 0002_limiter_hits.sql: creates the records table: false
	// 3 0003_cas_fast_path.sql: creates the records table: false
	// 4 0004_weighted_limits.sql: creates the records table: false
}

// TestExamples runs the examples that need a server against the tests'
// server and checks what they print.
func TestExamples(t *testing.T) {
	srv := sharedServer(t)
	exampleURL = srv.URL()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	func() {
		defer func() { os.Stdout = stdout }()
		Example()
	}()
	_ = w.Close()
	got := <-done
	want := "second send at once refused: true\napproved: true\n"
	if got != want {
		t.Errorf("Example printed:\n%s\nwant:\n%s", got, want)
	}
}
