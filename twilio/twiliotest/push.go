package twiliotest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/internal/pushwire"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// Push factors, as Twilio's Verify Push SDKs drive them, on the factor
// engine (internal/engine) of each service:
//
//   - the backend issues an access token (POST AccessTokens, account
//     credentials);
//   - the device creates its factor with HTTP Basic auth "token" and the
//     access token (POST Entities/{identity}/Factors, FactorType=push,
//     Binding.PublicKey, Binding.Alg, Config.*, Metadata);
//   - every later device call (verify the factor with the DER signature
//     over its SID, delete it, fetch and list challenges, answer one) uses
//     HTTP Basic auth "token" and an ES256 request JWT (cty
//     twilio-pba;v=1, kid = the factor's config.credential_sid, nbf/exp);
//     a JWT outside its window answers 401 with the emulator's time in the
//     Date header, so the SDK corrects its clock and retries;
//   - a fetched challenge names the fields its answer signs in
//     Twilio-Verify-Signature-Fields; the answer is a JWT over exactly those
//     fields, as the challenge's JSON has them, plus "status".
//
// Notifications (on a challenge's creation and by POST
// Challenges/{sid}/Notifications) go to the outbox as messages on the
// "push" channel, addressed to the factor SID; nothing is sent to APNs or
// FCM. A device credential opens only the device's endpoints; every other
// request needs the account's credentials.

// deviceKey is the context key of a device request's credential.
type deviceKey struct{}

// deviceRequest reports whether r is a device's call of a device endpoint
// (HTTP Basic auth with the user "token") and, if so, puts its credential
// (an access token or a request JWT) in *r's context.
func deviceRequest(r **http.Request) bool {
	user, cred, ok := (*r).BasicAuth()
	if !ok || user != "token" || cred == "" || !deviceRoute((*r).Method, (*r).URL.Path) {
		return false
	}
	*r = (*r).WithContext(context.WithValue((*r).Context(), deviceKey{}, cred))
	return true
}

// deviceRoute reports whether a device may call method on path:
// Entities/{identity}/Factors (POST), Factors/{sid} (POST, DELETE),
// Challenges (GET) and Challenges/{sid} (GET, POST).
func deviceRoute(method, path string) bool {
	p := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(p) < 6 || p[0] != "v2" || p[1] != "Services" || p[3] != "Entities" {
		return false
	}
	switch {
	case len(p) == 6 && p[5] == "Factors":
		return method == http.MethodPost
	case len(p) == 7 && p[5] == "Factors":
		return method == http.MethodPost || method == http.MethodDelete
	case len(p) == 6 && p[5] == "Challenges":
		return method == http.MethodGet
	case len(p) == 7 && p[5] == "Challenges":
		return method == http.MethodGet || method == http.MethodPost
	}
	return false
}

// deviceCredential returns the credential of a device request.
func deviceCredential(r *http.Request) (string, bool) {
	c, ok := r.Context().Value(deviceKey{}).(string)
	return c, ok
}

// pushState holds what the emulator answers about push that the engine
// does not keep: the access tokens it issued, for FetchAccessToken.
type pushState struct {
	mu     sync.Mutex
	tokens map[string]accessTokenJSON // by SID
	order  []string                   // oldest first, at most maxTokens
}

const maxTokens = 10000

type accessTokenJSON struct {
	SID                string  `json:"sid"`
	AccountSID         string  `json:"account_sid"`
	ServiceSID         string  `json:"service_sid"`
	EntityIdentity     string  `json:"entity_identity"`
	FactorType         string  `json:"factor_type"`
	FactorFriendlyName *string `json:"factor_friendly_name"`
	Token              string  `json:"token"`
	URL                string  `json:"url"`
	TTL                int     `json:"ttl"`
	DateCreated        string  `json:"date_created"`
}

func (e *Emulator) pushRoutes(m *http.ServeMux) {
	const svc = "/v2/Services/{service}"
	m.HandleFunc("POST "+svc+"/AccessTokens", e.factorHandler(e.createAccessToken))
	m.HandleFunc("GET "+svc+"/AccessTokens/{sid}", e.factorHandler(e.fetchAccessToken))
	m.HandleFunc("POST "+svc+"/Entities/{identity}/Challenges/{sid}/Notifications", e.factorHandler(e.createNotification))
}

// factorEvents returns the engine's event hook of the service serviceSID:
// lifecycle events go to its webhooks.
func (e *Emulator) factorEvents(serviceSID string) func(context.Context, engine.FactorEvent) {
	return func(_ context.Context, ev engine.FactorEvent) {
		if le, ok := ev.Lifecycle("twilio"); ok {
			e.queueEvent(serviceSID, le)
		}
	}
}

// recordPush puts a push notification in the outbox.
func (e *Emulator) recordPush(serviceSID string, n provider.PushNotification) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.outbox.Add(Message{
		To: n.FactorID, Channel: "push", Body: n.Message, ServiceSID: serviceSID, SentAt: e.now().UTC(),
		ChallengeSID: n.ChallengeID, Platform: string(n.Platform), NotificationToken: n.Token,
	})
}

func (e *Emulator) createAccessToken(w http.ResponseWriter, r *http.Request, s *service, _ string) {
	f := r.PostForm
	if f.Get("FactorType") != "push" {
		badFactorParam(w, "FactorType")
		return
	}
	req := provider.AccessTokenRequest{Identity: f.Get("Identity"), FactorFriendlyName: f.Get("FactorFriendlyName")}
	if v := f.Get("Ttl"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 60 || n > 300 {
			badFactorParam(w, "Ttl")
			return
		}
		req.TTL = time.Duration(n) * time.Second
	}
	t, err := s.factors.CreateAccessToken(r.Context(), req)
	if err != nil {
		e.writeFactorError(w, r, err)
		return
	}
	out := accessTokenJSON{
		SID: t.ID, AccountSID: s.AccountSID, ServiceSID: s.SID, EntityIdentity: t.Identity, FactorType: "push",
		FactorFriendlyName: nullable(t.FactorFriendlyName), Token: t.Token,
		URL: e.base(r) + "/v2/Services/" + s.SID + "/AccessTokens/" + t.ID, TTL: int(t.ExpiresAt.Sub(t.CreatedAt) / time.Second),
		DateCreated: rfc3339(t.CreatedAt),
	}
	ps := &e.push
	ps.mu.Lock()
	if ps.tokens == nil {
		ps.tokens = map[string]accessTokenJSON{}
	}
	if len(ps.order) >= maxTokens {
		delete(ps.tokens, ps.order[0])
		ps.order = ps.order[1:]
	}
	ps.tokens[t.ID] = out
	ps.order = append(ps.order, t.ID)
	ps.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	emuserver.WriteJSON(w, http.StatusCreated, out)
}

func (e *Emulator) fetchAccessToken(w http.ResponseWriter, r *http.Request, s *service, _ string) {
	ps := &e.push
	ps.mu.Lock()
	t, ok := ps.tokens[r.PathValue("sid")]
	ps.mu.Unlock()
	if !ok || t.ServiceSID != s.SID {
		notFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	emuserver.WriteJSON(w, http.StatusOK, t)
}

func (e *Emulator) createNotification(w http.ResponseWriter, r *http.Request, s *service, id string) {
	ttl := time.Duration(-1)
	if v := r.PostForm.Get("Ttl"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 300 {
			badFactorParam(w, "Ttl")
			return
		}
		ttl = time.Duration(n) * time.Second
	}
	sid := r.PathValue("sid")
	if err := s.factors.NotifyChallenge(r.Context(), id, sid, ttl); err != nil {
		e.writeFactorError(w, r, err)
		return
	}
	if ttl < 0 {
		ttl = provider.DefaultNotificationTTL
	}
	e.api.mu.Lock()
	nt := e.api.newSID("NT")
	e.api.mu.Unlock()
	emuserver.WriteJSON(w, http.StatusCreated, map[string]any{
		"sid": nt, "account_sid": s.AccountSID, "service_sid": s.SID, "entity_sid": entitySID(r, s, id), "identity": id,
		"challenge_sid": sid, "priority": "high", "ttl": int(ttl / time.Second), "date_created": rfc3339(e.now()),
	})
}

// writeDeviceError answers a device call's error: a refused credential
// with 401 (Twilio's 20003) and the emulator's time in the Date header,
// for the SDK's clock correction; others as the factor endpoints do.
func (e *Emulator) writeDeviceError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, provider.ErrUnauthorized) {
		now, ok := provider.ServerTime(err)
		if !ok {
			now = e.now()
		}
		w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
		writeCode(w, http.StatusUnauthorized, twiliocode.Authenticate, "")
		return
	}
	e.writeFactorError(w, r, err)
}

// pushFactorConfigJSON is a push factor's config.
type pushFactorConfigJSON struct {
	SdkVersion           string `json:"sdk_version"`
	AppID                string `json:"app_id"`
	NotificationPlatform string `json:"notification_platform"`
	NotificationToken    string `json:"notification_token"`
	CredentialSID        string `json:"credential_sid,omitempty"`
}

type pushBindingJSON struct {
	PublicKey string `json:"public_key"`
	Alg       string `json:"alg"`
}

// pushFactorJSON renders a push factor; binding and the credential SID
// only on creation.
func (e *Emulator) pushFactorJSON(r *http.Request, s *service, entitySID string, f provider.Factor, binding *pushBindingJSON, credential string) any {
	out := e.factorJSON(r, s, entitySID, f)
	cfg := pushFactorConfigJSON{CredentialSID: credential}
	if p := f.Push; p != nil {
		cfg.SdkVersion, cfg.AppID, cfg.NotificationPlatform, cfg.NotificationToken = p.SDKVersion, p.AppID, string(p.Platform), p.NotificationToken
		out.Metadata = p.Metadata
	}
	return struct {
		factorJSON
		Binding *pushBindingJSON     `json:"binding,omitempty"`
		Config  pushFactorConfigJSON `json:"config"`
	}{out, binding, cfg}
}

// anyFactorJSON renders a factor of either type.
func (e *Emulator) anyFactorJSON(r *http.Request, s *service, entitySID string, f provider.Factor) any {
	if f.Type == provider.FactorPush {
		return e.pushFactorJSON(r, s, entitySID, f, nil, "")
	}
	return e.factorJSON(r, s, entitySID, f)
}

func (e *Emulator) deviceCreateFactor(w http.ResponseWriter, r *http.Request, s *service, id, token string) {
	f := r.PostForm
	if f.Get("FactorType") != "push" {
		writeError(w, http.StatusBadRequest, twiliocode.InvalidFactorType, "Factor type invalid: an access token creates push factors")
		return
	}
	meta, ok := jsonStrings(w, f, "Metadata")
	if !ok {
		return
	}
	req := provider.DeviceFactorRequest{
		FriendlyName: f.Get("FriendlyName"), PublicKey: f.Get("Binding.PublicKey"), Alg: f.Get("Binding.Alg"),
		Platform: provider.NotificationPlatform(f.Get("Config.NotificationPlatform")), NotificationToken: f.Get("Config.NotificationToken"),
		AppID: f.Get("Config.AppId"), SDKVersion: f.Get("Config.SdkVersion"), Metadata: meta,
	}
	df, err := s.factors.CreateDeviceFactor(r.Context(), token, req)
	if err == nil && df.Identity != id {
		// The token is another identity's: the factor must not stay.
		_ = s.factors.DeleteFactor(r.Context(), df.Identity, df.ID)
		err = &engine.Error{Op: engine.OpDeviceCreateFactor, Kind: provider.ErrUnauthorized, Reason: engine.ReasonDeviceAuth}
	}
	if err != nil {
		e.writeDeviceError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	emuserver.WriteJSON(w, http.StatusCreated, e.pushFactorJSON(r, s, entitySID(r, s, id), df.Factor,
		&pushBindingJSON{PublicKey: req.PublicKey, Alg: req.Alg}, df.CredentialID))
}

func (e *Emulator) deviceUpdateFactor(w http.ResponseWriter, r *http.Request, s *service, id, auth string) {
	var fa provider.Factor
	var err error
	if payload := r.PostForm.Get("AuthPayload"); payload != "" {
		fa, err = s.factors.VerifyDeviceFactor(r.Context(), auth, id, r.PathValue("sid"), payload)
	} else {
		// The SDKs rotate the notification token here.
		fa, err = s.factors.UpdateDeviceFactor(r.Context(), auth, id, r.PathValue("sid"), pushwire.DeviceFactorUpdate(r.PostForm))
	}
	if err != nil {
		e.writeDeviceError(w, r, err)
		return
	}
	emuserver.WriteJSON(w, http.StatusOK, e.pushFactorJSON(r, s, entitySID(r, s, id), fa, nil, ""))
}

func (e *Emulator) deviceDeleteFactor(w http.ResponseWriter, r *http.Request, s *service, id, auth string) {
	if err := s.factors.DeleteDeviceFactor(r.Context(), auth, id, r.PathValue("sid")); err != nil {
		e.writeDeviceError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deviceChallengeJSON is the engine's JSON of a challenge as the device
// sees it, with the fields of Twilio's resource the engine leaves out. The
// signed fields keep the engine's values exactly.
func (e *Emulator) deviceChallengeJSON(r *http.Request, s *service, entity string, dc provider.DeviceChallenge) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(dc.JSON, &m) // the engine's own JSON
	if m == nil {
		m = map[string]any{}
	}
	u := e.base(r) + "/v2/Services/" + s.SID + "/Entities/" + dc.Identity + "/Challenges/" + dc.ID
	m["service_sid"], m["entity_sid"], m["url"], m["metadata"] = s.SID, entity, u, nil
	m["links"] = map[string]string{"notifications": u + "/Notifications"}
	return m
}

func (e *Emulator) deviceFetchChallenge(w http.ResponseWriter, r *http.Request, s *service, id, auth string) {
	dc, err := s.factors.FetchDeviceChallenge(r.Context(), auth, id, r.PathValue("sid"))
	if err != nil {
		e.writeDeviceError(w, r, err)
		return
	}
	if len(dc.SignatureFields) > 0 {
		w.Header().Set("Twilio-Verify-Signature-Fields", strings.Join(dc.SignatureFields, ","))
	}
	emuserver.WriteJSON(w, http.StatusOK, e.deviceChallengeJSON(r, s, entitySID(r, s, id), dc))
}

func (e *Emulator) deviceListChallenges(w http.ResponseWriter, r *http.Request, s *service, id, auth string) {
	q := r.URL.Query()
	status, ok := challengeStatusParam(w, q)
	if !ok {
		return
	}
	list, err := s.factors.ListDeviceChallenges(r.Context(), auth, id, q.Get("FactorSid"), status)
	if err != nil {
		e.writeDeviceError(w, r, err)
		return
	}
	es := entitySID(r, s, id)
	items := render(list, func(dc provider.DeviceChallenge) any { return e.deviceChallengeJSON(r, s, es, dc) })
	if q.Get("Order") == "desc" {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	e.writePage(w, r, "challenges", items, nil, badFactorParam)
}

func (e *Emulator) deviceAnswerChallenge(w http.ResponseWriter, r *http.Request, s *service, id, auth string) {
	if _, ok := jsonStrings(w, r.PostForm, "Metadata"); !ok {
		return
	}
	c, err := s.factors.AnswerDeviceChallenge(r.Context(), auth, id, r.PathValue("sid"), r.PostForm.Get("AuthPayload"))
	if err != nil {
		e.writeDeviceError(w, r, err)
		return
	}
	emuserver.WriteJSON(w, http.StatusOK, e.challengeJSON(r, s, entitySID(r, s, id), c))
}

// pushChallenge creates a push challenge from a backend's form.
func (e *Emulator) createPushChallenge(w http.ResponseWriter, r *http.Request, s *service, req provider.ChallengeRequest) {
	f := r.PostForm
	pr := provider.PushChallengeRequest{Identity: req.Identity, FactorID: req.FactorID, Details: provider.PushDetails{Message: f.Get("Details.Message")}}
	if !req.ExpiresAt.IsZero() {
		pr.ExpiresIn = req.ExpiresAt.Sub(e.now())
		if pr.ExpiresIn <= 0 {
			badFactorParam(w, "ExpirationDate")
			return
		}
	}
	for _, v := range f["Details.Fields"] {
		var fl struct{ Label, Value string }
		if json.Unmarshal([]byte(v), &fl) != nil {
			badFactorParam(w, "Details.Fields")
			return
		}
		pr.Details.Fields = append(pr.Details.Fields, provider.PushField{Label: fl.Label, Value: fl.Value})
	}
	hidden, ok := jsonStrings(w, f, "HiddenDetails")
	if !ok {
		return
	}
	pr.Details.Hidden = hidden
	c, err := s.factors.CreatePushChallenge(r.Context(), pr)
	if err != nil {
		e.writeFactorError(w, r, err)
		return
	}
	emuserver.WriteJSON(w, http.StatusCreated, e.challengeJSON(r, s, entitySID(r, s, req.Identity), c))
}

// pushDetailsJSON renders a push challenge's details as the engine signs
// them.
func pushDetailsJSON(d *provider.PushDetails) map[string]any {
	fields := make([]map[string]string, len(d.Fields))
	for i, f := range d.Fields {
		fields[i] = map[string]string{"label": f.Label, "value": f.Value}
	}
	return map[string]any{"message": d.Message, "fields": fields}
}

// challengeStatusParam reads a challenge list's Status filter, or answers
// 400 and returns false.
func challengeStatusParam(w http.ResponseWriter, q url.Values) (provider.ChallengeStatus, bool) {
	status := provider.ChallengeStatus(q.Get("Status"))
	switch status {
	case "", provider.ChallengePending, provider.ChallengeApproved, provider.ChallengeDenied, provider.ChallengeExpired:
		return status, true
	}
	badFactorParam(w, "Status")
	return "", false
}
