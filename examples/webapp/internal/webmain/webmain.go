// Package webmain is command webapp's setup, from its flags to a running
// server, so that command webapp/redis (a module of its own, for its Redis
// client) runs the same program with a shared store: see Run and
// Extension.
package webmain

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
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
	"github.com/verifykit/verifykit/verify/recovery"
	"github.com/verifykit/verifykit/vonage"
)

// Shared is a store that replicas of the app share: the self-hosted
// provider's state and verify's policy counters (store/redisstore's Store
// is one).
type Shared interface {
	store.Store
	store.Limiter
}

// Extension is what a command adds to the web app's setup: flags of its
// own and a store that replicas share.
type Extension struct {
	// Flags, when not nil, registers the command's own flags on fs before
	// the arguments are parsed.
	Flags func(fs *flag.FlagSet)
	// SharedStore, when not nil, is called once the arguments are parsed,
	// with Run's context.
	// It returns the store that replicas share, a function that closes it
	// when the app stops, and a few words naming it for the console ("in
	// Redis"); or a nil Shared to keep the state in memory. With a shared
	// store, verify's policies (app.Policies) count in it, and so does the
	// self-hosted provider (-provider selfhosted), which then needs the
	// application key that every replica shares in VERIFYKIT_KEY.
	SharedStore func(ctx context.Context) (Shared, func(), string, error)
}

// Run runs the web app with the command-line arguments args until ctx is
// done, and returns the exit code: 0, 1 on a failure while running, 2 on
// bad arguments or configuration. It announces the base URL on ready (when
// not nil) once it listens. Command webapp calls it with no Extension;
// command webapp/redis adds -redis.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string, ext Extension) int {
	fs := flag.NewFlagSet("webapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	region := fs.String("region", "US", "region for phone numbers typed without a country code")
	secure := fs.Bool("secure-cookie", false, "mark the cookies Secure: the app is served over HTTPS (behind a TLS-terminating proxy, say)")
	proxyList := fs.String("trusted-proxy", "", "comma-separated `addresses` (CIDR or IP) of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto to believe")
	devOutbox := fs.Bool("dev-outbox", false, "serve /dev/outbox (every code sent) even on a non-loopback address or behind a proxy")
	cooldown := fs.Duration("resend-cooldown", 30*time.Second, "wait before another code may go to the same number, doubling per code up to 5 minutes; 0 turns it off")
	providerName := fs.String("provider", "", "`selfhosted` runs verification in the app, codes on the console (loopback only); empty picks from the environment")
	if ext.Flags != nil {
		ext.Flags(fs)
	}
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
	var shared Shared
	sharedDesc := ""
	if ext.SharedStore != nil {
		var closeShared func()
		shared, closeShared, sharedDesc, err = ext.SharedStore(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "webapp:", err)
			return 2
		}
		if shared != nil && closeShared != nil {
			defer closeShared()
		}
	}
	var p provider.Provider
	var outbox *fake.Fake
	var desc string
	switch *providerName {
	case "":
		p, outbox, desc, err = chooseProvider(getenv)
	case "selfhosted":
		p, desc, err = selfhostedProvider(*addr, getenv, shared, sharedDesc, stdout)
	default:
		err = fmt.Errorf("-provider %q: want selfhosted, or nothing", *providerName)
	}
	if err != nil {
		fmt.Fprintln(stderr, "webapp:", err)
		return 2
	}
	// One instance: the policies count in memory. Replicas count in the
	// store they share, so that together they keep each limit.
	var limits store.Limiter = shared
	var recoverySt store.Store = shared // recovery codes, beside the provider
	if shared == nil {
		mem, err := store.NewMemory()
		if err != nil {
			fmt.Fprintln(stderr, "webapp:", err)
			return 1
		}
		limits, recoverySt = mem, mem
	} else {
		desc += ", limits " + sharedDesc
	}
	client, err := verify.New(p, append([]verify.Option{verify.WithDefaultRegion(*region)}, app.Policies(limits, *cooldown)...)...)
	if err != nil {
		fmt.Fprintln(stderr, "webapp:", err)
		return 2
	}
	// Push factors ("approve on your phone") where the provider has a
	// device side the app can serve: the fake's and the self-hosted
	// provider's.
	var device provider.PushDeviceAPI
	if d, ok := p.(interface{ Device() provider.PushDeviceAPI }); ok {
		device = d.Device()
	}
	codes, err := recovery.New(recoverySt, client)
	if err != nil {
		fmt.Fprintln(stderr, "webapp:", err)
		return 1
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
	a, err := app.New(app.Config{Verify: client, Recovery: codes, Device: device, Outbox: outbox, SecureCookies: *secure, TrustedProxies: proxies})
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

// selfhostedProvider returns the self-hosted provider with codes printed
// to the console (for development on a loopback address only), its state
// in shared when not nil, else in memory. Its key is VERIFYKIT_KEY (hex,
// at least 32 bytes) with the ID VERIFYKIT_KEY_ID ("k1" by default), which
// replicas over one store must share; alone, without it, a random key.
func selfhostedProvider(addr string, getenv func(string) string, shared Shared, sharedDesc string, console io.Writer) (provider.Provider, string, error) {
	host, _, err := net.SplitHostPort(addr)
	if ip, perr := netip.ParseAddr(host); err != nil || perr != nil || !ip.IsLoopback() {
		return nil, "", errors.New("-provider selfhosted prints codes on the console: listen on a loopback address")
	}
	key, err := selfhosted.KeyFromEnvFunc(getenv, "VERIFYKIT_KEY")
	switch {
	case errors.Is(err, selfhosted.ErrNoKey) && shared == nil:
		key = selfhosted.GenerateKey("webapp")
	case errors.Is(err, selfhosted.ErrNoKey):
		return nil, "", errors.New("replicas over a shared store need the same key: set VERIFYKIT_KEY (64 hex characters, from `openssl rand -hex 32`) on every one")
	case err != nil:
		return nil, "", err
	}
	var st store.Store = shared
	where := "state in memory"
	if shared == nil {
		mem, err := store.NewMemory()
		if err != nil {
			return nil, "", err
		}
		st = mem
	} else {
		where = "state " + sharedDesc
	}
	out := &selfhosted.Outbox{Log: func(to, text string) { fmt.Fprintf(console, "console sender: to %s: %s\n", to, text) }}
	p, err := selfhosted.New(st, key, selfhosted.WithAppName("verifykit demo"),
		selfhosted.WithSender(out, provider.ChannelSMS, provider.ChannelEmail, provider.ChannelCall, provider.ChannelWhatsApp))
	if err != nil {
		return nil, "", err
	}
	return p, "on the self-hosted provider (" + where + ", codes on this console)", nil
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
