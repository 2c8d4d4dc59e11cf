package main

import (
	"testing"

	"github.com/verifykit/verifykit/examples/webapp/internal/replicatest"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
)

// TestTwoReplicasOneRedis runs two replicas of the web app on the
// self-hosted provider over one real redis-server (replicatest.TwoReplicas
// says what it checks).
func TestTwoReplicasOneRedis(t *testing.T) {
	srv := redistest.Start(t)
	replicatest.TwoReplicas(t, run, replicatest.Store{Flag: "-redis", Name: "Redis", URL: srv.URL()})
}

// TestRefusals: -redis needs a server that answers, and without -redis
// the program is command webapp (state in memory).
func TestRefusals(t *testing.T) {
	replicatest.Refusals(t, run, replicatest.Store{Flag: "-redis", Name: "Redis", DownURL: "redis://127.0.0.1:1/0"})
}
