// Package pushwire serves the push device protocol over HTTP as Twilio
// Verify's official Android and iOS SDKs call it, over any
// provider.PushDeviceAPI: the fake's device API, the engine's, a
// self-hosted provider's. A phone (an app built on the SDKs, the Go
// simulator's HTTP transport, or the web app's phone page) creates its
// factor, verifies it, polls, fetches and answers challenges, and deletes
// its factor through it; every check (the access token, the request JWT,
// the signatures) is the API's, this package only carries the wire.
//
// The routes, under the handler's root:
//
//	POST   /v2/Services/{service}/Entities/{identity}/Factors             create (Basic token:<access token>)
//	POST   /v2/Services/{service}/Entities/{identity}/Factors/{sid}       verify (AuthPayload), or update (Config.NotificationPlatform, Config.NotificationToken, Config.SdkVersion, FriendlyName)
//	DELETE /v2/Services/{service}/Entities/{identity}/Factors/{sid}       delete
//	GET    /v2/Services/{service}/Entities/{identity}/Challenges          list (FactorSid, Status)
//	GET    /v2/Services/{service}/Entities/{identity}/Challenges/{sid}    fetch (+ Twilio-Verify-Signature-Fields)
//	POST   /v2/Services/{service}/Entities/{identity}/Challenges/{sid}    answer (AuthPayload)
//
// Every call but create carries the factor's request JWT as HTTP Basic
// auth with the user "token". A refused credential is a 401 whose Date
// header is the server's clock (the provider's, from provider.ServerTime
// when it says), by which the SDKs correct theirs and retry once. Errors
// are Twilio's JSON shape; none carries a token, a JWT or a signature.
package pushwire

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// Config configures a Handler.
type Config struct {
	// API is what the handler serves. Required.
	API provider.PushDeviceAPI
	// ServiceSID is the only {service} the handler accepts; empty accepts
	// any.
	ServiceSID string
	// Now is the server's clock, for the Date of a 401 when the API names
	// no time of its own; nil means time.Now.
	Now func() time.Time
}

type handler struct {
	c   Config
	mux *http.ServeMux
}

// Handler returns the device endpoints of c.API.
func Handler(c Config) http.Handler {
	if c.Now == nil {
		c.Now = time.Now
	}
	h := &handler{c: c, mux: http.NewServeMux()}
	const base = "/v2/Services/{service}/Entities/{identity}/"
	h.mux.HandleFunc("POST "+base+"Factors", h.createFactor)
	h.mux.HandleFunc("POST "+base+"Factors/{sid}", h.verifyFactor)
	h.mux.HandleFunc("DELETE "+base+"Factors/{sid}", h.deleteFactor)
	h.mux.HandleFunc("GET "+base+"Challenges", h.listChallenges)
	h.mux.HandleFunc("GET "+base+"Challenges/{sid}", h.fetchChallenge)
	h.mux.HandleFunc("POST "+base+"Challenges/{sid}", h.answerChallenge)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	h.mux.ServeHTTP(w, r)
}

// auth returns the Basic-auth password of user "token", or writes a 401.
func (h *handler) auth(w http.ResponseWriter, r *http.Request) (string, bool) {
	if h.c.ServiceSID != "" && r.PathValue("service") != h.c.ServiceSID {
		h.fail(w, provider.ErrNotFound)
		return "", false
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != "token" || pass == "" {
		h.fail(w, provider.ErrUnauthorized)
		return "", false
	}
	if r.Method == http.MethodPost && r.ParseForm() != nil {
		h.fail(w, provider.ErrInvalidRequest)
		return "", false
	}
	return pass, true
}

func (h *handler) createFactor(w http.ResponseWriter, r *http.Request) {
	token, ok := h.auth(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	if f.Get("FactorType") != string(provider.FactorPush) {
		h.fail(w, provider.ErrInvalidRequest)
		return
	}
	req := provider.DeviceFactorRequest{
		FriendlyName: f.Get("FriendlyName"), PublicKey: f.Get("Binding.PublicKey"), Alg: f.Get("Binding.Alg"),
		Platform: provider.NotificationPlatform(f.Get("Config.NotificationPlatform")), NotificationToken: f.Get("Config.NotificationToken"),
		AppID: f.Get("Config.AppId"), SDKVersion: f.Get("Config.SdkVersion"),
	}
	if m := f.Get("Metadata"); m != "" {
		if json.Unmarshal([]byte(m), &req.Metadata) != nil {
			h.fail(w, provider.ErrInvalidRequest)
			return
		}
	}
	df, err := h.c.API.CreateDeviceFactor(r.Context(), token, req)
	if err != nil {
		h.fail(w, err)
		return
	}
	if df.Identity != r.PathValue("identity") {
		// The access token names the identity; a path naming another is
		// a client's mistake, answered as Twilio answers a wrong token.
		h.fail(w, provider.ErrUnauthorized)
		return
	}
	v := h.factorView(r, df.Factor, df.AccountID, df.CredentialID)
	v.Binding = &bindingView{PublicKey: req.PublicKey, Alg: req.Alg} // returned on creation only, as Twilio does
	writeJSON(w, http.StatusCreated, v)
}

func (h *handler) verifyFactor(w http.ResponseWriter, r *http.Request) {
	auth, ok := h.auth(w, r)
	if !ok {
		return
	}
	var f provider.Factor
	var err error
	if payload := r.PostForm.Get("AuthPayload"); payload != "" {
		f, err = h.c.API.VerifyDeviceFactor(r.Context(), auth, r.PathValue("identity"), r.PathValue("sid"), payload)
	} else {
		f, err = h.c.API.UpdateDeviceFactor(r.Context(), auth, r.PathValue("identity"), r.PathValue("sid"), DeviceFactorUpdate(r.PostForm))
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	credential := ""
	if f.Push != nil {
		credential = f.Push.CredentialID
	}
	writeJSON(w, http.StatusOK, h.factorView(r, f, "", credential))
}

func (h *handler) deleteFactor(w http.ResponseWriter, r *http.Request) {
	auth, ok := h.auth(w, r)
	if !ok {
		return
	}
	if err := h.c.API.DeleteDeviceFactor(r.Context(), auth, r.PathValue("identity"), r.PathValue("sid")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) listChallenges(w http.ResponseWriter, r *http.Request) {
	auth, ok := h.auth(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	list, err := h.c.API.ListDeviceChallenges(r.Context(), auth, r.PathValue("identity"), q.Get("FactorSid"), provider.ChallengeStatus(q.Get("Status")))
	if err != nil {
		h.fail(w, err)
		return
	}
	out := struct {
		Challenges []json.RawMessage `json:"challenges"`
		Meta       map[string]any    `json:"meta"`
	}{Challenges: make([]json.RawMessage, 0, len(list)), Meta: map[string]any{
		"page": 0, "page_size": len(list), "first_page_url": r.URL.String(), "previous_page_url": nil,
		"url": r.URL.String(), "next_page_url": nil, "key": "challenges",
	}}
	for _, c := range list {
		out.Challenges = append(out.Challenges, c.JSON)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) fetchChallenge(w http.ResponseWriter, r *http.Request) {
	auth, ok := h.auth(w, r)
	if !ok {
		return
	}
	dc, err := h.c.API.FetchDeviceChallenge(r.Context(), auth, r.PathValue("identity"), r.PathValue("sid"))
	if err != nil {
		h.fail(w, err)
		return
	}
	if len(dc.SignatureFields) > 0 {
		w.Header().Set("Twilio-Verify-Signature-Fields", strings.Join(dc.SignatureFields, ","))
	}
	writeRaw(w, http.StatusOK, dc.JSON)
}

func (h *handler) answerChallenge(w http.ResponseWriter, r *http.Request) {
	auth, ok := h.auth(w, r)
	if !ok {
		return
	}
	identity, sid := r.PathValue("identity"), r.PathValue("sid")
	c, err := h.c.API.AnswerDeviceChallenge(r.Context(), auth, identity, sid, r.PostForm.Get("AuthPayload"))
	if err != nil {
		h.fail(w, err)
		return
	}
	// The challenge as the device fetches it, now answered.
	if dc, err := h.c.API.FetchDeviceChallenge(r.Context(), auth, identity, sid); err == nil {
		writeRaw(w, http.StatusOK, dc.JSON)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"sid": c.ID, "identity": c.Identity, "factor_sid": c.FactorID, "status": string(c.Status)})
}

// DeviceFactorUpdate reads the form fields of an UpdateFactor without
// AuthPayload, as the SDKs send it when the notification token rotates.
func DeviceFactorUpdate(f url.Values) provider.DeviceFactorUpdate {
	return provider.DeviceFactorUpdate{
		Platform: provider.NotificationPlatform(f.Get("Config.NotificationPlatform")), NotificationToken: f.Get("Config.NotificationToken"),
		SDKVersion: f.Get("Config.SdkVersion"), FriendlyName: f.Get("FriendlyName"),
	}
}

type bindingView struct {
	PublicKey string `json:"public_key"`
	Alg       string `json:"alg"`
}

type factorView struct {
	Sid          string            `json:"sid"`
	AccountSid   string            `json:"account_sid,omitempty"`
	ServiceSid   string            `json:"service_sid"`
	Identity     string            `json:"identity"`
	DateCreated  string            `json:"date_created"`
	DateUpdated  string            `json:"date_updated"`
	FriendlyName string            `json:"friendly_name"`
	Status       string            `json:"status"`
	FactorType   string            `json:"factor_type"`
	Config       map[string]string `json:"config"`
	Metadata     map[string]string `json:"metadata"`
	Binding      *bindingView      `json:"binding,omitempty"`
}

func (h *handler) factorView(r *http.Request, f provider.Factor, account, credential string) *factorView {
	v := &factorView{
		Sid: f.ID, AccountSid: account, ServiceSid: r.PathValue("service"), Identity: f.Identity,
		DateCreated: jsonTime(f.CreatedAt), DateUpdated: jsonTime(f.UpdatedAt), FriendlyName: f.FriendlyName,
		Status: string(f.Status), FactorType: string(f.Type), Config: map[string]string{"credential_sid": credential},
		Metadata: map[string]string{},
	}
	if p := f.Push; p != nil {
		v.Config["sdk_version"], v.Config["app_id"] = p.SDKVersion, p.AppID
		v.Config["notification_platform"], v.Config["notification_token"] = string(p.Platform), p.NotificationToken
		for k, val := range p.Metadata {
			v.Metadata[k] = val
		}
	}
	return v
}

func jsonTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// fail writes err as Twilio's error JSON: its status and code by the
// provider sentinel it matches, a fixed message (never the error's text,
// which the API wrote for logs), and for a refused credential the
// server's time in Date.
func (h *handler) fail(w http.ResponseWriter, err error) {
	status, code, msg := http.StatusInternalServerError, 20500, "Internal Server Error"
	switch {
	case errors.Is(err, provider.ErrUnauthorized):
		status, code, msg = http.StatusUnauthorized, 20003, "Authenticate"
		now, ok := provider.ServerTime(err)
		if !ok {
			now = h.c.Now()
		}
		w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	case errors.Is(err, provider.ErrNotFound):
		status, code, msg = http.StatusNotFound, 20404, "The requested resource was not found"
	case errors.Is(err, provider.ErrTooManyChecks):
		status, code, msg = http.StatusTooManyRequests, 60202, "Max check attempts reached"
	case errors.Is(err, provider.ErrInvalidRequest), errors.Is(err, provider.ErrUnsupported):
		status, code, msg = http.StatusBadRequest, 60200, "Invalid parameter"
	case errors.Is(err, provider.ErrRateLimited):
		status, code, msg = http.StatusTooManyRequests, 20429, "Too Many Requests"
	case errors.Is(err, provider.ErrUnavailable):
		status, code, msg = http.StatusServiceUnavailable, 20503, "Service Unavailable"
	}
	writeJSON(w, status, map[string]any{"code": code, "message": msg, "more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(code), "status": status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
