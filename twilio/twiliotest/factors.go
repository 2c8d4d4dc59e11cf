package twiliotest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// The factor endpoints: Entities, Factors (TOTP) and Challenges, backed by
// the internal factor engine, one per service (configured as the fake's,
// by fakeconf). Codes are RFC 6238 on the emulator's clock, which is
// wall time by default (so a phone's authenticator app works against it)
// and moves with Advance. A code is accepted exactly when Twilio would:
// the factor's time step, code length, algorithm and skew (default 30 s,
// 6 digits, SHA-1, ±1 step); a code approves once; 5 wrong codes per
// factor within 10 minutes give 429 / 60310.

// factorExtras holds what the emulator echoes but the engine does not keep,
// by SID: factor metadata and challenge hidden details (map[string]string)
// and passkey configs (*passkeyConfigJSON, passkeys.go).
type factorExtras struct{ metadata, hidden, passkeys sync.Map }

// load returns the value of sid in m, or V's zero value.
func load[V any](m *sync.Map, sid string) V {
	v, _ := m.Load(sid)
	x, _ := v.(V)
	return x
}

// factorService returns the service a request names, with its factor
// engine (created now if needed), or writes a 404 and returns nil.
func (e *Emulator) factorService(w http.ResponseWriter, r *http.Request) *service {
	s, in := e.serviceSnapshot(w, r)
	if s == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.factors == nil {
		c := e.conf
		c.Seed = e.seedFor(in.SID) ^ 0xfac7
		c.FactorPrefixes = [3]string{"YE", "YF", "YC"} // the shape of Twilio's SIDs
		if n := in.FriendlyName; n != "" && len(n) <= 64 && c.FactorIssuer == "" {
			c.FactorIssuer = n
		}
		sid := in.SID
		c.PushAccount = e.accountSID // push.go
		c.PushNotify = func(_ context.Context, n provider.PushNotification) error { e.recordPush(sid, n); return nil }
		c.PushIncludeDate = s.includeDate.Load
		s.factors = c.Factors(c.Salt(), nil, e.factorEvents(sid))
	}
	return s
}

func (e *Emulator) factorRoutes(m *http.ServeMux) {
	const ent = "/v2/Services/{service}/Entities"
	m.HandleFunc("POST "+ent, e.factorHandler(e.createEntity))
	m.HandleFunc("GET "+ent, e.factorHandler(e.listEntities))
	m.HandleFunc("GET "+ent+"/{identity}", e.factorHandler(e.fetchEntity))
	m.HandleFunc("DELETE "+ent+"/{identity}", e.factorHandler(e.deleteEntity))
	m.HandleFunc("POST "+ent+"/{identity}/Factors", e.factorHandler(e.createFactor))
	m.HandleFunc("GET "+ent+"/{identity}/Factors", e.factorHandler(e.listFactors))
	m.HandleFunc("GET "+ent+"/{identity}/Factors/{sid}", e.factorHandler(e.fetchFactor))
	m.HandleFunc("POST "+ent+"/{identity}/Factors/{sid}", e.factorHandler(e.updateFactor))
	m.HandleFunc("DELETE "+ent+"/{identity}/Factors/{sid}", e.factorHandler(e.deleteFactor))
	m.HandleFunc("POST "+ent+"/{identity}/Challenges", e.factorHandler(e.createChallenge))
	m.HandleFunc("GET "+ent+"/{identity}/Challenges", e.factorHandler(e.listChallenges))
	m.HandleFunc("GET "+ent+"/{identity}/Challenges/{sid}", e.factorHandler(e.fetchChallenge))
	m.HandleFunc("POST "+ent+"/{identity}/Challenges/{sid}", e.factorHandler(e.updateChallenge))
}

// factorHandler adapts h, a factor handler, to the mux: it finds the
// service the request names (answering 404 when there is none) and passes
// it on with the identity of the request's path ("" when it has none).
func (e *Emulator) factorHandler(h func(http.ResponseWriter, *http.Request, *service, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s := e.factorService(w, r); s != nil {
			h(w, r, s, r.PathValue("identity"))
		}
	}
}

// reply answers err as the Twilio error it stands for or, without one,
// status with body() as JSON (no body for 204 No Content).
func (e *Emulator) reply(w http.ResponseWriter, r *http.Request, err error, status int, body func() any) {
	if err != nil {
		e.writeFactorError(w, r, err)
		return
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	emuserver.WriteJSON(w, status, body())
}

// replyPage answers err as the Twilio error it stands for or, without one,
// a page of the items() listed under key.
func (e *Emulator) replyPage(w http.ResponseWriter, r *http.Request, err error, key string, items func() []any) {
	if err != nil {
		e.writeFactorError(w, r, err)
		return
	}
	e.writePage(w, r, key, items(), nil, badFactorParam)
}

// render returns each of list rendered by f.
func render[T any](list []T, f func(T) any) []any {
	out := make([]any, len(list))
	for i, v := range list {
		out[i] = f(v)
	}
	return out
}

// writeFactorError answers with the Twilio error the engine's factor error
// stands for, with the status and message of Twilio's code table.
func (e *Emulator) writeFactorError(w http.ResponseWriter, r *http.Request, err error) {
	rs, wait := reason(err)
	if code := reasonCodes[rs]; code != 0 && !errors.Is(err, provider.ErrOutcomeUnknown) {
		if entry, ok := twiliocode.Lookup(code); ok {
			if entry.Status == http.StatusTooManyRequests && wait > 0 {
				emuserver.RetryAfter(w, wait)
			}
			writeError(w, entry.Status, entry.Code, entry.Message)
			return
		}
	}
	e.writeEngineError(w, r, err)
}

func badFactorParam(w http.ResponseWriter, name string) {
	writeError(w, http.StatusBadRequest, twiliocode.InvalidFactorRequest, "Invalid parameter: "+name)
}

type entityJSON struct {
	SID         string            `json:"sid"`
	Identity    string            `json:"identity"`
	AccountSID  string            `json:"account_sid"`
	ServiceSID  string            `json:"service_sid"`
	DateCreated string            `json:"date_created"`
	DateUpdated string            `json:"date_updated"`
	URL         string            `json:"url"`
	Links       map[string]string `json:"links"`
}

func (e *Emulator) entityJSON(r *http.Request, s *service, en engine.Entity) entityJSON {
	u := e.base(r) + "/v2/Services/" + s.SID + "/Entities/" + en.Identity
	return entityJSON{
		SID: en.ID, Identity: en.Identity, AccountSID: s.AccountSID, ServiceSID: s.SID,
		DateCreated: rfc3339(en.CreatedAt), DateUpdated: rfc3339(en.UpdatedAt), URL: u,
		Links: map[string]string{"factors": u + "/Factors", "challenges": u + "/Challenges"},
	}
}

type factorConfigJSON struct {
	Alg        string `json:"alg"`
	Skew       int    `json:"skew"`
	CodeLength int    `json:"code_length"`
	TimeStep   int    `json:"time_step"`
}

type factorJSON struct {
	SID          string            `json:"sid"`
	AccountSID   string            `json:"account_sid"`
	ServiceSID   string            `json:"service_sid"`
	EntitySID    string            `json:"entity_sid"`
	Identity     string            `json:"identity"`
	Binding      *bindingJSON      `json:"binding,omitempty"` // on creation only
	DateCreated  string            `json:"date_created"`
	DateUpdated  string            `json:"date_updated"`
	FriendlyName string            `json:"friendly_name"`
	Status       string            `json:"status"`
	FactorType   string            `json:"factor_type"`
	Config       factorConfigJSON  `json:"config"`
	Metadata     map[string]string `json:"metadata"`
	URL          string            `json:"url"`
}

type bindingJSON struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
}

func (e *Emulator) factorJSON(r *http.Request, s *service, entitySID string, f provider.Factor) factorJSON {
	return factorJSON{
		SID: f.ID, AccountSID: s.AccountSID, ServiceSID: s.SID, EntitySID: entitySID, Identity: f.Identity,
		DateCreated: rfc3339(f.CreatedAt), DateUpdated: rfc3339(f.UpdatedAt), FriendlyName: f.FriendlyName,
		Status: string(f.Status), FactorType: string(f.Type),
		Config: factorConfigJSON{
			Alg: string(f.TOTP.Algorithm), Skew: f.TOTP.Skew, CodeLength: f.TOTP.Digits,
			TimeStep: int(f.TOTP.Period / time.Second),
		},
		Metadata: load[map[string]string](&s.extras.metadata, f.ID),
		URL:      e.base(r) + "/v2/Services/" + s.SID + "/Entities/" + f.Identity + "/Factors/" + f.ID,
	}
}

type challengeJSON struct {
	SID             string            `json:"sid"`
	AccountSID      string            `json:"account_sid"`
	ServiceSID      string            `json:"service_sid"`
	EntitySID       string            `json:"entity_sid"`
	Identity        string            `json:"identity"`
	FactorSID       string            `json:"factor_sid"`
	DateCreated     string            `json:"date_created"`
	DateUpdated     string            `json:"date_updated"`
	DateResponded   *string           `json:"date_responded"`
	ExpirationDate  string            `json:"expiration_date"`
	Status          string            `json:"status"`
	RespondedReason string            `json:"responded_reason"`
	Details         map[string]any    `json:"details"`
	HiddenDetails   map[string]string `json:"hidden_details"`
	Metadata        map[string]string `json:"metadata"`
	FactorType      string            `json:"factor_type"`
	URL             string            `json:"url"`
	Links           map[string]string `json:"links"`
}

func (e *Emulator) challengeJSON(r *http.Request, s *service, entitySID string, c provider.Challenge) challengeJSON {
	u := e.base(r) + "/v2/Services/" + s.SID + "/Entities/" + c.Identity + "/Challenges/" + c.ID
	out := challengeJSON{
		SID: c.ID, AccountSID: s.AccountSID, ServiceSID: s.SID, EntitySID: entitySID, Identity: c.Identity,
		FactorSID: c.FactorID, DateCreated: rfc3339(c.CreatedAt), DateUpdated: rfc3339(c.UpdatedAt),
		ExpirationDate: rfc3339(c.ExpiresAt), Status: string(c.Status), RespondedReason: "none",
		HiddenDetails: load[map[string]string](&s.extras.hidden, c.ID), FactorType: "totp", URL: u,
		Links: map[string]string{"notifications": u + "/Notifications"},
	}
	if !c.RespondedAt.IsZero() {
		d := rfc3339(c.RespondedAt)
		out.DateResponded = &d
	}
	if c.Push != nil {
		out.FactorType, out.Details, out.HiddenDetails = "push", pushDetailsJSON(c.Push), c.Push.Hidden
		if s.includeDate.Load() {
			out.Details["date"] = rfc3339(c.CreatedAt)
		}
	}
	return out
}

// entitySID returns the entity SID of identity, or "".
func entitySID(r *http.Request, s *service, identity string) string {
	en, err := s.factors.FetchEntity(r.Context(), identity)
	if err != nil {
		return ""
	}
	return en.ID
}

func (e *Emulator) createEntity(w http.ResponseWriter, r *http.Request, s *service, id string) {
	en, err := s.factors.CreateEntity(r.Context(), r.PostForm.Get("Identity"))
	e.reply(w, r, err, http.StatusCreated, func() any { return e.entityJSON(r, s, en) })
}

func (e *Emulator) fetchEntity(w http.ResponseWriter, r *http.Request, s *service, id string) {
	en, err := s.factors.FetchEntity(r.Context(), id)
	e.reply(w, r, err, http.StatusOK, func() any { return e.entityJSON(r, s, en) })
}

func (e *Emulator) deleteEntity(w http.ResponseWriter, r *http.Request, s *service, id string) {
	e.reply(w, r, s.factors.DeleteIdentity(r.Context(), id), http.StatusNoContent, nil)
}

func (e *Emulator) listEntities(w http.ResponseWriter, r *http.Request, s *service, id string) {
	list, err := s.factors.ListEntities(r.Context())
	e.replyPage(w, r, err, "entities", func() []any {
		return render(list, func(en engine.Entity) any { return e.entityJSON(r, s, en) })
	})
}

// writePage answers a list request with one page of items, Twilio's meta
// block and page URLs; bad answers a malformed paging parameter. A
// PageToken is an opaque token of the index of its page's first item and,
// when ids (the items' SIDs) are given, of that item's SID: the page then
// starts at that item wherever it now is.
func (e *Emulator) writePage(w http.ResponseWriter, r *http.Request, key string, items []any, ids []string, bad func(http.ResponseWriter, string)) {
	q := r.URL.Query()
	size, page := 50, 0
	for _, p := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"PageSize", &size, 1, 1000}, {"Page", &page, 0, 1 << 20}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < p.min || n > p.max {
				bad(w, p.name)
				return
			}
			*p.dst = n
		}
	}
	start := page * size
	if v := q.Get("PageToken"); v != "" {
		n, ok := parsePageToken(v, ids)
		if !ok {
			bad(w, "PageToken")
			return
		}
		start = n
		if q.Get("Page") == "" {
			page = start / size
		}
	}
	keep := url.Values{}
	for _, k := range []string{"FactorSid", "Status", "Order", "DateCreatedAfter", "DateCreatedBefore", "ChannelData.To", "Country", "Channel", "VerifyServiceSid", "VerificationSid"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	pageURL := func(p, first int) string {
		v := url.Values{"PageSize": {strconv.Itoa(size)}, "Page": {strconv.Itoa(p)}}
		for k, vs := range keep {
			v[k] = vs
		}
		if first > 0 { // the first page has no token
			id := ""
			if first < len(ids) {
				id = ids[first]
			}
			v.Set("PageToken", "PT"+base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(first)+":"+id)))
		}
		return e.base(r) + r.URL.Path + "?" + v.Encode()
	}
	out := []any{}
	for i := start; i < len(items) && i-start < size; i++ { // start+size may overflow: a token is forged at will
		out = append(out, items[i])
	}
	meta := map[string]any{
		"page": page, "page_size": size, "key": key,
		"first_page_url": pageURL(0, 0), "url": pageURL(page, start),
		"previous_page_url": nil, "next_page_url": nil,
	}
	if start > 0 {
		meta["previous_page_url"] = pageURL(max(page-1, 0), max(start-size, 0))
	}
	if start < len(items)-size {
		meta["next_page_url"] = pageURL(page+1, start+size)
	}
	emuserver.WriteJSON(w, http.StatusOK, map[string]any{key: out, "meta": meta})
}

// parsePageToken returns the index of the first item of a PageToken's
// page: that of the SID it names if ids hold it, else the index it was
// issued for.
func parsePageToken(tok string, ids []string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, "PT"))
	n, id, ok := strings.Cut(string(raw), ":")
	start, err2 := strconv.Atoi(n)
	if !strings.HasPrefix(tok, "PT") || err != nil || !ok || err2 != nil || start < 1 {
		return 0, false
	}
	if i := slices.Index(ids, id); id != "" && i >= 0 {
		return i, true
	}
	return start, true
}

// totpConfig reads the Config.* fields of a form. It writes a 400 and
// returns false when one is malformed.
func totpConfig(w http.ResponseWriter, f url.Values) (cfg provider.TOTPConfig, skewSet, ok bool) {
	for _, p := range []struct {
		name string
		set  func(int)
	}{
		{"Config.CodeLength", func(n int) { cfg.Digits = n }},
		{"Config.TimeStep", func(n int) { cfg.Period = time.Duration(n) * time.Second }},
		{"Config.Skew", func(n int) { cfg.Skew, skewSet = n, true }},
	} {
		if v := f.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 1000 {
				badFactorParam(w, p.name)
				return cfg, false, false
			}
			p.set(n)
		}
	}
	if f.Has("Config.CodeLength") && cfg.Digits == 0 || f.Has("Config.TimeStep") && cfg.Period == 0 {
		badFactorParam(w, "Config")
		return cfg, false, false
	}
	cfg.Algorithm = provider.Algorithm(f.Get("Config.Alg"))
	if err := cfg.Validate(); err != nil {
		badFactorParam(w, "Config: "+err.Error())
		return cfg, false, false
	}
	return cfg, skewSet, true
}

// jsonStrings decodes a form field holding a JSON object of strings (at
// most 1024 bytes), as Metadata and HiddenDetails are.
func jsonStrings(w http.ResponseWriter, f url.Values, name string) (map[string]string, bool) {
	v := f.Get(name)
	if v == "" {
		return nil, true
	}
	var m map[string]string
	if len(v) > 1024 || json.Unmarshal([]byte(v), &m) != nil {
		badFactorParam(w, name)
		return nil, false
	}
	return m, true
}

func (e *Emulator) createFactor(w http.ResponseWriter, r *http.Request, s *service, id string) {
	if cred, ok := deviceCredential(r); ok {
		e.deviceCreateFactor(w, r, s, id, cred)
		return
	}
	f := r.PostForm
	switch f.Get("FactorType") {
	case "totp":
	case "push":
		writeError(w, http.StatusBadRequest, twiliocode.InvalidFactorType, "A push factor is created by its device, with an access token")
		return
	default:
		writeError(w, http.StatusBadRequest, twiliocode.InvalidFactorType, "Factor type invalid")
		return
	}
	cfg, skewSet, ok := totpConfig(w, f)
	if !ok {
		return
	}
	meta, ok := jsonStrings(w, f, "Metadata")
	if !ok {
		return
	}
	en, err := s.factors.EnrollFactor(r.Context(), provider.EnrollRequest{
		Identity: r.PathValue("identity"), Type: provider.FactorTOTP, FriendlyName: f.Get("FriendlyName"),
		TOTP: cfg, SkewSet: skewSet, Secret: f.Get("Binding.Secret"),
	})
	if err != nil {
		e.writeFactorError(w, r, err)
		return
	}
	if meta != nil {
		s.extras.metadata.Store(en.ID, meta)
	}
	out := e.factorJSON(r, s, entitySID(r, s, en.Identity), en.Factor)
	out.Binding = &bindingJSON{Secret: en.Secret, URI: en.URI}
	w.Header().Set("Cache-Control", "no-store")
	emuserver.WriteJSON(w, http.StatusCreated, out)
}

func (e *Emulator) fetchFactor(w http.ResponseWriter, r *http.Request, s *service, id string) {
	fa, err := s.factors.FetchFactor(r.Context(), id, r.PathValue("sid"))
	e.reply(w, r, err, http.StatusOK, func() any { return e.anyFactorJSON(r, s, entitySID(r, s, id), fa) })
}

func (e *Emulator) listFactors(w http.ResponseWriter, r *http.Request, s *service, id string) {
	list, err := s.factors.ListFactors(r.Context(), id)
	e.replyPage(w, r, err, "factors", func() []any {
		es := entitySID(r, s, id)
		return render(list, func(fa provider.Factor) any { return e.anyFactorJSON(r, s, es, fa) })
	})
}

func (e *Emulator) updateFactor(w http.ResponseWriter, r *http.Request, s *service, id string) {
	if cred, ok := deviceCredential(r); ok {
		e.deviceUpdateFactor(w, r, s, id, cred)
		return
	}
	f := r.PostForm
	cfg, skewSet, ok := totpConfig(w, f)
	if !ok {
		return
	}
	fa, err := s.factors.UpdateFactor(r.Context(), id, r.PathValue("sid"), engine.FactorUpdate{
		Code: f.Get("AuthPayload"), FriendlyName: f.Get("FriendlyName"), TOTP: cfg, SkewSet: skewSet,
	})
	e.reply(w, r, err, http.StatusOK, func() any { return e.factorJSON(r, s, entitySID(r, s, id), fa) })
}

func (e *Emulator) deleteFactor(w http.ResponseWriter, r *http.Request, s *service, id string) {
	if cred, ok := deviceCredential(r); ok {
		e.deviceDeleteFactor(w, r, s, id, cred)
		return
	}
	e.reply(w, r, s.factors.DeleteFactor(r.Context(), id, r.PathValue("sid")), http.StatusNoContent, nil)
}

func (e *Emulator) createChallenge(w http.ResponseWriter, r *http.Request, s *service, id string) {
	f := r.PostForm
	req := provider.ChallengeRequest{Identity: id, FactorID: f.Get("FactorSid"), Code: f.Get("AuthPayload")}
	if req.FactorID == "" {
		badFactorParam(w, "FactorSid")
		return
	}
	if v := f.Get("ExpirationDate"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			badFactorParam(w, "ExpirationDate")
			return
		}
		req.ExpiresAt = t
	}
	if fa, err := s.factors.FetchFactor(r.Context(), id, req.FactorID); err == nil && fa.Type == provider.FactorPush {
		e.createPushChallenge(w, r, s, req) // push.go
		return
	}
	hidden, ok := jsonStrings(w, f, "HiddenDetails")
	if !ok {
		return
	}
	c, err := s.factors.ChallengeFactor(r.Context(), req)
	if err != nil {
		e.writeFactorError(w, r, err)
		return
	}
	if hidden != nil {
		s.extras.hidden.Store(c.ID, hidden)
	}
	emuserver.WriteJSON(w, http.StatusCreated, e.challengeJSON(r, s, entitySID(r, s, req.Identity), c))
}

func (e *Emulator) fetchChallenge(w http.ResponseWriter, r *http.Request, s *service, id string) {
	if cred, ok := deviceCredential(r); ok {
		e.deviceFetchChallenge(w, r, s, id, cred)
		return
	}
	c, err := s.factors.FetchChallenge(r.Context(), id, r.PathValue("sid"))
	e.reply(w, r, err, http.StatusOK, func() any { return e.challengeJSON(r, s, entitySID(r, s, id), c) })
}

func (e *Emulator) updateChallenge(w http.ResponseWriter, r *http.Request, s *service, id string) {
	if cred, ok := deviceCredential(r); ok {
		e.deviceAnswerChallenge(w, r, s, id, cred)
		return
	}
	if _, ok := jsonStrings(w, r.PostForm, "Metadata"); !ok {
		return
	}
	c, err := s.factors.UpdateChallenge(r.Context(), id, r.PathValue("sid"), r.PostForm.Get("AuthPayload"))
	e.reply(w, r, err, http.StatusOK, func() any { return e.challengeJSON(r, s, entitySID(r, s, id), c) })
}

func (e *Emulator) listChallenges(w http.ResponseWriter, r *http.Request, s *service, id string) {
	if cred, ok := deviceCredential(r); ok {
		e.deviceListChallenges(w, r, s, id, cred)
		return
	}
	q := r.URL.Query()
	status, ok := challengeStatusParam(w, q) // push.go
	if !ok {
		return
	}
	order := q.Get("Order")
	if order != "" && order != "asc" && order != "desc" {
		badFactorParam(w, "Order")
		return
	}
	list, err := s.factors.ListChallenges(r.Context(), id, q.Get("FactorSid"), status)
	e.replyPage(w, r, err, "challenges", func() []any {
		es := entitySID(r, s, id)
		items := render(list, func(c provider.Challenge) any { return e.challengeJSON(r, s, es, c) })
		if order == "desc" {
			slices.Reverse(items)
		}
		return items
	})
}
