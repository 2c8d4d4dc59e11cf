package twiliotest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

// Verify webhooks: a service's Webhooks resources (CRUD, YW… SIDs) and the
// delivery of signed events to them. When a factor is created, verified or
// deleted, or a challenge approved or denied, every enabled webhook of the
// service subscribed to the event (or to "*") is sent a POST form signed
// with X-Twilio-Signature over its URL and the form, with the account's
// auth token, by the twilio package's Signature: what
// twilio.NewWebhookHandler checks. The form's fields (uuid, type,
// account_sid, service_sid, entity_identity, factor_sid, factor_type,
// challenge_sid, status, date_created) are the emulator's choice: Twilio
// does not publish the payload of either webhook version, so v1 and v2
// send the same.
//
// Deliveries wait in a bounded queue (WithWebhookQueue). An answer other
// than 2xx, or no answer, is retried after 1, 2, 4 and 8 seconds of the
// emulator's clock; after the fifth attempt the delivery is dropped and
// counted as failed. Deliveries are made by DeliverWebhooks, which
// attempts every delivery that is due, and, unless
// WithManualWebdelivery, by a goroutine the emulator starts when an
// event is queued, which calls it until the queue is empty.

// The bounds and timing of webhook deliveries.
const (
	// WebhookAttempts is how many times a delivery is tried.
	WebhookAttempts = 5
	// webhookTimeout bounds one delivery attempt.
	webhookTimeout = 5 * time.Second
	// maxWebhooks bounds a service's webhooks (Twilio documents none).
	maxWebhooks = 20
)

// WithWebhookQueue bounds the webhook deliveries waiting to be made; an
// event that finds the queue full is dropped and counted. The default is
// 1000.
func WithWebhookQueue(n int) Option {
	return func(c *config) error { return emuserver.SetCount("twiliotest", "WithWebhookQueue", n, &c.webhookQueue) }
}

// WithManualWebdelivery makes the emulator deliver webhook events
// only when DeliverWebhooks is called, so that a test decides when, on
// the emulator's clock, each attempt happens.
func WithManualWebhookDelivery() Option {
	return func(c *config) error {
		c.manualWebhooks = true
		return nil
	}
}

// webhook is one of a service's webhooks; guarded by hookState.mu.
type webhook struct {
	sid, serviceSID, name string
	events                []string
	url, status, version  string
	created, updated      time.Time
}

// hookDelivery is one event on its way to one webhook.
type hookDelivery struct {
	url      string
	form     url.Values
	attempts int       // made so far
	due      time.Time // of the next attempt, on the emulator's clock
}

// WebhookStats counts the emulator's webhook deliveries.
type WebhookStats struct {
	// Queued are waiting (for their first attempt or a retry).
	Queued int
	// Delivered were answered 2xx.
	Delivered int
	// Failed were dropped after WebhookAttempts attempts.
	Failed int
	// Dropped found the queue full.
	Dropped int
}

// hookState holds the webhooks and the delivery queue. Its own lock
// guards it, never held with Emulator.mu or apiState.mu.
type hookState struct {
	mu      sync.Mutex
	hooks   map[string]*webhook
	order   []string // webhook SIDs in creation order
	queue   []*hookDelivery
	limit   int
	stats   WebhookStats
	running bool // a hookDelivery goroutine runs
	manual  bool
	events  uint64
}

type webhookJSON struct {
	SID           string   `json:"sid"`
	ServiceSID    string   `json:"service_sid"`
	AccountSID    string   `json:"account_sid"`
	FriendlyName  string   `json:"friendly_name"`
	EventTypes    []string `json:"event_types"`
	Status        string   `json:"status"`
	Version       string   `json:"version"`
	WebhookURL    string   `json:"webhook_url"`
	WebhookMethod string   `json:"webhook_method"`
	DateCreated   string   `json:"date_created"`
	DateUpdated   string   `json:"date_updated"`
	URL           string   `json:"url"`
}

func (e *Emulator) webhookRoutes(m *http.ServeMux) {
	const wh = "/v2/Services/{service}/Webhooks"
	m.HandleFunc("POST "+wh, e.createWebhook)
	m.HandleFunc("GET "+wh, e.listWebhooks)
	m.HandleFunc("GET "+wh+"/{sid}", e.webhookHandler(e.fetchWebhook))
	m.HandleFunc("POST "+wh+"/{sid}", e.webhookHandler(e.updateWebhook))
	m.HandleFunc("DELETE "+wh+"/{sid}", e.webhookHandler(e.deleteWebhook))
	m.HandleFunc("GET /_emulator/webhooks", e.webhookStats)
	m.HandleFunc("POST /_emulator/webhooks/deliver", e.postDeliver)
}

func (e *Emulator) webhookJSON(r *http.Request, h *webhook) webhookJSON {
	return webhookJSON{
		SID: h.sid, ServiceSID: h.serviceSID, AccountSID: e.accountSID, FriendlyName: h.name,
		EventTypes: slices.Clone(h.events), Status: h.status, Version: h.version, WebhookURL: h.url,
		WebhookMethod: http.MethodPost, DateCreated: rfc3339(h.created), DateUpdated: rfc3339(h.updated),
		URL: e.base(r) + "/v2/Services/" + h.serviceSID + "/Webhooks/" + h.sid,
	}
}

// webhookHandler finds the webhook the request names, holding hookState.mu
// while h runs, or answers 404.
func (e *Emulator) webhookHandler(h func(http.ResponseWriter, *http.Request, *webhook)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !e.serviceExists(w, r) {
			return
		}
		hs := &e.hooks
		hs.mu.Lock()
		defer hs.mu.Unlock()
		wh := hs.hooks[r.PathValue("sid")]
		if wh == nil || wh.serviceSID != r.PathValue("service") {
			notFound(w, r)
			return
		}
		h(w, r, wh)
	}
}

// webhookParams reads and checks the webhook parameters of r's form into
// h; create requires FriendlyName, EventTypes and WebhookUrl. It answers
// 400 and returns false on a malformed one.
func webhookParams(w http.ResponseWriter, r *http.Request, h *webhook, create bool) bool {
	f := r.PostForm
	if create {
		for _, k := range []string{"FriendlyName", "EventTypes", "WebhookUrl"} {
			if f.Get(k) == "" {
				invalid(w, k)
				return false
			}
		}
	}
	if v, ok := f["FriendlyName"]; ok {
		if v[0] == "" || len(v[0]) > 64 {
			invalid(w, "FriendlyName")
			return false
		}
		h.name = v[0]
	}
	if v, ok := f["EventTypes"]; ok {
		for _, t := range v {
			switch t {
			case twilio.WebhookAllEvents, twilio.WebhookFactorCreated, twilio.WebhookFactorVerified, twilio.WebhookFactorDeleted,
				twilio.WebhookChallengeApproved, twilio.WebhookChallengeDenied:
			default:
				invalid(w, "EventTypes")
				return false
			}
		}
		h.events = slices.Clone(v)
	}
	if v, ok := f["WebhookUrl"]; ok {
		u, err := url.Parse(v[0])
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v[0]) > 2048 {
			invalid(w, "WebhookUrl")
			return false
		}
		h.url = v[0]
	}
	if v, ok := f["Status"]; ok {
		if v[0] != "enabled" && v[0] != "disabled" {
			invalid(w, "Status")
			return false
		}
		h.status = v[0]
	}
	if v, ok := f["Version"]; ok {
		if v[0] != "v1" && v[0] != "v2" {
			invalid(w, "Version")
			return false
		}
		h.version = v[0]
	}
	return true
}

func (e *Emulator) createWebhook(w http.ResponseWriter, r *http.Request) {
	if !e.serviceExists(w, r) {
		return
	}
	svc := r.PathValue("service")
	h := &webhook{serviceSID: svc, status: "enabled", version: "v2"}
	if !webhookParams(w, r, h, true) {
		return
	}
	e.api.mu.Lock()
	sid := e.api.newSID("YW") // the emulator's one SID sequence
	e.api.mu.Unlock()
	hs := &e.hooks
	hs.mu.Lock()
	defer hs.mu.Unlock()
	n := 0
	for _, sid := range hs.order {
		if hs.hooks[sid].serviceSID == svc {
			n++
		}
	}
	if n >= maxWebhooks {
		writeError(w, http.StatusBadRequest, 60200, "Max Webhooks reached for this service ("+strconv.Itoa(maxWebhooks)+" in the emulator)")
		return
	}
	if hs.hooks == nil {
		hs.hooks = map[string]*webhook{}
	}
	h.sid = sid
	h.created = e.now().UTC()
	h.updated = h.created
	hs.hooks[h.sid] = h
	hs.order = append(hs.order, h.sid)
	emuserver.WriteJSON(w, http.StatusCreated, e.webhookJSON(r, h))
}

func (e *Emulator) listWebhooks(w http.ResponseWriter, r *http.Request) {
	if !e.serviceExists(w, r) {
		return
	}
	hs := &e.hooks
	hs.mu.Lock()
	var items []any
	for _, sid := range hs.order {
		if h := hs.hooks[sid]; h.serviceSID == r.PathValue("service") {
			items = append(items, e.webhookJSON(r, h))
		}
	}
	hs.mu.Unlock()
	e.writePage(w, r, "webhooks", items, nil, badFactorParam)
}

func (e *Emulator) fetchWebhook(w http.ResponseWriter, r *http.Request, h *webhook) {
	emuserver.WriteJSON(w, http.StatusOK, e.webhookJSON(r, h))
}

func (e *Emulator) updateWebhook(w http.ResponseWriter, r *http.Request, h *webhook) {
	next := *h
	if !webhookParams(w, r, &next, false) {
		return
	}
	next.updated = e.now().UTC()
	*h = next
	emuserver.WriteJSON(w, http.StatusOK, e.webhookJSON(r, h))
}

func (e *Emulator) deleteWebhook(w http.ResponseWriter, r *http.Request, h *webhook) {
	e.hooks.remove(h.sid)
	w.WriteHeader(http.StatusNoContent)
}

// remove deletes the webhook sid. hs.mu must be held.
func (hs *hookState) remove(sid string) {
	delete(hs.hooks, sid)
	if i := slices.Index(hs.order, sid); i >= 0 {
		hs.order = slices.Delete(hs.order, i, i+1)
	}
}

// dropWebhooks deletes the webhooks of a deleted service.
func (e *Emulator) dropWebhooks(serviceSID string) {
	hs := &e.hooks
	hs.mu.Lock()
	defer hs.mu.Unlock()
	for _, sid := range slices.Clone(hs.order) {
		if hs.hooks[sid].serviceSID == serviceSID {
			hs.remove(sid)
		}
	}
}

// subscribed reports whether h takes events of kind.
func (h *webhook) subscribed(kind provider.LifecycleKind) bool {
	return h.status == "enabled" && (slices.Contains(h.events, twilio.WebhookAllEvents) || slices.Contains(h.events, string(kind)))
}

// queueEvent queues ev, an event of the service serviceSID, for each of
// its enabled webhooks subscribed to its kind, and starts the delivery
// goroutine unless delivery is manual.
func (e *Emulator) queueEvent(serviceSID string, ev provider.LifecycleEvent) {
	switch ev.Kind {
	case provider.EventFactorCreated, provider.EventFactorVerified, provider.EventFactorDeleted,
		provider.EventChallengeApproved, provider.EventChallengeDenied:
	default:
		return
	}
	hs := &e.hooks
	hs.mu.Lock()
	defer hs.mu.Unlock()
	now := e.now().UTC()
	for _, sid := range hs.order {
		h := hs.hooks[sid]
		if h.serviceSID != serviceSID || !h.subscribed(ev.Kind) {
			continue
		}
		if len(hs.queue) >= hs.limit {
			hs.stats.Dropped++
			continue
		}
		hs.events++
		form := url.Values{
			"uuid": {eventUUID(hs.events)}, "type": {string(ev.Kind)}, "account_sid": {e.accountSID},
			"service_sid": {serviceSID}, "entity_identity": {ev.Identity}, "factor_sid": {ev.FactorID},
			"factor_type": {string(ev.FactorType)}, "status": {ev.Status}, "date_created": {rfc3339(ev.Time)},
		}
		if ev.ChallengeID != "" {
			form.Set("challenge_sid", ev.ChallengeID)
		}
		hs.queue = append(hs.queue, &hookDelivery{url: h.url, form: form, due: now})
	}
	if len(hs.queue) > 0 && !hs.manual && !hs.running {
		hs.running = true
		go e.deliverLoop()
	}
}

// eventUUID returns the n-th event's uuid, in the 8-4-4-4-12 form.
func eventUUID(n uint64) string {
	s := strconv.FormatUint(n, 16)
	for len(s) < 12 {
		s = "0" + s
	}
	return "7e57e7e7-0000-4000-8000-" + s
}

// deliverLoop delivers until the queue is empty, waiting (in real time)
// up to a second between rounds for retries to fall due.
func (e *Emulator) deliverLoop() {
	for {
		e.DeliverWebhooks(context.Background())
		hs := &e.hooks
		hs.mu.Lock()
		if len(hs.queue) == 0 {
			hs.running = false
			hs.mu.Unlock()
			return
		}
		wait := time.Second
		now := e.now()
		for _, d := range hs.queue {
			wait = min(wait, max(d.due.Sub(now), 10*time.Millisecond))
		}
		hs.mu.Unlock()
		t := time.NewTimer(wait)
		<-t.C
	}
}

// DeliverWebhooks makes every webhook delivery attempt that is due on the
// emulator's clock, one after the other, and returns how many were
// answered 2xx. A failed attempt is retried when Advance (or the clock)
// has moved past its next due time.
func (e *Emulator) DeliverWebhooks(ctx context.Context) int {
	hs := &e.hooks
	hs.mu.Lock()
	now := e.now()
	var due []*hookDelivery
	keep := hs.queue[:0]
	for _, d := range hs.queue {
		if !d.due.After(now) {
			due = append(due, d)
		} else {
			keep = append(keep, d)
		}
	}
	clear(hs.queue[len(keep):])
	hs.queue = keep
	hs.mu.Unlock()
	token := e.secrets[e.accountSID]
	ok := 0
	for _, d := range due {
		err := deliver(ctx, token, d)
		hs.mu.Lock()
		d.attempts++
		switch {
		case err == nil:
			hs.stats.Delivered++
			ok++
		case d.attempts >= WebhookAttempts:
			hs.stats.Failed++
		default:
			d.due = e.now().Add(time.Second << (d.attempts - 1))
			hs.queue = append(hs.queue, d)
		}
		hs.mu.Unlock()
	}
	return ok
}

// deliver makes one attempt of d: a signed form POST.
func deliver(ctx context.Context, token string, d *hookDelivery) error {
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	body := d.form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, twilio.Signature(token, d.url, d.form))
	req.Header.Set("User-Agent", "TwilioProxy/1.1 (verifykit emulator)")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return errors.New("webhook answered " + strconv.Itoa(resp.StatusCode))
	}
	return nil
}

// WebhookStats returns the counts of webhook deliveries.
func (e *Emulator) WebhookStats() WebhookStats {
	hs := &e.hooks
	hs.mu.Lock()
	defer hs.mu.Unlock()
	st := hs.stats
	st.Queued = len(hs.queue)
	return st
}

// webhookStats serves WebhookStats as JSON.
func (e *Emulator) webhookStats(w http.ResponseWriter, r *http.Request) {
	st := e.WebhookStats()
	emuserver.WriteJSON(w, http.StatusOK, map[string]int{"queued": st.Queued, "delivered": st.Delivered, "failed": st.Failed, "dropped": st.Dropped})
}

// postDeliver runs DeliverWebhooks for a test in another process and
// answers how many deliveries succeeded.
func (e *Emulator) postDeliver(w http.ResponseWriter, r *http.Request) {
	emuserver.WriteJSON(w, http.StatusOK, map[string]int{"delivered": e.DeliverWebhooks(r.Context())})
}
