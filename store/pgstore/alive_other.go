//go:build !unix

package pgstore

import "net"

// closedByPeer cannot tell without a round trip on this system.
func closedByPeer(net.Conn) bool { return false }
