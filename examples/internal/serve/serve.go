// Package serve runs the example programs' HTTP servers: serve on a
// listener until the context ends, then shut down gracefully.
package serve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
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
