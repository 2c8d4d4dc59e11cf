package twiliotest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// maxForm bounds a request body.
const maxForm = 64 << 10

// settings are a Verify Service's settings that the emulator keeps.
// FriendlyName, CodeLength and CustomCodeEnabled change its behaviour; the
// others are stored and echoed.
type settings struct {
	FriendlyName                   string
	CodeLength                     int
	LookupEnabled                  bool
	SkipSmsToLandlines             bool
	DtmfInputRequired              bool
	Psd2Enabled                    bool
	DoNotShareWarningEnabled       bool
	CustomCodeEnabled              bool
	VerifyEventSubscriptionEnabled bool
	TTSName                        string
	DefaultTemplateSID             string
}

// info is a Verify Service held by the emulator.
type info struct {
	SID        string
	AccountSID string
	settings
	DateCreated, DateUpdated time.Time
}

func (e *Emulator) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /v2/Services", e.createService)
	m.HandleFunc("GET /v2/Services", e.listServices)
	m.HandleFunc("GET /v2/Services/{service}", e.fetchService)
	m.HandleFunc("POST /v2/Services/{service}", e.updateService)
	m.HandleFunc("DELETE /v2/Services/{service}", e.deleteService)
	m.HandleFunc("POST /v2/Services/{service}/Verifications", e.createVerification)
	m.HandleFunc("GET /v2/Services/{service}/Verifications/{sid}", e.fetchVerification)
	m.HandleFunc("POST /v2/Services/{service}/Verifications/{sid}", e.updateVerification)
	m.HandleFunc("POST /v2/Services/{service}/VerificationCheck", e.check)
	m.HandleFunc("/v2/", notFound)
	m.HandleFunc("GET /_emulator/messages", e.messages)
	m.HandleFunc("GET /_emulator/{$}", e.page)
	m.HandleFunc("POST /_emulator/faults", e.postFault)
	m.HandleFunc("DELETE /_emulator/faults", e.deleteFaults)
	m.HandleFunc("POST /_emulator/clock", e.postClock)
	e.mux = m
}

// form parses a request's form (the body of a POST, the query of a GET),
// bounded in size. It writes a 400 and returns false on failure.
func form(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 60200, "Invalid parameter: the request body is not a form")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// errorBody is Twilio's error JSON.
type errorBody struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, errorBody{Code: code, Message: msg, MoreInfo: "https://www.twilio.com/docs/errors/" + strconv.Itoa(code), Status: status})
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, 20404, "The requested resource "+strings.TrimPrefix(r.URL.Path, "/v2")+" was not found")
}

// writeFakeError answers with the Twilio error a fake's error stands for.
// A lost response (ErrOutcomeUnknown) drops the connection instead.
func (e *Emulator) writeFakeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, provider.ErrOutcomeUnknown) {
		dropConnection(w)
		return
	}
	status, code, msg := fakeError(err)
	if code == 20404 {
		notFound(w, r)
		return
	}
	if status == http.StatusTooManyRequests {
		if d, ok := provider.RetryAfter(err); ok {
			w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
		} else if e.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((e.retryAfter+time.Second-1)/time.Second)))
		}
	}
	writeError(w, status, code, msg)
}

// dropConnection closes the connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // the server closes the connection
}

// ----- verifications

// verificationJSON is Twilio's Verification resource.
type verificationJSON struct {
	SID              string         `json:"sid"`
	ServiceSID       string         `json:"service_sid"`
	AccountSID       string         `json:"account_sid"`
	To               string         `json:"to"`
	Channel          string         `json:"channel"`
	Status           string         `json:"status"`
	Valid            bool           `json:"valid"`
	Lookup           map[string]any `json:"lookup"`
	Amount           *string        `json:"amount"`
	Payee            *string        `json:"payee"`
	SendCodeAttempts []attemptJSON  `json:"send_code_attempts"`
	DateCreated      string         `json:"date_created"`
	DateUpdated      string         `json:"date_updated"`
	SNA              *snaJSON       `json:"sna"`
	URL              string         `json:"url"`
}

type attemptJSON struct {
	Time       string `json:"time"`
	Channel    string `json:"channel"`
	AttemptSID string `json:"attempt_sid"`
}

type snaJSON struct {
	URL string `json:"url"`
}

// checkJSON is Twilio's VerificationCheck resource.
type checkJSON struct {
	SID                   string  `json:"sid"`
	ServiceSID            string  `json:"service_sid"`
	AccountSID            string  `json:"account_sid"`
	To                    string  `json:"to"`
	Channel               string  `json:"channel"`
	Status                string  `json:"status"`
	Valid                 bool    `json:"valid"`
	Amount                *string `json:"amount"`
	Payee                 *string `json:"payee"`
	DateCreated           string  `json:"date_created"`
	DateUpdated           string  `json:"date_updated"`
	SNAAttemptsErrorCodes []any   `json:"sna_attempts_error_codes"`
}

func rfc3339(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func (e *Emulator) verificationJSON(s *service, v provider.Verification) verificationJSON {
	out := verificationJSON{
		SID: v.ID, ServiceSID: s.SID, AccountSID: s.AccountSID, To: v.To, Channel: string(v.Channel),
		Status: string(v.Status), Valid: v.Status == provider.StatusApproved, Lookup: map[string]any{},
		SendCodeAttempts: []attemptJSON{},
		DateCreated:      rfc3339(v.CreatedAt), DateUpdated: rfc3339(v.UpdatedAt),
		URL: e.publicBase + "/v2/Services/" + s.SID + "/Verifications/" + v.ID,
	}
	for _, a := range v.SendAttempts {
		out.SendCodeAttempts = append(out.SendCodeAttempts, attemptJSON{Time: rfc3339(a.Time), Channel: string(a.Channel), AttemptSID: a.ID})
	}
	if v.Channel == provider.ChannelSNA {
		out.SNA = &snaJSON{URL: e.publicBase + "/_emulator/sna/" + v.ID}
	}
	return out
}

func (e *Emulator) createVerification(w http.ResponseWriter, r *http.Request) {
	s := e.serviceFor(w, r)
	if s == nil || !form(w, r) {
		return
	}
	to, ch := r.PostForm.Get("To"), provider.Channel(r.PostForm.Get("Channel"))
	switch {
	case to == "":
		writeError(w, 400, 60200, "Invalid parameter: To")
		return
	case !ch.Known():
		writeError(w, 400, 60200, "Invalid parameter: Channel")
		return
	case ch == provider.ChannelEmail && !wire.IsEmail(to),
		ch == provider.ChannelAuto && !wire.IsEmail(to) && !wire.IsE164(to),
		ch != provider.ChannelEmail && ch != provider.ChannelAuto && !wire.IsE164(to):
		writeError(w, 400, 60200, "Invalid parameter: To")
		return
	}
	custom := r.PostForm.Get("CustomCode")
	e.mu.Lock()
	customOK := s.CustomCodeEnabled
	e.mu.Unlock()
	if custom != "" && !customOK {
		writeError(w, 403, 60204, "Service does not support this feature: custom codes are not enabled")
		return
	}
	if custom != "" && !wire.ValidCode(custom) {
		writeError(w, 400, 60200, "Invalid parameter: CustomCode")
		return
	}
	if len(r.PostForm.Get("CustomFriendlyName")) > 30 {
		writeError(w, 400, 60200, "Invalid parameter: CustomFriendlyName")
		return
	}
	v, err := s.fake.Start(r.Context(), provider.StartRequest{
		To: to, Channel: ch, Locale: r.PostForm.Get("Locale"),
		FriendlyName: r.PostForm.Get("CustomFriendlyName"), CustomCode: custom,
	})
	if err != nil {
		e.writeFakeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, e.verificationJSON(s, v))
}

func (e *Emulator) fetchVerification(w http.ResponseWriter, r *http.Request) {
	s := e.serviceFor(w, r)
	if s == nil {
		return
	}
	v, err := s.fake.Fetch(r.Context(), r.PathValue("sid"))
	if err != nil {
		e.writeFakeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e.verificationJSON(s, v))
}

func (e *Emulator) updateVerification(w http.ResponseWriter, r *http.Request) {
	s := e.serviceFor(w, r)
	if s == nil || !form(w, r) {
		return
	}
	var v provider.Verification
	var err error
	switch r.PostForm.Get("Status") {
	case "canceled":
		v, err = s.fake.Cancel(r.Context(), r.PathValue("sid"))
	case "approved":
		v, err = s.fake.Approve(r.Context(), r.PathValue("sid"))
		if err == nil {
			e.recordApproval(v.ID)
		}
	default:
		writeError(w, 400, 60200, "Invalid parameter: Status")
		return
	}
	if err != nil {
		e.writeFakeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e.verificationJSON(s, v))
}

func (e *Emulator) check(w http.ResponseWriter, r *http.Request) {
	s := e.serviceFor(w, r)
	if s == nil || !form(w, r) {
		return
	}
	to, sid, code := r.PostForm.Get("To"), r.PostForm.Get("VerificationSid"), r.PostForm.Get("Code")
	switch { // neither To nor VerificationSid: the fake answers 60221
	case sid != "" && !wire.ValidSID(sid, "VE"):
		writeError(w, 400, 60200, "Invalid parameter: VerificationSid")
		return
	case to != "" && !wire.IsE164(to) && !wire.IsEmail(to):
		writeError(w, 400, 60200, "Invalid parameter: To")
		return
	case !wire.ValidCode(code):
		writeError(w, 400, 60200, "Invalid parameter: Code")
		return
	}
	v, err := s.fake.Check(r.Context(), provider.CheckRequest{ID: sid, To: to, Code: code})
	if err != nil {
		e.writeFakeError(w, r, err)
		return
	}
	if v.Approved() {
		e.recordApproval(v.ID)
	}
	writeJSON(w, http.StatusOK, checkJSON{
		SID: v.ID, ServiceSID: s.SID, AccountSID: s.AccountSID, To: v.To, Channel: string(v.Channel),
		Status: string(v.Status), Valid: v.Approved(), DateCreated: rfc3339(v.CreatedAt), DateUpdated: rfc3339(v.UpdatedAt),
		SNAAttemptsErrorCodes: []any{},
	})
}
