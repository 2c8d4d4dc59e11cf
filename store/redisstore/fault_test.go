package redisstore_test

import (
	"testing"

	"github.com/verifykit/verifykit/store/redisstore"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
	"github.com/verifykit/verifykit/store/storetest/servertest"
)

// TestKillAndRestart increments a record and a counter while the server
// is killed and restarted: typed errors, nothing lost, nothing applied
// twice.
func TestKillAndRestart(t *testing.T) {
	srv := redistest.Start(t)
	s, err := redisstore.Open(t.Context(), srv.URL(), redisstore.WithPrefix("kr:"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	servertest.KillAndRestart(t, s, srv)
}

// TestSelfhostedKillAndRestart runs verifications while the server is
// killed and restarted: typed errors, no approval twice or lost.
func TestSelfhostedKillAndRestart(t *testing.T) {
	srv := redistest.Start(t)
	s, err := redisstore.Open(t.Context(), srv.URL(), redisstore.WithPrefix("shkr:"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	servertest.SelfhostedKillAndRestart(t, s, srv)
}
