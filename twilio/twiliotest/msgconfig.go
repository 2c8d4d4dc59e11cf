package twiliotest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// Messaging Configurations, Templates and Forms. A service's messaging
// configuration for a country (or "all") names the Messaging Service (MG…)
// its SMS to that country go out through; the outbox records it in
// Message.MessagingServiceSID. A start's TemplateSid (or the service's
// DefaultTemplateSid) picks one of the emulator's templates for an sms or
// call; the outbox records it in Message.TemplateSID and its Body is the
// template's text in the start's locale (else its default translation),
// with {{code}}, {{friendly_name}} and TemplateCustomSubstitutions filled.
// Forms serves the one form type Twilio documents, form-push.

// maxMessagingConfigs bounds the configurations of a service: one per
// country and "all".
const maxMessagingConfigs = 300

// msgConfig is one messaging configuration; guarded by apiState.mu.
type msgConfig struct {
	country, messagingServiceSID string
	created, updated             time.Time
}

type msgConfigJSON struct {
	AccountSID          string `json:"account_sid"`
	ServiceSID          string `json:"service_sid"`
	Country             string `json:"country"`
	MessagingServiceSID string `json:"messaging_service_sid"`
	DateCreated         string `json:"date_created"`
	DateUpdated         string `json:"date_updated"`
	URL                 string `json:"url"`
}

func (e *Emulator) msgConfigRoutes(m *http.ServeMux) {
	const mc = "/v2/Services/{service}/MessagingConfigurations"
	m.HandleFunc("POST "+mc, e.createMsgConfig)
	m.HandleFunc("GET "+mc, e.listMsgConfigs)
	m.HandleFunc("GET "+mc+"/{country}", e.msgConfigHandler(e.fetchMsgConfig))
	m.HandleFunc("POST "+mc+"/{country}", e.msgConfigHandler(e.updateMsgConfig))
	m.HandleFunc("DELETE "+mc+"/{country}", e.msgConfigHandler(e.deleteMsgConfig))
	m.HandleFunc("GET /v2/Templates", e.listTemplates)
	m.HandleFunc("GET /v2/Forms/{type}", e.fetchForm)
}

func (e *Emulator) msgConfigJSON(r *http.Request, service string, c *msgConfig) msgConfigJSON {
	return msgConfigJSON{
		AccountSID: e.accountSID, ServiceSID: service, Country: c.country, MessagingServiceSID: c.messagingServiceSID,
		DateCreated: rfc3339(c.created), DateUpdated: rfc3339(c.updated),
		URL: e.base(r) + "/v2/Services/" + service + "/MessagingConfigurations/" + c.country,
	}
}

// configCountry returns the canonical form of a Country parameter: "all"
// or an upper-case ISO 3166-1 alpha-2 code, or "" when it is neither.
func configCountry(s string) string {
	if s == "all" {
		return s
	}
	if len(s) != 2 || !isLetter(s[0]) || !isLetter(s[1]) {
		return ""
	}
	return strings.ToUpper(s)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func (e *Emulator) createMsgConfig(w http.ResponseWriter, r *http.Request) {
	s, _ := e.serviceSnapshot(w, r)
	if s == nil {
		return
	}
	country, mg := configCountry(r.PostForm.Get("Country")), r.PostForm.Get("MessagingServiceSid")
	switch {
	case country == "":
		invalid(w, "Country")
		return
	case !wire.ValidSID(mg, "MG"):
		invalid(w, "MessagingServiceSid")
		return
	}
	now := e.now().UTC()
	a := &e.api
	a.mu.Lock()
	cs := a.msgConfigs[s.SID]
	var c *msgConfig
	switch {
	case cs[country] != nil:
		a.mu.Unlock()
		// Twilio does not document a second configuration for a
		// country; the emulator refuses it as a bad Country.
		writeCode(w, http.StatusBadRequest, twiliocode.InvalidParameter, "Invalid parameter: Country: a messaging configuration for "+country+" exists")
		return
	case len(cs) >= maxMessagingConfigs:
		a.mu.Unlock()
		writeCode(w, http.StatusTooManyRequests, twiliocode.TooManyRequests, "Too many messaging configurations")
		return
	}
	if a.msgConfigs == nil {
		a.msgConfigs = map[string]map[string]*msgConfig{}
	}
	if cs == nil {
		cs = map[string]*msgConfig{}
		a.msgConfigs[s.SID] = cs
	}
	c = &msgConfig{country: country, messagingServiceSID: mg, created: now, updated: now}
	cs[country] = c
	out := e.msgConfigJSON(r, s.SID, c)
	a.mu.Unlock()
	emuserver.WriteJSON(w, http.StatusCreated, out)
}

// msgConfigHandler finds the configuration the request names, holding
// apiState.mu while h runs, or answers 404.
func (e *Emulator) msgConfigHandler(h func(http.ResponseWriter, *http.Request, string, *msgConfig)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, _ := e.serviceSnapshot(w, r)
		if s == nil {
			return
		}
		a := &e.api
		a.mu.Lock()
		c := a.msgConfigs[s.SID][configCountry(r.PathValue("country"))]
		if c == nil {
			a.mu.Unlock()
			notFound(w, r)
			return
		}
		h(w, r, s.SID, c)
		a.mu.Unlock()
	}
}

func (e *Emulator) fetchMsgConfig(w http.ResponseWriter, r *http.Request, service string, c *msgConfig) {
	emuserver.WriteJSON(w, http.StatusOK, e.msgConfigJSON(r, service, c))
}

func (e *Emulator) updateMsgConfig(w http.ResponseWriter, r *http.Request, service string, c *msgConfig) {
	mg := r.PostForm.Get("MessagingServiceSid")
	if !wire.ValidSID(mg, "MG") {
		invalid(w, "MessagingServiceSid")
		return
	}
	c.messagingServiceSID, c.updated = mg, e.now().UTC()
	emuserver.WriteJSON(w, http.StatusOK, e.msgConfigJSON(r, service, c))
}

func (e *Emulator) deleteMsgConfig(w http.ResponseWriter, r *http.Request, service string, c *msgConfig) {
	delete(e.api.msgConfigs[service], c.country)
	w.WriteHeader(http.StatusNoContent)
}

// listMsgConfigs lists a service's configurations, "all" first, then by
// country.
func (e *Emulator) listMsgConfigs(w http.ResponseWriter, r *http.Request) {
	s, _ := e.serviceSnapshot(w, r)
	if s == nil {
		return
	}
	a := &e.api
	a.mu.Lock()
	cs := a.msgConfigs[s.SID]
	keys := make([]string, 0, len(cs))
	for k := range cs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int {
		switch {
		case x == y:
			return 0
		case x == "all":
			return -1
		case y == "all":
			return 1
		}
		return strings.Compare(x, y)
	})
	items := make([]any, 0, len(keys))
	for _, k := range keys {
		items = append(items, e.msgConfigJSON(r, s.SID, cs[k]))
	}
	a.mu.Unlock()
	e.writePage(w, r, "messaging_configurations", items, nil, badFactorParam)
}

// dropMsgConfigs forgets the configurations of a deleted service.
func (e *Emulator) dropMsgConfigs(service string) {
	a := &e.api
	a.mu.Lock()
	delete(a.msgConfigs, service)
	a.mu.Unlock()
}

// messagingServiceFor returns the Messaging Service an SMS of service to
// the number to goes out through: its country's configuration, else the
// "all" one, else "".
func (e *Emulator) messagingServiceFor(service, to string) string {
	a := &e.api
	a.mu.Lock()
	defer a.mu.Unlock()
	cs := a.msgConfigs[service]
	if len(cs) == 0 {
		return "" // without a configuration, no need to find the country
	}
	if c := cs[countryOf(to)]; c != nil {
		return c.messagingServiceSID
	}
	if c := cs["all"]; c != nil {
		return c.messagingServiceSID
	}
	return ""
}

// msgTemplate is one of the emulator's message templates.
type msgTemplate struct {
	sid, name string
	channels  []string
	texts     map[string]string // locale → text; the first locale is the default
	order     []string          // locales, default first
}

// templateDate is the creation and update time of the built-in templates.
var templateDate = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// templates are the templates every emulated account has. Their texts are
// the emulator's own.
var templates = []msgTemplate{
	{
		sid: "HJ00000000000000000000000000000001", name: "verifykit short", channels: []string{"sms", "voice"},
		texts: map[string]string{"en": "{{code}} is your {{friendly_name}} code.", "es": "{{code}} es tu código de {{friendly_name}}."},
		order: []string{"en", "es"},
	},
	{
		sid: "HJ00000000000000000000000000000002", name: "verifykit do not share", channels: []string{"sms"},
		texts: map[string]string{"en": "{{friendly_name}}: {{code}} is your code. Nobody from {{friendly_name}} will ask for it."},
		order: []string{"en"},
	},
	{
		sid: "HJ00000000000000000000000000000003", name: "verifykit custom", channels: []string{"sms"},
		texts: map[string]string{"en": "{{code}} signs you in to {{app_name}}."},
		order: []string{"en"},
	},
}

// TemplateSIDs are the SIDs of the emulator's message templates, as GET
// /v2/Templates lists them: the short one ("{{code}} is your
// {{friendly_name}} code.", in en and es, for sms and voice), the do-not-
// share one (sms, en) and one with a custom variable {{app_name}} that a
// start's TemplateCustomSubstitutions fills (sms, en).
var TemplateSIDs = []string{templates[0].sid, templates[1].sid, templates[2].sid}

func findTemplate(sid string) *msgTemplate {
	for i := range templates {
		if templates[i].sid == sid {
			return &templates[i]
		}
	}
	return nil
}

type translationJSON struct {
	IsDefaultTranslation bool   `json:"is_default_translation"`
	Status               string `json:"status"`
	Locale               string `json:"locale"`
	Text                 string `json:"text"`
	DateUpdated          string `json:"date_updated"`
	DateCreated          string `json:"date_created"`
}

type templateJSON struct {
	SID          string                     `json:"sid"`
	AccountSID   string                     `json:"account_sid"`
	FriendlyName string                     `json:"friendly_name"`
	Channels     []string                   `json:"channels"`
	Translations map[string]translationJSON `json:"translations"`
}

// listTemplates lists the templates whose friendly name contains the
// FriendlyName filter (case does not matter).
func (e *Emulator) listTemplates(w http.ResponseWriter, r *http.Request) {
	name := strings.ToLower(r.URL.Query().Get("FriendlyName"))
	items := []any{}
	for _, t := range templates {
		if !strings.Contains(strings.ToLower(t.name), name) {
			continue
		}
		tr := map[string]translationJSON{}
		for i, l := range t.order {
			tr[l] = translationJSON{IsDefaultTranslation: i == 0, Status: "approved", Locale: l, Text: t.texts[l], DateCreated: rfc3339(templateDate), DateUpdated: rfc3339(templateDate)}
		}
		items = append(items, templateJSON{SID: t.sid, AccountSID: e.accountSID, FriendlyName: t.name, Channels: t.channels, Translations: tr})
	}
	e.writePage(w, r, "templates", items, nil, badFactorParam)
}

// delivery is what a start adds to the message it sends: the Messaging
// Service and template; record renders the message with it.
type delivery struct {
	messagingServiceSID, templateSID string
	text                             string            // the template's text, "" without a template
	subst                            map[string]string // placeholder → value, besides code
}

// render returns the body of a message with code under d's template, or
// body when d has none.
func (d *delivery) render(body, code string) string {
	if d == nil || d.text == "" {
		return body
	}
	pairs := []string{"{{code}}", code}
	for k, v := range d.subst {
		pairs = append(pairs, "{{"+k+"}}", v)
	}
	return strings.NewReplacer(pairs...).Replace(d.text)
}

// startDelivery works out the delivery of a start of service to to over
// channel ch: the messaging configuration (sms only) and the template
// (sms and call) of TemplateSid or the service's default. It writes a 400
// and returns false when the template is unknown or its substitutions are
// not a JSON object of strings. The delivery is nil when it adds nothing.
func (e *Emulator) startDelivery(w http.ResponseWriter, r *http.Request, in info, to, ch, locale, name string) (*delivery, bool) {
	var msid string
	if ch == "sms" {
		msid = e.messagingServiceFor(in.SID, to)
	}
	sid := r.PostForm.Get("TemplateSid")
	param := "TemplateSid"
	if sid == "" {
		sid, param = in.DefaultTemplateSID, "DefaultTemplateSid"
	}
	if sid == "" || ch != "sms" && ch != "call" {
		if msid == "" {
			return nil, true // nothing to add
		}
		return &delivery{messagingServiceSID: msid}, true
	}
	t := findTemplate(sid)
	if t == nil || !slices.Contains(t.channels, map[string]string{"sms": "sms", "call": "voice"}[ch]) {
		invalid(w, param)
		return nil, false
	}
	d := &delivery{messagingServiceSID: msid, templateSID: sid}
	d.text = t.texts[t.order[0]]
	if txt, ok := t.texts[strings.ToLower(locale)]; ok {
		d.text = txt
	}
	d.subst = map[string]string{"friendly_name": name}
	if raw := r.PostForm.Get("TemplateCustomSubstitutions"); raw != "" {
		var m map[string]string
		if json.Unmarshal([]byte(raw), &m) != nil || m == nil {
			invalid(w, "TemplateCustomSubstitutions")
			return nil, false
		}
		for k, v := range m {
			if k != "code" && k != "friendly_name" {
				d.subst[k] = v
			}
		}
	}
	return d, true
}

// pushForm is the form-push answer: JSON Schemas of the forms of a push
// factor (its creation and verification) and of a challenge, and the
// separator of the binding.
var pushForm = map[string]any{
	"create_factor": map[string]any{
		"type":     "object",
		"required": []string{"binding", "config"},
		"properties": map[string]any{
			"binding": map[string]any{"type": "object", "required": []string{"alg", "public_key"},
				"properties": map[string]any{"alg": map[string]any{"type": "string", "enum": []string{"ES256"}}, "public_key": map[string]any{"type": "string"}}},
			"config": map[string]any{"type": "object", "required": []string{"sdk_version", "app_id", "notification_platform"},
				"properties": map[string]any{
					"sdk_version": map[string]any{"type": "string"}, "app_id": map[string]any{"type": "string"},
					"notification_platform": map[string]any{"type": "string", "enum": []string{"apn", "fcm", "none"}},
					"notification_token":    map[string]any{"type": "string"},
				}},
		},
	},
	"verify_factor": map[string]any{
		"type": "object", "required": []string{"auth_payload"},
		"properties": map[string]any{"auth_payload": map[string]any{"type": "string"}},
	},
	"create_challenge": map[string]any{
		"type": "object", "required": []string{"details"},
		"properties": map[string]any{"details": map[string]any{"type": "object", "required": []string{"message"},
			"properties": map[string]any{"message": map[string]any{"type": "string", "maxLength": 255}, "fields": map[string]any{"type": "array"}}}},
	},
}

// fetchForm answers the form-push form; Twilio has no other form type.
func (e *Emulator) fetchForm(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("type") != "form-push" {
		notFound(w, r)
		return
	}
	emuserver.WriteJSON(w, http.StatusOK, map[string]any{
		"form_type": "form-push", "forms": pushForm, "form_meta": map[string]any{"binding_separator": "|"},
		"url": e.base(r) + "/v2/Forms/form-push",
	})
}
