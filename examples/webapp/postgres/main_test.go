package main

import (
	"os"
	"testing"

	"github.com/verifykit/verifykit/examples/webapp/internal/replicatest"
	"github.com/verifykit/verifykit/store/pgstore/pgtest"
)

// TestTwoReplicasOnePostgres runs two replicas of the web app on the
// self-hosted provider over one real PostgreSQL server
// (replicatest.TwoReplicas says what it checks).
func TestTwoReplicasOnePostgres(t *testing.T) {
	srv := pgtest.Start(t)
	replicatest.TwoReplicas(t, run, replicatest.Store{Flag: "-postgres", Name: "PostgreSQL", URL: srv.URL()})
}

// TestRefusals: -postgres needs a server that answers, and without
// -postgres the program is command webapp (state in memory).
func TestRefusals(t *testing.T) {
	replicatest.Refusals(t, run, replicatest.Store{Flag: "-postgres", Name: "PostgreSQL", DownURL: "postgres://app@127.0.0.1:1/app?connect_timeout=5"})
}

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Cleanup() // the template data directory of the servers
	os.Exit(code)
}
