// Package app is a small web application with two-step login built on
// verifykit: sign up with an e-mail address and a password, enrol a phone
// (confirmed with a code before two-step login is switched on), then log in
// with the password and a code sent by SMS, with "send again" and "call me
// instead". An authenticator app (TOTP) can be the second factor too: set
// up with a QR code on the page, confirmed with its first code, asked for
// at login (with SMS as the fallback when the account has a phone), and
// removed with a fresh code (totp.go). Command webapp serves it.
//
// Security choices: passwords hashed with PBKDF2-HMAC-SHA256 (600,000
// iterations, OWASP's current recommendation); a CSRF token on every form;
// HttpOnly SameSite=Lax cookies, Secure over TLS (Config.SecureCookies and
// Config.TrustedProxies for a TLS-terminating proxy), the session cookie
// holding only a random ID; no session on the server until a password is
// accepted, a new session ID at each login step, at most
// Config.MaxSessions sessions, each ending when idle and after a fixed
// lifetime; the same answer and timing for unknown and known accounts;
// rate limits per account, per IP address and in total on sign-ups and
// logins; verify's policies (Policies) on sends and checks, per account
// and per IP address; constant-time comparisons; no login until a check
// says approved.
//
// Every code is bound to the step it was sent for: the action, the
// account, the state of the account's factor, the verification. Its
// approval applies to that step only, once, and a step replaced meanwhile
// grants nothing. With two-step login on, changing the number needs a
// code to the current number (or a login with a code within
// Config.ReauthWindow), and switching it off needs a fresh code.
package app

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/verify"
	"github.com/verifykit/verifykit/verify/recovery"
)

//go:embed templates
var files embed.FS

// Config configures an App.
type Config struct {
	// Verify sends and checks the codes. Required.
	Verify *verify.Client
	// Recovery, when not nil, issues recovery codes when an account
	// switches on its first second factor (shown once) and accepts one of
	// them instead of the factor's code at login (recovery.go).
	Recovery *recovery.Codes
	// Device, when not nil, is the device side of the provider's push
	// factors (fake.Fake.Device, say): the app then offers "approve on
	// your phone" (push.go), serves the device endpoints under /device/
	// and a phone simulator page at /phone.
	Device provider.PushDeviceAPI
	// Outbox, when not nil, is the fake provider whose messages
	// /dev/outbox shows: every code sent. Leave it nil with a real
	// provider, and whenever the app is reachable from other machines.
	Outbox *fake.Fake
	// Iterations is the PBKDF2 iteration count; 0 means 600,000.
	Iterations int
	// MaxTries is how many wrong codes the app lets a user type for one
	// code; 0 means 5 (Twilio's limit).
	MaxTries int
	// Now is the clock of the sessions and rate limits; nil means time.Now.
	Now func() time.Time

	// SecureCookies marks every cookie Secure. Set it when users reach the
	// app over HTTPS, for example through a TLS-terminating proxy.
	// Without it, cookies are Secure on TLS connections and on requests
	// from a trusted proxy that sends X-Forwarded-Proto: https.
	SecureCookies bool
	// TrustedProxies are the addresses of reverse proxies in front of the
	// app. For a request from one of them, the client's address (for the
	// rate limits) is the last address in X-Forwarded-For that is not a
	// trusted proxy, and X-Forwarded-Proto says whether it came over TLS.
	// Headers from any other peer are ignored.
	TrustedProxies []netip.Prefix
	// MaxSessions bounds the sessions kept in memory; 0 means 10,000.
	// When it is reached, the least recently used session ends.
	MaxSessions int
	// IdleTimeout ends a session unused for this long; 0 means 30 minutes.
	IdleTimeout time.Duration
	// SessionLifetime ends a session this long after it began, however
	// active; 0 means 12 hours.
	SessionLifetime time.Duration
	// ReauthWindow is how long after proving the current factor (a login
	// with a code) a session may change it with a code to the new number
	// only; after that, a code to the current number comes first. 0 means
	// 5 minutes.
	ReauthWindow time.Duration
}

// App is the web application: an http.Handler.
type App struct {
	cfg   Config
	pages map[string]*template.Template
	css   []byte
	mux   *http.ServeMux
	key   []byte // signs the CSRF tokens of visitors and the flash cookies
	// device serves the push device endpoints (push.go), or is nil.
	device http.Handler

	mu       sync.Mutex
	users    map[string]*user
	sessions sessionStore

	dummy   *user // hashed against for unknown e-mails, to equalise timing
	signups limits
	logins  limits
	// Authenticator-app set-ups and codes: verify's policies (Policies)
	// cover SMS and calls, not factors.
	totpSetups limits
	totpChecks limits
}

// New returns an App, or an error if cfg is incomplete or has a negative
// setting.
func New(cfg Config) (*App, error) {
	if cfg.Verify == nil {
		return nil, errors.New("app: Config.Verify is required")
	}
	if cfg.Iterations < 0 || cfg.MaxTries < 0 || cfg.MaxSessions < 0 || cfg.IdleTimeout < 0 || cfg.SessionLifetime < 0 || cfg.ReauthWindow < 0 {
		return nil, errors.New("app: Config has a negative setting")
	}
	for _, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return nil, errors.New("app: Config.TrustedProxies has an invalid prefix")
		}
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.Iterations, 600_000)
	def(&cfg.MaxTries, 5)
	def(&cfg.MaxSessions, 10_000)
	defDur(&cfg.IdleTimeout, 30*time.Minute)
	defDur(&cfg.SessionLifetime, 12*time.Hour)
	defDur(&cfg.ReauthWindow, 5*time.Minute)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	const window = 10 * time.Minute
	a := &App{
		cfg:   cfg,
		pages: map[string]*template.Template{},
		key:   []byte(randomToken()),
		users: map[string]*user{},
		sessions: sessionStore{
			m: map[string]*session{}, max: cfg.MaxSessions,
			idle: cfg.IdleTimeout, lifetime: cfg.SessionLifetime,
		},
		// Sign-ups and logins each cost a PBKDF2 hash: their global limits
		// bound the CPU that strangers can make the server spend.
		signups:    newLimits(10, 10, 100, window),
		logins:     newLimits(10, 40, 600, window),
		totpSetups: newLimits(5, 20, 0, window),
		totpChecks: newLimits(10, 40, 0, window),
	}
	salt := []byte("dummy-salt-0123456789")
	a.dummy = &user{salt: salt, hash: hashPassword("dummy password", salt, cfg.Iterations)}
	base, err := template.ParseFS(files, "templates/pages.html")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"home", "signup", "login", "enroll", "verify", "outbox", "totp", "recovery", "push", "phone"} {
		t := template.Must(base.Clone())
		template.Must(t.New("content").Parse(`{{template "` + name + `-content" .}}`))
		a.pages[name] = t
	}
	if a.css, err = fs.ReadFile(files, "templates/app.css"); err != nil {
		return nil, err
	}
	a.routes()
	return a, nil
}

func (a *App) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", a.home)
	m.HandleFunc("GET /signup", a.page("signup", "Create an account"))
	m.HandleFunc("POST /signup", a.signup)
	m.HandleFunc("GET /login", a.page("login", "Log in"))
	m.HandleFunc("POST /login", a.login)
	m.HandleFunc("POST /logout", a.logout)
	m.HandleFunc("GET /enroll", a.enrollPage)
	m.HandleFunc("POST /enroll", a.enroll)
	m.HandleFunc("POST /2fa/disable", a.disable)
	m.HandleFunc("GET /verify", a.verifyPage)
	m.HandleFunc("POST /verify", a.verify)
	m.HandleFunc("GET /dev/outbox", a.outbox)
	a.totpRoutes(m)
	a.pushRoutes(m)
	m.HandleFunc("GET /static/app.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Write(a.css)
	})
	for _, js := range []string{"phone.js", "wait.js"} {
		body, err := fs.ReadFile(files, "templates/"+js)
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		m.HandleFunc("GET /static/"+js, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			w.Write(body)
		})
	}
	a.mux = m
}

// ServeHTTP serves the app with security headers and, for POST requests, a
// CSRF check.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if a.device != nil && strings.HasPrefix(r.URL.Path, "/device/") {
		// The phone's calls: authenticated by its access token or its
		// key's JWT, not by the session or a CSRF token.
		a.device.ServeHTTP(w, r)
		return
	}
	s := a.lookup(r)
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if r.ParseForm() != nil || !a.csrfOK(r, s) {
			http.Error(w, "Forbidden: the form is stale or did not come from this site. Go back, reload and try again.", http.StatusForbidden)
			return
		}
	}
	a.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
}

type sessionKey struct{}

// sess returns the request's session, or nil for a visitor without one.
func sess(r *http.Request) *session { s, _ := r.Context().Value(sessionKey{}).(*session); return s }

// view is what the templates see.
type view struct {
	Title, Heading, Flash, Error, CSRF, Email, Phone, Target string
	LoggedIn, TwoFA, DevOutbox                               bool
	// The authenticator app (totp.go): on for the account; the QR code
	// and key of one being enrolled; a step waiting for the app's code;
	// whether that step may text a code instead.
	TOTP, AppCode, CanSMS bool
	QR                    template.URL
	Secret                string
	// The phone (push.go): on for the account; the link of the phone
	// page that enrols one; a step waiting for the phone; whether a code
	// can stand in for it; whether the app offers push at all.
	Push, PushWait, CanCode, PushOffered bool
	PhoneLink                            template.URL
	Messages                             []fake.Message
	// Recovery codes (recovery.go): a new set, shown once; whether a
	// login step may use one.
	RecoveryCodes []string
	CanRecover    bool
}

func (a *App) render(w http.ResponseWriter, r *http.Request, page string, v view) {
	v.Flash = a.takeFlash(w, r)
	if s := sess(r); s != nil {
		a.mu.Lock()
		v.CSRF = s.csrf
		v.LoggedIn = s.stage == stageLoggedIn && !s.dead
		if v.LoggedIn {
			v.Email = s.email
			if u := a.users[s.email]; u != nil {
				v.TwoFA, v.Phone = u.twoFA, maskPhone(u.phone)
				v.TOTP = u.totp != ""
				v.Push = u.push != ""
			}
		}
		a.mu.Unlock()
	} else {
		v.CSRF = a.anonCSRF(w, r)
	}
	v.DevOutbox = a.cfg.Outbox != nil
	v.PushOffered = a.cfg.Device != nil
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	a.pages[page].ExecuteTemplate(w, "layout", v)
}

func (a *App) page(name, title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { a.render(w, r, name, view{Title: title}) }
}

func (a *App) redirect(w http.ResponseWriter, r *http.Request, to, flash string) {
	if flash != "" {
		a.setFlash(w, r, flash)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// maskPhone shows the last two digits of a number.
func maskPhone(p string) string {
	if len(p) < 4 {
		return p
	}
	return p[:2] + strings.Repeat("•", len(p)-4) + p[len(p)-2:]
}

// allowed applies the limiters of one kind of action: per account, per
// client IP address and in total.
func (a *App) allowed(l limits, r *http.Request, account string) bool {
	now := a.cfg.Now()
	return l.account.allow(account, now) && l.ip.allow(a.clientIP(r), now) && (l.global == nil || l.global.allow("", now))
}

// limits are the limiters of one kind of action.
type limits struct{ account, ip, global *limiter }

// newLimits limits an action to perAccount events per account, perIP per
// client address and, unless global is 0, global in total, per window.
func newLimits(perAccount, perIP, global int, window time.Duration) limits {
	l := limits{account: newLimiter(perAccount, window), ip: newLimiter(perIP, window)}
	if global > 0 {
		l.global = newLimiter(global, window)
	}
	return l
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, "home", view{Title: "Home"})
}

func (a *App) signup(w http.ResponseWriter, r *http.Request) {
	email := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	password := r.PostForm.Get("password")
	if len(password) < 10 || len(password) > 1024 || !strings.Contains(email, "@") || len(email) > 254 {
		a.render(w, r, "signup", view{Title: "Create an account", Error: "Use a valid e-mail address and a password of at least 10 characters."})
		return
	}
	if !a.allowed(a.signups, r, email) {
		a.render(w, r, "signup", view{Title: "Create an account", Error: "Too many sign-ups. Wait a few minutes and try again."})
		return
	}
	salt := []byte(randomToken())
	hash := hashPassword(password, salt, a.cfg.Iterations) // also for an existing address: same timing
	a.mu.Lock()
	if _, exists := a.users[email]; !exists {
		a.users[email] = &user{email: email, salt: salt, hash: hash, identity: newIdentity()}
	}
	a.mu.Unlock()
	// The same answer whether or not the address was taken: no enumeration.
	a.redirect(w, r, "/login", "If that address was free, your account is ready: log in.")
}

func (a *App) login(w http.ResponseWriter, r *http.Request) {
	email := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	password := r.PostForm.Get("password")
	if !a.allowed(a.logins, r, email) {
		a.render(w, r, "login", view{Title: "Log in", Error: "Too many attempts. Wait a few minutes and try again."})
		return
	}
	a.mu.Lock()
	u := a.users[email]
	a.mu.Unlock()
	ok := false
	if u != nil {
		ok = checkPassword(u, password, a.cfg.Iterations)
	} else {
		checkPassword(a.dummy, password, a.cfg.Iterations) // same cost as a real check
	}
	if !ok {
		a.render(w, r, "login", view{Title: "Log in", Error: "Wrong e-mail address or password."})
		return
	}
	// The password is right: only now does the browser get a session. It
	// replaces the one it had, and with it any step in progress.
	a.mu.Lock()
	var s *session
	var p *pending
	if hasFactor(u) {
		s = a.newSession(sess(r), email, stageCode)
		p = loginStep(u) // the app's code if it has one, else SMS
	} else {
		s = a.newSession(sess(r), email, stageLoggedIn)
	}
	a.mu.Unlock()
	a.setSessionCookie(w, r, s)
	if p == nil {
		a.redirect(w, r, "/", "You are logged in.")
		return
	}
	a.begin(w, r, s, p)
}

func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	if s := sess(r); s != nil {
		a.mu.Lock()
		a.sessions.drop(s)
		a.mu.Unlock()
	}
	a.cookie(w, r, cookieName, "", -1)
	a.redirect(w, r, "/", "You are logged out.")
}

// loggedIn returns the session and account of a logged-in request, or
// redirects to the login page.
func (a *App) loggedIn(w http.ResponseWriter, r *http.Request) (*session, *user, bool) {
	s := sess(r)
	var u *user
	in := false
	if s != nil {
		a.mu.Lock()
		u = a.users[s.email]
		in = s.stage == stageLoggedIn && !s.dead && u != nil
		a.mu.Unlock()
	}
	if !in {
		a.redirect(w, r, "/login", "Log in first.")
	}
	return s, u, in
}

func (a *App) enrollPage(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := a.loggedIn(w, r); ok {
		a.render(w, r, "enroll", view{Title: "Two-step login"})
	}
}

func (a *App) enroll(w http.ResponseWriter, r *http.Request) {
	s, _, ok := a.loggedIn(w, r)
	if !ok {
		return
	}
	phone, err := a.cfg.Verify.Normalize(r.PostForm.Get("phone"))
	if err != nil {
		a.render(w, r, "enroll", view{Title: "Two-step login", Error: "That does not look like a mobile number. Include the country code, like +1 415 555 2671."})
		return
	}
	a.enrollNumber(w, r, s, phone)
}

// enrollNumber begins the enrolment of phone: straight away if two-step
// login is off or the session proved the current factor recently, else
// after a code to the current number.
func (a *App) enrollNumber(w http.ResponseWriter, r *http.Request, s *session, phone string) {
	a.mu.Lock()
	u := a.users[s.email]
	if u == nil || s.dead || s.stage != stageLoggedIn {
		a.mu.Unlock()
		a.redirect(w, r, "/login", "Log in first.")
		return
	}
	p := &pending{action: actEnroll, account: u.email, epoch: u.epoch, factor: factorSMS, target: phone}
	if hasFactor(u) && !a.recentProof(s, u) {
		p = reauthStep(u, phone)
	}
	a.mu.Unlock()
	a.begin(w, r, s, p)
}

func (a *App) disable(w http.ResponseWriter, r *http.Request) {
	a.removeFactor(w, r, actDisable, factorSMS, func(u *user) string {
		if u.twoFA {
			return u.phone
		}
		return ""
	}, "Two-step login is already off.")
}

func (a *App) outbox(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Outbox == nil {
		http.NotFound(w, r)
		return
	}
	msgs := a.cfg.Outbox.Messages()
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	a.render(w, r, "outbox", view{Title: "Outbox", Messages: msgs})
}
