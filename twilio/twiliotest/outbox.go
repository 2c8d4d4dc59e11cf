package twiliotest

import (
	"html/template"
	"net/http"
	"slices"

	"github.com/verifykit/verifykit/internal/emuserver"
)

// filtered returns the outbox, oldest first, only the messages to to when
// it is not empty (not nil when empty).
func (e *Emulator) filtered(to string) []Message {
	return emuserver.Filter(e.Messages(), to, func(m Message) string { return m.To })
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>verifykit emulator outbox</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}code{font-size:1.2em}</style>
</head><body><h1>Outbox</h1>
<p>Codes the emulator has "sent", newest first. This page refreshes every 2 seconds. JSON: <a href="messages">messages</a>.</p>
{{if .}}<table><tr><th>sent</th><th>to</th><th>channel</th><th>code</th><th>message</th><th>verification</th></tr>
{{range .}}<tr><td>{{.SentAt.Format "15:04:05"}}</td><td>{{.To}}</td><td>{{.Channel}}</td><td><code>{{.Code}}</code></td><td>{{.Body}}</td><td>{{.VerificationSID}}</td></tr>
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
