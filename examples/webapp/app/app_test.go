package app

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
	"github.com/verifykit/verifykit/verify/recovery"
)

const (
	email    = "ada@example.com"
	password = "correct horse battery"
	phone    = "+14155552671"
)

type env struct {
	t     *testing.T
	srv   *httptest.Server
	fake  *fake.Fake
	clock *fake.Clock
	app   *App
}

func setup(t *testing.T, fakeOpts ...fake.Option) *env {
	t.Helper()
	return setupWith(t, nil, nil, fakeOpts...)
}

// setupWith is setup with verify options (a hook, say) and a function
// that adjusts the app's Config.
func setupWith(t *testing.T, verifyOpts []verify.Option, config func(*Config), fakeOpts ...fake.Option) *env {
	t.Helper()
	clock := fake.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	f := fake.MustNew(append([]fake.Option{fake.WithClock(clock.Now)}, fakeOpts...)...)
	mem, err := store.NewMemory(store.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]verify.Option{verify.WithDefaultRegion("US")}, Policies(mem, 30*time.Second)...)
	client, err := verify.New(f, append(opts, verifyOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := recovery.New(mem, client, recovery.WithClock(clock.Now), recovery.WithIterations(1000))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Verify: client, Recovery: codes, Outbox: f, Iterations: 1000, Now: clock.Now}
	if config != nil {
		config(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, fake: f, clock: clock, app: a}
}

// browser is a cookie-keeping client that follows redirects.
type browser struct {
	e    *env
	c    *http.Client
	page string // the last page's HTML
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	// The server's own transport, not http.DefaultTransport: closing
	// another parallel test's server closes DefaultTransport's idle
	// connections, and a request racing with that fails with
	// "CloseIdleConnections called".
	return &browser{e: e, c: &http.Client{Jar: jar, Transport: e.srv.Client().Transport}}
}

func (b *browser) get(path string) string {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.page = string(body)
	return b.page
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// post submits a form from the page at from, with its CSRF token.
func (b *browser) post(from, path string, form url.Values) (int, string) {
	b.e.t.Helper()
	page := b.get(from)
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		b.e.t.Fatalf("no CSRF token on %s:\n%s", from, page)
	}
	form.Set("csrf", m[1])
	resp, err := b.c.PostForm(b.e.srv.URL+path, form)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.page = string(body)
	return resp.StatusCode, b.page
}

func (b *browser) wantPage(what, text string) {
	b.e.t.Helper()
	if !strings.Contains(b.page, text) {
		b.e.t.Fatalf("%s: page lacks %q:\n%s", what, text, b.page)
	}
}

func (b *browser) signup(mail, pw string) {
	b.post("/signup", "/signup", url.Values{"email": {mail}, "password": {pw}})
}
func (b *browser) login(mail, pw string) {
	b.post("/login", "/login", url.Values{"email": {mail}, "password": {pw}})
}
func (b *browser) code(code string) {
	b.post("/verify", "/verify", url.Values{"action": {"verify"}, "code": {code}})
}
func (b *browser) action(action string)  { b.post("/verify", "/verify", url.Values{"action": {action}}) }
func (e *env) lastCode(to string) string { c, _ := e.fake.LastCode(to); return c }
func (b *browser) loggedIn() bool        { return strings.Contains(b.get("/"), "Welcome, ") }
func (b *browser) enroll(p string)       { b.post("/enroll", "/enroll", url.Values{"phone": {p}}) }
func wrongOf(code string) string         { return strings.Repeat("9", len(code)-1) + "8" }
func (b *browser) logout()               { b.post("/", "/logout", url.Values{}) }
func (b *browser) disable2FA()           { b.post("/", "/2fa/disable", url.Values{}) }
func (b *browser) cookie() string {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == cookieName {
			return c.Value
		}
	}
	return ""
}
func (e *env) messages() []fake.Message { return e.fake.Messages() }
func (e *env) advance(d time.Duration)  { e.clock.Advance(d) }
func (e *env) user(mail string) *user {
	e.app.mu.Lock()
	defer e.app.mu.Unlock()
	return e.app.users[mail]
}
func ctx() context.Context { return context.Background() }
func (b *browser) status(path string) int {
	resp, _ := b.c.Get(b.e.srv.URL + path)
	resp.Body.Close()
	return resp.StatusCode
}

// enrolled returns a browser logged in as a user with two-step login on.
func (e *env) enrolled() *browser {
	b := e.browser()
	b.signup(email, password)
	b.login(email, password)
	b.enroll("(415) 555-2671")
	b.code(e.lastCode(phone))
	b.wantPage("enrolment", "Two-step login is on")
	e.advance(time.Minute) // past the resend cooldown of the enrolment's code
	return b
}

func TestSignupAndPasswordLogin(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signup(email, password)
	b.wantPage("signup", "your account is ready")
	b.login(email, password)
	b.wantPage("login", "Welcome, ada@example.com")
	b.wantPage("login", "Two-step login is <strong>off</strong>")
	b.logout()
	if b.loggedIn() {
		t.Error("still logged in after logout")
	}
}

func TestSignupRefusesWeakInput(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signup(email, "short")
	b.wantPage("short password", "at least 10 characters")
	b.signup("not-an-email", password)
	b.wantPage("bad e-mail", "valid e-mail address")
}

// TestNoAccountEnumeration: signing up with a taken address, and logging
// in with an unknown one, answer exactly as the other case does.
func TestNoAccountEnumeration(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signup(email, password)
	first := b.page
	b.signup(email, "another password entirely")
	if b.page != first {
		t.Error("signing up with a taken address answers differently")
	}
	b.login(email, "another password entirely")
	b.wantPage("the taken signup did not change the password", "Wrong e-mail address or password.")
	wrongPassword := b.page
	b.login("nobody@example.com", password)
	if !strings.Contains(b.page, "Wrong e-mail address or password.") || len(b.page) != len(wrongPassword) {
		t.Error("an unknown address answers differently from a wrong password")
	}
}

func TestCSRF(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.get("/login")
	for _, form := range []url.Values{{}, {"csrf": {"forged"}}} {
		form.Set("email", email)
		form.Set("password", password)
		resp, err := b.c.PostForm(e.srv.URL+"/login", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST with csrf %q: %d, want 403", form.Get("csrf"), resp.StatusCode)
		}
	}
	// Another browser's token does not work either.
	other := e.browser()
	other.get("/login")
	token := csrfRE.FindStringSubmatch(other.page)[1]
	resp, _ := b.c.PostForm(e.srv.URL+"/login", url.Values{"csrf": {token}, "email": {email}, "password": {password}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("another session's token: %d, want 403", resp.StatusCode)
	}
}

func TestHeadersAndCookie(t *testing.T) {
	e := setup(t)
	resp, err := e.srv.Client().Get(e.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// A visitor gets only the CSRF cookie; the session cookie comes with
	// the login.
	if cs := resp.Cookies(); len(cs) != 1 || cs[0].Name != csrfCookie {
		t.Errorf("cookies of a visitor: %v", cs)
	}
	e.browser().signup(email, password)
	for _, c := range []*http.Cookie{resp.Cookies()[0], loginCookie(t, e.app, "127.0.0.1:1", nil)} {
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || len(c.Value) < 40 {
			t.Errorf("cookie %+v", c)
		}
	}
	// Over TLS the cookies are Secure.
	ts := httptest.NewTLSServer(e.app)
	defer ts.Close()
	resp, err = ts.Client().Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !resp.Cookies()[0].Secure {
		t.Error("cookie over TLS is not Secure")
	}
}

// loginCookie logs in as email from the client address remote, straight
// through the handler, and returns the session cookie it sets.
func loginCookie(t *testing.T, h http.Handler, remote string, header http.Header) *http.Cookie {
	t.Helper()
	get := httptest.NewRequest("GET", "/login", nil)
	get.RemoteAddr = remote
	maps.Copy(get.Header, header)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, get)
	m := csrfRE.FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("no CSRF token on /login:\n%s", rec.Body.String())
	}
	form := url.Values{"csrf": {m[1]}, "email": {email}, "password": {password}}
	post := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	maps.Copy(post.Header, header)
	post.RemoteAddr = remote
	for _, c := range rec.Result().Cookies() {
		post.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, post)
	for _, c := range rec.Result().Cookies() {
		if c.Name == cookieName {
			return c
		}
	}
	t.Fatalf("login from %s: no session cookie; status %d, %s", remote, rec.Code, rec.Body.String())
	return nil
}

// TestEnrolmentConfirmsTheNumber: two-step login is switched on only after
// a code sent to the new number is typed back.
func TestEnrolmentConfirmsTheNumber(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signup(email, password)
	b.login(email, password)
	b.enroll("not a number")
	b.wantPage("bad number", "does not look like a mobile number")
	b.enroll("(415) 555-2671")
	b.wantPage("code page", "Confirm your number")
	b.wantPage("masked number", "&#43;1••••••••71")
	b.code(wrongOf(e.lastCode(phone)))
	b.wantPage("wrong code", "That code is not right. 4 tries left.")
	if e.user(email).twoFA {
		t.Fatal("two-step login on before the code was confirmed")
	}
	b.code(e.lastCode(phone))
	b.wantPage("confirmed", "Two-step login is on")
	if u := e.user(email); !u.twoFA || u.phone != phone {
		t.Errorf("phone %s, two-step %v", u.phone, u.twoFA)
	}
}

func TestLoginWithCode(t *testing.T) {
	e := setup(t)
	e.enrolled().logout()
	b := e.browser()
	b.login(email, "wrong password!")
	b.wantPage("wrong password", "Wrong e-mail address or password.")
	before := len(e.messages())
	b.login(email, password)
	b.wantPage("code page", "Enter the code we sent you")
	if len(e.messages()) != before+1 {
		t.Fatal("no code sent at login")
	}
	if b.loggedIn() {
		t.Fatal("logged in with the password alone")
	}
	sessionBeforeCode := b.cookie()
	b.code(wrongOf(e.lastCode(phone)))
	b.wantPage("wrong code", "4 tries left")
	b.code(e.lastCode(phone))
	b.wantPage("logged in", "Welcome, ada@example.com")
	if b.cookie() == sessionBeforeCode {
		t.Error("the session ID was not renewed at login")
	}
}

func TestResendAndVoiceFallback(t *testing.T) {
	e := setup(t)
	e.enrolled().logout()
	b := e.browser()
	b.login(email, password)
	first := e.lastCode(phone)
	// The resend cooldown: the enrolment and the login each sent a code to
	// the number, so the next waits a minute, and the one after two.
	e.advance(time.Minute)
	b.action("resend")
	b.wantPage("resend", "We sent you a code by text message.")
	e.advance(2 * time.Minute)
	b.action("call")
	b.wantPage("call", "We are calling you")
	msgs := e.messages()
	last := msgs[len(msgs)-1]
	if last.Channel != provider.ChannelCall || last.Code != first || msgs[len(msgs)-2].Channel != provider.ChannelSMS {
		t.Errorf("messages %v: want an sms resend then a call with the same code", msgs[len(msgs)-2:])
	}
	b.code(first)
	b.wantPage("logged in", "Welcome")
}

func TestExpiredCode(t *testing.T) {
	e := setup(t)
	e.enrolled().logout()
	b := e.browser()
	b.login(email, password)
	code := e.lastCode(phone)
	e.advance(10 * time.Minute)
	b.code(code)
	b.wantPage("expired", "This code has expired")
	if b.loggedIn() {
		t.Fatal("logged in with an expired code")
	}
	b.code(code)
	b.wantPage("no pending code", "No code is pending")
	b.action("resend")
	b.code(e.lastCode(phone))
	b.wantPage("new code", "Welcome")
}

func TestTooManyTries(t *testing.T) {
	e := setup(t)
	e.enrolled().logout()
	b := e.browser()
	b.login(email, password)
	code := e.lastCode(phone)
	for i := 4; i >= 1; i-- {
		b.code(wrongOf(code))
	}
	b.code(wrongOf(code))
	b.wantPage("fifth wrong code", "no tries are left")
	b.code(code)
	b.wantPage("right code after the tries ran out", "Too many wrong codes")
	if b.loggedIn() {
		t.Fatal("logged in after the tries ran out")
	}
}

// TestProviderLimitOfChecks: if the provider counts more wrong codes than
// the app (another tab, say), its 60202 is explained too.
func TestProviderLimitOfChecks(t *testing.T) {
	e := setup(t, fake.WithMaxChecks(1))
	b := e.enrolled()
	b.logout()
	b = e.browser()
	b.login(email, password)
	code := e.lastCode(phone)
	b.code(wrongOf(code))
	b.code(code)
	b.wantPage("provider limit", "Too many wrong codes")
}

func TestMalformedCode(t *testing.T) {
	e := setup(t)
	e.enrolled().logout()
	b := e.browser()
	b.login(email, password)
	b.code("12")
	b.wantPage("short code", "Codes are made of digits")
	b.code(e.lastCode(phone))
	b.wantPage("the malformed code cost no try", "Welcome")
}

// TestOutcomeUnknownNeverGrants: a check whose answer is lost (even one
// that the provider approved) never logs the user in.
func TestOutcomeUnknownNeverGrants(t *testing.T) {
	e := setup(t)
	e.enrolled().logout()
	b := e.browser()
	b.login(email, password)
	e.fake.InjectFault(fake.Fault{Op: fake.OpCheck, Err: provider.ErrOutcomeUnknown, Processed: true})
	b.code(e.lastCode(phone))
	b.wantPage("lost answer", "We could not confirm your code")
	if b.loggedIn() {
		t.Fatal("logged in on an unknown outcome")
	}
	// The verification was approved and is gone: the user asks for a new
	// code and gets in.
	b.code(e.lastCode(phone))
	b.wantPage("gone", "expired")
	e.advance(time.Minute) // past the resend cooldown
	b.action("resend")
	b.code(e.lastCode(phone))
	b.wantPage("retry", "Welcome")
}

func TestSendFailures(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"too many sends", provider.ErrTooManySends, "Too many codes were sent"},
		{"rate limited", &fake.Error{Kind: provider.ErrRateLimited, Wait: 40 * time.Second}, "Try again in 40 seconds"},
		{"rate limited without a wait", provider.ErrRateLimited, "Try again in a minute"},
		{"outcome unknown", provider.ErrOutcomeUnknown, "not sure the code went out"},
		{"unavailable", provider.ErrUnavailable, "could not send a code"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t)
			e.enrolled().logout()
			b := e.browser()
			e.fake.InjectFault(fake.Fault{Op: fake.OpStart, Err: tt.err})
			b.login(email, password)
			b.wantPage(tt.name, tt.want)
			if b.loggedIn() {
				t.Fatal("logged in without a code")
			}
		})
	}
}

func TestLandlineOffersACall(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signup(email, password)
	b.login(email, password)
	b.enroll(fake.NumberLandline)
	b.wantPage("landline", `Try &#34;Call me instead&#34;`)
	b.action("call")
	b.wantPage("call", "We are calling you")
	b.code(e.lastCode(fake.NumberLandline))
	b.wantPage("enrolled by call", "Two-step login is on")
}

func TestDisableNeedsAFreshCode(t *testing.T) {
	e := setup(t)
	b := e.enrolled()
	b.disable2FA()
	b.wantPage("disable", "Confirm it is you")
	if !e.user(email).twoFA {
		t.Fatal("turned off before the code")
	}
	b.code(wrongOf(e.lastCode(phone)))
	if !e.user(email).twoFA {
		t.Fatal("turned off with a wrong code")
	}
	b.code(e.lastCode(phone))
	b.wantPage("disabled", "Two-step login is off.")
	if u := e.user(email); u.twoFA || u.phone != "" {
		t.Errorf("phone %s, two-step %v", u.phone, u.twoFA)
	}
	b.disable2FA()
	b.wantPage("again", "already off")
}

func TestRateLimits(t *testing.T) {
	e := setup(t)
	e.enrolled().logout()
	b := e.browser()
	b.login(email, password) // the second code to the number in a minute
	// "Send again" too soon: nothing is sent, and the page says how long
	// to wait; the wait doubles with each code.
	sent := len(e.messages())
	e.advance(25 * time.Second)
	b.action("resend")
	b.wantPage("resend too soon", "ask for another one in 35 seconds")
	b.action("call")
	b.wantPage("call too soon", "ask for another one in 35 seconds")
	if n := len(e.messages()); n != sent {
		t.Errorf("%d codes sent during the cooldown", n-sent)
	}
	e.advance(35 * time.Second)
	b.action("resend")
	b.wantPage("resend after the wait", "We sent you a code by text message.")
	b.action("resend")
	b.wantPage("third resend", "ask for another one in 2 minutes")

	// Logins: 10 per account in the window.
	c := e.browser()
	for range 10 {
		c.login("victim@example.com", "guess guess guess")
	}
	c.wantPage("tenth login", "Wrong e-mail address or password.")
	c.login("victim@example.com", "guess guess guess")
	c.wantPage("eleventh login", "Too many attempts")
	e.advance(11 * time.Minute)
	c.login("victim@example.com", "guess guess guess")
	c.wantPage("after the window", "Wrong e-mail address or password.")
}

func TestCheckRateLimit(t *testing.T) {
	e := setup(t, fake.WithMaxChecks(100))
	a := e.app
	a.cfg.MaxTries = 100
	e.enrolled().logout()
	b := e.browser()
	b.login(email, password)
	for range 10 {
		b.code("1111")
	}
	b.code("1111")
	b.wantPage("eleventh check", "Too many attempts. Try again in 10 minutes.")
}

func TestGuards(t *testing.T) {
	e := setup(t)
	b := e.browser()
	// Pages that need a login send the visitor to it.
	b.get("/enroll")
	b.wantPage("enroll when logged out", "Log in first.")
	b.post("/login", "/2fa/disable", url.Values{})
	b.wantPage("disable when logged out", "Log in first.")
	b.post("/login", "/enroll", url.Values{"phone": {phone}})
	b.wantPage("enroll post when logged out", "Log in first.")
	// No code step pending.
	b.get("/verify")
	b.wantPage("verify with nothing pending", "Sign in with a code")
	b.post("/login", "/verify", url.Values{"action": {"verify"}, "code": {"123456"}})
	b.wantPage("verify post with nothing pending", "Sign in with a code")
	// Unknown cookie: no session, and none created.
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(e.srv.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: "made-up"}})
	b.c.Jar = jar
	if b.loggedIn() || e.sessionCount() != 0 {
		t.Error("an unknown session ID was accepted")
	}
	if s := b.status("/static/app.css"); s != 200 {
		t.Errorf("css: %d", s)
	}
}

func TestDevOutbox(t *testing.T) {
	e := setup(t, fake.WithFixedCode("135790"))
	b := e.browser()
	b.signup(email, password)
	b.login(email, password)
	b.enroll(phone)
	b.get("/dev/outbox")
	b.wantPage("outbox", "135790")
	client, _ := verify.New(fake.MustNew())
	a, _ := New(Config{Verify: client, Iterations: 1000})
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/dev/outbox", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("outbox without a fake: %d", rec.Code)
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New without a verify client: no error")
	}
	_ = ctx
}

func TestLimiterForgetsOldKeys(t *testing.T) {
	l := newLimiter(2, time.Minute)
	now := time.Unix(0, 0)
	for i := range 100 {
		l.allow(string(rune('a'+i%26))+string(rune(i)), now)
	}
	var got []bool
	for range 3 {
		got = append(got, l.allow("x", now))
	}
	if want := []bool{true, true, false}; !slices.Equal(got, want) {
		t.Errorf("three events with a limit of 2: %v, want %v", got, want)
	}
	l.allow("y", now.Add(2*time.Minute))
	if len(l.events) != 1 {
		t.Errorf("%d keys kept after the window, want 1", len(l.events))
	}
}

func TestPasswordHash(t *testing.T) {
	salt := []byte("salt")
	u := &user{salt: salt, hash: hashPassword("pw", salt, 1000)}
	if !checkPassword(u, "pw", 1000) || checkPassword(u, "pW", 1000) || checkPassword(u, "pw", 1001) {
		t.Error("checkPassword is wrong")
	}
	if len(u.hash) != 32 {
		t.Errorf("hash is %d bytes", len(u.hash))
	}
}
