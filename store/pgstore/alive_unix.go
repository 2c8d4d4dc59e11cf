//go:build unix

package pgstore

import (
	"errors"
	"net"
	"syscall"
)

// closedByPeer reports whether the server has closed c or sent something
// unasked (such as the FATAL message of a shutdown) while it was idle in
// the pool: a non-blocking peek, one system call, no round trip. A
// statement written to such a connection would fail after being sent, and
// its outcome would look unknown although the server never read it.
func closedByPeer(c net.Conn) bool {
	for {
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = u.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	var buf [1]byte
	// Control, not Read: Read would wait for the descriptor's read lock,
	// which pgx's background reader may hold, blocked, on an idle
	// connection.
	err = rc.Control(func(fd uintptr) {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EWOULDBLOCK), errors.Is(err, syscall.EINTR):
		default:
			closed = err != nil || n >= 0 // an error, the end of the stream (0) or unasked data
		}
	})
	return closed || err != nil
}
