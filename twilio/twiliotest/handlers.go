package twiliotest

import (
	"cmp"
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/internal/fakeconf"
	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// maxForm bounds a request body.
const maxForm = 64 << 10

// settings are a Verify Service's settings that the emulator keeps.
// FriendlyName, CodeLength, CustomCodeEnabled, Psd2Enabled and
// PushIncludeDate change its behaviour; the others are stored and echoed.
// The JSON names are the Service resource's; serviceJSON renders the
// others.
type settings struct {
	FriendlyName                   string `json:"friendly_name"`
	CodeLength                     int    `json:"-"`
	LookupEnabled                  bool   `json:"lookup_enabled"`
	SkipSmsToLandlines             bool   `json:"skip_sms_to_landlines"`
	DtmfInputRequired              bool   `json:"dtmf_input_required"`
	Psd2Enabled                    bool   `json:"psd2_enabled"`
	DoNotShareWarningEnabled       bool   `json:"do_not_share_warning_enabled"`
	CustomCodeEnabled              bool   `json:"custom_code_enabled"`
	VerifyEventSubscriptionEnabled bool   `json:"verify_event_subscription_enabled"`
	PushIncludeDate                bool   `json:"-"` // push challenges' details carry "date"
	TTSName                        string `json:"-"`
	DefaultTemplateSID             string `json:"-"`
}

// info is a Verify Service held by the emulator.
type info struct {
	SID        string
	AccountSID string
	settings
	DateCreated, DateUpdated time.Time
}

// routes builds the emulator's router. A new resource goes in its own file
// as a method that registers its patterns, called from here.
func (e *Emulator) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /v2/Services", e.createService)
	m.HandleFunc("GET /v2/Services", e.listServices)
	m.HandleFunc("GET /v2/Services/{service}", e.inService(e.fetchService))
	m.HandleFunc("POST /v2/Services/{service}", e.inService(e.updateService))
	m.HandleFunc("DELETE /v2/Services/{service}", e.deleteService)
	m.HandleFunc("POST /v2/Services/{service}/Verifications", e.inService(e.createVerification))
	m.HandleFunc("GET /v2/Services/{service}/Verifications/{sid}", e.inService(e.fetchVerification))
	m.HandleFunc("POST /v2/Services/{service}/Verifications/{sid}", e.inService(e.updateVerification))
	m.HandleFunc("POST /v2/Services/{service}/VerificationCheck", e.inService(e.check))
	e.factorRoutes(m)    // factors.go
	e.safeListRoutes(m)  // safelist.go
	e.rateLimitRoutes(m) // ratelimits.go
	e.attemptRoutes(m)   // attempts.go
	e.msgConfigRoutes(m) // msgconfig.go
	e.passkeyRoutes(m)   // passkeys.go
	e.webhookRoutes(m)   // webhooks.go
	e.pushRoutes(m)      // push.go
	m.HandleFunc("/", e.fallback)
	e.control().Mount(m)
	m.HandleFunc("GET /_emulator/{$}", e.page)
	m.HandleFunc("GET "+snaPath+"{token}", e.visitSNA)
	m.HandleFunc("POST "+snaPath+"{token}", e.visitSNA)
	e.mux = m
}

// inService adapts h, a handler of one service's resources, to the mux:
// it passes on the service the request names and a copy of its settings,
// or answers 404.
func (e *Emulator) inService(h func(http.ResponseWriter, *http.Request, *service, info)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s, in := e.serviceSnapshot(w, r); s != nil {
			h(w, r, s, in)
		}
	}
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
		emuserver.RetryAfter(w, e.retryAfter)
	}
	writeCode(w, http.StatusTooManyRequests, twiliocode.TooManyRequests, msg)
}

// writeEngineError answers with the Twilio error an engine's error stands
// for. A lost response (ErrOutcomeUnknown) drops the connection instead.
func (e *Emulator) writeEngineError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, provider.ErrOutcomeUnknown) {
		emuserver.Drop(w)
		return
	}
	status, code, msg := twilioError(err)
	if code == twiliocode.NotFound {
		notFound(w, r)
		return
	}
	if status == http.StatusTooManyRequests {
		// Twilio advises no wait, except for a throttled number.
		if rs, d := reason(err); rs == fakeconf.ReasonThrottled && d > 0 {
			emuserver.RetryAfter(w, d)
		} else if e.retryAfter > 0 {
			emuserver.RetryAfter(w, e.retryAfter)
		}
	}
	writeError(w, status, code, msg)
}

// ----- verifications

// verificationCore is what Twilio's Verification and VerificationCheck
// resources share.
type verificationCore struct {
	SID         string  `json:"sid"`
	ServiceSID  string  `json:"service_sid"`
	AccountSID  string  `json:"account_sid"`
	To          string  `json:"to"`
	Channel     string  `json:"channel"`
	Status      string  `json:"status"`
	Valid       bool    `json:"valid"`
	Amount      *string `json:"amount"`
	Payee       *string `json:"payee"`
	DateCreated string  `json:"date_created"`
	DateUpdated string  `json:"date_updated"`
}

// verificationJSON is Twilio's Verification resource.
type verificationJSON struct {
	verificationCore
	Lookup           struct{}      `json:"lookup"` // always {}
	SendCodeAttempts []attemptJSON `json:"send_code_attempts"`
	SNA              *snaJSON      `json:"sna"`
	URL              string        `json:"url"`
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
	verificationCore
	SNAAttemptsErrorCodes []snaErrorJSON `json:"sna_attempts_error_codes"`
}

type snaErrorJSON struct {
	AttemptSID string `json:"attempt_sid"`
	Code       int    `json:"code"`
}

func rfc3339(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// core renders what both resources show of the verification sid of the
// service s, with its extra rc (nil when none).
func core(s info, sid, to string, ch provider.Channel, status provider.Status, created, updated time.Time, rc *extra) verificationCore {
	c := verificationCore{
		SID: sid, ServiceSID: s.SID, AccountSID: s.AccountSID, To: to, Channel: string(ch), Status: string(status),
		Valid: status == provider.StatusApproved, DateCreated: rfc3339(created), DateUpdated: rfc3339(updated),
	}
	if rc != nil {
		c.Amount, c.Payee = rc.amount, rc.payee
	}
	return c
}

func (e *Emulator) verificationJSON(r *http.Request, s info, v provider.Verification, rc *extra) verificationJSON {
	scheme, host := e.baseParts(r)
	out := verificationJSON{
		verificationCore: core(s, v.ID, v.To, v.Channel, v.Status, v.CreatedAt, v.UpdatedAt, rc),
		SendCodeAttempts: make([]attemptJSON, len(v.SendAttempts)),
		URL:              scheme + host + "/v2/Services/" + s.SID + "/Verifications/" + v.ID,
	}
	for i, a := range v.SendAttempts {
		out.SendCodeAttempts[i] = attemptJSON{Time: a.Time.UTC().Format(time.RFC3339Nano), Channel: string(a.Channel), AttemptSID: a.ID}
	}
	if rc != nil && v.Channel == provider.ChannelSNA && rc.snaToken != "" {
		out.SNA = &snaJSON{URL: scheme + host + snaPath + rc.snaToken}
	}
	return out
}

// checkJSON renders the verification st, with status, as the answer to a
// check.
func (e *Emulator) checkJSON(s info, st *engine.State, status provider.Status, rc *extra) checkJSON {
	return checkJSON{core(s, st.ID(), st.To, st.Channel, status, st.Created(), st.Updated, rc), []snaErrorJSON{}}
}

// optional returns a pointer to the form value key, nil when absent.
func optional(r *http.Request, key string) *string {
	if v, ok := r.PostForm[key]; ok {
		return &v[0]
	}
	return nil
}

func (e *Emulator) createVerification(w http.ResponseWriter, r *http.Request, s *service, in info) {
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
	name := cmp.Or(f.Get("CustomFriendlyName"), in.FriendlyName) // a service's name: 1 to 30 bytes
	if len(name) > 30 {
		invalid(w, "CustomFriendlyName")
		return
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
	if err := fakeconf.MagicStart(to, ch, e.safeListed); err != nil { // safelist.go
		e.writeEngineError(w, r, err)
		return
	}
	ch = fakeconf.SendChannel(ch, to)
	st, code, err := s.eng.Start(r.Context(), to, ch, custom)
	if errors.Is(err, errPendingFull) {
		e.tooMany(w, "Too Many Requests: the emulator holds the maximum of pending verifications")
		return
	}
	if err != nil {
		e.writeEngineError(w, r, err)
		return
	}
	v := st.View(provider.StatusPending)
	if ch != provider.ChannelSNA { // silent network auth sends no code
		e.record(s.SID, d, Message{To: to, Channel: string(ch), Code: code, name: name,
			VerificationSID: v.ID, ServiceSID: s.SID, SentAt: st.Updated.UTC()})
	}
	var amount, payee *string
	if in.Psd2Enabled {
		amount, payee = optional(r, "Amount"), optional(r, "Payee")
	}
	ex := e.started(&v, amount, payee, f.Get("EnableSnaClientToken") == "true")
	if to == fakeconf.NumberStartOutcomeUnknown {
		emuserver.Drop(w) // the code was sent, but the answer is "lost"
		return
	}
	e.recordAttempt(s.SID, locale, in.CodeLength, v) // attempts.go
	emuserver.WriteJSON(w, http.StatusCreated, e.verificationJSON(r, in, v, ex))
}

func (e *Emulator) fetchVerification(w http.ResponseWriter, r *http.Request, s *service, in info) {
	sid := r.PathValue("sid")
	st, err := s.eng.Fetch(r.Context(), sid, nil)
	if err != nil {
		e.writeEngineError(w, r, err)
		return
	}
	emuserver.WriteJSON(w, http.StatusOK, e.verificationJSON(r, in, st.View(provider.StatusPending), e.extraOf(sid)))
}

func (e *Emulator) updateVerification(w http.ResponseWriter, r *http.Request, s *service, in info) {
	sid := r.PathValue("sid")
	status := provider.Status(r.PostForm.Get("Status"))
	if status != provider.StatusCanceled && status != provider.StatusApproved {
		invalid(w, "Status")
		return
	}
	ex := e.extraOf(sid)
	st, err := s.eng.End(r.Context(), sid, nil)
	if err != nil {
		e.writeEngineError(w, r, err)
		return
	}
	e.dropExtra(sid)
	if status == provider.StatusApproved {
		e.recordApproval(sid)
	}
	emuserver.WriteJSON(w, http.StatusOK, e.verificationJSON(r, in, st.View(status), ex))
}

func (e *Emulator) check(w http.ResponseWriter, r *http.Request, s *service, in info) {
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
	var ex *extra
	e.mu.Lock()
	anyExtras := len(e.extras.bySID) > 0
	e.mu.Unlock()
	if anyExtras || !hasCode {
		// The verification's extras are by SID: find it first.
		st, ok, err := s.eng.Find(r.Context(), sid, to)
		if err != nil {
			e.writeEngineError(w, r, err)
			return
		}
		if ok {
			sid = st.ID()
			ex = e.extraOf(sid)
		}
		if !hasCode {
			// Only a silent network auth check carries no code.
			if !ok {
				notFound(w, r)
				return
			}
			if ex == nil || ex.snaToken == "" {
				invalid(w, "Code")
				return
			}
		}
	}
	if ex != nil && !psd2Matches(ex, r) {
		// PSD2: the amount and payee must be those the code was sent
		// for. A mismatch does not approve, and uses no attempt.
		e.answerPending(w, r, s, in, sid, ex, nil)
		return
	}
	if !hasCode {
		e.checkSNA(w, r, s, in, sid, ex)
		return
	}
	var gate engine.Gate // the magic numbers' refusals, by the target found
	if sid != "" {
		gate = func(found string) error {
			if err := fakeconf.MagicCheck(cmp.Or(found, to)); err != nil { // not a typed nil
				return err
			}
			return nil
		}
	} else if err := fakeconf.MagicCheck(to); err != nil {
		e.writeEngineError(w, r, err)
		return
	}
	st, status, err := s.eng.Check(r.Context(), sid, to, code, gate)
	if err != nil {
		e.writeEngineError(w, r, err)
		return
	}
	out := e.checkJSON(in, &st, status, ex)
	if status == provider.StatusApproved {
		e.dropExtra(out.SID)
		e.recordApproval(out.SID)
	}
	if st.To == fakeconf.NumberCheckOutcomeUnknown {
		emuserver.Drop(w) // the check took effect, but its answer is "lost"
		return
	}
	emuserver.WriteJSON(w, http.StatusOK, out)
}

// checkSNA answers a check without a code of the silent network auth
// verification sid: approved once the device has visited its sna.url.
func (e *Emulator) checkSNA(w http.ResponseWriter, r *http.Request, s *service, in info, sid string, ex *extra) {
	switch {
	case ex.snaClient != "" && subtle.ConstantTimeCompare([]byte(r.PostForm.Get("SnaClientToken")), []byte(ex.snaClient)) != 1:
		invalid(w, "SnaClientToken")
	case ex.snaFail != 0:
		e.answerPending(w, r, s, in, sid, ex, []snaErrorJSON{{AttemptSID: ex.snaAttempt, Code: ex.snaFail}})
	case !ex.snaDone:
		e.answerPending(w, r, s, in, sid, ex, []snaErrorJSON{{AttemptSID: ex.snaAttempt, Code: twiliocode.SNAPending}})
	default:
		st, err := s.eng.End(r.Context(), sid, nil)
		if err != nil {
			e.writeEngineError(w, r, err)
			return
		}
		e.dropExtra(sid)
		e.recordApproval(sid)
		emuserver.WriteJSON(w, http.StatusOK, e.checkJSON(in, &st, provider.StatusApproved, ex))
	}
}

// psd2Matches reports whether a check carries the amount and payee its
// verification was started with (nothing to match when it had none).
func psd2Matches(ex *extra, r *http.Request) bool {
	same := func(want *string, key string) bool {
		return want == nil || r.PostForm.Get(key) == *want && r.PostForm.Has(key)
	}
	return same(ex.amount, "Amount") && same(ex.payee, "Payee")
}

// answerPending answers a check that leaves the verification sid pending,
// without a check in the engine.
func (e *Emulator) answerPending(w http.ResponseWriter, r *http.Request, s *service, in info, sid string, ex *extra, snaErrors []snaErrorJSON) {
	st, err := s.eng.Fetch(r.Context(), sid, nil)
	if err != nil {
		e.writeEngineError(w, r, err)
		return
	}
	out := e.checkJSON(in, &st, provider.StatusPending, ex)
	if snaErrors != nil {
		out.SNAAttemptsErrorCodes = snaErrors
	}
	emuserver.WriteJSON(w, http.StatusOK, out)
}
