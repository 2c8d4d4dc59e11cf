package vonagetest

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/wire"
)

// maxTemplates is the most templates an account holds (Vonage's
// max-templates error).
const maxTemplates = 10

// templates are the account's custom templates, in creation order. Guarded
// by the Emulator's mu.
type templates struct {
	list []*tmplRec
}

type tmplRec struct {
	id        string
	name      string
	isDefault bool
	frags     []*fragment
}

type fragment struct {
	id, channel, locale, text string
	created, updated          string
}

func (e *Emulator) templateRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /v2/verify/templates", e.listTemplates)
	m.HandleFunc("POST /v2/verify/templates", e.createTemplate)
	m.HandleFunc("GET /v2/verify/templates/{tid}", e.withTemplate(e.getTemplate))
	m.HandleFunc("PATCH /v2/verify/templates/{tid}", e.withTemplate(e.updateTemplate))
	m.HandleFunc("DELETE /v2/verify/templates/{tid}", e.withTemplate(e.deleteTemplate))
	m.HandleFunc("GET /v2/verify/templates/{tid}/template_fragments", e.withTemplate(e.listFragments))
	m.HandleFunc("POST /v2/verify/templates/{tid}/template_fragments", e.withTemplate(e.createFragment))
	m.HandleFunc("GET /v2/verify/templates/{tid}/template_fragments/{fid}", e.withFragment(e.getFragment))
	m.HandleFunc("PATCH /v2/verify/templates/{tid}/template_fragments/{fid}", e.withFragment(e.updateFragment))
	m.HandleFunc("DELETE /v2/verify/templates/{tid}/template_fragments/{fid}", e.withFragment(e.deleteFragment))
}

func link(r *http.Request, path string) map[string]string {
	return map[string]string{"href": "http://" + r.Host + path}
}

func (t *tmplRec) json(r *http.Request) map[string]any {
	self := "/v2/verify/templates/" + t.id
	return map[string]any{"template_id": t.id, "name": t.name, "is_default": t.isDefault,
		"_links": map[string]any{"self": link(r, self), "fragments": link(r, self+"/template_fragments")}}
}

func (f *fragment) json(r *http.Request, t *tmplRec) map[string]any {
	self := "/v2/verify/templates/" + t.id
	return map[string]any{"template_fragment_id": f.id, "channel": f.channel, "locale": f.locale, "text": f.text,
		"date_created": f.created, "date_updated": f.updated,
		"_links": map[string]any{"self": link(r, self+"/template_fragments/"+f.id), "template": link(r, self)}}
}

// page answers one page of items (page from 1, page_size 1 to 100,
// defaults 1 and 10) with Vonage's HAL shape.
func page[T any](w http.ResponseWriter, r *http.Request, path, key string, items []T, render func(T) map[string]any) {
	num, size := 1, 10
	for name, p := range map[string]*int{"page": &num, "page_size": &size} {
		if v := r.URL.Query().Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || name == "page_size" && n > 100 {
				invalidParams(w, name, name+" must be a positive number (page_size at most 100)")
				return
			}
			*p = n
		}
	}
	pages := max(1, (len(items)+size-1)/size)
	from, to := min(len(items), (num-1)*size), min(len(items), num*size)
	out := []map[string]any{}
	for _, it := range items[from:to] {
		out = append(out, render(it))
	}
	href := func(n int) map[string]string {
		return link(r, path+"?page="+strconv.Itoa(n)+"&page_size="+strconv.Itoa(size))
	}
	links := map[string]any{"self": href(num), "first": href(1), "last": href(pages)}
	if num > 1 {
		links["prev"] = href(num - 1)
	}
	if num < pages {
		links["next"] = href(num + 1)
	}
	emuserver.WriteJSON(w, http.StatusOK, map[string]any{"page": num, "page_size": size, "total_pages": pages, "total_items": len(items),
		"_embedded": map[string]any{key: out}, "_links": links})
}

func templateNameOK(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (e *Emulator) listTemplates(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	page(w, r, "/v2/verify/templates", "templates", e.tmpl.list, func(t *tmplRec) map[string]any { return t.json(r) })
}

func (e *Emulator) createTemplate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name *string `json:"name"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Name == nil || !templateNameOK(*in.Name) {
		invalidParams(w, "name", "name must be 1 to 64 letters, digits, '_' or '-'")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if slices.ContainsFunc(e.tmpl.list, func(t *tmplRec) bool { return t.name == *in.Name }) {
		writeProblem(w, http.StatusConflict, "template-exists", "Conflict", "A template with this name already exists.", nil)
		return
	}
	if len(e.tmpl.list) >= maxTemplates {
		writeProblem(w, http.StatusConflict, "max-templates", "Conflict", "The maximum number of templates has been reached.", nil)
		return
	}
	t := &tmplRec{id: wire.NewUUID(), name: *in.Name, isDefault: len(e.tmpl.list) == 0}
	e.tmpl.list = append(e.tmpl.list, t)
	emuserver.WriteJSON(w, http.StatusCreated, t.json(r))
}

// withTemplate runs fn, with e.mu held, on the template the path names, or
// answers 404.
func (e *Emulator) withTemplate(fn func(http.ResponseWriter, *http.Request, *tmplRec)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// The body is read before the lock: a slow client must not hold
		// the emulator.
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeProblem(w, http.StatusBadRequest, "invalid-json", "Invalid JSON", "The request body could not be read.", nil)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		id := r.PathValue("tid")
		e.mu.Lock()
		defer e.mu.Unlock()
		i := slices.IndexFunc(e.tmpl.list, func(t *tmplRec) bool { return t.id == id })
		if i < 0 {
			writeProblem(w, http.StatusNotFound, "template-not-found", "Not Found", "Template was not found.", nil)
			return
		}
		fn(w, r, e.tmpl.list[i])
	}
}

func (e *Emulator) getTemplate(w http.ResponseWriter, r *http.Request, t *tmplRec) {
	emuserver.WriteJSON(w, http.StatusOK, t.json(r))
}

func (e *Emulator) updateTemplate(w http.ResponseWriter, r *http.Request, t *tmplRec) {
	var in struct {
		Name      *string `json:"name"`
		IsDefault *bool   `json:"is_default"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Name != nil {
		if !templateNameOK(*in.Name) {
			invalidParams(w, "name", "name must be 1 to 64 letters, digits, '_' or '-'")
			return
		}
		if slices.ContainsFunc(e.tmpl.list, func(o *tmplRec) bool { return o != t && o.name == *in.Name }) {
			writeProblem(w, http.StatusConflict, "template-exists", "Conflict", "A template with this name already exists.", nil)
			return
		}
		t.name = *in.Name
	}
	if in.IsDefault != nil {
		if *in.IsDefault {
			for _, o := range e.tmpl.list {
				o.isDefault = false
			}
		}
		t.isDefault = *in.IsDefault
	}
	emuserver.WriteJSON(w, http.StatusOK, t.json(r))
}

func (e *Emulator) deleteTemplate(w http.ResponseWriter, r *http.Request, t *tmplRec) {
	if len(t.frags) > 0 {
		writeProblem(w, http.StatusConflict, "not-empty-template", "Conflict",
			"A template can only be deleted when it has no template fragments.", nil)
		return
	}
	e.tmpl.list = slices.DeleteFunc(e.tmpl.list, func(o *tmplRec) bool { return o == t })
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) listFragments(w http.ResponseWriter, r *http.Request, t *tmplRec) {
	page(w, r, "/v2/verify/templates/"+t.id+"/template_fragments", "template_fragments", t.frags,
		func(f *fragment) map[string]any { return f.json(r, t) })
}

func (e *Emulator) createFragment(w http.ResponseWriter, r *http.Request, t *tmplRec) {
	var in struct {
		Channel *string `json:"channel"`
		Locale  *string `json:"locale"`
		Text    *string `json:"text"`
	}
	if !decode(w, r, &in) {
		return
	}
	switch {
	case in.Channel == nil || *in.Channel != "sms" && *in.Channel != "voice":
		invalidParams(w, "channel", "channel must be sms or voice")
		return
	case in.Locale == nil || *in.Locale == "" || *in.Locale != strings.ToLower(*in.Locale):
		invalidParams(w, "locale", "locale must be a lower-case locale such as en-us")
		return
	case in.Text == nil || strings.TrimSpace(*in.Text) == "":
		invalidParams(w, "text", "text is required")
		return
	}
	if slices.ContainsFunc(t.frags, func(f *fragment) bool { return f.channel == *in.Channel && f.locale == *in.Locale }) {
		writeProblem(w, http.StatusConflict, "fragment-exists", "Conflict",
			"A template fragment for this channel and locale already exists.", nil)
		return
	}
	now := e.clock.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")
	f := &fragment{id: wire.NewUUID(), channel: *in.Channel, locale: *in.Locale, text: *in.Text, created: now, updated: now}
	t.frags = append(t.frags, f)
	emuserver.WriteJSON(w, http.StatusCreated, f.json(r, t))
}

// withFragment runs fn, with e.mu held, on the fragment the path names, or
// answers 404.
func (e *Emulator) withFragment(fn func(http.ResponseWriter, *http.Request, *tmplRec, *fragment)) http.HandlerFunc {
	return e.withTemplate(func(w http.ResponseWriter, r *http.Request, t *tmplRec) {
		id := r.PathValue("fid")
		i := slices.IndexFunc(t.frags, func(f *fragment) bool { return f.id == id })
		if i < 0 {
			writeProblem(w, http.StatusNotFound, "template-fragment-not-found", "Not Found", "Template Fragment was not found.", nil)
			return
		}
		fn(w, r, t, t.frags[i])
	})
}

func (e *Emulator) getFragment(w http.ResponseWriter, r *http.Request, t *tmplRec, f *fragment) {
	emuserver.WriteJSON(w, http.StatusOK, f.json(r, t))
}

func (e *Emulator) updateFragment(w http.ResponseWriter, r *http.Request, t *tmplRec, f *fragment) {
	var in struct {
		Text *string `json:"text"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Text == nil || strings.TrimSpace(*in.Text) == "" {
		invalidParams(w, "text", "text is required")
		return
	}
	f.text = *in.Text
	f.updated = e.clock.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")
	emuserver.WriteJSON(w, http.StatusOK, f.json(r, t))
}

func (e *Emulator) deleteFragment(w http.ResponseWriter, r *http.Request, t *tmplRec, f *fragment) {
	t.frags = slices.DeleteFunc(t.frags, func(o *fragment) bool { return o == f })
	w.WriteHeader(http.StatusNoContent)
}
