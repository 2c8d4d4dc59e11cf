package twiliotest

import (
	"net/http"
	"net/http/httptest"

	"github.com/verifykit/verifykit/internal/emuserver"
)

// Server is an Emulator listening on a loopback address, for tests, in the
// spirit of httptest.Server.
type Server struct {
	*Emulator
	// URL is the base URL of the server, http://127.0.0.1:port, to pass to
	// twilio.WithBaseURL. The URLs in its answers start with it too.
	URL string

	srv *httptest.Server
}

// ConfigureServer sets on srv, where they are not set already, the
// timeouts of the servers NewServer starts (10 seconds for the headers, 30
// for the whole request, 2 minutes idle; a client that stalls has its
// connection closed), for a program that serves an Emulator with its own
// http.Server.
func ConfigureServer(srv *http.Server) { emuserver.Configure(srv) }

// NewServer starts an Emulator configured by opts on a loopback port. It
// panics if an option is invalid, like MustNew. Call Close when done.
func NewServer(opts ...Option) *Server {
	e := MustNew(opts...)
	srv := emuserver.Start(e)
	return &Server{Emulator: e, URL: srv.URL, srv: srv}
}

// Close shuts the server down, closing its connections.
func (s *Server) Close() { s.srv.Close() }

// Client returns an HTTP client for talking to the server, as
// httptest.Server.Client does: it has a transport of its own (so closing
// another server does not cut its connections) whose idle connections are
// closed with the server. Pass it to twilio.WithHTTPClient, or use it for
// plain requests to the API and the /_emulator/ endpoints.
func (s *Server) Client() *http.Client { return s.srv.Client() }
