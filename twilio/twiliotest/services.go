package twiliotest

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/verifykit/verifykit/internal/wire"
)

// serviceJSON is Twilio's Service resource.
type serviceJSON struct {
	SID                            string            `json:"sid"`
	AccountSID                     string            `json:"account_sid"`
	FriendlyName                   string            `json:"friendly_name"`
	CodeLength                     int               `json:"code_length"`
	LookupEnabled                  bool              `json:"lookup_enabled"`
	Psd2Enabled                    bool              `json:"psd2_enabled"`
	SkipSmsToLandlines             bool              `json:"skip_sms_to_landlines"`
	DtmfInputRequired              bool              `json:"dtmf_input_required"`
	TTSName                        *string           `json:"tts_name"`
	DoNotShareWarningEnabled       bool              `json:"do_not_share_warning_enabled"`
	CustomCodeEnabled              bool              `json:"custom_code_enabled"`
	Push                           map[string]any    `json:"push"`
	Totp                           map[string]any    `json:"totp"`
	DefaultTemplateSID             *string           `json:"default_template_sid"`
	WhatsApp                       map[string]any    `json:"whatsapp"`
	VerifyEventSubscriptionEnabled bool              `json:"verify_event_subscription_enabled"`
	DateCreated                    string            `json:"date_created"`
	DateUpdated                    string            `json:"date_updated"`
	URL                            string            `json:"url"`
	Links                          map[string]string `json:"links"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// serviceJSON renders s. e.mu must be held.
func (e *Emulator) serviceJSON(s *service) serviceJSON {
	base := e.publicBase + "/v2/Services/" + s.SID
	codeLength := s.CodeLength
	if codeLength == 0 {
		codeLength = 6 // the fake's default
	}
	return serviceJSON{
		SID: s.SID, AccountSID: s.AccountSID, FriendlyName: s.FriendlyName, CodeLength: codeLength,
		LookupEnabled: s.LookupEnabled, Psd2Enabled: s.Psd2Enabled, SkipSmsToLandlines: s.SkipSmsToLandlines,
		DtmfInputRequired: s.DtmfInputRequired, TTSName: nullable(s.TTSName),
		DoNotShareWarningEnabled: s.DoNotShareWarningEnabled, CustomCodeEnabled: s.CustomCodeEnabled,
		Push:                           map[string]any{"include_date": false, "apn_credential_sid": nil, "fcm_credential_sid": nil},
		Totp:                           map[string]any{"issuer": nil, "time_step": 30, "code_length": 6, "skew": 1},
		DefaultTemplateSID:             nullable(s.DefaultTemplateSID),
		WhatsApp:                       map[string]any{"msg_service_sid": nil, "from": nil},
		VerifyEventSubscriptionEnabled: s.VerifyEventSubscriptionEnabled,
		DateCreated:                    rfc3339(s.DateCreated), DateUpdated: rfc3339(s.DateUpdated), URL: base,
		Links: map[string]string{
			"verification_checks":      base + "/VerificationCheck",
			"verifications":            base + "/Verifications",
			"rate_limits":              base + "/RateLimits",
			"messaging_configurations": base + "/MessagingConfigurations",
			"entities":                 base + "/Entities",
			"webhooks":                 base + "/Webhooks",
			"access_tokens":            base + "/AccessTokens",
		},
	}
}

// applySettings applies a create or update form to st, or returns the
// parameter that is invalid.
func applySettings(f url.Values, st *settings) (bad string) {
	if v, ok := f["FriendlyName"]; ok {
		if len(v[0]) == 0 || len(v[0]) > 30 {
			return "FriendlyName"
		}
		st.FriendlyName = v[0]
	}
	if v := f.Get("CodeLength"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 4 || n > 10 {
			return "CodeLength"
		}
		st.CodeLength = n
	}
	for key, p := range map[string]*bool{
		"LookupEnabled": &st.LookupEnabled, "SkipSmsToLandlines": &st.SkipSmsToLandlines,
		"DtmfInputRequired": &st.DtmfInputRequired, "Psd2Enabled": &st.Psd2Enabled,
		"DoNotShareWarningEnabled": &st.DoNotShareWarningEnabled, "CustomCodeEnabled": &st.CustomCodeEnabled,
		"VerifyEventSubscriptionEnabled": &st.VerifyEventSubscriptionEnabled,
	} {
		if v := f.Get(key); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil || (v != "true" && v != "false") {
				return key
			}
			*p = b
		}
	}
	if v := f.Get("TtsName"); v != "" {
		st.TTSName = v
	}
	if v := f.Get("DefaultTemplateSid"); v != "" {
		if !wire.ValidSID(v, "HJ") {
			return "DefaultTemplateSid"
		}
		st.DefaultTemplateSID = v
	}
	return ""
}

func (e *Emulator) createService(w http.ResponseWriter, r *http.Request) {
	if !form(w, r) {
		return
	}
	if r.PostForm.Get("FriendlyName") == "" {
		writeError(w, 400, 60200, "Invalid parameter: FriendlyName")
		return
	}
	var st settings
	if bad := applySettings(r.PostForm, &st); bad != "" {
		writeError(w, 400, 60200, "Invalid parameter: "+bad)
		return
	}
	e.mu.Lock()
	sid := e.newSID("VA")
	e.mu.Unlock()
	s, err := e.addService(sid, st)
	if err != nil {
		writeError(w, 400, 60200, "Invalid parameter")
		return
	}
	e.mu.Lock()
	body := e.serviceJSON(s)
	e.mu.Unlock()
	writeJSON(w, http.StatusCreated, body)
}

func (e *Emulator) fetchService(w http.ResponseWriter, r *http.Request) {
	s := e.serviceFor(w, r)
	if s == nil {
		return
	}
	e.mu.Lock()
	body := e.serviceJSON(s)
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

// updateService changes a service's settings. A change of CodeLength gives
// the service a new fake, so its pending verifications are dropped (a
// simplification: Twilio applies it to new verifications only).
func (e *Emulator) updateService(w http.ResponseWriter, r *http.Request) {
	s := e.serviceFor(w, r)
	if s == nil || !form(w, r) {
		return
	}
	e.mu.Lock()
	st := s.settings
	e.mu.Unlock()
	if bad := applySettings(r.PostForm, &st); bad != "" {
		writeError(w, 400, 60200, "Invalid parameter: "+bad)
		return
	}
	e.mu.Lock()
	rebuild := st.CodeLength != s.CodeLength || st.FriendlyName != s.FriendlyName
	e.mu.Unlock()
	if rebuild {
		f, err := e.newFake(s.SID, st)
		if err != nil {
			writeError(w, 400, 60200, "Invalid parameter")
			return
		}
		e.mu.Lock()
		s.fake = f
		e.mu.Unlock()
	}
	e.mu.Lock()
	s.settings = st
	s.DateUpdated = e.baseNow().Add(e.offset).UTC()
	body := e.serviceJSON(s)
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

func (e *Emulator) deleteService(w http.ResponseWriter, r *http.Request) {
	sid := r.PathValue("service")
	e.mu.Lock()
	_, ok := e.services[sid]
	if ok {
		delete(e.services, sid)
		for i, o := range e.order {
			if o == sid {
				e.order = append(e.order[:i:i], e.order[i+1:]...)
				break
			}
		}
	}
	e.mu.Unlock()
	if !ok {
		notFound(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listServices serves a page of services. PageToken is the index of the
// page's first service, as text; Page is informational, as on Twilio.
func (e *Emulator) listServices(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := 50
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, 400, 60200, "Invalid parameter: PageSize")
			return
		}
		size = n
	}
	start := 0
	if v := q.Get("PageToken"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, 400, 60200, "Invalid parameter: PageToken")
			return
		}
		start = n
	}
	page := start / size
	e.mu.Lock()
	list := []serviceJSON{}
	for i := start; i < len(e.order) && i < start+size; i++ {
		list = append(list, e.serviceJSON(e.services[e.order[i]]))
	}
	more := start+size < len(e.order)
	e.mu.Unlock()
	pageURL := func(p, token int) string {
		v := url.Values{"PageSize": {strconv.Itoa(size)}, "Page": {strconv.Itoa(p)}}
		if token > 0 {
			v.Set("PageToken", strconv.Itoa(token))
		}
		return e.publicBase + "/v2/Services?" + v.Encode()
	}
	meta := map[string]any{
		"page": page, "page_size": size, "key": "services",
		"first_page_url": pageURL(0, 0), "url": pageURL(page, start),
		"previous_page_url": nil, "next_page_url": nil,
	}
	if start > 0 {
		meta["previous_page_url"] = pageURL(page-1, max(start-size, 0))
	}
	if more {
		meta["next_page_url"] = pageURL(page+1, start+size)
	}
	writeJSON(w, http.StatusOK, map[string]any{"services": list, "meta": meta})
}
