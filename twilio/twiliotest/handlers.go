package twiliotest

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// maxForm bounds a request body.
const maxForm = 64 << 10

// settings are a Verify Service's settings that the emulator keeps.
// FriendlyName, CodeLength, CustomCodeEnabled, Psd2Enabled and
// PushIncludeDate change its behaviour; the others are stored and echoed.
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
	PushIncludeDate                bool // push challenges' details carry "date"
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

// routes builds the emulator's router. A new resource goes in its own file
// as a method that registers its patterns, called from here; the service
// resources the emulator does not serve answer Twilio's error for an
// unavailable feature (see unavailableResources).
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
	e.factorRoutes(m)    // factors.go
	e.safeListRoutes(m)  // safelist.go
	e.rateLimitRoutes(m) // ratelimits.go
	e.attemptRoutes(m)   // attempts.go
	e.msgConfigRoutes(m) // msgconfig.go
	e.passkeyRoutes(m)   // passkeys.go
	e.webhookRoutes(m)   // webhooks.go
	e.pushRoutes(m)      // push.go
	for _, res := range unavailableResources {
		m.HandleFunc("/v2/Services/{service}/"+res, e.unavailable)
		m.HandleFunc("/v2/Services/{service}/"+res+"/", e.unavailable)
	}
	m.HandleFunc("/", e.fallback)
	e.control().Mount(m)
	m.HandleFunc("GET /_emulator/{$}", e.page)
	m.HandleFunc("GET /_emulator/stats", e.stats)
	m.HandleFunc("GET "+snaPath+"{token}", e.visitSNA)
	m.HandleFunc("POST "+snaPath+"{token}", e.visitSNA)
	e.mux = m
}

// unavailableResources are the resources a Service's links name that the
// emulator does not serve. Requests for them answer 403 with Twilio error
// 60204, the error of a feature a service does not offer.
var unavailableResources = []string{}

func (e *Emulator) unavailable(w http.ResponseWriter, r *http.Request) {
	s, _, _ := e.serviceSnapshot(w, r)
	if s == nil {
		return
	}
	res := strings.TrimPrefix(r.URL.Path, "/v2/Services/"+s.SID+"/")
	if i := strings.IndexByte(res, '/'); i >= 0 {
		res = res[:i]
	}
	writeCode(w, http.StatusForbidden, twiliocode.FeatureUnsupported, "Service does not support this feature: the verifykit emulator does not serve "+res)
}

// errorBody is Twilio's error JSON.
type errorBody struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	emuserver.WriteJSON(w, status, errorBody{Code: code, Message: msg, MoreInfo: "https://www.twilio.com/docs/errors/" + strconv.Itoa(code), Status: status})
}

// writeCode answers with Twilio error code: its status from the shared
// table (status when the table lacks it), and msg or the table's message.
func writeCode(w http.ResponseWriter, status, code int, msg string) {
	if en, ok := twiliocode.Lookup(code); ok {
		status = en.Status
		if msg == "" {
			msg = en.Message
		}
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	writeError(w, status, code, msg)
}

func invalid(w http.ResponseWriter, param string) {
	writeCode(w, http.StatusBadRequest, twiliocode.InvalidParameter, "Invalid parameter: "+param)
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeCode(w, http.StatusNotFound, twiliocode.NotFound, "The requested resource "+strings.TrimPrefix(r.URL.Path, "/v2")+" was not found")
}

// tooMany answers 429 with Twilio error 20429, and a Retry-After header if
// the emulator is configured with one.
func (e *Emulator) tooMany(w http.ResponseWriter, msg string) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.retryAfter+time.Second-1)/time.Second)))
	}
	writeCode(w, http.StatusTooManyRequests, twiliocode.TooManyRequests, msg)
}

// writeFakeError answers with the Twilio error a fake's error stands for.
// A lost response (ErrOutcomeUnknown) drops the connection instead.
func (e *Emulator) writeFakeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, provider.ErrOutcomeUnknown) {
		emuserver.Drop(w)
		return
	}
	status, code, msg := fakeError(err)
	if code == twiliocode.NotFound {
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
	SID                   string         `json:"sid"`
	ServiceSID            string         `json:"service_sid"`
	AccountSID            string         `json:"account_sid"`
	To                    string         `json:"to"`
	Channel               string         `json:"channel"`
	Status                string         `json:"status"`
	Valid                 bool           `json:"valid"`
	Amount                *string        `json:"amount"`
	Payee                 *string        `json:"payee"`
	DateCreated           string         `json:"date_created"`
	DateUpdated           string         `json:"date_updated"`
	SNAAttemptsErrorCodes []snaErrorJSON `json:"sna_attempts_error_codes"`
}

type snaErrorJSON struct {
	AttemptSID string `json:"attempt_sid"`
	Code       int    `json:"code"`
}

func rfc3339(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// rfc3339Nano keeps sub-second precision, as Twilio's send_code_attempts
// times do.
func rfc3339Nano(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (e *Emulator) verificationJSON(r *http.Request, s info, v provider.Verification, rc *rec) verificationJSON {
	base := e.base(r)
	out := verificationJSON{
		SID: v.ID, ServiceSID: s.SID, AccountSID: s.AccountSID, To: v.To, Channel: string(v.Channel),
		Status: string(v.Status), Valid: v.Status == provider.StatusApproved, Lookup: map[string]any{},
		SendCodeAttempts: []attemptJSON{},
		DateCreated:      rfc3339(v.CreatedAt), DateUpdated: rfc3339(v.UpdatedAt),
		URL: base + "/v2/Services/" + s.SID + "/Verifications/" + v.ID,
	}
	for _, a := range v.SendAttempts {
		out.SendCodeAttempts = append(out.SendCodeAttempts, attemptJSON{Time: rfc3339Nano(a.Time), Channel: string(a.Channel), AttemptSID: a.ID})
	}
	if rc != nil {
		out.Amount, out.Payee = rc.amount, rc.payee
		if v.Channel == provider.ChannelSNA && rc.snaToken != "" {
			out.SNA = &snaJSON{URL: base + snaPath + rc.snaToken}
		}
	}
	return out
}

func (e *Emulator) checkJSON(s info, v provider.Verification, rc *rec) checkJSON {
	out := checkJSON{
		SID: v.ID, ServiceSID: s.SID, AccountSID: s.AccountSID, To: v.To, Channel: string(v.Channel),
		Status: string(v.Status), Valid: v.Approved(), DateCreated: rfc3339(v.CreatedAt), DateUpdated: rfc3339(v.UpdatedAt),
		SNAAttemptsErrorCodes: []snaErrorJSON{},
	}
	if rc != nil {
		out.Amount, out.Payee = rc.amount, rc.payee
	}
	return out
}

// optional returns a pointer to the form value key, nil when absent.
func optional(r *http.Request, key string) *string {
	if v, ok := r.PostForm[key]; ok {
		s := v[0]
		return &s
	}
	return nil
}

func (e *Emulator) createVerification(w http.ResponseWriter, r *http.Request) {
	s, in, cur := e.serviceSnapshot(w, r)
	if s == nil {
		return
	}
	f := r.PostForm
	to, ch := f.Get("To"), provider.Channel(f.Get("Channel"))
	switch {
	case to == "":
		invalid(w, "To")
		return
	case !ch.Known():
		invalid(w, "Channel")
		return
	case !provider.ChannelFits(ch, to):
		invalid(w, "To")
		return
	}
	custom := f.Get("CustomCode")
	if custom != "" && !in.CustomCodeEnabled {
		writeCode(w, 403, twiliocode.FeatureUnsupported, "Service does not support this feature: custom codes are not enabled")
		return
	}
	if custom != "" && !wire.ValidCode(custom) {
		invalid(w, "CustomCode")
		return
	}
	name := f.Get("CustomFriendlyName")
	if len(name) > 30 {
		invalid(w, "CustomFriendlyName")
		return
	}
	if name == "" && len(in.FriendlyName) <= 30 {
		name = in.FriendlyName
	}
	locale := f.Get("Locale")
	if _, ok := f["Locale"]; ok && !knownLocale(locale) {
		// Twilio answers an unsupported locale with a 404.
		writeCode(w, http.StatusNotFound, twiliocode.NotFound, "The requested resource was not found: locale "+strconv.Quote(locale)+" is not supported")
		return
	}
	if cc, ok := f["ChannelConfiguration"]; ok {
		if msg := checkChannelConfiguration(cc[0], ch, to); msg != "" {
			invalid(w, "ChannelConfiguration: "+msg)
			return
		}
	}
	if !e.admitRateLimits(w, r, s.SID, to) { // ratelimits.go
		return
	}
	d, ok := e.startDelivery(w, r, in, to, string(ch), locale, name) // msgconfig.go
	if !ok {
		return
	}
	var amount, payee *string
	if in.Psd2Enabled {
		amount, payee = optional(r, "Amount"), optional(r, "Payee")
	}
	ff, reserved := e.reserve(s, cur, to)
	if ff == nil {
		e.tooMany(w, "Too Many Requests: the emulator holds the maximum of pending verifications")
		return
	}
	v, err := ff.Start(context.WithValue(r.Context(), deliveryKey{}, d), provider.StartRequest{To: to, Channel: ch, Locale: locale, FriendlyName: name, CustomCode: custom})
	if err != nil {
		e.started(reserved, nil, nil, nil)
		e.writeFakeError(w, r, err)
		return
	}
	rc := e.started(reserved, &v, amount, payee)
	if ch == provider.ChannelSNA && f.Get("EnableSnaClientToken") == "true" {
		rc = e.enableSNAClientToken(rc) // sna.go
	}
	e.recordAttempt(s.SID, locale, in.CodeLength, v) // attempts.go
	emuserver.WriteJSON(w, http.StatusCreated, e.verificationJSON(r, in, v, rc))
}

// fakeFor returns the fake that holds the verification sid of service s,
// and a copy of its record.
func (e *Emulator) fakeFor(s *service, cur *fake.Fake, sid string) (*fake.Fake, *rec) {
	rc := e.lookupRec(s, sid, "")
	if rc != nil {
		return rc.fake, rc
	}
	return cur, nil
}

func (e *Emulator) fetchVerification(w http.ResponseWriter, r *http.Request) {
	s, in, cur := e.serviceSnapshot(w, r)
	if s == nil {
		return
	}
	sid := r.PathValue("sid")
	f, rc := e.fakeFor(s, cur, sid)
	v, err := f.Fetch(r.Context(), sid)
	if err != nil {
		if errors.Is(err, provider.ErrNotFound) {
			e.forget(sid)
		}
		e.writeFakeError(w, r, err)
		return
	}
	emuserver.WriteJSON(w, http.StatusOK, e.verificationJSON(r, in, v, rc))
}

func (e *Emulator) updateVerification(w http.ResponseWriter, r *http.Request) {
	s, in, cur := e.serviceSnapshot(w, r)
	if s == nil {
		return
	}
	sid := r.PathValue("sid")
	f, rc := e.fakeFor(s, cur, sid)
	var v provider.Verification
	var err error
	switch r.PostForm.Get("Status") {
	case "canceled":
		v, err = f.Cancel(r.Context(), sid)
	case "approved":
		v, err = f.Approve(r.Context(), sid)
		if err == nil {
			e.recordApproval(v.ID)
		}
	default:
		invalid(w, "Status")
		return
	}
	if err == nil || errors.Is(err, provider.ErrNotFound) {
		e.forget(sid)
	}
	if err != nil {
		e.writeFakeError(w, r, err)
		return
	}
	emuserver.WriteJSON(w, http.StatusOK, e.verificationJSON(r, in, v, rc))
}

func (e *Emulator) check(w http.ResponseWriter, r *http.Request) {
	s, in, cur := e.serviceSnapshot(w, r)
	if s == nil {
		return
	}
	f := r.PostForm
	to, sid, code := f.Get("To"), f.Get("VerificationSid"), f.Get("Code")
	_, hasCode := f["Code"]
	switch {
	case sid == "" && to == "":
		writeCode(w, 400, twiliocode.MissingTarget, "")
		return
	case sid != "" && !wire.ValidSID(sid, "VE"):
		invalid(w, "VerificationSid")
		return
	case to != "" && !wire.IsE164(to) && !wire.IsEmail(to):
		invalid(w, "To")
		return
	case hasCode && !wire.ValidCode(code):
		invalid(w, "Code")
		return
	}
	rc := e.lookupRec(s, sid, to)
	ff := cur
	if rc != nil {
		ff = rc.fake
	}
	if !hasCode {
		// Only a silent network auth check carries no code.
		if rc == nil {
			notFound(w, r)
			return
		}
		if rc.snaToken == "" {
			invalid(w, "Code")
			return
		}
	}
	if rc != nil && !psd2Matches(rc, r) {
		// PSD2: the amount and payee must be those the code was sent
		// for. A mismatch does not approve, and uses no attempt.
		e.answerPending(w, r, in, ff, rc, nil)
		return
	}
	if !hasCode {
		if rc.snaClient != "" && subtle.ConstantTimeCompare([]byte(f.Get("SnaClientToken")), []byte(rc.snaClient)) != 1 {
			invalid(w, "SnaClientToken")
			return
		}
		if rc.snaFail != 0 {
			e.answerPending(w, r, in, ff, rc, []snaErrorJSON{{AttemptSID: rc.snaAttempt, Code: rc.snaFail}})
			return
		}
		if !rc.snaDone {
			e.answerPending(w, r, in, ff, rc, []snaErrorJSON{{AttemptSID: rc.snaAttempt, Code: twiliocode.SNAPending}})
			return
		}
		v, err := ff.Approve(r.Context(), rc.sid)
		e.forget(rc.sid)
		if err != nil {
			e.writeFakeError(w, r, err)
			return
		}
		e.recordApproval(v.ID)
		emuserver.WriteJSON(w, http.StatusOK, e.checkJSON(in, v, rc))
		return
	}
	req := provider.CheckRequest{ID: sid, To: to, Code: code}
	if rc != nil && sid == "" {
		req.ID = rc.sid // the fake that holds it may not be the service's current one
	}
	v, err := ff.Check(r.Context(), req)
	if err != nil {
		if errors.Is(err, provider.ErrNotFound) && rc != nil {
			e.forget(rc.sid)
		}
		e.writeFakeError(w, r, err)
		return
	}
	if v.Approved() {
		e.forget(v.ID)
		e.recordApproval(v.ID)
	} else if rc != nil {
		// The last wrong code a verification allows ends it (a fetch then
		// answers 404, as Twilio deletes it): drop it from the index now,
		// so Stats and the pending bound count only what is still pending.
		if _, ferr := ff.Fetch(r.Context(), rc.sid); errors.Is(ferr, provider.ErrNotFound) {
			e.forget(rc.sid)
		}
	}
	emuserver.WriteJSON(w, http.StatusOK, e.checkJSON(in, v, rc))
}

// psd2Matches reports whether a check carries the amount and payee its
// verification was started with (nothing to match when it had none).
func psd2Matches(rc *rec, r *http.Request) bool {
	same := func(want *string, key string) bool {
		return want == nil || r.PostForm.Get(key) == *want && r.PostForm.Has(key)
	}
	return same(rc.amount, "Amount") && same(rc.payee, "Payee")
}

// answerPending answers a check that leaves the verification pending,
// without a check in the fake.
func (e *Emulator) answerPending(w http.ResponseWriter, r *http.Request, in info, f *fake.Fake, rc *rec, snaErrors []snaErrorJSON) {
	v, err := f.Fetch(r.Context(), rc.sid)
	if err != nil {
		if errors.Is(err, provider.ErrNotFound) {
			e.forget(rc.sid)
		}
		e.writeFakeError(w, r, err)
		return
	}
	out := e.checkJSON(in, v, rc)
	if snaErrors != nil {
		out.SNAAttemptsErrorCodes = snaErrors
	}
	emuserver.WriteJSON(w, http.StatusOK, out)
}
