package vonagetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/fakeconf"
	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// maxBody bounds a request body.
const maxBody = 64 << 10

// problemBase is the prefix of the problem type URIs the emulator answers
// with; the fragment names the error, as Vonage's do.
const problemBase = "https://developer.vonage.com/api-errors"

// request is a live verification request.
type request struct {
	id        string
	steps     []step
	cur       int    // the step in progress
	vid       string // the engine's verification
	code      string
	brand     string
	locale    string
	clientRef string
	timeout   time.Duration // between steps
	stepAt    time.Time     // when the current step started
	created   time.Time
	initiated []time.Time // when each step so far was sent
	expires   time.Time
	redirect  string // silent auth redirect URL
	jwt       bool   // started with an application JWT: callbacks go out
	fixed     bool   // the code is the start's code or WithFixedCode's: every step sends it
	codeLen   int    // the length of generated codes
	wrong     int    // wrong codes so far, across the steps' codes
	// terminated is set when the last allowed wrong code was checked: the
	// workflow is over and the number free for a new start; the next
	// check answers 410, anything else 404.
	terminated bool
}

type step struct {
	channel string // Vonage's name
	to      string // normalised: E.164 with '+', or an address
	reuse   bool   // reuse_code: the step sends the code already sent
}

func (e *Emulator) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /v2/verify", e.start)
	m.HandleFunc("POST /v2/verify/{id}", e.check)
	m.HandleFunc("DELETE /v2/verify/{id}", e.cancel)
	m.HandleFunc("POST /v2/verify/{id}/next_workflow", e.next)
	m.HandleFunc("GET /v2/verify/{id}/silent-auth/redirect", e.silentAuth)
	m.HandleFunc("/v2/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, "not-found", "Not Found", "The requested resource does not exist.", nil)
	})
	e.control().Mount(m)
	m.HandleFunc("GET /_emulator/{$}", e.page)
	e.templateRoutes(m)
	e.mux = m
}

// problemBody is an RFC 7807 answer as Vonage sends it.
type problemBody struct {
	Type              string         `json:"type"`
	Title             string         `json:"title"`
	Detail            string         `json:"detail"`
	Instance          string         `json:"instance"`
	RequestID         string         `json:"request_id,omitempty"`
	InvalidParameters []invalidParam `json:"invalid_parameters,omitempty"`
}

type invalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

func writeProblem(w http.ResponseWriter, status int, kind, title, detail string, extra func(*problemBody)) {
	p := problemBody{Type: problemBase + "#" + kind, Title: title, Detail: detail, Instance: wire.NewUUID()}
	if extra != nil {
		extra(&p)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}

func invalidParams(w http.ResponseWriter, name, reason string) {
	writeProblem(w, http.StatusUnprocessableEntity, "invalid-params", "Invalid request parameters",
		"The value of one or more parameters is invalid.", func(p *problemBody) {
			p.InvalidParameters = []invalidParam{{Name: name, Reason: reason}}
		})
}

// param is a check of a request parameter: when bad, the answer is an
// invalid-params problem naming it, with the reason.
type param struct {
	bad          bool
	name, reason string
}

// refused answers the first bad parameter of params and reports whether
// there was one.
func refused(w http.ResponseWriter, params ...param) bool {
	for _, p := range params {
		if p.bad {
			invalidParams(w, p.name, p.reason)
			return true
		}
	}
	return false
}

func notFound(w http.ResponseWriter, id string) {
	writeProblem(w, http.StatusNotFound, "not-found", "Not Found",
		"Request "+id+" was not found or it has been verified already.", nil)
}

// decode reads a JSON body into v. It writes the problem and returns false
// when it cannot.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	ct := r.Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeProblem(w, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported Media Type",
			"The request body must be JSON.", nil)
		return false
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil || json.Unmarshal(data, v) != nil {
		writeProblem(w, http.StatusBadRequest, "invalid-json", "Invalid JSON",
			"The request body is not valid JSON.", nil)
		return false
	}
	return true
}

// startJSON is the body of POST /v2/verify.
type startJSON struct {
	Brand          *string    `json:"brand"`
	Workflow       []stepJSON `json:"workflow"`
	Locale         *string    `json:"locale"`
	ChannelTimeout *int       `json:"channel_timeout"`
	ClientRef      *string    `json:"client_ref"`
	CodeLength     *int       `json:"code_length"`
	Code           *string    `json:"code"`
	FraudCheck     *bool      `json:"fraud_check"`
	TemplateID     *string    `json:"template_id"`
}

type stepJSON struct {
	Channel     string `json:"channel"`
	To          string `json:"to"`
	From        string `json:"from"`
	AppHash     string `json:"app_hash"`
	EntityID    string `json:"entity_id"`
	ContentID   string `json:"content_id"`
	RedirectURL string `json:"redirect_url"`
	Sandbox     bool   `json:"sandbox"`
	ReuseCode   bool   `json:"reuse_code"`
}

// The limits of Vonage's Verify API 1.0.1.
const (
	maxBrand         = 18
	maxClientRef     = 40
	maxSteps         = 3
	defaultStepWait  = 180 * time.Second
	silentAuthChecks = 1                // "only one attempt to submit the code"
	silentAuthWait   = 60 * time.Second // the channel timeout of a workflow that starts with silent auth
)

// clientRefOK reports whether s is 1 to 40 ASCII letters and digits.
func clientRefOK(s string) bool {
	return s != "" && len(s) <= maxClientRef && strings.IndexFunc(s, func(c rune) bool {
		return !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z')
	}) < 0
}

var locales = map[string]bool{
	"en-us": true, "en-gb": true, "es-es": true, "es-mx": true, "es-us": true, "it-it": true, "fr-fr": true,
	"de-de": true, "ru-ru": true, "hi-in": true, "pt-br": true, "pt-pt": true, "id-id": true,
}

// start serves POST /v2/verify.
func (e *Emulator) start(w http.ResponseWriter, r *http.Request) {
	var in startJSON
	if !decode(w, r, &in) {
		return
	}
	if refused(w,
		param{in.Brand == nil || *in.Brand == "" || len([]rune(*in.Brand)) > maxBrand || strings.ContainsAny(*in.Brand, `\/{}:$`), "brand", "brand is required, 1 to 18 characters"},
		param{len(in.Workflow) == 0 || len(in.Workflow) > maxSteps, "workflow", "workflow must have 1 to 3 steps"},
	) {
		return
	}
	rq := &request{brand: *in.Brand, locale: "en-us", timeout: defaultStepWait,
		jwt: strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ")}
	for i, s := range in.Workflow {
		name := fmt.Sprintf("workflow[%d]", i)
		phone := slices.Contains([]string{"sms", "voice", "whatsapp", "rcs", "silent_auth"}, s.Channel)
		to := s.To
		if phone {
			to = "+" + s.To
		}
		limit := map[string]int{"sms": 15, "rcs": 15, "whatsapp": 50}[s.Channel]
		if refused(w,
			param{s.Channel == "whatsapp_interactive", name + ".channel", "whatsapp_interactive is not a Verify v2 channel (API 1.0.1)"},
			param{!phone && s.Channel != "email", name + ".channel", "unknown channel"},
			param{phone && (strings.HasPrefix(s.To, "+") || !provider.IsPhone(to)), name + ".to", "to must be an E.164 number without '+'"},
			param{s.Channel == "email" && !provider.IsEmail(to), name + ".to", "to must be an e-mail address"},
			param{limit > 0 && len(s.From) > limit, name + ".from", fmt.Sprintf("from must be at most %d characters on %s", limit, s.Channel)},
			param{(s.Channel == "whatsapp" || s.Channel == "rcs") && s.From == "", name + ".from", "from (the sender) is required on " + s.Channel},
			param{s.Channel == "silent_auth" && i != 0, name + ".channel", "silent_auth must be the first step"},
		) {
			return
		}
		if s.Channel == "silent_auth" {
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
				writeProblem(w, http.StatusUnprocessableEntity, "invalid-params", "Invalid request parameters",
					"Silent authentication needs JWT authentication.", nil)
				return
			}
			rq.redirect = s.RedirectURL
		}
		if s.AppHash != "" && len(s.AppHash) != 11 {
			invalidParams(w, name+".app_hash", "app_hash must be 11 characters")
			return
		}
		rq.steps = append(rq.steps, step{channel: s.Channel, to: to, reuse: s.ReuseCode})
	}
	if refused(w,
		param{in.Locale != nil && !locales[*in.Locale], "locale", "unsupported locale"},
		param{in.ChannelTimeout != nil && (*in.ChannelTimeout < 15 || *in.ChannelTimeout > 900), "channel_timeout", "channel_timeout must be 15 to 900"},
		param{in.ClientRef != nil && !clientRefOK(*in.ClientRef), "client_ref", "client_ref must be 1 to 40 letters and digits"},
		param{in.CodeLength != nil && (*in.CodeLength < 4 || *in.CodeLength > 10), "code_length", "code_length must be 4 to 10"},
		param{in.Code != nil && !wire.ValidCode(*in.Code), "code", "code must be 4 to 10 letters or digits"},
		param{in.TemplateID != nil && !wire.IsUUID(*in.TemplateID), "template_id", "template_id must be a UUID"},
	) {
		return
	}
	rq.locale = deref(in.Locale, rq.locale)
	rq.clientRef = deref(in.ClientRef, "")
	rq.codeLen = deref(in.CodeLength, 4)
	rq.timeout = time.Duration(deref(in.ChannelTimeout, int(rq.timeout/time.Second))) * time.Second
	if rq.steps[0].channel == "silent_auth" {
		// "If you are using Silent Authentication, the channel_timeout is
		// always fixed at 60 seconds."
		rq.timeout = silentAuthWait
	}
	switch {
	case in.Code != nil:
		rq.code, rq.fixed = *in.Code, true
	case e.fixedCode != "":
		rq.code, rq.fixed = e.fixedCode, true
	default:
		rq.code = fakeconf.CryptoDigits(rq.codeLen)
	}

	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	first := rq.steps[0]
	if id, ok := e.byTo[first.to]; ok {
		if old := e.requests[id]; old != nil && e.progress(old, now) {
			writeProblem(w, http.StatusConflict, "conflict", "Conflict",
				"Concurrent verifications to the same number are not allowed.", func(p *problemBody) { p.RequestID = id })
			return
		}
	}
	if len(e.requests) >= e.maxPend {
		for _, old := range e.requests {
			e.progress(old, now) // ends the expired ones
		}
	}
	if len(e.requests) >= e.maxPend {
		writeProblem(w, http.StatusTooManyRequests, "throttled", "Rate Limit Hit",
			"The emulator holds the most requests it may; wait for some to end.", nil)
		return
	}
	v, _, err := e.eng.Start(bg, first.to, engineChannel(first.channel), rq.code)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	rq.id = wire.NewUUID()
	rq.vid = v.ID()
	rq.stepAt, rq.created = now, now
	rq.expires = now.Add(time.Duration(len(rq.steps)) * rq.timeout)
	e.requests[rq.id] = rq
	e.byTo[first.to] = rq.id
	e.send(rq, now)
	out := map[string]string{"request_id": rq.id}
	if first.channel == "silent_auth" {
		out["check_url"] = "http://" + r.Host + "/v2/verify/" + rq.id + "/silent-auth/redirect"
	}
	emuserver.WriteJSON(w, http.StatusAccepted, out)
}

// send records the current step's message. e.mu must be held.
func (e *Emulator) send(rq *request, now time.Time) {
	s := rq.steps[rq.cur]
	rq.initiated = append(rq.initiated, now)
	m := Message{RequestID: rq.id, To: s.to, Channel: s.channel, Brand: rq.brand, Locale: rq.locale,
		ClientRef: rq.clientRef, SentAt: now.UTC()}
	if s.channel == "silent_auth" {
		m.Body = rq.brand + ": silent authentication over the mobile network"
	} else {
		m.Code = rq.code
		m.Body = "Your " + rq.brand + " verification code is: " + rq.code
	}
	e.outbox.Add(m)
}

// progress moves rq along its workflow by the clock and reports whether it
// is still live; an expired request is ended. e.mu must be held.
func (e *Emulator) progress(rq *request, now time.Time) bool {
	// Steps whose time came (before the request expired) were sent then.
	for !rq.terminated && rq.cur+1 < len(rq.steps) {
		at := rq.stepAt.Add(rq.timeout)
		if now.Before(at) || !at.Before(rq.expires) {
			break
		}
		rq.stepAt = at
		e.advance(rq, at)
	}
	if !now.Before(rq.expires) {
		if !rq.terminated {
			e.finish(rq, "expired", rq.expires)
		}
		e.end(rq)
		return false
	}
	return true
}

// advance starts the next step of rq. e.mu must be held.
//
// As with Vonage (reuse_code defaults to false), each step sends a new
// code, and the earlier ones stop approving; a step with reuse_code, and
// every step of a request whose code the start (code) or WithFixedCode
// chose, sends the code already sent.
func (e *Emulator) advance(rq *request, at time.Time) {
	rq.cur++
	s := rq.steps[rq.cur]
	first := rq.steps[0].to
	switch {
	case !rq.fixed && !s.reuse && s.channel != "silent_auth":
		// A new code: the engine's verification ends, and a new one
		// holds the new code (the wrong codes so far stay counted in
		// rq.wrong).
		code := fakeconf.CryptoDigits(rq.codeLen)
		if _, err := e.eng.End(bg, rq.vid, nil); err == nil {
			if v, _, err := e.eng.Start(bg, first, engineChannel(s.channel), code); err == nil {
				rq.vid, rq.code = v.ID(), code
			}
		}
	case s.to == first:
		// A re-send on the engine's verification: it counts as a send there.
		_, _, _ = e.eng.Start(bg, s.to, engineChannel(s.channel), rq.code)
	}
	e.send(rq, at)
}

// end forgets rq and ends its verification in the engine. e.mu must be held.
func (e *Emulator) end(rq *request) {
	delete(e.requests, rq.id)
	e.terminate(rq)
}

// terminate ends rq's workflow and frees its number, keeping the request
// known so that the next check can answer 410. e.mu must be held.
func (e *Emulator) terminate(rq *request) {
	if e.byTo[rq.steps[0].to] == rq.id {
		delete(e.byTo, rq.steps[0].to)
	}
	if !rq.terminated {
		rq.terminated = true
		_, _ = e.eng.End(bg, rq.vid, nil)
	}
}

// withLive calls fn, with e.mu held, with the live request named in the
// path, or writes a 404. A terminated request is passed only when
// terminated is true.
func (e *Emulator) withLive(w http.ResponseWriter, r *http.Request, terminated bool, fn func(*request)) {
	id := r.PathValue("id")
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	rq := e.requests[id]
	if rq == nil || rq.terminated && !terminated || !e.progress(rq, now) {
		notFound(w, id)
		return
	}
	fn(rq)
}

// check serves POST /v2/verify/{id}.
func (e *Emulator) check(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Code *string `json:"code"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Code == nil || !wire.ValidCode(*in.Code) {
		invalidParams(w, "code", "code must be 4 to 10 letters or digits")
		return
	}
	e.withLive(w, r, true, func(rq *request) { e.checkLocked(w, rq, *in.Code) })
}

// checkLocked checks code for rq. e.mu must be held.
func (e *Emulator) checkLocked(w http.ResponseWriter, rq *request, code string) {
	var status provider.Status
	var err error = provider.ErrTooManyChecks // a terminated workflow answers 410
	if !rq.terminated {
		_, status, err = e.eng.Check(bg, rq.vid, "", code, nil)
	}
	switch {
	case errors.Is(err, provider.ErrTooManyChecks):
		e.end(rq)
		writeProblem(w, http.StatusGone, "gone", "Invalid Code",
			"An incorrect code has been provided too many times. Workflow terminated.", nil)
	case errors.Is(err, provider.ErrNotFound):
		e.end(rq)
		notFound(w, rq.id)
	case err != nil:
		writeEngineError(w, err)
	case status == provider.StatusApproved:
		e.end(rq)
		e.approved.Add(rq.id)
		e.finish(rq, "completed", e.clock.Now())
		emuserver.WriteJSON(w, http.StatusOK, map[string]string{"request_id": rq.id, "status": "completed"})
	default:
		rq.wrong++
		// A silent-auth step takes one attempt; the others e.maxChecks.
		if rq.wrong >= e.maxChecks || rq.steps[rq.cur].channel == "silent_auth" && rq.wrong >= silentAuthChecks {
			e.terminate(rq)
			e.finish(rq, "failed", e.clock.Now())
		}
		writeProblem(w, http.StatusBadRequest, "bad-request", "Invalid Code",
			"The code you provided does not match the expected value.", nil)
	}
}

// cancel serves DELETE /v2/verify/{id}.
func (e *Emulator) cancel(w http.ResponseWriter, r *http.Request) {
	e.withLive(w, r, false, func(rq *request) {
		e.end(rq)
		w.WriteHeader(http.StatusNoContent)
	})
}

// next serves POST /v2/verify/{id}/next_workflow.
func (e *Emulator) next(w http.ResponseWriter, r *http.Request) {
	e.withLive(w, r, false, func(rq *request) {
		if rq.cur+1 >= len(rq.steps) {
			writeProblem(w, http.StatusConflict, "conflict", "Conflict", "There are no more events left to trigger.", nil)
			return
		}
		now := e.clock.Now()
		// The remaining steps keep their full timeouts from now.
		rq.stepAt = now
		rq.expires = now.Add(time.Duration(len(rq.steps)-rq.cur-1) * rq.timeout)
		e.advance(rq, now)
		emuserver.WriteJSON(w, http.StatusOK, map[string]string{"request_id": rq.id})
	})
}

// silentAuth serves the check_url of a silent_auth step: as the carrier
// would after recognising the handset, it redirects to the step's
// redirect_url with the request ID and a code to check in the URL's
// fragment, as Vonage does (#request_id=…&code=…; the fragment never
// reaches a server, only the page's script), or answers JSON when there
// is no redirect_url.
func (e *Emulator) silentAuth(w http.ResponseWriter, r *http.Request) {
	var id, code, redirect string
	e.withLive(w, r, false, func(rq *request) { id, code, redirect = rq.id, rq.code, rq.redirect })
	if id == "" {
		return
	}
	if redirect == "" {
		emuserver.WriteJSON(w, http.StatusOK, map[string]string{"request_id": id, "code": code})
		return
	}
	redirect, _, _ = strings.Cut(redirect, "#")
	frag := url.Values{"request_id": {id}, "code": {code}}
	http.Redirect(w, r, redirect+"#"+frag.Encode(), http.StatusFound)
}

// writeEngineError answers with the problem an engine's error stands for.
// The engine keeps its states in memory and the workflow bounds the sends
// and ends a request at its wrong-code limit, so what reaches here is a
// refused send (429) or a target whose name collides with a pending
// one's (503); a check's not-found and too-many-checks are answered by
// checkLocked.
func writeEngineError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, provider.ErrTooManySends):
		if d, ok := provider.RetryAfter(err); ok {
			emuserver.RetryAfter(w, d)
		}
		writeProblem(w, http.StatusTooManyRequests, "throttled", "Rate Limit Hit",
			"Please wait, then retry your request.", nil)
	default:
		writeProblem(w, http.StatusServiceUnavailable, "service-unavailable", "Service Unavailable",
			"The service is temporarily unavailable.", nil)
	}
}

// deref returns *p, or def when p is nil.
func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
