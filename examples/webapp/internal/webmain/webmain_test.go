package webmain

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/examples/internal/examplestest"
	"github.com/verifykit/verifykit/store"
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

// TestExtension: an Extension's flags are parsed, its shared store carries
// the self-hosted provider's state and the limits (the console says so),
// is closed when the app stops, and a failure to open it is exit 2.
func TestExtension(t *testing.T) {
	shared, err := store.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	var flagValue string
	closed := 0
	ext := Extension{
		Flags: func(fs *flag.FlagSet) { fs.StringVar(&flagValue, "shared", "", "") },
		SharedStore: func(context.Context) (Shared, func(), string, error) {
			if flagValue == "fail" {
				return nil, nil, "", errors.New("cannot reach it")
			}
			return shared, func() { closed++ }, "in the test's store", nil
		},
	}
	env := map[string]string{"VERIFYKIT_KEY": strings.Repeat("ab", 32)}
	getenv := func(k string) string { return env[k] }
	srv := examplestest.Start(t, func(ctx context.Context, stdout, stderr io.Writer, ready chan<- string) int {
		return Run(ctx, []string{"-addr", "127.0.0.1:0", "-provider", "selfhosted", "-shared", "x"}, getenv, stdout, stderr, ready, ext)
	})
	if want := "(state in the test's store, codes on this console), limits in the test's store"; !strings.Contains(srv.Out.String(), want) {
		t.Errorf("console %q lacks %q", srv.Out.String(), want)
	}
	b := examplestest.NewBrowser(t, srv.Base)
	account := url.Values{"email": {"ada@example.com"}, "password": {"correct horse battery"}}
	b.Post("/signup", "/signup", account)
	b.Post("/login", "/login", account)
	b.Post("/enroll", "/enroll", url.Values{"phone": {"+14155552671"}})
	b.Want("code page", "Confirm your number")
	if shared.Len() == 0 {
		t.Error("nothing was written to the shared store")
	}
	// The self-hosted provider's push factors: the phone page is served.
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()} // not the shared transport (qa)
	if resp, err := hc.Get(srv.Base + "/phone"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET /phone on the self-hosted provider: %v, %v; want 200", resp, err)
	} else {
		resp.Body.Close()
	}
	if code := srv.Stop(); code != 0 || closed != 1 {
		t.Errorf("exit %d, store closed %d times; want 0, 1", code, closed)
	}

	var out strings.Builder
	if code := Run(t.Context(), []string{"-addr", "127.0.0.1:0", "-shared", "fail"}, getenv, &out, &out, nil, ext); code != 2 || !strings.Contains(out.String(), "cannot reach it") {
		t.Errorf("a shared store that fails: exit %d (%s), want 2", code, out.String())
	}
	// A shared store needs the key every replica shares.
	out.Reset()
	if code := Run(t.Context(), []string{"-addr", "127.0.0.1:0", "-provider", "selfhosted", "-shared", "x"}, func(string) string { return "" }, &out, &out, nil, ext); code != 2 || !strings.Contains(out.String(), "VERIFYKIT_KEY") {
		t.Errorf("no VERIFYKIT_KEY: exit %d (%s), want 2", code, out.String())
	}
}
