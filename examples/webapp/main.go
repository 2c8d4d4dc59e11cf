// Command webapp serves a small web application with two-step login built
// on verifykit (see package app):
//
//	go run ./examples/webapp
//
// By default it runs on the built-in fake provider, and the codes it
// "sends" are on http://127.0.0.1:8080/dev/outbox. With the TWILIO_*
// variables set (see twilio.NewFromEnv) it uses Twilio, or the emulator of
// examples/emulator when TWILIO_VERIFY_BASE_URL points at it; with the
// VONAGE_* variables (see vonage.NewFromEnv) it uses Vonage, or the
// emulator of examples/vonage-emulator. With both, it runs on a composite
// (package route): Twilio first, Vonage when Twilio is down.
//
// The outbox shows every code sent, so it is served only when the app
// listens on a loopback address and is not behind a proxy (-trusted-proxy,
// -secure-cookie), unless -dev-outbox asks for it explicitly.
//
// Behind a TLS-terminating reverse proxy, pass -trusted-proxy with the
// proxy's address (its X-Forwarded-For and X-Forwarded-Proto headers are
// then believed), or -secure-cookie to mark the cookies Secure always.
//
// Flags:
//
//	-addr host:port        address to listen on (127.0.0.1:8080)
//	-region CC             region for numbers typed without a country code (US)
//	-secure-cookie         mark the cookies Secure (the app is served over HTTPS)
//	-trusted-proxy CIDRS   comma-separated addresses of reverse proxies to trust
//	-dev-outbox            serve /dev/outbox even on a non-loopback address or
//	                       behind a proxy (never do this on a public address)
//	-provider selfhosted   run verification itself (package selfhosted) with
//	                       its state in memory; codes go to the console, so
//	                       only on a loopback address. The app keeps its
//	                       users and sessions in memory, so it runs as one
//	                       replica: for replicas sharing Redis see
//	                       examples/selfhosted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/verifykit/verifykit/examples/internal/serve"
	"github.com/verifykit/verifykit/examples/webapp/app"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/route"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/verify"
	"github.com/verifykit/verifykit/vonage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) int {
	fs := flag.NewFlagSet("webapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	region := fs.String("region", "US", "region for phone numbers typed without a country code")
	secure := fs.Bool("secure-cookie", false, "mark the cookies Secure: the app is served over HTTPS (behind a TLS-terminating proxy, say)")
	proxyList := fs.String("trusted-proxy", "", "comma-separated `addresses` (CIDR or IP) of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto to believe")
	devOutbox := fs.Bool("dev-outbox", false, "serve /dev/outbox (every code sent) even on a non-loopback address or behind a proxy")
	cooldown := fs.Duration("resend-cooldown", 30*time.Second, "wait before another code may go to the same number, doubling per code up to 5 minutes; 0 turns it off")
	providerName := fs.String("provider", "", "`selfhosted` runs verification in the app, codes on the console (loopback only); empty picks from the environment")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "webapp: unexpected arguments %q\n", fs.Args())
		return 2
	}
	proxies, err := parsePrefixes(*proxyList)
	if err != nil {
		fmt.Fprintln(stderr, "webapp: -trusted-proxy:", err)
		return 2
	}
	var p provider.Provider
	var outbox *fake.Fake
	var desc string
	switch *providerName {
	case "":
		p, outbox, desc, err = chooseProvider(getenv)
	case "selfhosted":
		p, desc, err = selfhostedProvider(*addr, stdout)
	default:
		err = fmt.Errorf("-provider %q: want selfhosted, or nothing", *providerName)
	}
	if err != nil {
		fmt.Fprintln(stderr, "webapp:", err)
		return 2
	}
	// One instance: the policies count in memory. Several instances share
	// a Redis store instead (store/redisstore).
	mem, err := store.NewMemory()
	if err != nil {
		fmt.Fprintln(stderr, "webapp:", err)
		return 1
	}
	client, err := verify.New(p, append([]verify.Option{verify.WithDefaultRegion(*region)}, app.Policies(mem, *cooldown)...)...)
	if err != nil {
		fmt.Fprintln(stderr, "webapp:", err)
		return 2
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "webapp:", err)
		return 1
	}
	defer l.Close()
	base := "http://" + l.Addr().String()
	if outbox != nil && !serveOutbox(l.Addr(), *devOutbox, *secure || len(proxies) > 0) {
		outbox = nil
		fmt.Fprintln(stderr, "webapp: not serving /dev/outbox: the address is not loopback, or the app is behind a proxy; pass -dev-outbox to serve it anyway")
	}
	a, err := app.New(app.Config{Verify: client, Outbox: outbox, SecureCookies: *secure, TrustedProxies: proxies})
	if err != nil {
		fmt.Fprintln(stderr, "webapp:", err)
		return 1
	}
	fmt.Fprintf(stdout, "webapp listening on %s\nverifying %s\n", base, desc)
	if outbox != nil {
		fmt.Fprintf(stdout, "on the built-in fake provider: codes appear on %s/dev/outbox\n", base)
	}
	err = serve.Run(ctx, l, a, func() {
		if ready != nil {
			ready <- base
		}
	})
	if err != nil {
		fmt.Fprintln(stderr, "webapp:", err)
		return 1
	}
	return 0
}

// chooseProvider picks the provider from the environment: Twilio, Vonage,
// both behind a router (Twilio first, Vonage as the fallback), or the fake.
func chooseProvider(getenv func(string) string) (provider.Provider, *fake.Fake, string, error) {
	useTwilio := getenv(twilio.EnvServiceSID) != ""
	useVonage := getenv(vonage.EnvBrand) != ""
	var tp, vp provider.Provider
	if useTwilio {
		c, err := twilio.NewFromEnvFunc(getenv)
		if err != nil {
			return nil, nil, "", err
		}
		tp = c
	}
	if useVonage {
		c, err := vonage.NewFromEnvFunc(getenv)
		if err != nil {
			return nil, nil, "", err
		}
		vp = c
	}
	switch {
	case useTwilio && useVonage:
		r, err := route.New([]route.Route{{Provider: tp}, {Provider: vp}})
		if err != nil {
			return nil, nil, "", err
		}
		return r, nil, "on twilio, with vonage as the fallback", nil
	case useTwilio:
		return tp, nil, "on twilio", nil
	case useVonage:
		return vp, nil, "on vonage", nil
	}
	f := fake.MustNew(fake.WithRandomCodes(), fake.WithFriendlyName("verifykit demo"))
	return f, f, "on the built-in fake provider", nil
}

// selfhostedProvider returns the self-hosted provider over a memory store,
// with a random key and codes printed to the console: for development on
// a loopback address only.
func selfhostedProvider(addr string, console io.Writer) (provider.Provider, string, error) {
	host, _, err := net.SplitHostPort(addr)
	if ip, perr := netip.ParseAddr(host); err != nil || perr != nil || !ip.IsLoopback() {
		return nil, "", errors.New("-provider selfhosted prints codes on the console: listen on a loopback address")
	}
	st, err := store.NewMemory()
	if err != nil {
		return nil, "", err
	}
	out := &selfhosted.Outbox{Log: func(to, text string) { fmt.Fprintf(console, "console sender: to %s: %s\n", to, text) }}
	p, err := selfhosted.New(st, selfhosted.NewKey("webapp"), selfhosted.WithAppName("verifykit demo"),
		selfhosted.WithSender(out, provider.ChannelSMS, provider.ChannelEmail, provider.ChannelCall, provider.ChannelWhatsApp))
	if err != nil {
		return nil, "", err
	}
	return p, "on the self-hosted provider (state in memory, codes on this console)", nil
}

// serveOutbox decides whether /dev/outbox, which shows every code sent, is
// served: when asked for explicitly, or else only on a loopback address
// with no proxy in front (a proxy on the same machine reaches a loopback
// listener on behalf of anyone).
func serveOutbox(addr net.Addr, explicit, behindProxy bool) bool {
	if explicit {
		return true
	}
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback() && !behindProxy
}

// parsePrefixes parses a comma-separated list of CIDR prefixes or bare
// addresses (a bare address is a prefix of its full length).
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
