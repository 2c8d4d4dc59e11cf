package replicas_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/store/pgstore"
	"github.com/verifykit/verifykit/store/pgstore/pgtest"
	"github.com/verifykit/verifykit/verify"
)

// countConn counts a connection's writes: pgx writes each round trip's
// messages in one write.
type countConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countConn) Write(b []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(b)
}

// TestOneRoundTripPerRequest counts the round trips to PostgreSQL of the README's
// sign-up policy: for a Start, one for all its counters (one script) and,
// since a check budget counts per destination, one to remember the
// verification's target for CheckID; one for a wrong code, two for a
// right one (the give-back of its place), one more for CheckID (the
// target's read).
func TestOneRoundTripPerRequest(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := t.Context()
	schema := migrated(t, srv.URL(), "roundtrip")
	var n atomic.Int64
	cfg, err := pgxpool.ParseConfig(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1 // every statement prepared on the first requests
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countConn{c, &n}, nil
	}
	// No liveness ping before a request (the pool pings a connection idle
	// for a second): a round trip that a busy server does not pay.
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s, err := pgstore.New(pool, pgstore.WithSchema(schema), pgstore.WithSweep(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	client, err := verify.New(fake.MustNew(fake.WithFixedCode("123456")),
		verify.WithPolicyStore(s),
		verify.WithResendCooldown(30*time.Second, 10*time.Minute),
		verify.WithSendBudget(verify.PerDestination, 5, time.Hour),
		verify.WithSendBudget(verify.PerDestination, 10, 24*time.Hour),
		verify.WithSendBudget(verify.PerCaller("ip"), 10, time.Hour),
		verify.WithSendBudget(verify.PerPrefix(6), 30, time.Hour),
		verify.WithSendBudget(verify.Global, 2000, 24*time.Hour),
		verify.WithSendBudget(verify.PerDestination, 2, 24*time.Hour, verify.ChannelCall),
		verify.WithAllowedRegions("US", "CA", "GB"),
		verify.WithDeniedPrefixes(verify.HighCostPrefixes()...),
		verify.WithCheckBudget(verify.PerDestination, 10, time.Hour),
		verify.WithCheckBudget(verify.PerCaller("ip"), 30, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{"ip": "203.0.113.9"}
	var lastID string
	start := func(to string) error {
		v, err := client.Start(ctx, to, verify.ChannelSMS, &verify.StartOptions{CallerKeys: keys})
		if err == nil {
			lastID = v.ID
		}
		return err
	}
	check := func(to, code string) error {
		_, err := client.Check(ctx, to, code, &verify.CheckOptions{CallerKeys: keys})
		return err
	}
	// Prepare the statements on the connection.
	if err := start("+14155550100"); err != nil {
		t.Fatal(err)
	}
	_, _ = client.CheckID(ctx, lastID, "000000", &verify.CheckOptions{CallerKeys: keys})
	_ = check("+14155550100", "123456")
	for _, op := range []struct {
		name string
		do   func() error
		want int64
	}{
		{"Start", func() error { return start("+14155550101") }, 2},
		{"Start refused by the cooldown", func() error { _ = start("+14155550101"); return nil }, 1},
		{"Start refused by the region rule", func() error { _ = start("+33612345678"); return nil }, 0},
		{"Check with a wrong code", func() error { return check("+14155550101", "000000") }, 1},
		{"Check with the right code", func() error { return check("+14155550101", "123456") }, 2},
		{"Start to another number", func() error { return start("+14155550102") }, 2},
		{"CheckID with a wrong code", func() error {
			_, err := client.CheckID(ctx, lastID, "000000", &verify.CheckOptions{CallerKeys: keys})
			return err
		}, 2},
	} {
		before := n.Load()
		if err := op.do(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		if got := n.Load() - before; got != op.want {
			t.Errorf("%s made %d round trips, want %d", op.name, got, op.want)
		}
	}
}
