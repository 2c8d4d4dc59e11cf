//go:build unix

package pgstore

import (
	"net"
	"testing"
)

// TestClosedByPeer checks the peek on a loopback connection: open while
// the peer is idle, closed once the peer has written or closed; and that
// it allocates at most once (the descriptor's syscall.RawConn), as it runs
// before every statement.
func TestClosedByPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if closedByPeer(c) {
		t.Fatal("an idle connection reported closed")
	}
	if n := testing.AllocsPerRun(100, func() { closedByPeer(c) }); n > 1 {
		t.Errorf("%v allocations a peek; want at most 1", n)
	}
	if _, err := peer.Write([]byte("E")); err != nil {
		t.Fatal(err)
	}
	for !closedByPeer(c) { // the byte may take a moment on loopback
	}
	_ = peer.Close()
}
