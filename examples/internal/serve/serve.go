// Package serve runs the example programs' HTTP servers: serve on a
// listener until the context ends, then shut down gracefully. Program holds
// what the emulator programs share: the loopback-only -addr rule, the
// listener and the exit codes.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/verifykit/verifykit/internal/httpopt"
)

// Run serves h on l until ctx ends, then shuts the server down, giving
// requests in flight up to five seconds. ready, if not nil, is called once
// the server is serving. Each configure function, if any, adjusts the
// server before it starts (its timeouts, for example). Run returns the error
// that stopped the server, or nil after a clean shutdown.
func Run(ctx context.Context, l net.Listener, h http.Handler, ready func(), configure ...func(*http.Server)) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	for _, c := range configure {
		c(srv)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	if ready != nil {
		ready()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// Program is an emulator program (examples/emulator,
// examples/vonage-emulator): its name, which starts its messages, where it
// writes, and what it would open to the network on a non-loopback address.
type Program struct {
	Name           string // "emulator"
	Stdout, Stderr io.Writer
	Exposed        string // "the outbox"
}

// Check checks -addr: host:port, on a loopback host unless allowRemote. On
// failure it writes why to Stderr and returns 2, the exit code; else 0.
func (p Program) Check(addr string, allowRemote bool) int {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		fmt.Fprintln(p.Stderr, p.Name+": -addr:", err)
		return 2
	}
	if !allowRemote && !httpopt.IsLoopback(host) {
		fmt.Fprintf(p.Stderr, "%s: refusing to listen on %s: it is not a loopback address, and %s would be open to the network. Use -allow-remote to do it anyway.\n", p.Name, host, p.Exposed)
		return 2
	}
	return 0
}

// Listen listens on addr and returns the base URL of the server there. On
// failure it writes why to Stderr and returns 1, the exit code.
func (p Program) Listen(addr string) (l net.Listener, base string, code int) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(p.Stderr, p.Name+":", err)
		return nil, "", 1
	}
	return l, "http://" + l.Addr().String(), 0
}

// Serve runs h on l (see Run) until ctx ends, sends base on ready (if not
// nil) once it serves, and returns the exit code: 0 after writing
// "stopped", 1 when the server failed.
func (p Program) Serve(ctx context.Context, l net.Listener, h http.Handler, base string, ready chan<- string, configure func(*http.Server)) int {
	err := Run(ctx, l, h, func() {
		if ready != nil {
			ready <- base
		}
	}, configure)
	if err != nil {
		fmt.Fprintln(p.Stderr, p.Name+":", err)
		return 1
	}
	fmt.Fprintln(p.Stdout, "stopped")
	return 0
}
