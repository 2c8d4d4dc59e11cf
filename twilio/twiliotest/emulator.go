package twiliotest

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// The credentials and service an Emulator accepts by default. They are
// well-formed but fake: they work only here.
const (
	DefaultAccountSID = "AC00000000000000000000000000000000"
	DefaultAuthToken  = "emulatortoken0000000000000000000"
	DefaultServiceSID = "VA00000000000000000000000000000000"
)

// DefaultPublicBaseURL is the base of the absolute URLs in responses
// (url, links, meta) unless WithPublicBaseURL sets another.
const DefaultPublicBaseURL = "https://verify.twilio.com"

// Emulator is an http.Handler that emulates the Twilio Verify v2 API. It is
// safe for concurrent use. Create one with New, or a running server with
// NewServer.
type Emulator struct {
	accountSID string
	secrets    map[string]string // username → password
	publicBase string
	fakeOpts   []fake.Option
	retryAfter time.Duration
	baseNow    func() time.Time

	mu       sync.Mutex
	offset   time.Duration
	services map[string]*service
	order    []string // service SIDs in creation order
	seq      uint64
	outbox   []Message
	outLimit int
	approved []string // SIDs of approved verifications, oldest first, at most outLimit
	faults   []*Fault

	mux *http.ServeMux
}

// service is one Verify Service and the fake behind it.
type service struct {
	info
	fake *fake.Fake
}

// Option configures an Emulator.
type Option func(*config) error

type config struct {
	accountSID, authToken string
	apiKeys               map[string]string
	publicBase            string
	defaultService        string
	fakeOpts              []fake.Option
	retryAfter            time.Duration
	now                   func() time.Time
	outLimit              int
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

// WithPublicBaseURL sets the base of the absolute URLs in responses. The
// default is https://verify.twilio.com, so that an SDK whose transport
// rewrites Twilio's host to the emulator also follows next-page URLs to it;
// set it to the emulator's own URL for clients that follow URLs as given.
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

// WithFakeOptions applies opts to the fake behind every service, after the
// emulator's own, for example fake.WithFixedCode, fake.WithValidity or
// fake.WithMaxSends. Do not pass fake.WithClock: use WithClock.
func WithFakeOptions(opts ...fake.Option) Option {
	return func(c *config) error {
		for _, o := range opts {
			if o == nil {
				return errors.New("twiliotest: WithFakeOptions: nil option")
			}
		}
		c.fakeOpts = append(c.fakeOpts, opts...)
		return nil
	}
}

// WithRetryAfter makes every 429 answer carry a Retry-After header of d
// (rounded up to whole seconds). Twilio does not document one, so the
// default is none.
func WithRetryAfter(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("twiliotest: WithRetryAfter: negative duration")
		}
		c.retryAfter = d
		return nil
	}
}

// WithClock makes the emulator read time from now instead of time.Now (a
// fake.Clock's Now method, for example). Advance and POST /_emulator/clock
// add to it.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("twiliotest: WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithOutboxLimit sets how many messages the emulator's outbox keeps, the
// oldest dropped first. The default is 1000.
func WithOutboxLimit(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("twiliotest: WithOutboxLimit: less than 1")
		}
		c.outLimit = n
		return nil
	}
}

// New returns an Emulator configured by opts.
func New(opts ...Option) (*Emulator, error) {
	cfg := config{
		accountSID:     DefaultAccountSID,
		authToken:      DefaultAuthToken,
		publicBase:     DefaultPublicBaseURL,
		defaultService: DefaultServiceSID,
		now:            time.Now,
		outLimit:       1000,
	}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("twiliotest: nil option")
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	e := &Emulator{
		accountSID: cfg.accountSID,
		secrets:    map[string]string{cfg.accountSID: cfg.authToken},
		publicBase: cfg.publicBase,
		fakeOpts:   cfg.fakeOpts,
		retryAfter: cfg.retryAfter,
		baseNow:    cfg.now,
		services:   map[string]*service{},
		outLimit:   cfg.outLimit,
	}
	for k, v := range cfg.apiKeys {
		e.secrets[k] = v
	}
	if cfg.defaultService != "" {
		if _, err := e.addService(cfg.defaultService, settings{FriendlyName: "verifykit emulator"}); err != nil {
			return nil, err
		}
	}
	e.routes()
	return e, nil
}

// MustNew is like New but panics on an invalid option.
func MustNew(opts ...Option) *Emulator {
	e, err := New(opts...)
	if err != nil {
		panic(err)
	}
	return e
}

// now is the emulator's clock: the base clock plus the advanced offset.
func (e *Emulator) now() time.Time {
	e.mu.Lock()
	off := e.offset
	e.mu.Unlock()
	return e.baseNow().Add(off)
}

// Advance moves the emulator's clock forward by d, so tests can expire
// codes without waiting.
func (e *Emulator) Advance(d time.Duration) {
	e.mu.Lock()
	e.offset += d
	e.mu.Unlock()
}

// ServeHTTP serves the Verify API and the /_emulator/ endpoints.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/v2/") {
		if p := r.URL.Path; path.Clean(p) != p || strings.Contains(r.URL.RawPath, "%2F") {
			// The mux would answer with a redirect to the clean path;
			// Twilio answers 404, in JSON, as every /v2/ error.
			notFound(w, r)
			return
		}
		if !e.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
			return
		}
		if f := e.takeFault(r); f != nil {
			f.apply(w, r, e)
			return
		}
	}
	e.mux.ServeHTTP(w, r)
}

// authorized checks Basic auth in constant time.
func (e *Emulator) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	want, known := e.secrets[user]
	if !known {
		want = "\x00no such user\x00"
	}
	return subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1 && known
}

// serviceFor returns the service a request names, or writes a 404.
func (e *Emulator) serviceFor(w http.ResponseWriter, r *http.Request) *service {
	e.mu.Lock()
	s := e.services[r.PathValue("service")]
	e.mu.Unlock()
	if s == nil {
		notFound(w, r)
	}
	return s
}

// newFake returns the fake behind a service with the given settings.
func (e *Emulator) newFake(sid string, st settings) (*fake.Fake, error) {
	opts := []fake.Option{
		fake.WithClock(e.now),
		fake.WithCustomCodes(true), // the emulator checks custom_code_enabled itself
		fake.WithOnSend(func(m fake.Message) { e.record(sid, m) }),
	}
	if st.FriendlyName != "" && len(st.FriendlyName) <= 30 {
		opts = append(opts, fake.WithFriendlyName(st.FriendlyName))
	}
	if st.CodeLength != 0 {
		opts = append(opts, fake.WithCodeLength(st.CodeLength))
	}
	return fake.New(append(opts, e.fakeOpts...)...)
}

// newSID returns a fresh SID with the given prefix. e.mu must be held.
func (e *Emulator) newSID(prefix string) string {
	e.seq++
	return fmt.Sprintf("%s%016x%016x", prefix, uint64(0x5eed5eed5eed5eed), e.seq)
}

func (e *Emulator) addService(sid string, st settings) (*service, error) {
	f, err := e.newFake(sid, st)
	if err != nil {
		return nil, err
	}
	now := e.baseNow().UTC()
	s := &service{info: info{SID: sid, AccountSID: e.accountSID, settings: st, DateCreated: now, DateUpdated: now}, fake: f}
	e.mu.Lock()
	e.services[sid] = s
	e.order = append(e.order, sid)
	e.mu.Unlock()
	return s, nil
}

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
	for i := len(e.outbox) - 1; i >= 0; i-- {
		if e.outbox[i].To == to {
			return e.outbox[i], true
		}
	}
	return Message{}, false
}

// Messages returns the outbox, oldest first.
func (e *Emulator) Messages() []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Message(nil), e.outbox...)
}

// Pending returns the number of verifications the emulator holds across
// its services (see fake.Fake.Pending).
func (e *Emulator) Pending() int {
	e.mu.Lock()
	fakes := make([]*fake.Fake, 0, len(e.services))
	for _, s := range e.services {
		fakes = append(fakes, s.fake)
	}
	e.mu.Unlock()
	n := 0
	for _, f := range fakes {
		n += f.Pending()
	}
	return n
}

func (e *Emulator) record(serviceSID string, m fake.Message) {
	msg := Message{
		To: m.To, Channel: string(m.Channel), Code: m.Code, Body: m.Body,
		VerificationSID: m.VerificationID, ServiceSID: serviceSID, SentAt: m.SentAt.UTC(),
	}
	e.mu.Lock()
	if len(e.outbox) >= e.outLimit {
		n := copy(e.outbox, e.outbox[1:])
		e.outbox = e.outbox[:n]
	}
	e.outbox = append(e.outbox, msg)
	e.mu.Unlock()
}

// recordApproval notes that the verification sid was approved. It runs
// before the answer is written, so an approval whose answer is lost still
// counts.
func (e *Emulator) recordApproval(sid string) {
	e.mu.Lock()
	if len(e.approved) >= e.outLimit {
		n := copy(e.approved, e.approved[1:])
		e.approved = e.approved[:n]
	}
	e.approved = append(e.approved, sid)
	e.mu.Unlock()
}

// Approvals returns the SIDs of the verifications the emulator approved (by
// a right code or by an update to approved), oldest first; at most the
// outbox limit of them are kept. Tests compare it with what a client
// reported: an approval the client saw must be here.
func (e *Emulator) Approvals() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.approved...)
}

// Message is one code the emulator "sent", as GET /_emulator/messages
// returns it.
type Message struct {
	To              string    `json:"to"`
	Channel         string    `json:"channel"`
	Code            string    `json:"code"`
	Body            string    `json:"body"`
	VerificationSID string    `json:"verification_sid"`
	ServiceSID      string    `json:"service_sid"`
	SentAt          time.Time `json:"sent_at"`
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
	return "twiliotest.Emulator{Account:" + e.accountSID + " PublicBase:" + e.publicBase + "}"
}

// GoString is like String.
func (e *Emulator) GoString() string { return e.String() }

// fakeError turns an error of a fake into Twilio's status and code.
func fakeError(err error) (status, code int, msg string) {
	var fe *fake.Error
	if errors.As(err, &fe) && fe.Code != 0 {
		return statusOf(fe.Code), fe.Code, messageOf(fe.Code)
	}
	switch {
	case errors.Is(err, provider.ErrNotFound):
		return 404, 20404, messageOf(20404)
	case errors.Is(err, provider.ErrInvalidRequest):
		return 400, 60200, messageOf(60200)
	case errors.Is(err, provider.ErrTooManyChecks):
		return 429, 60202, messageOf(60202)
	case errors.Is(err, provider.ErrTooManySends):
		return 429, 60203, messageOf(60203)
	case errors.Is(err, provider.ErrRateLimited):
		return 429, 20429, messageOf(20429)
	case errors.Is(err, provider.ErrUndeliverable):
		return 403, 60605, messageOf(60605)
	case errors.Is(err, provider.ErrUnauthorized):
		return 401, 20003, messageOf(20003)
	case errors.Is(err, provider.ErrUnsupported):
		return 403, 60204, messageOf(60204)
	}
	return 503, 20503, "Service Unavailable"
}

// statusOf returns the HTTP status Twilio answers a code with.
func statusOf(code int) int {
	switch code {
	case 20404:
		return 404
	case 20003:
		return 401
	case 60202, 60203, 20429, 60212:
		return 429
	case 60204, 60205, 60605, 60410, 60238:
		return 403
	}
	return 400
}

// messageOf returns a short message for a Twilio code, in Twilio's style.
func messageOf(code int) string {
	switch code {
	case 20003:
		return "Authenticate"
	case 20404:
		return "The requested resource was not found"
	case 20429:
		return "Too Many Requests"
	case 60200:
		return "Invalid parameter"
	case 60202:
		return "Max check attempts reached"
	case 60203:
		return "Max send attempts reached"
	case 60204:
		return "Service does not support this feature"
	case 60205:
		return "SMS is not supported by landline phone number"
	case 60212:
		return "Too many concurrent requests for phone number"
	case 60221:
		return "Either a 'To' number or 'VerificationSid' must be specified"
	case 60223:
		return "Delivery channel disabled"
	case 60605:
		return "Verification delivery attempt blocked by geo permissions"
	}
	return "Error " + strconv.Itoa(code)
}
