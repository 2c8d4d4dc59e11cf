package twiliotest

import (
	"net/http/httptest"
)

// Server is an Emulator listening on a loopback address, for tests, in the
// spirit of httptest.Server.
type Server struct {
	*Emulator
	// URL is the base URL of the server, http://127.0.0.1:port, to pass to
	// twilio.WithBaseURL.
	URL string

	srv *httptest.Server
}

// NewServer starts an Emulator configured by opts on a loopback port. It
// panics if an option is invalid, like MustNew. Call Close when done.
func NewServer(opts ...Option) *Server {
	e := MustNew(opts...)
	srv := httptest.NewServer(e)
	return &Server{Emulator: e, URL: srv.URL, srv: srv}
}

// Close shuts the server down, closing its connections.
func (s *Server) Close() { s.srv.Close() }
