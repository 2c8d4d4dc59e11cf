package twiliotest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// Service rate limits and their buckets. A start names values for the
// service's limits in its RateLimits parameter ({"unique_name": "value"});
// a bucket of a named limit allows at most Max starts per value in any
// Interval seconds, and the start that would exceed it is refused with 429
// and Twilio error 20429, whose page lists "exceeding Verify Service Rate
// Limits that you configure" among its causes (Twilio documents no more
// specific code). A number on the Safe List is exempt.

// The emulator's bounds on rate limits (Twilio answers 60207 and 60210
// when its own are reached; it does not document the numbers).
const (
	maxRateLimits   = 100   // per service
	maxBuckets      = 100   // per rate limit
	maxBucketKeys   = 10000 // distinct values a bucket counts at once
	maxUniqueName   = 255
	maxDescription  = 255
	codeLimitsFull  = 60207
	codeUniqueTaken = 60208
	codeBucketsFull = 60210
	codeIntervalSet = 60211
)

// rateLimit is one of a service's rate limits; guarded by apiState.mu.
type rateLimit struct {
	sid, serviceSID, uniqueName, description string
	created, updated                         time.Time
	buckets                                  map[string]*bucket
	bucketSeq                                []string
}

// bucket allows max starts per interval for each value of its limit.
type bucket struct {
	sid              string
	max, interval    int
	created, updated time.Time
	hits             map[string][]time.Time // value → start times, oldest first
}

type rateLimitJSON struct {
	SID         string            `json:"sid"`
	ServiceSID  string            `json:"service_sid"`
	AccountSID  string            `json:"account_sid"`
	UniqueName  string            `json:"unique_name"`
	Description *string           `json:"description"`
	DateCreated string            `json:"date_created"`
	DateUpdated string            `json:"date_updated"`
	URL         string            `json:"url"`
	Links       map[string]string `json:"links"`
}

type bucketJSON struct {
	SID          string `json:"sid"`
	RateLimitSID string `json:"rate_limit_sid"`
	ServiceSID   string `json:"service_sid"`
	AccountSID   string `json:"account_sid"`
	Max          int    `json:"max"`
	Interval     int    `json:"interval"`
	DateCreated  string `json:"date_created"`
	DateUpdated  string `json:"date_updated"`
	URL          string `json:"url"`
}

func (e *Emulator) rateLimitRoutes(m *http.ServeMux) {
	const rl = "/v2/Services/{service}/RateLimits"
	m.HandleFunc("POST "+rl, e.createRateLimit)
	m.HandleFunc("GET "+rl, e.listRateLimits)
	m.HandleFunc("GET "+rl+"/{sid}", e.rateLimitHandler(e.fetchRateLimit))
	m.HandleFunc("POST "+rl+"/{sid}", e.rateLimitHandler(e.updateRateLimit))
	m.HandleFunc("DELETE "+rl+"/{sid}", e.rateLimitHandler(e.deleteRateLimit))
	m.HandleFunc("POST "+rl+"/{sid}/Buckets", e.rateLimitHandler(e.createBucket))
	m.HandleFunc("GET "+rl+"/{sid}/Buckets", e.rateLimitHandler(e.listBuckets))
	m.HandleFunc("GET "+rl+"/{sid}/Buckets/{bucket}", e.bucketHandler(e.fetchBucket))
	m.HandleFunc("POST "+rl+"/{sid}/Buckets/{bucket}", e.bucketHandler(e.updateBucket))
	m.HandleFunc("DELETE "+rl+"/{sid}/Buckets/{bucket}", e.bucketHandler(e.deleteBucket))
}

func (e *Emulator) rateLimitJSON(r *http.Request, l *rateLimit) rateLimitJSON {
	u := e.base(r) + "/v2/Services/" + l.serviceSID + "/RateLimits/" + l.sid
	return rateLimitJSON{
		SID: l.sid, ServiceSID: l.serviceSID, AccountSID: e.accountSID, UniqueName: l.uniqueName,
		Description: nullable(l.description), DateCreated: rfc3339(l.created), DateUpdated: rfc3339(l.updated),
		URL: u, Links: map[string]string{"buckets": u + "/Buckets"},
	}
}

func (e *Emulator) bucketJSON(r *http.Request, l *rateLimit, b *bucket) bucketJSON {
	return bucketJSON{
		SID: b.sid, RateLimitSID: l.sid, ServiceSID: l.serviceSID, AccountSID: e.accountSID, Max: b.max, Interval: b.interval,
		DateCreated: rfc3339(b.created), DateUpdated: rfc3339(b.updated),
		URL: e.base(r) + "/v2/Services/" + l.serviceSID + "/RateLimits/" + l.sid + "/Buckets/" + b.sid,
	}
}

// serviceExists answers 404 and returns false when the request's service
// does not exist.
func (e *Emulator) serviceExists(w http.ResponseWriter, r *http.Request) bool {
	s, _ := e.serviceSnapshot(w, r)
	return s != nil
}

// rateLimitHandler finds the rate limit the request names, holding
// apiState.mu while h runs, or answers 404.
func (e *Emulator) rateLimitHandler(h func(http.ResponseWriter, *http.Request, *rateLimit)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !e.serviceExists(w, r) {
			return
		}
		a := &e.api
		a.mu.Lock()
		defer a.mu.Unlock()
		l := a.limits[r.PathValue("sid")]
		if l == nil || l.serviceSID != r.PathValue("service") {
			notFound(w, r)
			return
		}
		h(w, r, l)
	}
}

// bucketHandler is like rateLimitHandler for a bucket of the limit.
func (e *Emulator) bucketHandler(h func(http.ResponseWriter, *http.Request, *rateLimit, *bucket)) http.HandlerFunc {
	return e.rateLimitHandler(func(w http.ResponseWriter, r *http.Request, l *rateLimit) {
		b := l.buckets[r.PathValue("bucket")]
		if b == nil {
			notFound(w, r)
			return
		}
		h(w, r, l, b)
	})
}

func (e *Emulator) createRateLimit(w http.ResponseWriter, r *http.Request) {
	if !e.serviceExists(w, r) {
		return
	}
	svc := r.PathValue("service")
	name, desc := r.PostForm.Get("UniqueName"), r.PostForm.Get("Description")
	switch {
	case name == "" || len(name) > maxUniqueName:
		invalid(w, "UniqueName")
		return
	case len(desc) > maxDescription:
		invalid(w, "Description")
		return
	}
	a := &e.api
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, sid := range a.limitSeq {
		l := a.limits[sid]
		if l.serviceSID != svc {
			continue
		}
		n++
		if l.uniqueName == name {
			writeError(w, http.StatusBadRequest, codeUniqueTaken, "Rate Limit UniqueName already exists")
			return
		}
	}
	if n >= maxRateLimits {
		writeError(w, http.StatusBadRequest, codeLimitsFull, "Max Rate Limits reached for this service ("+strconv.Itoa(maxRateLimits)+" in the emulator)")
		return
	}
	if a.limits == nil {
		a.limits = map[string]*rateLimit{}
	}
	now := e.now().UTC()
	l := &rateLimit{sid: a.newSID("RK"), serviceSID: svc, uniqueName: name, description: desc, created: now, updated: now, buckets: map[string]*bucket{}}
	a.limits[l.sid] = l
	a.limitSeq = append(a.limitSeq, l.sid)
	emuserver.WriteJSON(w, http.StatusCreated, e.rateLimitJSON(r, l))
}

func (e *Emulator) listRateLimits(w http.ResponseWriter, r *http.Request) {
	if !e.serviceExists(w, r) {
		return
	}
	a := &e.api
	a.mu.Lock()
	var items []any
	for _, sid := range a.limitSeq {
		if l := a.limits[sid]; l.serviceSID == r.PathValue("service") {
			items = append(items, e.rateLimitJSON(r, l))
		}
	}
	a.mu.Unlock()
	e.writePage(w, r, "rate_limits", items, nil, badFactorParam)
}

func (e *Emulator) fetchRateLimit(w http.ResponseWriter, r *http.Request, l *rateLimit) {
	emuserver.WriteJSON(w, http.StatusOK, e.rateLimitJSON(r, l))
}

func (e *Emulator) updateRateLimit(w http.ResponseWriter, r *http.Request, l *rateLimit) {
	if v, ok := r.PostForm["Description"]; ok {
		if len(v[0]) > maxDescription {
			invalid(w, "Description")
			return
		}
		l.description = v[0]
	}
	l.updated = e.now().UTC()
	emuserver.WriteJSON(w, http.StatusOK, e.rateLimitJSON(r, l))
}

func (e *Emulator) deleteRateLimit(w http.ResponseWriter, r *http.Request, l *rateLimit) {
	a := &e.api
	delete(a.limits, l.sid)
	for i, sid := range a.limitSeq {
		if sid == l.sid {
			a.limitSeq = append(a.limitSeq[:i:i], a.limitSeq[i+1:]...)
			break
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// bucketParams reads Max and Interval (both positive integers); required
// says whether they must be present. It writes a 400 and returns false
// when one is malformed.
func bucketParams(w http.ResponseWriter, r *http.Request, required bool) (maxN, interval int, ok bool) {
	read := func(key string) (int, bool) {
		v, present := r.PostForm[key]
		if !present {
			return 0, !required
		}
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 {
			return 0, false
		}
		return n, true
	}
	var good bool
	if maxN, good = read("Max"); !good {
		invalid(w, "Max")
		return 0, 0, false
	}
	if interval, good = read("Interval"); !good {
		invalid(w, "Interval")
		return 0, 0, false
	}
	return maxN, interval, true
}

// intervalTaken reports whether another bucket of l than except has
// interval.
func intervalTaken(l *rateLimit, interval int, except string) bool {
	for sid, b := range l.buckets {
		if sid != except && b.interval == interval {
			return true
		}
	}
	return false
}

func (e *Emulator) createBucket(w http.ResponseWriter, r *http.Request, l *rateLimit) {
	maxN, interval, ok := bucketParams(w, r, true)
	if !ok {
		return
	}
	a := &e.api
	switch {
	case len(l.buckets) >= maxBuckets:
		writeError(w, http.StatusBadRequest, codeBucketsFull, "Max Buckets reached for this Rate Limit ("+strconv.Itoa(maxBuckets)+" in the emulator)")
		return
	case intervalTaken(l, interval, ""):
		writeError(w, http.StatusBadRequest, codeIntervalSet, "A Bucket with this Interval already exists in the Rate Limit")
		return
	}
	now := e.now().UTC()
	b := &bucket{sid: a.newSID("BL"), max: maxN, interval: interval, created: now, updated: now, hits: map[string][]time.Time{}}
	l.buckets[b.sid] = b
	l.bucketSeq = append(l.bucketSeq, b.sid)
	emuserver.WriteJSON(w, http.StatusCreated, e.bucketJSON(r, l, b))
}

func (e *Emulator) listBuckets(w http.ResponseWriter, r *http.Request, l *rateLimit) {
	items := []any{}
	for _, sid := range l.bucketSeq {
		items = append(items, e.bucketJSON(r, l, l.buckets[sid]))
	}
	e.writePage(w, r, "buckets", items, nil, badFactorParam)
}

func (e *Emulator) fetchBucket(w http.ResponseWriter, r *http.Request, l *rateLimit, b *bucket) {
	emuserver.WriteJSON(w, http.StatusOK, e.bucketJSON(r, l, b))
}

func (e *Emulator) updateBucket(w http.ResponseWriter, r *http.Request, l *rateLimit, b *bucket) {
	maxN, interval, ok := bucketParams(w, r, false)
	if !ok {
		return
	}
	if interval != 0 && intervalTaken(l, interval, b.sid) {
		writeError(w, http.StatusBadRequest, codeIntervalSet, "A Bucket with this Interval already exists in the Rate Limit")
		return
	}
	if maxN != 0 {
		b.max = maxN
	}
	if interval != 0 {
		b.interval = interval
	}
	b.updated = e.now().UTC()
	emuserver.WriteJSON(w, http.StatusOK, e.bucketJSON(r, l, b))
}

func (e *Emulator) deleteBucket(w http.ResponseWriter, r *http.Request, l *rateLimit, b *bucket) {
	delete(l.buckets, b.sid)
	for i, sid := range l.bucketSeq {
		if sid == b.sid {
			l.bucketSeq = append(l.bucketSeq[:i:i], l.bucketSeq[i+1:]...)
			break
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// admitRateLimits applies the service's rate limits to a start to the
// target to: it answers and returns false when RateLimits is malformed,
// names a limit the service does not have, or a bucket is full; otherwise
// it counts the start in every bucket of the named limits. A number on
// the Safe List is exempt (but its RateLimits must still be well-formed).
func (e *Emulator) admitRateLimits(w http.ResponseWriter, r *http.Request, serviceSID, to string) bool {
	raw, present := r.PostForm["RateLimits"]
	if !present {
		return true
	}
	var keys map[string]any
	if err := json.Unmarshal([]byte(raw[0]), &keys); err != nil {
		invalid(w, "RateLimits")
		return false
	}
	values := map[string]string{}
	for k, v := range keys {
		switch v := v.(type) {
		case string:
			values[k] = v
		case float64:
			values[k] = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			invalid(w, "RateLimits")
			return false
		}
	}
	exempt := wire.IsE164(to) && e.safeListed(to)
	a := &e.api
	a.mu.Lock()
	defer a.mu.Unlock()
	var named []*rateLimit
	for name := range values {
		var found *rateLimit
		for _, sid := range a.limitSeq {
			if l := a.limits[sid]; l.serviceSID == serviceSID && l.uniqueName == name {
				found = l
			}
		}
		if found == nil {
			invalid(w, "RateLimits: the service has no rate limit "+strconv.Quote(name))
			return false
		}
		named = append(named, found)
	}
	if exempt {
		return true
	}
	now := e.now()
	for _, l := range named {
		for _, b := range l.buckets {
			if b.recent(values[l.uniqueName], now) >= b.max {
				writeCode(w, http.StatusTooManyRequests, twiliocode.TooManyRequests,
					"Too Many Requests: the start exceeds bucket "+b.sid+" of rate limit "+l.uniqueName)
				return false
			}
		}
	}
	for _, l := range named {
		for _, b := range l.buckets {
			b.hit(values[l.uniqueName], now)
		}
	}
	return true
}

// recent returns how many starts for value b counted in the last interval,
// dropping the older ones.
func (b *bucket) recent(value string, now time.Time) int {
	since := now.Add(-time.Duration(b.interval) * time.Second)
	hs := b.hits[value]
	i := 0
	for i < len(hs) && !hs[i].After(since) {
		i++
	}
	hs = hs[i:]
	if len(hs) == 0 {
		delete(b.hits, value)
	} else {
		b.hits[value] = hs
	}
	return len(hs)
}

// hit counts a start for value, keeping at most maxBucketKeys values.
func (b *bucket) hit(value string, now time.Time) {
	if _, ok := b.hits[value]; !ok && len(b.hits) >= maxBucketKeys {
		for v := range b.hits {
			b.recent(v, now)
		}
		if len(b.hits) >= maxBucketKeys {
			for v := range b.hits { // drop an arbitrary value: the emulator's bound
				delete(b.hits, v)
				break
			}
		}
	}
	b.hits[value] = append(b.hits[value], now)
}

// dropRateLimits forgets the rate limits of the deleted service sid.
func (e *Emulator) dropRateLimits(sid string) {
	a := &e.api
	a.mu.Lock()
	defer a.mu.Unlock()
	kept := a.limitSeq[:0]
	for _, rk := range a.limitSeq {
		if a.limits[rk].serviceSID == sid {
			delete(a.limits, rk)
			continue
		}
		kept = append(kept, rk)
	}
	a.limitSeq = kept
}
