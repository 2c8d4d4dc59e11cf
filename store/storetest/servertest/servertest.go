// Package servertest holds the tests that every store over a server
// (store/redisstore, store/pgstore) runs against a real server: the
// conformance suites with the server's time moved, round trips per
// operation and per verify request, the server killed and restarted, the
// server down, a write past its deadline, and replicas as separate
// processes over one server. Each store's test module supplies how to
// open its store and its server; the tests are written once, here.
//
// Replica processes are the store's test binary run again: the store's
// TestMain must call [Main] first.
//
//	func TestMain(m *testing.M) {
//		servertest.Main(backend) // returns unless this process is a replica
//		os.Exit(m.Run())
//	}
package servertest

import (
	"context"

	"github.com/verifykit/verifykit/store"
)

// Server is a store server that a test started and may stop.
type Server interface {
	// URL is the URL Backend.Open takes.
	URL() string
	// Kill stops the server at once (SIGKILL), as a crash would.
	Kill()
	// Restart starts the killed server again, on the same address and
	// over the same data.
	Restart() error
}

// Backend opens stores of one kind over a running server.
type Backend struct {
	// Name names the server in messages: "PostgreSQL", "Redis".
	Name string
	// Open opens a store over the server at url, in the namespace ns (a
	// key prefix, a schema; made of lower-case letters, digits and
	// underscores), ready for use: its schema, if it has one, created.
	// It is called in the test's process and in replica processes, often
	// at once for one ns. close releases the store.
	Open func(ctx context.Context, url, ns string) (s store.Store, close func(), err error)
}
