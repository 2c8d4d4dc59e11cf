package twiliotest

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/wire"
)

// serviceJSON is Twilio's Service resource.
type serviceJSON struct {
	SID                string            `json:"sid"`
	AccountSID         string            `json:"account_sid"`
	settings                             // friendly_name and the flags
	CodeLength         int               `json:"code_length"`
	TTSName            *string           `json:"tts_name"`
	Push               map[string]any    `json:"push"`
	Totp               map[string]any    `json:"totp"`
	DefaultTemplateSID *string           `json:"default_template_sid"`
	WhatsApp           map[string]any    `json:"whatsapp"`
	DateCreated        string            `json:"date_created"`
	DateUpdated        string            `json:"date_updated"`
	URL                string            `json:"url"`
	Links              map[string]string `json:"links"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// renderService renders the service in, with URLs under base; a
// CodeLength of 0 is the default, 6, as the fake's.
func renderService(in info, base string) serviceJSON {
	base += "/v2/Services/" + in.SID
	links := map[string]string{
		"verification_checks": base + "/VerificationCheck",
		"verifications":       base + "/Verifications",
		"entities":            base + "/Entities",
		"rate_limits":         base + "/RateLimits",
		// msgconfig.go
		"messaging_configurations": base + "/MessagingConfigurations",
		"webhooks":                 base + "/Webhooks",     // webhooks.go
		"access_tokens":            base + "/AccessTokens", // push.go
	}
	return serviceJSON{
		SID: in.SID, AccountSID: in.AccountSID, settings: in.settings, CodeLength: cmp.Or(in.CodeLength, 6), TTSName: nullable(in.TTSName),
		Push:               map[string]any{"include_date": in.PushIncludeDate, "apn_credential_sid": nil, "fcm_credential_sid": nil},
		Totp:               map[string]any{"issuer": nil, "time_step": 30, "code_length": 6, "skew": 1},
		DefaultTemplateSID: nullable(in.DefaultTemplateSID),
		WhatsApp:           map[string]any{"msg_service_sid": nil, "from": nil},
		DateCreated:        rfc3339(in.DateCreated), DateUpdated: rfc3339(in.DateUpdated), URL: base,
		Links: links,
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
		"Push.IncludeDate":               &st.PushIncludeDate,
	} {
		if v := f.Get(key); v != "" {
			if v != "true" && v != "false" {
				return key
			}
			*p = v == "true"
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
	if r.PostForm.Get("FriendlyName") == "" {
		invalid(w, "FriendlyName")
		return
	}
	var st settings
	if bad := applySettings(r.PostForm, &st); bad != "" {
		invalid(w, bad)
		return
	}
	e.api.mu.Lock()
	sid := e.api.newSID("VA") // the emulator's one SID sequence
	e.api.mu.Unlock()
	in, err := e.addService(sid, st)
	if errors.Is(err, errTooManyServices) {
		e.tooMany(w, "Too Many Requests: the emulator holds the maximum of services")
		return
	}
	if err != nil {
		invalid(w, "CodeLength")
		return
	}
	emuserver.WriteJSON(w, http.StatusCreated, renderService(in, e.base(r)))
}

func (e *Emulator) fetchService(w http.ResponseWriter, r *http.Request, s *service, in info) {
	emuserver.WriteJSON(w, http.StatusOK, renderService(in, e.base(r)))
}

// updateService changes a service's settings. A change of CodeLength
// applies to new verifications; those pending keep their codes, as on
// Twilio.
func (e *Emulator) updateService(w http.ResponseWriter, r *http.Request, s *service, in info) {
	st := in.settings
	if bad := applySettings(r.PostForm, &st); bad != "" {
		invalid(w, bad)
		return
	}
	e.mu.Lock()
	// Apply only the parameters given, so concurrent updates of different
	// settings do not undo each other.
	_ = applySettings(r.PostForm, &s.settings)
	s.includeDate.Store(s.PushIncludeDate)
	s.codeLength.Store(int32(s.CodeLength))
	s.DateUpdated = e.now().UTC()
	in = s.info
	e.mu.Unlock()
	emuserver.WriteJSON(w, http.StatusOK, renderService(in, e.base(r)))
}

func (e *Emulator) deleteService(w http.ResponseWriter, r *http.Request) {
	sid := r.PathValue("service")
	e.mu.Lock()
	s, ok := e.services[sid]
	if ok {
		delete(e.services, sid)
		e.order = slices.DeleteFunc(e.order, func(o string) bool { return o == sid })
	}
	e.mu.Unlock()
	if !ok {
		notFound(w, r)
		return
	}
	e.bound.drop(s.st, e.now()) // its verifications end with it
	e.dropRateLimits(sid)       // ratelimits.go
	e.dropWebhooks(sid)         // webhooks.go
	e.dropMsgConfigs(sid)       // msgconfig.go
	w.WriteHeader(http.StatusNoContent)
}

// listServices serves a page of services; its PageTokens name the page's
// first service, so paging goes on where it left off though services
// before it were deleted.
func (e *Emulator) listServices(w http.ResponseWriter, r *http.Request) {
	base := e.base(r)
	e.mu.Lock()
	items := make([]any, len(e.order))
	for i, sid := range e.order {
		items[i] = renderService(e.services[sid].info, base)
	}
	ids := slices.Clone(e.order)
	e.mu.Unlock()
	e.writePage(w, r, "services", items, ids, invalid)
}
