package pgtest

import (
	"context"
	"net"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
)

// CountRoundTrips makes the connections of a pool configured by cfg count
// their round trips in n: pgx writes each round trip's messages in one
// write, which n counts. It also turns off the pool's liveness ping
// before a request (a round trip of its own for a connection idle for a
// second), which a busy server does not pay.
func CountRoundTrips(cfg *pgxpool.Config, n *atomic.Int64) {
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countConn{c, n}, nil
	}
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
}

// countConn counts a connection's writes.
type countConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countConn) Write(b []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(b)
}
