//go:build unix

package pgstore

import (
	"errors"
	"net"
	"sync"
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
	p := peeks.Get().(*peek)
	defer peeks.Put(p)
	// Control, not Read: Read would wait for the descriptor's read lock,
	// which pgx's background reader may hold, blocked, on an idle
	// connection.
	err = rc.Control(p.f)
	return p.closed || err != nil
}

// peek is closedByPeer's state, pooled with the function that Control
// calls (p.peek bound once), so a peek allocates nothing of its own.
type peek struct {
	closed bool
	buf    [1]byte
	f      func(fd uintptr)
}

var peeks = sync.Pool{New: func() any {
	p := new(peek)
	p.f = p.peek
	return p
}}

func (p *peek) peek(fd uintptr) {
	n, _, err := syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	switch {
	case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EWOULDBLOCK), errors.Is(err, syscall.EINTR):
		p.closed = false
	default:
		p.closed = err != nil || n >= 0 // an error, the end of the stream (0) or unasked data
	}
}
