package webmain

import (
	"net"
	"net/netip"
	"slices"
	"testing"
)

// TestOutboxOnlyOnLoopback: the outbox (every code sent) is served on a
// loopback address with no proxy in front, or when asked for explicitly.
func TestOutboxOnlyOnLoopback(t *testing.T) {
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 8080} }
	for _, tt := range []struct {
		addr        net.Addr
		explicit    bool
		behindProxy bool
		want        bool
	}{
		{tcp("127.0.0.1"), false, false, true},
		{tcp("::1"), false, false, true},
		{tcp("127.0.0.1"), false, true, false},
		{tcp("0.0.0.0"), false, false, false},
		{tcp("::"), false, false, false},
		{tcp("192.0.2.10"), false, false, false},
		{tcp("192.0.2.10"), true, false, true},
		{tcp("127.0.0.1"), true, true, true},
		{&net.UnixAddr{Name: "/tmp/sock", Net: "unix"}, false, false, false},
	} {
		if got := serveOutbox(tt.addr, tt.explicit, tt.behindProxy); got != tt.want {
			t.Errorf("serveOutbox(%v, explicit %v, proxy %v) = %v, want %v", tt.addr, tt.explicit, tt.behindProxy, got, tt.want)
		}
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes(" 10.1.2.3/8, 192.0.2.1 ,::1,,2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"),
		netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("2001:db8::/32"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("parsePrefixes = %v, want %v", got, want)
	}
}
