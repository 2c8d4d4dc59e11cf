package vonagetest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/internal/fakeconf"
	"github.com/verifykit/verifykit/internal/httpopt"
	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// The credentials an Emulator accepts by default. They are fake: they work
// only here. The default application's key pair is made once per process;
// DefaultPrivateKeyPEM returns its private key.
const (
	DefaultApplicationID = "00000000-0000-4000-8000-00000000e0e0"
	DefaultAPIKey        = "emulatorkey"
	DefaultAPISecret     = "emulatorsecret00"
)

var defaultKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// DefaultPrivateKeyPEM returns the private key of the default application
// (DefaultApplicationID), in PKCS #8 PEM form, for vonage.Application. The
// key is generated once per process, so it never exists outside it.
func DefaultPrivateKeyPEM() []byte {
	k, err := defaultKey()
	if err != nil {
		panic("vonagetest: generating the default key: " + err.Error())
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic("vonagetest: encoding the default key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// DefaultMaxChecks is how many wrong codes a request allows by default;
// the check after them answers 410 and ends the request. Vonage does not
// document the number for Verify v2 (its v1 allowed 3).
const DefaultMaxChecks = 3

// Emulator is an http.Handler that emulates Vonage's Verify v2 API: start,
// check, cancel and next workflow, with Vonage's authentication, problem
// answers and workflows, on the lifecycle of the internal engine. It is safe for
// concurrent use. Create one with New, or a running server with NewServer.
type Emulator struct {
	config // the options
	// lastPost is closed when the latest callbacks are posted: each post
	// waits for the one before, so callbacks arrive in the order of the
	// events. Guarded by mu.
	lastPost chan struct{}

	eng *engine.Verifications // codes, sends, wrong codes, approval

	clock emuserver.Clock // WithClock's clock plus the advance; read without mu

	mu       sync.Mutex
	requests map[string]*request // live requests by ID
	tmpl     templates           // custom templates and their fragments
	byTo     map[string]string   // first step's target → live request ID
	outbox   emuserver.Ring[Message]
	approved emuserver.Ring[string]
	faults   emuserver.Faults[Fault]

	mux *http.ServeMux
}

// Option configures an Emulator.
type Option func(*config) error

type config struct {
	apps      map[string]*rsa.PublicKey // application ID → public key
	keys      map[string]string         // API key → secret
	baseNow   func() time.Time
	maxChecks int
	fixedCode string
	maxPend   int
	open      bool // the /_emulator/ endpoints need no credentials

	callbackURL    string
	callbackSecret []byte
}

// DefaultMaxPending bounds the live requests an Emulator holds unless
// WithMaxPending says otherwise; one more start answers 429.
const DefaultMaxPending = 50000

// WithMaxPending bounds the live requests the emulator holds; a start
// beyond it answers 429 problem+json, as Vonage's throttling does.
func WithMaxPending(n int) Option {
	return func(c *config) error { return emuserver.SetCount("vonagetest", "WithMaxPending", n, &c.maxPend) }
}

// WithOpenControl lets anyone who can reach the emulator read the
// /_emulator/ endpoints (the outbox, which shows every code). By default
// they need the same credentials as the API: a JWT of a known application,
// or a known API key and secret.
func WithOpenControl() Option {
	return func(c *config) error {
		c.open = true
		return nil
	}
}

// WithApplication makes the emulator accept JWTs of the application id,
// signed with the private key of pub, besides the default application.
func WithApplication(id string, pub *rsa.PublicKey) Option {
	return func(c *config) error {
		if id == "" || pub == nil {
			return errors.New("vonagetest: WithApplication: need an ID and a public key")
		}
		c.apps[id] = pub
		return nil
	}
}

// WithClock makes the emulator read time from now instead of time.Now.
// Advance adds to it.
func WithClock(now func() time.Time) Option {
	return func(c *config) error { return httpopt.SetClock("vonagetest", now, &c.baseNow) }
}

// WithMaxChecks sets how many wrong codes a request allows before the next
// check answers 410 (DefaultMaxChecks by default).
func WithMaxChecks(n int) Option {
	return func(c *config) error { return emuserver.SetCount("vonagetest", "WithMaxChecks", n, &c.maxChecks) }
}

// WithFixedCode makes every request whose start gives no code use code
// (4 to 10 letters or digits) instead of random digits.
func WithFixedCode(code string) Option {
	return func(c *config) error {
		return emuserver.Set("vonagetest", "WithFixedCode", code, wire.ValidCode(code), "a code is 4 to 10 letters or digits", &c.fixedCode)
	}
}

// New returns an Emulator configured by opts.
func New(opts ...Option) (*Emulator, error) {
	cfg := config{
		apps:      map[string]*rsa.PublicKey{},
		keys:      map[string]string{},
		baseNow:   time.Now,
		maxChecks: DefaultMaxChecks,
		maxPend:   DefaultMaxPending,
	}
	if err := emuserver.Apply("vonagetest", &cfg, opts); err != nil {
		return nil, err
	}
	k, err := defaultKey()
	if err != nil {
		return nil, fmt.Errorf("vonagetest: generating the default key: %w", err)
	}
	if _, ok := cfg.apps[DefaultApplicationID]; !ok {
		cfg.apps[DefaultApplicationID] = &k.PublicKey
	}
	cfg.keys[DefaultAPIKey] = DefaultAPISecret
	e := &Emulator{
		config:   cfg,
		clock:    emuserver.Clock{Base: cfg.baseNow},
		outbox:   emuserver.Ring[Message]{Limit: 1000},
		approved: emuserver.Ring[string]{Limit: 1000},
		requests: map[string]*request{},
		byTo:     map[string]string{},
	}
	e.eng, err = engine.New(engine.Config{
		Now:       e.clock.Now,                          // no Store: the engine keeps the states in memory
		Validity:  48 * time.Hour,                       // the workflow ends requests sooner
		MaxSends:  20,                                   // the workflow bounds the sends
		MaxChecks: cfg.maxChecks, GoneAtMaxChecks: true, // the emulator answers 410 itself
		Name: targetName, NameLen: 8, NonceLen: 8,
		NewCode: func() string { return fakeconf.CryptoDigits(4) }, // unused: every start gives its code
	})
	if err != nil {
		return nil, err
	}
	e.routes()
	return e, nil
}

// MustNew is like New but panics on an invalid option.
func MustNew(opts ...Option) *Emulator { return emuserver.Must(New(opts...)) }

// Advance moves the emulator's clock forward by d: workflows move to their
// next step when a channel timeout passes, and requests expire when the
// last one does.
func (e *Emulator) Advance(d time.Duration) {
	e.clock.Advance(d)
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.requests {
		e.progress(r, now)
	}
}

// ServeHTTP serves the Verify API and the /_emulator/ endpoints.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	api := strings.HasPrefix(r.URL.Path, "/v2/")
	// A silent-auth check_url is opened by the handset, without
	// credentials: the request ID in it is the secret.
	checkURL := api && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/silent-auth/redirect")
	if api && !checkURL || strings.HasPrefix(r.URL.Path, "/_emulator/") && !e.open {
		if !e.authorized(r) {
			if !api {
				w.Header().Set("WWW-Authenticate", `Basic realm="vonagetest"`)
			}
			writeProblem(w, http.StatusUnauthorized, "unauthorized", "Unauthorized",
				"You did not provide correct credentials.", nil)
			return
		}
	}
	if api && (path.Clean(r.URL.Path) != r.URL.Path || strings.Contains(r.URL.RawPath, "%2F")) {
		// The mux would answer a non-canonical path with a redirect, which
		// an SDK reads as success; the API answers 404 in problem+json.
		writeProblem(w, http.StatusNotFound, "not-found", "Not Found", "The requested resource does not exist.", nil)
		return
	}
	if api {
		if f := e.takeFault(r); f != nil {
			f.apply(w, r, e)
			return
		}
	}
	e.mux.ServeHTTP(w, r)
}

// authorized checks a bearer JWT (RS256, signed by a known application's
// key, with application_id, iat and jti; see validJWT) or Basic auth with
// a known key and secret.
func (e *Emulator) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		return e.validJWT(tok)
	}
	return emuserver.BasicAuth(r, e.keys)
}

// The lifetimes of an application JWT, as Vonage has them: without exp a
// token is valid for 15 minutes after its iat, and never beyond 24 hours
// after it.
const (
	jwtDefaultTTL = 15 * time.Minute
	jwtMaxTTL     = 24 * time.Hour
	jwtLeeway     = 5 * time.Second
)

// appClaims are the claims of an application token.
type appClaims struct {
	jwt.RegisteredClaims
	ApplicationID string `json:"application_id"`
}

// validJWT checks an application token. Its times are checked against the
// base clock (WithClock's, or the real one), not the advanced one: moving
// the emulator's clock forward moves workflows, and must not lock out the
// tokens an SDK signs with the real time.
func (e *Emulator) validJWT(tok string) bool {
	var claims appClaims
	_, err := jwt.ParseWithClaims(tok, &claims, func(t *jwt.Token) (any, error) {
		pub, ok := e.apps[claims.ApplicationID]
		if !ok {
			return nil, errors.New("unknown application")
		}
		return pub, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuedAt(), jwt.WithTimeFunc(e.clock.Base), jwt.WithLeeway(jwtLeeway))
	if err != nil || claims.ID == "" || claims.IssuedAt == nil {
		return false
	}
	iat := claims.IssuedAt.Time
	until := iat.Add(jwtDefaultTTL)
	if claims.ExpiresAt != nil {
		until = claims.ExpiresAt.Time
	}
	if last := iat.Add(jwtMaxTTL); until.After(last) {
		until = last
	}
	return e.clock.Base().Before(until.Add(jwtLeeway))
}

// LastCode returns the code most recently sent to the target to (E.164
// with '+', or an e-mail address).
func (e *Emulator) LastCode(to string) (string, bool) {
	m, ok := e.LastMessage(to)
	return m.Code, ok
}

// LastMessage returns the message most recently sent to the target to.
func (e *Emulator) LastMessage(to string) (Message, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.outbox.Last(func(m Message) bool { return m.To == to })
}

// Messages returns the outbox, oldest first.
func (e *Emulator) Messages() []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.outbox.AppendTo(nil)
}

// Approvals returns the IDs of the requests the emulator approved, oldest
// first (the latest 1000). An approval whose answer was lost
// still counts.
func (e *Emulator) Approvals() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.approved.AppendTo(nil)
}

// Pending returns the number of live requests.
func (e *Emulator) Pending() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.requests)
}

// Message is one code the emulator "sent", as GET /_emulator/messages
// returns it.
type Message struct {
	RequestID string    `json:"request_id"`
	To        string    `json:"to"`      // E.164 with '+', or an address
	Channel   string    `json:"channel"` // Vonage's name: sms, voice, email…
	Code      string    `json:"code"`    // empty for a codeless step
	Body      string    `json:"body"`    // the text a real delivery would carry
	Brand     string    `json:"brand"`   // the start's brand
	Locale    string    `json:"locale"`  // the start's locale, such as en-us
	ClientRef string    `json:"client_ref,omitempty"`
	SentAt    time.Time `json:"sent_at"` // by the emulator's clock
}

// String describes the message without its code, body or full target.
func (m Message) String() string {
	return "vonagetest.Message{Request:" + m.RequestID + " To:" + mask.Target(m.To) + " Channel:" + m.Channel + " Code:[redacted]}"
}

// GoString is like String.
func (m Message) GoString() string { return m.String() }

// String describes the emulator without its credentials.
func (e *Emulator) String() string { return "vonagetest.Emulator{}" }

// GoString is like String.
func (e *Emulator) GoString() string { return e.String() }

// targetName is a target's name in the engine's keys and IDs (FNV-1a).
func targetName(to string) (b [16]byte) {
	binary.LittleEndian.PutUint64(b[:], fakeconf.FNV(to))
	return b
}

// engineChannel maps a Vonage channel to the engine's.
func engineChannel(ch string) provider.Channel {
	switch ch {
	case "voice":
		return provider.ChannelCall
	case "silent_auth":
		return provider.ChannelSNA
	}
	return provider.Channel(ch)
}

var bg = context.Background()
