package twiliotest

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/internal/fakeconf"
	"github.com/verifykit/verifykit/internal/httpopt"
	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/store"
)

// The credentials and service an Emulator accepts by default. They are
// well-formed but fake: they work only here.
const (
	DefaultAccountSID = "AC00000000000000000000000000000000"
	DefaultAuthToken  = "emulatortoken0000000000000000000"
	DefaultServiceSID = "VA00000000000000000000000000000000"
)

// The emulator's default bounds. Each has an option to change it.
const (
	// DefaultMaxServices is how many Verify Services an emulator holds
	// unless WithMaxServices says otherwise.
	DefaultMaxServices = 1000
	// DefaultMaxPending is how many pending verifications an emulator
	// holds, across its services, unless WithMaxPending says otherwise.
	DefaultMaxPending = 50000
)

// Emulator is an http.Handler that emulates the Twilio Verify v2 API. It is
// safe for concurrent use. Create one with New, or a running server with
// NewServer.
type Emulator struct {
	config                    // the options
	secrets map[string]string // username → password
	bound   bound             // the pending verifications across services: pending.go

	clock emuserver.Clock // WithClock's clock plus the advance; read without mu

	mu       sync.Mutex
	services map[string]*service
	order    []string // service SIDs in creation order
	outbox   emuserver.Ring[Message]
	approved emuserver.Ring[string] // SIDs of approved verifications, oldest first
	faults   emuserver.Faults[Fault]
	extras   extras // what the emulator adds to verifications: pending.go

	api apiState // safe list, rate limits, attempts: apistate.go

	hooks hookState // webhooks and their deliveries: webhooks.go
	push  pushState // access tokens: push.go

	mux *http.ServeMux
}

// service is one Verify Service. Its fields are guarded by Emulator.mu.
type service struct {
	info
	// eng runs the service's verifications over st. New ones get codes of
	// codeLength digits; a verification keeps the code it was started
	// with, so one started before a change of CodeLength keeps its length.
	eng        *engine.Verifications
	st         *pendingStore
	codeLength atomic.Int32
	// factors holds the service's entities, factors and challenges (see
	// factors.go), created at the first factor request. It never changes,
	// so factors outlive a change of CodeLength.
	factors *engine.Factors
	extras  factorExtras
	// includeDate is settings.PushIncludeDate, read by the factor engine
	// (under its own lock) when it creates a push challenge.
	includeDate atomic.Bool
}

// Option configures an Emulator.
type Option func(*config) error

type config struct {
	accountSID, authToken string
	apiKeys               map[string]string
	publicBase            string // empty: the base URL the request came to
	defaultService        string
	conf                  fakeconf.Config // codes, limits, disabled channels
	seed                  uint64
	retryAfter            time.Duration
	baseNow               func() time.Time
	outLimit              int
	openControl           bool
	bodyTimeout           time.Duration
	maxServices           int
	maxPending            int
	webhookQueue          int  // webhooks.go
	manualWebhooks        bool // webhooks.go
}

// WithCredentials sets the Account SID and Auth Token requests must carry.
// The defaults are DefaultAccountSID and DefaultAuthToken.
func WithCredentials(accountSID, authToken string) Option {
	return func(c *config) error {
		if !wire.ValidSID(accountSID, "AC") || authToken == "" {
			return errors.New("twiliotest: WithCredentials: need an Account SID (AC + 32 hex digits) and a non-empty token")
		}
		c.accountSID, c.authToken = accountSID, authToken
		return nil
	}
}

// WithAPIKey makes the emulator accept an API key SID (SK…) and its secret
// as well as the Account SID and Auth Token.
func WithAPIKey(keySID, secret string) Option {
	return func(c *config) error {
		if !wire.ValidSID(keySID, "SK") || secret == "" {
			return errors.New("twiliotest: WithAPIKey: need an API key SID (SK + 32 hex digits) and a non-empty secret")
		}
		if c.apiKeys == nil {
			c.apiKeys = map[string]string{}
		}
		c.apiKeys[keySID] = secret
		return nil
	}
}

// WithPublicBaseURL sets the base of the absolute URLs in responses (url,
// links, meta.*_page_url, sna.url), for an emulator reached through a
// proxy under another address. By default they are built from the address
// each request came to (its Host header), so they point at the emulator
// itself and a client that follows them, as every official SDK does when
// it pages, stays on the emulator.
func WithPublicBaseURL(base string) Option {
	return func(c *config) error {
		u, err := url.Parse(base)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("twiliotest: WithPublicBaseURL: %q is not an absolute http(s) URL", base)
		}
		c.publicBase = strings.TrimRight(base, "/")
		return nil
	}
}

// WithDefaultService sets the SID of the service the emulator creates at
// start (DefaultServiceSID by default). An empty sid creates none.
func WithDefaultService(sid string) Option {
	return func(c *config) error {
		if sid != "" && !wire.ValidSID(sid, "VA") {
			return errors.New("twiliotest: WithDefaultService: a service SID is VA followed by 32 hex digits")
		}
		c.defaultService = sid
		return nil
	}
}

// WithFixedCode makes every verification of every service use code (4 to
// 10 letters or digits) instead of codes derived from the seed.
func WithFixedCode(code string) Option {
	return func(c *config) error {
		c.conf.Source = fakeconf.Fixed
		return emuserver.Set("twiliotest", "WithFixedCode", code, wire.ValidCode(code), "a code is 4 to 10 ASCII letters or digits", &c.conf.FixedCode)
	}
}

// WithRandomCodes makes codes, and the random part of SIDs, come from
// crypto/rand instead of the seed. Tests then read codes from the outbox.
func WithRandomCodes() Option {
	return func(c *config) error {
		c.conf.Source = fakeconf.Crypto
		return nil
	}
}

// WithValidity sets how long a code stays valid from its verification's
// first send: 10 minutes by default, as on Twilio.
func WithValidity(d time.Duration) Option {
	return setDuration("WithValidity", d, 1, func(c *config) *time.Duration { return &c.conf.Validity })
}

// WithMaxSends sets how many times one verification's code may be sent (5
// by default, as on Twilio); the next start answers 429/60203.
func WithMaxSends(n int) Option {
	return func(c *config) error { return emuserver.SetCount("twiliotest", "WithMaxSends", n, &c.conf.MaxSends) }
}

// WithMaxChecks sets how many wrong codes one verification accepts (5 by
// default, as on Twilio); the next check answers 429/60202.
func WithMaxChecks(n int) Option {
	return func(c *config) error { return emuserver.SetCount("twiliotest", "WithMaxChecks", n, &c.conf.MaxChecks) }
}

// WithSeed sets the seed the codes and SIDs of the emulator's services are
// derived from. The default service uses seed itself, so its codes are
// those of a fake.Fake with fake.WithSeed(seed); every other service uses
// a seed derived from seed and its SID, so services have their own codes
// and SIDs. The default is fake.DefaultSeed.
func WithSeed(seed uint64) Option {
	return func(c *config) error {
		c.seed = seed
		return nil
	}
}

// setDuration returns an option that sets the duration field returns to d,
// or fails when d is less than least.
func setDuration(name string, d, least time.Duration, field func(*config) *time.Duration) Option {
	return func(c *config) error {
		if d < least {
			return fmt.Errorf("twiliotest: %s: %v is too short", name, d)
		}
		*field(c) = d
		return nil
	}
}

// WithRetryAfter makes every 429 answer carry a Retry-After header of d
// (rounded up to whole seconds). Twilio does not document one, so the
// default is none.
func WithRetryAfter(d time.Duration) Option {
	return setDuration("WithRetryAfter", d, 0, func(c *config) *time.Duration { return &c.retryAfter })
}

// WithClock makes the emulator read time from now instead of time.Now (a
// fake.Clock's Now method, for example). Advance and POST /_emulator/clock
// add to it.
func WithClock(now func() time.Time) Option {
	return func(c *config) error { return httpopt.SetClock("twiliotest", now, &c.baseNow) }
}

// WithOutboxLimit sets how many messages the emulator's outbox keeps, how
// many approvals Approvals reports and how many Verification Attempts it
// keeps, the oldest dropped first. The default is 1000.
func WithOutboxLimit(n int) Option {
	return func(c *config) error { return emuserver.SetCount("twiliotest", "WithOutboxLimit", n, &c.outLimit) }
}

// WithOpenControl lets anyone who can reach the emulator use its control
// endpoints (/_emulator/: the outbox, faults, the clock) without
// credentials. By default they need the same HTTP Basic auth as the API.
func WithOpenControl() Option {
	return func(c *config) error {
		c.openControl = true
		return nil
	}
}

// WithBodyTimeout sets how long the emulator waits for the body of a
// request before it gives up and closes the connection. The default is 10
// seconds.
func WithBodyTimeout(d time.Duration) Option {
	return setDuration("WithBodyTimeout", d, 1, func(c *config) *time.Duration { return &c.bodyTimeout })
}

// WithMaxServices bounds the Verify Services the emulator holds, the
// default service included. Creating one more answers 429 with Twilio
// error 20429. The default is DefaultMaxServices.
func WithMaxServices(n int) Option {
	return func(c *config) error { return emuserver.SetCount("twiliotest", "WithMaxServices", n, &c.maxServices) }
}

// WithMaxPending bounds the pending verifications the emulator holds
// across its services. A start that would create one more answers 429 with
// Twilio error 20429 (Too Many Requests), as Twilio does when an account
// sends more than it allows; a start that re-sends the code of a pending
// verification is not refused. The default is DefaultMaxPending.
func WithMaxPending(n int) Option {
	return func(c *config) error { return emuserver.SetCount("twiliotest", "WithMaxPending", n, &c.maxPending) }
}

// New returns an Emulator configured by opts.
func New(opts ...Option) (*Emulator, error) {
	cfg := config{
		accountSID:     DefaultAccountSID,
		authToken:      DefaultAuthToken,
		defaultService: DefaultServiceSID,
		conf:           fakeconf.Default(),
		seed:           fakeconf.DefaultSeed,
		baseNow:        time.Now,
		outLimit:       1000,
		bodyTimeout:    10 * time.Second,
		maxServices:    DefaultMaxServices,
		maxPending:     DefaultMaxPending,
		webhookQueue:   1000,
	}
	if err := emuserver.Apply("twiliotest", &cfg, opts); err != nil {
		return nil, err
	}
	e := &Emulator{
		config:   cfg,
		secrets:  map[string]string{cfg.accountSID: cfg.authToken},
		clock:    emuserver.Clock{Base: cfg.baseNow},
		bound:    bound{max: cfg.maxPending},
		services: map[string]*service{},
		extras:   extras{bySID: map[string]*extra{}},
		outbox:   emuserver.Ring[Message]{Limit: cfg.outLimit},
		approved: emuserver.Ring[string]{Limit: cfg.outLimit},
		api:      apiState{attempts: emuserver.Ring[attempt]{Limit: cfg.outLimit}},
		hooks:    hookState{limit: cfg.webhookQueue, manual: cfg.manualWebhooks},
	}
	maps.Copy(e.secrets, cfg.apiKeys)
	e.conf.Now, e.conf.IDPrefix, e.conf.AttemptPrefix = e.now, "VE", "VL" // the shape of Twilio's SIDs
	e.bound.count = e.countPending
	if cfg.defaultService != "" {
		if _, err := e.addService(cfg.defaultService, settings{FriendlyName: "verifykit emulator"}); err != nil {
			return nil, err
		}
	}
	e.routes()
	return e, nil
}

// MustNew is like New but panics on an invalid option.
func MustNew(opts ...Option) *Emulator { return emuserver.Must(New(opts...)) }

// now is the emulator's clock: the base clock plus the advanced offset. It
// takes no lock, so the engine and the stores may call it while holding
// their own.
func (e *Emulator) now() time.Time { return e.clock.Now() }

// Advance moves the emulator's clock forward by d, so tests can expire
// codes without waiting.
func (e *Emulator) Advance(d time.Duration) { e.clock.Advance(d) }

// ServeHTTP serves the Verify API and the /_emulator/ endpoints.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/v2/") || p == "/v2":
		if path.Clean(p) != p || strings.Contains(r.URL.RawPath, "%2F") {
			// The mux would answer with a redirect to the clean path;
			// Twilio answers 404, in JSON, as every /v2/ error.
			notFound(w, r)
			return
		}
		if !e.authorized(r) && !deviceRequest(&r) { // push.go
			unauthorized(w)
			return
		}
		if !e.readForm(w, r) {
			return
		}
		if f := e.takeFault(r); f != nil {
			f.apply(w, r, e)
			return
		}
	case strings.HasPrefix(p, snaPath):
		// The device step of silent network auth: the device has no
		// credentials, the unguessable token in the URL is the credential.
	case strings.HasPrefix(p, "/_emulator"):
		if !e.openControl && !e.authorized(r) {
			unauthorized(w)
			return
		}
	}
	e.mux.ServeHTTP(w, r)
}

// fallback answers a request no route takes: Twilio's 405/20004 when the
// path takes other methods, else 404/20404.
func (e *Emulator) fallback(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := e.mux.Handler(r2); p != "" && p != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		notFound(w, r)
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeCode(w, http.StatusMethodNotAllowed, 20004, "Method not allowed: "+r.Method+" "+strings.TrimPrefix(r.URL.Path, "/v2"))
}

// readForm reads and parses a request's form (the body of a POST, the
// query of a GET), bounded in size and in time. It writes a 400 and returns
// false on failure.
func (e *Emulator) readForm(w http.ResponseWriter, r *http.Request) bool {
	rc := http.NewResponseController(w)
	timed := canSetReadDeadline(w) && rc.SetReadDeadline(time.Now().Add(e.bodyTimeout)) == nil
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	err := r.ParseForm()
	if timed {
		if err != nil {
			// The body stalled or overflowed: the connection is closed
			// after the answer, so no reader can wait on it.
			w.Header().Set("Connection", "close")
		} else {
			rc.SetReadDeadline(time.Time{})
		}
	}
	if err != nil {
		writeCode(w, http.StatusBadRequest, 60200, "Invalid parameter: the request body is not a form, is too large or did not arrive in time")
		return false
	}
	return true
}

// canSetReadDeadline reports whether w, or a writer it wraps, sets read
// deadlines, as http.ResponseController looks for: a server's writers do;
// one that does not (an httptest.ResponseRecorder, in process) is not
// asked, which would cost an error value per request.
func canSetReadDeadline(w http.ResponseWriter) bool {
	for {
		switch t := w.(type) {
		case interface{ SetReadDeadline(time.Time) error }:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return false
		}
	}
}

// authorized checks Basic auth in constant time.
func (e *Emulator) authorized(r *http.Request) bool { return emuserver.BasicAuth(r, e.secrets) }

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
	writeCode(w, http.StatusUnauthorized, 20003, "")
}

// base returns the base of the absolute URLs in the answer to r: the
// configured public base, or the address r came to.
func (e *Emulator) base(r *http.Request) string {
	scheme, host := e.baseParts(r)
	return scheme + host
}

// baseParts returns base(r) in two parts, to concatenate with more.
func (e *Emulator) baseParts(r *http.Request) (string, string) {
	if e.publicBase != "" {
		return "", e.publicBase
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	host := r.Host
	if host == "" || strings.ContainsAny(host, "/?#@ \\") {
		host = "127.0.0.1"
	}
	return scheme, host
}

// serviceSnapshot returns the service a request names and a copy of its
// settings, or writes a 404.
func (e *Emulator) serviceSnapshot(w http.ResponseWriter, r *http.Request) (*service, info) {
	e.mu.Lock()
	s := e.services[r.PathValue("service")]
	var in info
	if s != nil {
		in = s.info
	}
	e.mu.Unlock()
	if s == nil {
		notFound(w, r)
	}
	return s, in
}

// seedFor returns the seed of a service's codes and SIDs: the emulator's seed for the
// default service, one derived from it and the SID for the others.
func (e *Emulator) seedFor(sid string) uint64 {
	if sid == DefaultServiceSID {
		return e.seed
	}
	return fakeconf.Splitmix(e.seed ^ fakeconf.Splitmix(fakeconf.FNV(sid)))
}

// newService returns the service sid with settings st, and its engine:
// the codes and SIDs of the seed seedFor(sid), over a store of its own.
func (e *Emulator) newService(sid string, st settings) (*service, error) {
	c := e.conf
	c.Seed = e.seedFor(sid)
	gen := c.NewGen()
	mem, err := store.NewMemory(store.WithClock(e.now))
	if err != nil {
		return nil, err
	}
	now := e.now().UTC()
	s := &service{info: info{SID: sid, AccountSID: e.accountSID, settings: st, DateCreated: now, DateUpdated: now}}
	s.st = &pendingStore{Memory: mem, b: &e.bound, maxChecks: c.MaxChecks}
	s.codeLength.Store(int32(st.CodeLength))
	s.includeDate.Store(st.PushIncludeDate)
	ec := c.Engine(s.st, gen)
	ec.NewCode = func() string { return gen.Code(cmp.Or(int(s.codeLength.Load()), c.CodeLength)) }
	s.eng, err = engine.New(ec)
	return s, err
}

// addService adds a service and returns its info, or returns
// errTooManyServices.
func (e *Emulator) addService(sid string, st settings) (info, error) {
	s, err := e.newService(sid, st)
	if err != nil {
		return info{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.services) >= e.maxServices {
		return info{}, errTooManyServices
	}
	e.services[sid] = s
	e.order = append(e.order, sid)
	return s.info, nil
}

var errTooManyServices = errors.New("twiliotest: too many services")

// LastCode returns the code most recently sent to the target to, by any
// service.
func (e *Emulator) LastCode(to string) (string, bool) {
	m, ok := e.LastMessage(to)
	return m.Code, ok
}

// LastMessage returns the message most recently sent to the target to, by
// any service.
func (e *Emulator) LastMessage(to string) (Message, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, ok := e.outbox.Last(func(m Message) bool { return m.To == to })
	return m.rendered(), ok
}

// Messages returns the outbox, oldest first.
func (e *Emulator) Messages() []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.outbox.Slice()
	for i := range out {
		out[i] = out[i].rendered()
	}
	return out
}

// Pending returns the number of pending verifications the emulator holds
// across its services.
func (e *Emulator) Pending() int {
	n, _ := e.bound.exact()
	return n
}

// record adds the message m of a service to the outbox, to be rendered
// when read (most messages never are), as the delivery d (msgconfig.go)
// says.
func (e *Emulator) record(serviceSID string, d *delivery, m Message) {
	m.d = d
	if d != nil {
		m.MessagingServiceSID, m.TemplateSID = d.messagingServiceSID, d.templateSID
	}
	e.mu.Lock()
	e.outbox.Add(m)
	e.mu.Unlock()
}

// recordApproval notes that the verification sid was approved. It runs
// before the answer is written, so an approval whose answer is lost still
// counts.
func (e *Emulator) recordApproval(sid string) {
	e.mu.Lock()
	e.approved.Add(sid)
	e.mu.Unlock()
	e.convertAttempts(sid) // attempts.go
}

// Approvals returns the SIDs of the verifications the emulator approved (by
// a right code, by an update to approved, or by a silent network auth
// check), oldest first; at most the outbox limit of them are kept. Tests
// compare it with what a client reported: an approval the client saw must
// be here.
func (e *Emulator) Approvals() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.approved.Slice()
}

// Message is one code the emulator "sent", as GET /_emulator/messages
// returns it.
type Message struct {
	To      string `json:"to"`      // E.164 number or e-mail address, as sent
	Channel string `json:"channel"` // Twilio's name: sms, call, email, whatsapp…
	Code    string `json:"code"`    // the one-time code; String redacts it
	Body    string `json:"body"`    // the text a real delivery would carry
	// VerificationSID (VE…) and ServiceSID (VA…) name the verification
	// the code belongs to.
	VerificationSID string `json:"verification_sid"`
	ServiceSID      string `json:"service_sid"`
	// SentAt is the send time by the emulator's clock.
	SentAt time.Time `json:"sent_at"`
	// MessagingServiceSID (MG…) is the Messaging Service an SMS went out
	// through, by the service's messaging configurations; empty for
	// Twilio's own senders.
	MessagingServiceSID string `json:"messaging_service_sid,omitempty"`
	// TemplateSID (HJ…) is the template the Body follows, if any.
	TemplateSID string `json:"template_sid,omitempty"`
	// ChallengeSID (YC…) and Platform (apn or fcm) are set for a push
	// notification (Channel "push", To the factor's SID, Body the
	// challenge's message).
	ChallengeSID string `json:"challenge_sid,omitempty"`
	Platform     string `json:"platform,omitempty"`
	// NotificationToken is the device token a push notification went to
	// (the factor's Config.NotificationToken at the time); String does
	// not print it.
	NotificationToken string `json:"notification_token,omitempty"`

	name string    // the friendly name of a code's message, until rendered
	d    *delivery // its template, if any
}

// rendered returns m with its Body, which the outbox leaves empty until a
// code's message is read.
func (m Message) rendered() Message {
	if m.name != "" {
		m.Body = m.d.render(fakeconf.Body(m.name, m.Code), m.Code)
	}
	m.name, m.d = "", nil
	return m
}

// String describes the message without its code, body or full target.
func (m Message) String() string {
	return "twiliotest.Message{Service:" + m.ServiceSID + " Verification:" + m.VerificationSID + " To:" + mask.Target(m.To) +
		" Channel:" + m.Channel + " Code:[redacted]}"
}

// GoString is like String, so %#v shows no code either.
func (m Message) GoString() string { return m.String() }

// String describes the emulator without its credentials.
func (e *Emulator) String() string {
	return "twiliotest.Emulator{Account:" + e.accountSID + " PublicBase:" + cmp.Or(e.publicBase, "(request host)") + "}"
}

// GoString is like String.
func (e *Emulator) GoString() string { return e.String() }
