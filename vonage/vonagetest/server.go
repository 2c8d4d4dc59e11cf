package vonagetest

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"slices"

	"github.com/verifykit/verifykit/internal/emuserver"
)

// Server is an Emulator listening on a loopback address, for tests, in the
// spirit of httptest.Server.
type Server struct {
	*Emulator
	// URL is the base URL of the server, http://127.0.0.1:port, to pass
	// to vonage.WithBaseURL (or the Node SDK's apiHost).
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

// filtered returns the outbox, oldest first, only the messages to to when
// it is not empty.
func (e *Emulator) filtered(to string) []Message {
	return emuserver.Filter(e.Messages(), to, func(m Message) string { return m.To })
}

// messages serves the outbox as JSON, oldest first, filtered by ?to= (the
// target as Vonage's workflow gives it, with or without '+').
func (e *Emulator) messages(r *http.Request) any {
	to := r.URL.Query().Get("to")
	if to != "" && to[0] >= '0' && to[0] <= '9' {
		to = "+" + to
	}
	return e.filtered(to)
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Vonage Verify emulator outbox</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}code{font-size:1.2em}</style>
</head><body><h1>Outbox</h1>
<p>Codes the Vonage emulator has "sent", newest first. This page refreshes every 2 seconds. JSON: <a href="messages">messages</a>.</p>
{{if .}}<table><tr><th>sent</th><th>to</th><th>channel</th><th>code</th><th>message</th><th>request</th></tr>
{{range .}}<tr><td>{{.SentAt.Format "15:04:05"}}</td><td>{{.To}}</td><td>{{.Channel}}</td><td><code>{{.Code}}</code></td><td>{{.Body}}</td><td>{{.RequestID}}</td></tr>
{{end}}</table>{{else}}<p>No messages yet.</p>{{end}}
</body></html>
`))

// page serves the outbox as an HTML page that refreshes itself.
func (e *Emulator) page(w http.ResponseWriter, r *http.Request) {
	msgs := e.filtered(r.URL.Query().Get("to"))
	slices.Reverse(msgs) // newest first
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	pageTmpl.Execute(w, msgs)
}
