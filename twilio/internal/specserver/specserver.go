// Package specserver is a test server that knows Twilio's Verify v2 API
// only from its OpenAPI specification (testdata/twilio_verify_v2.json):
// it checks every request a client sends against the operation it names —
// the path template and its parameters, the method, the body's content
// type, the names, types, enums, patterns and bounds of the form, query or
// JSON parameters, and the required ones — and answers with the
// operation's documented example (its first success status), with the
// request's path parameters and string form parameters copied into the
// fields of their names, so that the answer is about what was asked. It records which operations were called and what was
// wrong with each request.
//
// Imports: twilio's tests → specserver (standard library only).
package specserver

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed testdata/twilio_verify_v2.json
var specJSON []byte

// schema is the part of an OpenAPI schema the server checks.
type schema struct {
	Ref        string             `json:"$ref"`
	Type       string             `json:"type"`
	Format     string             `json:"format"`
	Enum       []any              `json:"enum"`
	Pattern    string             `json:"pattern"`
	MinLength  *int               `json:"minLength"`
	MaxLength  *int               `json:"maxLength"`
	Minimum    *float64           `json:"minimum"`
	Maximum    *float64           `json:"maximum"`
	Items      *schema            `json:"items"`
	Properties map[string]*schema `json:"properties"`
	Required   []string           `json:"required"`
}

type parameter struct {
	Name     string  `json:"name"`
	In       string  `json:"in"`
	Required bool    `json:"required"`
	Schema   *schema `json:"schema"`
}

type media struct {
	Schema   *schema                    `json:"schema"`
	Examples map[string]json.RawMessage `json:"examples"`
}

type operation struct {
	OperationID string      `json:"operationId"`
	Parameters  []parameter `json:"parameters"`
	RequestBody *struct {
		Content map[string]media `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Content map[string]media `json:"content"`
	} `json:"responses"`
}

type spec struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]*schema `json:"schemas"`
	} `json:"components"`
}

// route is one operation: a method on a path template.
type route struct {
	method, template string
	segments         []string // "{Name}" for a parameter
	op               operation
}

// Server is the spec-validating server. Its URL is the base URL of a
// client.
type Server struct {
	*httptest.Server
	routes  []route
	schemas map[string]*schema
	next    http.Handler // Guard's: what answers, after the check

	mu       sync.Mutex
	called   map[string]int
	problems []string
}

// Operations returns the operationIds of the specification, sorted.
func Operations() []string {
	s, err := load()
	if err != nil {
		panic(err)
	}
	var out []string
	for _, r := range s.routes {
		out = append(out, r.op.OperationID)
	}
	sort.Strings(out)
	return out
}

func load() (*Server, error) {
	var sp spec
	if err := json.Unmarshal(specJSON, &sp); err != nil {
		return nil, fmt.Errorf("specserver: reading the spec: %w", err)
	}
	s := &Server{schemas: sp.Components.Schemas, called: map[string]int{}}
	for tmpl, methods := range sp.Paths {
		for m, raw := range methods {
			method := strings.ToUpper(m)
			if method != http.MethodGet && method != http.MethodPost && method != http.MethodDelete {
				continue
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("specserver: %s %s: %w", method, tmpl, err)
			}
			s.routes = append(s.routes, route{method: method, template: tmpl, segments: strings.Split(strings.Trim(tmpl, "/"), "/"), op: op})
		}
	}
	return s, nil
}

// New starts a server; Close stops it.
func New() *Server {
	s, err := load()
	if err != nil {
		panic(err)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Guard returns a handler that checks each request as the server does,
// records what is wrong with it (Problems) and the operation it names
// (Called), and then hands it, body intact, to next, which answers: the
// specification's check in front of an emulator. Requests under
// /_emulator/ (the emulators' own endpoints) pass unchecked.
func Guard(next http.Handler) *Server {
	s, err := load()
	if err != nil {
		panic(err)
	}
	s.next = next
	return s
}

// ServeHTTP serves r as Guard describes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(w, r) }

// Called returns how many requests each operation received.
func (s *Server) Called() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.called))
	for k, v := range s.called {
		out[k] = v
	}
	return out
}

// Problems returns what was wrong with the requests, in order.
func (s *Server) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.problems)
}

// match finds the route of method and path, preferring the template with
// the most literal segments, and returns its path parameters.
func (s *Server) match(method, path string) (*route, map[string]string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best *route
	var bestParams map[string]string
	bestLit := -1
	for i := range s.routes {
		r := &s.routes[i]
		if r.method != method || len(r.segments) != len(segs) {
			continue
		}
		params, lit, ok := map[string]string{}, 0, true
		for j, seg := range r.segments {
			if strings.HasPrefix(seg, "{") {
				params[strings.Trim(seg, "{}")] = segs[j]
				continue
			}
			if seg != segs[j] {
				ok = false
				break
			}
			lit++
		}
		if ok && lit > bestLit {
			best, bestParams, bestLit = r, params, lit
		}
	}
	return best, bestParams
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.next != nil && strings.HasPrefix(r.URL.Path, "/_emulator/") {
		s.next.ServeHTTP(w, r)
		return
	}
	rt, params := s.match(r.Method, r.URL.Path)
	if rt == nil && s.next != nil {
		s.problem("%s %s: no operation of the spec", r.Method, r.URL.Path)
		s.next.ServeHTTP(w, r)
		return
	}
	if rt == nil {
		s.problem("%s %s: no operation of the spec", r.Method, r.URL.Path)
		http.Error(w, `{"code":20404,"message":"not in the spec","status":404}`, http.StatusNotFound)
		return
	}
	op := rt.op
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if _, _, ok := r.BasicAuth(); !ok {
		bad("no Basic credentials")
	}
	// Path and query parameters.
	query := r.URL.Query()
	known := map[string]bool{}
	for _, p := range op.Parameters {
		switch p.In {
		case "path":
			if err := s.checkText(p.Schema, params[p.Name]); err != nil {
				bad("path parameter %s: %v", p.Name, err)
			}
		case "query":
			known[p.Name] = true
			vs, ok := query[p.Name]
			if !ok {
				if p.Required {
					bad("query parameter %s is required", p.Name)
				}
				continue
			}
			for _, v := range vs {
				if err := s.checkText(p.Schema, v); err != nil {
					bad("query parameter %s: %v", p.Name, err)
				}
			}
		}
	}
	for k := range query {
		if !known[k] {
			bad("query parameter %s is not in the spec", k)
		}
	}
	// The body.
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var bodyForm url.Values
	switch {
	case op.RequestBody == nil:
		if len(body) > 0 {
			bad("a body where the spec has none")
		}
	default:
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		m, ok := op.RequestBody.Content[ct]
		if !ok {
			bad("content type %q is not the spec's", ct)
			break
		}
		sc := s.resolve(m.Schema)
		switch ct {
		case "application/x-www-form-urlencoded":
			f, err := url.ParseQuery(string(body))
			if err != nil {
				bad("the body is not a form: %v", err)
				break
			}
			bodyForm = f
			for k, vs := range f {
				ps, ok := sc.Properties[k]
				if !ok {
					bad("form parameter %s is not in the spec", k)
					continue
				}
				ps = s.resolve(ps)
				if ps.Type != "array" && len(vs) > 1 {
					bad("form parameter %s is repeated", k)
				}
				item := ps
				if ps.Type == "array" && ps.Items != nil {
					item = s.resolve(ps.Items)
				}
				for _, v := range vs {
					if err := s.checkText(item, v); err != nil {
						bad("form parameter %s: %v", k, err)
					}
				}
			}
			for _, k := range sc.Required {
				if _, ok := f[k]; !ok {
					bad("form parameter %s is required", k)
				}
			}
		case "application/json":
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				bad("the body is not JSON: %v", err)
				break
			}
			for _, p := range s.checkJSON(sc, v, "body") {
				bad("%s", p)
			}
		}
	}
	s.mu.Lock()
	s.called[op.OperationID]++
	for _, p := range probs {
		s.problems = append(s.problems, op.OperationID+": "+p)
	}
	s.mu.Unlock()
	if s.next != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.next.ServeHTTP(w, r)
		return
	}
	if len(probs) > 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"code": 60200, "message": "Invalid parameter", "status": 400})
		return
	}
	s.answer(w, op, params, bodyForm)
}

func (s *Server) problem(format string, args ...any) {
	s.mu.Lock()
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

// resolve follows a $ref to the components' schemas.
func (s *Server) resolve(sc *schema) *schema {
	for sc != nil && sc.Ref != "" {
		sc = s.schemas[strings.TrimPrefix(sc.Ref, "#/components/schemas/")]
	}
	if sc == nil {
		return &schema{}
	}
	return sc
}

// checkText checks a form, query or path value against sc.
func (s *Server) checkText(sc *schema, v string) error {
	sc = s.resolve(sc)
	switch sc.Type {
	case "integer":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		if sc.Minimum != nil && float64(n) < *sc.Minimum || sc.Maximum != nil && float64(n) > *sc.Maximum {
			return fmt.Errorf("%d is out of bounds", n)
		}
	case "boolean":
		if v != "true" && v != "false" {
			return fmt.Errorf("%q is not a boolean", v)
		}
	case "number":
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
	case "string":
		if sc.Format == "date-time" {
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				return fmt.Errorf("%q is not an RFC 3339 time", v)
			}
		}
		return s.checkString(sc, v)
	}
	return nil
}

func (s *Server) checkString(sc *schema, v string) error {
	if len(sc.Enum) > 0 && !slices.Contains(sc.Enum, any(v)) {
		return fmt.Errorf("%q is not one of %v", v, sc.Enum)
	}
	if sc.Pattern != "" {
		if ok, err := regexp.MatchString(sc.Pattern, v); err == nil && !ok {
			return fmt.Errorf("%q does not match %s", v, sc.Pattern)
		}
	}
	n := len([]rune(v))
	if sc.MinLength != nil && n < *sc.MinLength || sc.MaxLength != nil && n > *sc.MaxLength {
		return fmt.Errorf("%q has a length out of bounds", v)
	}
	return nil
}

// checkJSON checks a decoded JSON value against sc and returns what is
// wrong, named by its path.
func (s *Server) checkJSON(sc *schema, v any, at string) []string {
	sc = s.resolve(sc)
	var out []string
	switch sc.Type {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return []string{at + " is not an object"}
		}
		if sc.Properties != nil {
			for k, val := range m {
				ps, ok := sc.Properties[k]
				if !ok {
					out = append(out, at+"."+k+" is not in the spec")
					continue
				}
				out = append(out, s.checkJSON(ps, val, at+"."+k)...)
			}
		}
		for _, k := range sc.Required {
			if _, ok := m[k]; !ok {
				out = append(out, at+"."+k+" is required")
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return []string{at + " is not an array"}
		}
		for i, it := range a {
			out = append(out, s.checkJSON(sc.Items, it, at+"["+strconv.Itoa(i)+"]")...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return []string{at + " is not a string"}
		}
		if err := s.checkString(sc, str); err != nil {
			out = append(out, at+": "+err.Error())
		}
	case "integer", "number":
		if _, ok := v.(float64); !ok {
			return []string{at + " is not a number"}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return []string{at + " is not a boolean"}
		}
	}
	return out
}

// snake turns a path parameter's name into the answer's field name:
// RateLimitSid → rate_limit_sid.
func snake(name string) string {
	var b strings.Builder
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// answer writes the operation's first success status with its first
// example, about the request's path parameters and form.
func (s *Server) answer(w http.ResponseWriter, op operation, params map[string]string, form url.Values) {
	codes := make([]string, 0, len(op.Responses))
	for c := range op.Responses {
		if strings.HasPrefix(c, "2") {
			codes = append(codes, c)
		}
	}
	sort.Strings(codes)
	if len(codes) == 0 {
		w.WriteHeader(http.StatusOK)
		return
	}
	status, _ := strconv.Atoi(codes[0])
	m, ok := op.Responses[codes[0]].Content["application/json"]
	if !ok || len(m.Examples) == 0 {
		w.WriteHeader(status)
		return
	}
	names := make([]string, 0, len(m.Examples))
	for k := range m.Examples {
		names = append(names, k)
	}
	sort.Strings(names)
	var ex struct {
		Value any `json:"value"`
	}
	json.Unmarshal(m.Examples[names[0]], &ex)
	fix := func(obj map[string]any) {
		for p, v := range params {
			if _, ok := obj[snake(p)]; ok {
				obj[snake(p)] = v
			}
		}
		for k, vs := range form {
			if old, ok := obj[snake(k)].(string); ok && old != "" && len(vs) == 1 {
				obj[snake(k)] = vs[0]
			}
		}
	}
	if obj, ok := ex.Value.(map[string]any); ok {
		fix(obj)
		for _, v := range obj {
			if list, ok := v.([]any); ok {
				for _, it := range list {
					if o, ok := it.(map[string]any); ok {
						fix(o)
					}
				}
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(ex.Value)
}
