// Package app is a small web application with two-step login built on
// verifykit: sign up with an e-mail address and a password, enrol a phone
// (confirmed with a code before two-step login is switched on), then log in
// with the password and a code sent by SMS, with "send again" and "call me
// instead". Command webapp serves it.
//
// Security choices: passwords hashed with PBKDF2-HMAC-SHA256 (600,000
// iterations, OWASP's current recommendation), a CSRF token on every form,
// HttpOnly SameSite=Lax cookies (Secure over TLS) holding only a random
// session ID, a new session ID at each login step, the same answer and
// timing for unknown and known accounts, rate limits per account and per IP
// address on logins, sends and checks, constant-time comparisons, and no
// session until a check says approved.
package app

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/verify"
)

//go:embed templates
var files embed.FS

// Config configures an App.
type Config struct {
	// Verify sends and checks the codes. Required.
	Verify *verify.Client
	// Outbox, when not nil, is the fake provider whose messages
	// /dev/outbox shows. Leave it nil with a real provider.
	Outbox *fake.Fake
	// Iterations is the PBKDF2 iteration count; 0 means 600,000.
	Iterations int
	// MaxTries is how many wrong codes the app lets a user type for one
	// code; 0 means 5 (Twilio's limit).
	MaxTries int
	// Now is the clock of the rate limits; nil means time.Now.
	Now func() time.Time
}

// App is the web application: an http.Handler.
type App struct {
	cfg   Config
	pages map[string]*template.Template
	css   []byte
	mux   *http.ServeMux

	mu       sync.Mutex
	users    map[string]*user
	sessions map[string]*session

	dummy      *user // hashed against for unknown e-mails, to equalise timing
	logins     limits
	sends      limits
	checks     limits
	sessionTTL time.Duration
}

// New returns an App.
func New(cfg Config) (*App, error) {
	if cfg.Verify == nil {
		return nil, errors.New("app: Config.Verify is required")
	}
	if cfg.Iterations == 0 {
		cfg.Iterations = 600_000
	}
	if cfg.MaxTries == 0 {
		cfg.MaxTries = 5
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &App{
		cfg:        cfg,
		pages:      map[string]*template.Template{},
		users:      map[string]*user{},
		sessions:   map[string]*session{},
		logins:     newLimits(10, 10*time.Minute),
		sends:      newLimits(5, 10*time.Minute),
		checks:     newLimits(10, 10*time.Minute),
		sessionTTL: 12 * time.Hour,
	}
	salt := []byte("dummy-salt-0123456789")
	a.dummy = &user{salt: salt, hash: hashPassword("dummy password", salt, cfg.Iterations)}
	base, err := template.ParseFS(files, "templates/pages.html")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"home", "signup", "login", "enroll", "verify", "outbox"} {
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
	m.HandleFunc("GET /static/app.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Write(a.css)
	})
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
	s := a.session(w, r)
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if r.ParseForm() != nil || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.csrf)) != 1 {
			http.Error(w, "Forbidden: the form is stale or did not come from this site. Go back, reload and try again.", http.StatusForbidden)
			return
		}
	}
	a.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
}

type sessionKey struct{}

func sess(r *http.Request) *session { return r.Context().Value(sessionKey{}).(*session) }

const cookieName = "vk_session"

// session returns the request's session, creating an anonymous one (and
// its cookie) when there is none.
func (a *App) session(w http.ResponseWriter, r *http.Request) *session {
	now := a.cfg.Now()
	if c, err := r.Cookie(cookieName); err == nil {
		a.mu.Lock()
		s := a.sessions[c.Value]
		a.mu.Unlock()
		if s != nil && now.Sub(s.created) < a.sessionTTL {
			return s
		}
	}
	s := &session{id: randomToken(), csrf: randomToken(), created: now}
	a.store(s, now)
	a.setCookie(w, r, s)
	return s
}

// store adds s, evicting expired sessions now and then.
func (a *App) store(s *session, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sessions) > 0 && len(a.sessions)%1024 == 0 {
		for id, old := range a.sessions {
			if now.Sub(old.created) >= a.sessionTTL {
				delete(a.sessions, id)
			}
		}
	}
	a.sessions[s.id] = s
}

func (a *App) setCookie(w http.ResponseWriter, r *http.Request, s *session) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: s.id, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: int(a.sessionTTL / time.Second),
	})
}

// rotate gives s a new ID (and CSRF token), so an ID known before a login
// step is worthless after it.
func (a *App) rotate(w http.ResponseWriter, r *http.Request, s *session) {
	a.mu.Lock()
	delete(a.sessions, s.id)
	s.id, s.csrf = randomToken(), randomToken()
	a.sessions[s.id] = s
	a.mu.Unlock()
	a.setCookie(w, r, s)
}

// view is what the templates see.
type view struct {
	Title, Heading, Flash, Error, CSRF, Email, Phone, Target string
	LoggedIn, TwoFA, DevOutbox                               bool
	Messages                                                 []fake.Message
}

func (a *App) render(w http.ResponseWriter, r *http.Request, page string, v view) {
	s := sess(r)
	a.mu.Lock()
	v.CSRF, v.Flash = s.csrf, s.flash
	s.flash = ""
	v.LoggedIn = s.stage == stageLoggedIn
	if v.LoggedIn {
		v.Email = s.email
		if u := a.users[s.email]; u != nil {
			v.TwoFA, v.Phone = u.twoFA, maskPhone(u.phone)
		}
	}
	a.mu.Unlock()
	v.DevOutbox = a.cfg.Outbox != nil
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	a.pages[page].ExecuteTemplate(w, "layout", v)
}

func (a *App) page(name, title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { a.render(w, r, name, view{Title: title}) }
}

func (a *App) redirect(w http.ResponseWriter, r *http.Request, to, flash string) {
	if flash != "" {
		a.mu.Lock()
		sess(r).flash = flash
		a.mu.Unlock()
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

// clientIP is the request's remote address without the port. (Behind a
// proxy, use the proxy's client address header instead.)
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// allowed applies a limiter per account and, with a budget four times
// larger (many users may share an address), per IP address.
func (a *App) allowed(l limits, r *http.Request, account string) bool {
	now := a.cfg.Now()
	return l.account.allow(account, now) && l.ip.allow(clientIP(r), now)
}

// limits are the two limiters of one kind of action.
type limits struct{ account, ip *limiter }

func newLimits(perAccount int, window time.Duration) limits {
	return limits{newLimiter(perAccount, window), newLimiter(4*perAccount, window)}
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
	salt := []byte(randomToken())
	hash := hashPassword(password, salt, a.cfg.Iterations) // also for an existing address: same timing
	a.mu.Lock()
	if _, exists := a.users[email]; !exists {
		a.users[email] = &user{email: email, salt: salt, hash: hash}
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
	s := sess(r)
	a.rotate(w, r, s)
	a.mu.Lock()
	twoFA, phone := u.twoFA, u.phone
	s.email = email
	if !twoFA {
		s.stage = stageLoggedIn
		a.mu.Unlock()
		a.redirect(w, r, "/", "You are logged in.")
		return
	}
	s.stage = stageCode
	a.mu.Unlock()
	a.startStep(w, r, "login", phone, verify.ChannelSMS)
}

func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	s := sess(r)
	a.rotate(w, r, s)
	a.mu.Lock()
	s.stage, s.email, s.purpose, s.verifyID = stageAnon, "", "", ""
	a.mu.Unlock()
	a.redirect(w, r, "/", "You are logged out.")
}

// loggedIn returns the account of a logged-in session, or redirects.
func (a *App) loggedIn(w http.ResponseWriter, r *http.Request) (*user, bool) {
	s := sess(r)
	a.mu.Lock()
	u := a.users[s.email]
	in := s.stage == stageLoggedIn && u != nil
	a.mu.Unlock()
	if !in {
		a.redirect(w, r, "/login", "Log in first.")
	}
	return u, in
}

func (a *App) enrollPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.loggedIn(w, r); ok {
		a.render(w, r, "enroll", view{Title: "Two-step login"})
	}
}

func (a *App) enroll(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.loggedIn(w, r); !ok {
		return
	}
	phone, err := a.cfg.Verify.Normalize(r.PostForm.Get("phone"))
	if err != nil {
		a.render(w, r, "enroll", view{Title: "Two-step login", Error: "That does not look like a mobile number. Include the country code, like +1 415 555 2671."})
		return
	}
	a.startStep(w, r, "enroll", phone, verify.ChannelSMS)
}

func (a *App) disable(w http.ResponseWriter, r *http.Request) {
	u, ok := a.loggedIn(w, r)
	if !ok {
		return
	}
	a.mu.Lock()
	on, phone := u.twoFA, u.phone
	a.mu.Unlock()
	if !on {
		a.redirect(w, r, "/", "Two-step login is already off.")
		return
	}
	a.startStep(w, r, "disable", phone, verify.ChannelSMS)
}

// startStep sends a code for purpose and shows the code form.
func (a *App) startStep(w http.ResponseWriter, r *http.Request, purpose, phone string, ch verify.Channel) {
	s := sess(r)
	a.mu.Lock()
	s.purpose, s.target, s.verifyID, s.tries = purpose, phone, "", 0
	if purpose == "enroll" {
		s.enrollPhone = phone
	}
	a.mu.Unlock()
	msg := a.send(r, s, ch)
	a.redirect(w, r, "/verify", msg)
}

// send (re)sends the pending step's code over ch and returns what to tell
// the user.
func (a *App) send(r *http.Request, s *session, ch verify.Channel) string {
	a.mu.Lock()
	account, target := s.email, s.target
	a.mu.Unlock()
	if !a.allowed(a.sends, r, account) {
		return "Too many codes requested. Wait a few minutes, then try again."
	}
	v, err := a.cfg.Verify.Start(r.Context(), target, ch, nil)
	switch {
	case err == nil:
		a.mu.Lock()
		if s.verifyID != v.ID {
			s.tries = 0
		}
		s.verifyID = v.ID
		a.mu.Unlock()
		if ch == verify.ChannelCall {
			return "We are calling you: the code will be read out."
		}
		return "We sent you a code by text message."
	case errors.Is(err, verify.ErrTooManySends):
		return "Too many codes were sent to this number. Use the last one you received, or wait 10 minutes."
	case errors.Is(err, verify.ErrUndeliverable):
		return "We could not send a text message to this number. Try \"Call me instead\"."
	case errors.Is(err, verify.ErrRateLimited):
		if d, ok := verify.RetryAfter(err); ok {
			return "Too many requests. Try again in " + strconv.Itoa(int(d.Seconds())) + " seconds."
		}
		return "Too many requests. Try again in a minute."
	case errors.Is(err, verify.ErrOutcomeUnknown):
		return "We are not sure the code went out. If nothing arrives within a minute, use \"Send the code again\"."
	}
	return "We could not send a code right now. Please try again."
}

func (a *App) verifyPage(w http.ResponseWriter, r *http.Request) {
	s := sess(r)
	a.mu.Lock()
	purpose, target := s.purpose, s.target
	a.mu.Unlock()
	if purpose == "" {
		a.redirect(w, r, "/", "")
		return
	}
	a.render(w, r, "verify", view{Title: "Enter your code", Heading: headings[purpose], Target: maskPhone(target)})
}

var headings = map[string]string{
	"login":   "Enter the code we sent you",
	"enroll":  "Confirm your number",
	"disable": "Confirm it is you",
}

func (a *App) verify(w http.ResponseWriter, r *http.Request) {
	s := sess(r)
	a.mu.Lock()
	purpose, id, account, st := s.purpose, s.verifyID, s.email, s.stage
	a.mu.Unlock()
	if purpose == "" || (purpose == "login") != (st == stageCode) {
		a.redirect(w, r, "/", "")
		return
	}
	switch r.PostForm.Get("action") {
	case "resend":
		a.redirect(w, r, "/verify", a.send(r, s, verify.ChannelSMS))
		return
	case "call":
		a.redirect(w, r, "/verify", a.send(r, s, verify.ChannelCall))
		return
	}
	a.mu.Lock()
	target := s.target
	a.mu.Unlock()
	fail := func(msg string) {
		a.render(w, r, "verify", view{Title: "Enter your code", Heading: headings[purpose], Target: maskPhone(target), Error: msg})
	}
	if id == "" {
		fail("No code is pending. Use \"Send the code again\".")
		return
	}
	a.mu.Lock()
	tries := s.tries
	a.mu.Unlock()
	if tries >= a.cfg.MaxTries {
		fail("Too many wrong codes. Wait 10 minutes, then ask for a new code.")
		return
	}
	if !a.allowed(a.checks, r, account) {
		fail("Too many attempts. Wait a few minutes and try again.")
		return
	}
	v, err := a.cfg.Verify.CheckID(r.Context(), id, r.PostForm.Get("code"), nil)
	switch {
	case err == nil && v.Approved():
		a.complete(w, r, s)
	case err == nil:
		a.mu.Lock()
		s.tries++
		left := a.cfg.MaxTries - s.tries
		a.mu.Unlock()
		if left <= 0 {
			fail("That code is not right, and no tries are left. Wait 10 minutes, then ask for a new code.")
			return
		}
		fail("That code is not right. " + strconv.Itoa(left) + " tries left.")
	case errors.Is(err, verify.ErrInvalidRequest):
		fail("Codes are made of digits, like 123456. Check what you typed.")
	case errors.Is(err, verify.ErrNotFound):
		a.mu.Lock()
		s.verifyID = ""
		a.mu.Unlock()
		fail("This code has expired. Use \"Send the code again\" for a new one.")
	case errors.Is(err, verify.ErrTooManyChecks):
		fail("Too many wrong codes. Wait 10 minutes, then ask for a new code.")
	case errors.Is(err, verify.ErrOutcomeUnknown):
		// Never grant access on an unknown outcome.
		fail("We could not confirm your code. Please try again.")
	default:
		fail("We could not check your code right now. Please try again.")
	}
}

// complete finishes the pending step after an approved check.
func (a *App) complete(w http.ResponseWriter, r *http.Request, s *session) {
	a.mu.Lock()
	purpose := s.purpose
	u := a.users[s.email]
	s.purpose, s.verifyID, s.target, s.tries = "", "", "", 0
	var msg string
	switch purpose {
	case "login":
		s.stage = stageLoggedIn
		msg = "You are logged in."
	case "enroll":
		u.phone, u.twoFA = s.enrollPhone, true
		msg = "Two-step login is on. Next time, you will need a code after your password."
	case "disable":
		u.phone, u.twoFA = "", false
		msg = "Two-step login is off."
	}
	s.enrollPhone = ""
	a.mu.Unlock()
	if purpose == "login" {
		a.rotate(w, r, s)
	}
	a.redirect(w, r, "/", msg)
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
