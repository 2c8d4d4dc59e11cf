package app

// Regression tests for the holes of issue 10: each was written against the
// app as it was and failed there.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/verify"
)

const (
	mallory      = "mallory@example.com"
	malloryPhone = "+14155552672"
)

// gate holds code checks in flight. While armed, the verify client's hook,
// which runs once the provider has answered and before the app sees the
// answer, reports each check on entered and waits until the gate opens.
type gate struct {
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate(t *testing.T) *gate {
	g := &gate{entered: make(chan struct{}, 1000), release: make(chan struct{})}
	t.Cleanup(g.open)
	return g
}

func (g *gate) option() verify.Option {
	return verify.WithHook(func(_ context.Context, ev verify.Event) {
		if ev.Op == "check" && g.armed.Load() {
			g.entered <- struct{}{}
			<-g.release
		}
	})
}

func (g *gate) open() {
	g.once.Do(func() { g.armed.Store(false); close(g.release) })
}

// csrf returns the CSRF token of the form on the page at from.
func (b *browser) csrf(from string) string {
	b.e.t.Helper()
	m := csrfRE.FindStringSubmatch(b.get(from))
	if m == nil {
		b.e.t.Fatalf("no CSRF token on %s:\n%s", from, b.page)
	}
	return m[1]
}

// submit posts form with a CSRF token fetched beforehand. It leaves b.page
// alone, so it may run on another goroutine.
func (b *browser) submit(path, csrf string, form url.Values) string {
	form.Set("csrf", csrf)
	resp, err := b.c.PostForm(b.e.srv.URL+path, form)
	if err != nil {
		b.e.t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}

// enrol gives a new account two-step login on number, and logs it out.
func (e *env) enrol(mail, number string) {
	e.t.Helper()
	b := e.browser()
	b.signup(mail, password)
	b.login(mail, password)
	b.enroll(number)
	b.code(e.lastCode(number))
	b.wantPage("enrolment of "+mail, "Two-step login is on")
	b.logout()
	e.advance(time.Minute) // past the resend cooldown of the enrolment's code
}

// TestCodeApprovesOnlyTheLoginItWasSentFor: an attacker who knows the
// victim's password (but has not her phone) types the code of his own
// account's login and, while that check is in flight, posts the victim's
// password on the same session. The approval is for his account's login
// step, not for whatever the session holds when it returns.
func TestCodeApprovesOnlyTheLoginItWasSentFor(t *testing.T) {
	g := newGate(t)
	e := setupWith(t, []verify.Option{g.option()}, nil)
	e.enrol(email, phone)
	e.enrol(mallory, malloryPhone)

	b := e.browser()
	b.login(mallory, password)
	b.wantPage("mallory's code page", "Enter the code we sent you")
	token := b.csrf("/verify")
	code := e.lastCode(malloryPhone)
	g.armed.Store(true)
	done := make(chan string)
	go func() {
		done <- b.submit("/verify", token, url.Values{"action": {"verify"}, "code": {code}})
	}()
	<-g.entered
	b.login(email, password) // the victim's password, while the check is in flight
	g.open()
	answer := <-done
	if page := b.get("/"); strings.Contains(page, "Welcome, "+email) {
		t.Fatal("mallory's code logged him in as the victim")
	}
	if !strings.Contains(answer, "Nothing was changed") {
		t.Errorf("the replaced step's code was not refused:\n%s", answer)
	}
}

// TestEnrolmentCodeCannotDisable: a code sent to confirm a new number
// cannot switch two-step login off, whatever the session asks for while
// the check is in flight.
func TestEnrolmentCodeCannotDisable(t *testing.T) {
	g := newGate(t)
	e := setupWith(t, []verify.Option{g.option()}, nil)
	e.enrol(email, phone)
	b := e.browser()
	b.login(email, password)
	b.code(e.lastCode(phone)) // logged in with a code: a fresh proof of the factor
	b.wantPage("login", "Welcome")
	b.enroll(malloryPhone)
	b.wantPage("new number", "Confirm your number")
	token := b.csrf("/verify")
	code := e.lastCode(malloryPhone)
	g.armed.Store(true)
	done := make(chan string)
	go func() {
		done <- b.submit("/verify", token, url.Values{"action": {"verify"}, "code": {code}})
	}()
	<-g.entered
	b.disable2FA()
	g.open()
	<-done
	if u := e.user(email); !u.twoFA || u.phone != phone {
		t.Fatalf("the enrolment code acted after its step was replaced: phone %s, two-step %v", u.phone, u.twoFA)
	}
}

// TestChangingTheFactorNeedsTheCurrentOne: with two-step login on, a
// session that has not proved the current factor recently (a hijacked
// one, say) cannot move it to another number with a code to that number
// alone; it must first type a code sent to the current number.
func TestChangingTheFactorNeedsTheCurrentOne(t *testing.T) {
	e := setup(t)
	e.enrol(email, phone)
	b := e.browser()
	b.login(email, password)
	b.code(e.lastCode(phone))
	b.wantPage("login", "Welcome")
	e.advance(10 * time.Minute) // the login's proof is no longer recent
	sentBefore := len(e.messages())
	b.enroll(malloryPhone)
	b.code(e.lastCode(malloryPhone))
	if u := e.user(email); u.phone != phone || !u.twoFA {
		t.Fatalf("the factor moved to %s with a code to the new number only", u.phone)
	}
	msgs := e.messages()
	if len(msgs) != sentBefore+1 || msgs[len(msgs)-1].To != phone {
		t.Fatalf("the change did not ask the current number first: %v", msgs[sentBefore:])
	}
	// Proof from the current number, then a code to the new one.
	b.code(e.lastCode(phone))
	b.wantPage("proved", "Confirm your number")
	b.code(e.lastCode(malloryPhone))
	b.wantPage("changed", "Two-step login is on")
	if u := e.user(email); u.phone != malloryPhone || !u.twoFA {
		t.Fatalf("phone %s, two-step %v after a proven change", u.phone, u.twoFA)
	}
}

// TestRecentProofAllowsAChange: right after a login with a code, a change
// of number needs only the code to the new number.
func TestRecentProofAllowsAChange(t *testing.T) {
	e := setup(t)
	e.enrol(email, phone)
	b := e.browser()
	b.login(email, password)
	b.code(e.lastCode(phone))
	b.enroll(malloryPhone)
	b.wantPage("straight to the new number", "Confirm your number")
	b.code(e.lastCode(malloryPhone))
	b.wantPage("changed", "Two-step login is on")
	if u := e.user(email); u.phone != malloryPhone {
		t.Fatalf("phone %s", u.phone)
	}
}

// TestTriesLimitHoldsUnderConcurrency: wrong codes typed at once cannot
// run more checks than the limit of tries.
func TestTriesLimitHoldsUnderConcurrency(t *testing.T) {
	g := newGate(t)
	e := setupWith(t, []verify.Option{g.option()}, nil, fake.WithMaxChecks(100))
	e.enrol(email, phone)
	b := e.browser()
	b.login(email, password)
	code := e.lastCode(phone)
	token := b.csrf("/verify")
	const n = 10 // within the check rate limit: only the tries stop them
	g.armed.Store(true)
	finished := make(chan struct{}, n)
	for range n {
		go func() {
			b.submit("/verify", token, url.Values{"action": {"verify"}, "code": {wrongOf(code)}})
			finished <- struct{}{}
		}()
	}
	checks, refused := 0, 0
	for checks+refused < n { // every request is either held in its check or answered
		select {
		case <-g.entered:
			checks++
		case <-finished:
			refused++
		}
	}
	g.open()
	for range checks {
		<-finished
	}
	if max := e.app.cfg.MaxTries; checks > max {
		t.Fatalf("%d wrong codes reached the provider at once; the limit is %d tries", checks, max)
	}
	b.code(code)
	b.wantPage("the right code after the tries ran out", "Too many wrong codes")
}

// TestNoSessionForCookielessRequests: visitors who have not logged in cost
// the server no session, whatever they request.
func TestNoSessionForCookielessRequests(t *testing.T) {
	e := setup(t)
	for i := range 200 {
		for _, path := range []string{"/", "/login", "/signup", "/verify", "/enroll", "/dev/outbox", "/static/app.css", "/nope"} {
			resp, err := e.srv.Client().Get(e.srv.URL + path + "?i=" + string(rune('a'+i%26)))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		resp, err := e.srv.Client().PostForm(e.srv.URL+"/login", url.Values{"email": {email}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// A browser that fails to log in gets no session either.
	b := e.browser()
	b.signup(email, password)
	b.login(email, "wrong password!")
	b.wantPage("wrong password", "Wrong e-mail address or password.")
	if n := e.sessionCount(); n != 0 {
		t.Fatalf("%d sessions kept for visitors who never logged in", n)
	}
	b.login(email, password)
	b.wantPage("login", "Welcome")
	if n := e.sessionCount(); n != 1 {
		t.Fatalf("%d sessions after one login", n)
	}
	b.logout()
	if n := e.sessionCount(); n != 0 {
		t.Fatalf("%d sessions after the logout", n)
	}
}

// TestSessionsExpireWhenIdle: a session unused for the idle timeout is
// gone, and is removed from memory.
func TestSessionsExpireWhenIdle(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signup(email, password)
	b.login(email, password)
	e.advance(20 * time.Minute)
	if !b.loggedIn() {
		t.Fatal("logged out after 20 minutes of activity")
	}
	e.advance(31 * time.Minute)
	if b.loggedIn() {
		t.Fatal("still logged in after 31 idle minutes")
	}
	if n := e.sessionCount(); n != 0 {
		t.Fatalf("%d sessions kept after they expired", n)
	}
}

// postFrom posts form to path from the client address remote, straight
// to the handler (httptest servers see only 127.0.0.1), with the CSRF token
// of the form page at the same path. It returns the page or the redirect's
// target.
func postFrom(t *testing.T, h http.Handler, remote, path string, form url.Values) string {
	t.Helper()
	get := httptest.NewRequest("GET", path, nil)
	get.RemoteAddr = remote
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, get)
	m := csrfRE.FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("no CSRF token on %s:\n%s", path, rec.Body.String())
	}
	form.Set("csrf", m[1])
	post := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.RemoteAddr = remote
	for _, c := range rec.Result().Cookies() {
		post.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, post)
	return rec.Body.String() + rec.Header().Get("Location")
}

func signupFrom(t *testing.T, h http.Handler, remote, mail string) string {
	t.Helper()
	return postFrom(t, h, remote, "/signup", url.Values{"email": {mail}, "password": {password}})
}

// TestSignupRateLimits: sign-ups (each a PBKDF2 of 600,000 iterations)
// are limited per IP address and in total.
func TestSignupRateLimits(t *testing.T) {
	e := setup(t)
	for i := range 10 {
		if page := signupFrom(t, e.app, "192.0.2.1:1234", "user"+string(rune('a'+i))+"@example.com"); strings.Contains(page, "Too many") {
			t.Fatalf("sign-up %d refused", i+1)
		}
	}
	if page := signupFrom(t, e.app, "192.0.2.1:1234", "one.more@example.com"); !strings.Contains(page, "Too many") {
		t.Fatalf("11th sign-up from one address in 10 minutes accepted:\n%s", page)
	}
	if e.user("one.more@example.com") != nil {
		t.Fatal("the refused sign-up created an account")
	}
	// From many addresses: the global limit.
	refused := 0
	for i := range 120 {
		remote := "198.51.100." + string(rune('0'+i/100)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10)) + ":1"
		if strings.Contains(signupFrom(t, e.app, remote, "many"+string(rune('0'+i/100))+string(rune('0'+i/10%10))+string(rune('0'+i%10))+"@example.com"), "Too many") {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("130 sign-ups from 121 addresses in 10 minutes, none refused")
	}
	e.advance(11 * time.Minute)
	if page := signupFrom(t, e.app, "192.0.2.1:1234", "later@example.com"); strings.Contains(page, "Too many") {
		t.Fatal("sign-up refused after the window")
	}
}

func (e *env) sessionCount() int {
	e.app.mu.Lock()
	defer e.app.mu.Unlock()
	return len(e.app.sessions.m)
}

// TestSessionsAreBounded: however many logins, at most MaxSessions
// sessions are kept; the least recently used one makes room.
func TestSessionsAreBounded(t *testing.T) {
	const max = 5
	e := setupWith(t, nil, func(c *Config) { c.MaxSessions = max })
	accounts := []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"}
	for _, mail := range accounts {
		e.browser().signup(mail, password)
	}
	first := e.browser()
	first.login(accounts[0], password)
	var browsers []*browser
	for i := range 24 {
		b := e.browser()
		b.login(accounts[i%len(accounts)], password)
		b.wantPage("login", "Welcome")
		browsers = append(browsers, b)
		first.get("/") // first stays in use: the least recently used go
		if n := e.sessionCount(); n > max {
			t.Fatalf("%d sessions kept, the bound is %d", n, max)
		}
	}
	if !first.loggedIn() {
		t.Error("the session in use was evicted")
	}
	if browsers[0].loggedIn() {
		t.Error("the least recently used session was kept")
	}
	if !browsers[len(browsers)-1].loggedIn() {
		t.Error("the newest session was evicted")
	}
}

// TestSessionsEndAfterTheirLifetime: a session in use all along still ends
// after SessionLifetime.
func TestSessionsEndAfterTheirLifetime(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signup(email, password)
	b.login(email, password)
	for range 12*3 - 1 {
		e.advance(20 * time.Minute)
		if !b.loggedIn() {
			t.Fatal("logged out before the lifetime of an active session")
		}
	}
	e.advance(20 * time.Minute)
	if b.loggedIn() {
		t.Fatal("still logged in 12 hours after the login")
	}
}

// TestSessionsAreSweptWithoutBeingSeen: expired sessions leave memory even
// if their browsers never come back.
func TestSessionsAreSweptWithoutBeingSeen(t *testing.T) {
	e := setup(t)
	e.browser().signup(email, password)
	for range 20 {
		e.browser().login(email, password)
		e.advance(10 * time.Second)
	}
	e.advance(time.Hour)
	e.browser().login(email, password)
	if n := e.sessionCount(); n != 1 {
		t.Fatalf("%d sessions after an hour of idleness and one login, want 1", n)
	}
}

// TestSecureCookies: the cookies are Secure over TLS, with SecureCookies,
// and behind a trusted proxy that says the request came over HTTPS, and
// never because an untrusted peer says so.
func TestSecureCookies(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	https := http.Header{"X-Forwarded-Proto": {"https"}}
	for _, tt := range []struct {
		name   string
		cfg    func(*Config)
		remote string
		header http.Header
		want   bool
	}{
		{"plain HTTP", nil, "192.0.2.1:1", nil, false},
		{"SecureCookies", func(c *Config) { c.SecureCookies = true }, "192.0.2.1:1", nil, true},
		{"trusted proxy, https", func(c *Config) { c.TrustedProxies = proxies }, "10.1.2.3:1", https, true},
		{"trusted proxy, http", func(c *Config) { c.TrustedProxies = proxies }, "10.1.2.3:1", http.Header{"X-Forwarded-Proto": {"http"}}, false},
		{"untrusted peer says https", func(c *Config) { c.TrustedProxies = proxies }, "192.0.2.1:1", https, false},
		{"no trusted proxies", nil, "10.1.2.3:1", https, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := setupWith(t, nil, tt.cfg)
			e.browser().signup(email, password)
			if c := loginCookie(t, e.app, tt.remote, tt.header); c.Secure != tt.want {
				t.Errorf("session cookie Secure = %v, want %v", c.Secure, tt.want)
			}
		})
	}
}

// TestClientIPBehindProxies: the rate limits count the client's address,
// taken from X-Forwarded-For only when a trusted proxy sent it.
func TestClientIPBehindProxies(t *testing.T) {
	a := &App{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}}
	for _, tt := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"192.0.2.1:5", nil, "192.0.2.1"},
		{"192.0.2.1:5", []string{"203.0.113.9"}, "192.0.2.1"}, // untrusted peer: header ignored
		{"10.0.0.1:5", nil, "10.0.0.1"},
		{"10.0.0.1:5", []string{"203.0.113.9"}, "203.0.113.9"},
		{"10.0.0.1:5", []string{"6.6.6.6, 203.0.113.9, 10.0.0.2"}, "203.0.113.9"}, // a client's own entry is not reached
		{"10.0.0.1:5", []string{"6.6.6.6", "203.0.113.9"}, "203.0.113.9"},
		{"10.0.0.1:5", []string{"garbage, 10.0.0.3"}, "10.0.0.1"},
		{"[::1]:5", []string{"2001:db8::1"}, "2001:db8::/64"},
		{"[2001:db8:1:2:3:4:5:6]:5", nil, "2001:db8:1:2::/64"},
		{"[::ffff:10.0.0.1]:5", []string{"203.0.113.9"}, "203.0.113.9"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := a.clientIP(r); got != tt.want {
			t.Errorf("clientIP(%s, %q) = %s, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}

// TestFlashCannotBeForged: the one-time message comes from the server
// only.
func TestFlashCannotBeForged(t *testing.T) {
	e := setup(t)
	b := e.browser()
	u, _ := url.Parse(e.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: flashCookie, Value: "Q2FsbCArMSA1NTUgMDEwMA.AAAAAAAAAAAAAAAAAAAAAA"}})
	if page := b.get("/"); strings.Contains(page, `id="flash"`) {
		t.Errorf("a forged flash was shown:\n%s", page)
	}
}

// TestLoginGlobalLimit: logins from many addresses are limited in total,
// bounding the password hashing strangers can cause.
func TestLoginGlobalLimit(t *testing.T) {
	e := setup(t)
	e.app.logins = newLimits(10, 40, 30, 10*time.Minute)
	refused := 0
	for i := range 40 {
		form := url.Values{"email": {"x" + strconv.Itoa(i) + "@example.com"}, "password": {"guess guess guess"}}
		if strings.Contains(postFrom(t, e.app, "198.51.100."+strconv.Itoa(i)+":1", "/login", form), "Too many attempts") {
			refused++
		}
	}
	if refused != 10 {
		t.Fatalf("%d of 40 logins from 40 addresses refused with a global limit of 30", refused)
	}
}

// TestStepVoidOnceTheFactorChanged: a step begun against the account's
// factor does nothing if the factor changed before its code was typed, on
// whichever session.
func TestStepVoidOnceTheFactorChanged(t *testing.T) {
	e := setup(t)
	e.enrol(email, phone)
	a, b := e.browser(), e.browser()
	for _, br := range []*browser{a, b} {
		br.login(email, password)
		br.code(e.lastCode(phone))
		br.wantPage("login", "Welcome")
		e.advance(5 * time.Minute) // past the resend cooldown
	}
	a.disable2FA() // a code to the old number
	disableCode := e.lastCode(phone)
	b.enroll(malloryPhone) // b moves the factor meanwhile
	b.code(e.lastCode(malloryPhone))
	b.wantPage("changed", "Two-step login is on")
	a.code(disableCode)
	if u := e.user(email); !u.twoFA || u.phone != malloryPhone {
		t.Fatalf("a code to the old number acted on the new factor: phone %s, two-step %v", u.phone, u.twoFA)
	}
	a.wantPage("void step", "changed meanwhile")
}

// pendingOf returns the step of b's session, or nil.
func (e *env) pendingOf(b *browser) *pending {
	e.app.mu.Lock()
	defer e.app.mu.Unlock()
	if s := e.app.sessions.m[b.cookie()]; s != nil {
		return s.pend
	}
	return nil
}

// state is what a code can change: both accounts' factors, and who the
// browser is logged in as.
type state struct {
	adaPhone, malloryPhone string
	adaOn, malloryOn       bool
	as                     string
}

func (e *env) state(b *browser) state {
	ada, mal := e.user(email), e.user(mallory)
	e.app.mu.Lock()
	st := state{adaPhone: ada.phone, adaOn: ada.twoFA, malloryPhone: mal.phone, malloryOn: mal.twoFA}
	if s := e.app.sessions.m[b.cookie()]; s != nil && s.stage == stageLoggedIn {
		st.as = s.email
	}
	e.app.mu.Unlock()
	return st
}

// TestApprovalInFlightMatrix: for every kind of step and every request the
// same session can make while that step's code is being checked, the
// approval does exactly what its own step does if that step is still the
// session's, and nothing at all if the request replaced it.
func TestApprovalInFlightMatrix(t *testing.T) {
	const other = "+14155552673"
	steps := []struct {
		name  string
		begin func(e *env, b *browser) (code string)
		apply func(st *state) // what an approval of the step does
	}{
		{"login", func(e *env, b *browser) string {
			b.login(mallory, password)
			return e.lastCode(malloryPhone)
		}, func(st *state) { st.as = mallory }},
		{"enroll", func(e *env, b *browser) string {
			b.login(email, password)
			b.code(e.lastCode(phone))
			b.enroll(other)
			return e.lastCode(other)
		}, func(st *state) { st.adaPhone = other }},
		{"disable", func(e *env, b *browser) string {
			b.login(email, password)
			b.code(e.lastCode(phone))
			e.advance(time.Minute) // past the resend cooldown
			b.disable2FA()
			return e.lastCode(phone)
		}, func(st *state) { st.adaPhone, st.adaOn = "", false }},
		{"reauth", func(e *env, b *browser) string {
			b.login(email, password)
			b.code(e.lastCode(phone))
			e.advance(6 * time.Minute)
			b.enroll(other)
			return e.lastCode(phone)
		}, func(st *state) {}},
	}
	interfere := []struct {
		name string
		do   func(b *browser, token string)
	}{
		{"login as ada", func(b *browser, token string) {
			b.submit("/login", token, url.Values{"email": {email}, "password": {password}})
		}},
		{"login as mallory", func(b *browser, token string) {
			b.submit("/login", token, url.Values{"email": {mallory}, "password": {password}})
		}},
		{"wrong password", func(b *browser, token string) {
			b.submit("/login", token, url.Values{"email": {email}, "password": {"not the password"}})
		}},
		{"disable", func(b *browser, token string) { b.submit("/2fa/disable", token, url.Values{}) }},
		{"enroll", func(b *browser, token string) {
			b.submit("/enroll", token, url.Values{"phone": {"+14155552674"}})
		}},
		{"logout", func(b *browser, token string) { b.submit("/logout", token, url.Values{}) }},
		{"resend", func(b *browser, token string) { b.submit("/verify", token, url.Values{"action": {"resend"}}) }},
		{"call", func(b *browser, token string) { b.submit("/verify", token, url.Values{"action": {"call"}}) }},
	}
	for _, sp := range steps {
		for _, in := range interfere {
			t.Run(sp.name+"/"+in.name, func(t *testing.T) {
				t.Parallel()
				g := newGate(t)
				e := setupWith(t, []verify.Option{g.option()}, nil)
				e.enrol(email, phone)
				e.enrol(mallory, malloryPhone)
				b := e.browser()
				code := sp.begin(e, b)
				p := e.pendingOf(b)
				if p == nil {
					t.Fatal("no step pending")
				}
				token := b.csrf("/login")
				g.armed.Store(true)
				done := make(chan string)
				go func() {
					done <- b.submit("/verify", token, url.Values{"action": {"verify"}, "code": {code}})
				}()
				<-g.entered
				in.do(b, b.csrf("/login"))
				replaced := e.pendingOf(b) != p
				want := e.state(b)
				if !replaced {
					sp.apply(&want)
				}
				g.open()
				<-done
				if got := e.state(b); got != want {
					t.Errorf("step replaced: %v\ngot  %+v\nwant %+v", replaced, got, want)
				}
			})
		}
	}
}

// TestLimiterKeysAreBounded: made-up keys (e-mail addresses, addresses)
// cannot grow a limiter past its bound; once full, new keys are refused
// until old ones expire, and known keys still count as before.
func TestLimiterKeysAreBounded(t *testing.T) {
	l := newLimiter(3, time.Minute)
	l.maxKeys = 10
	now := time.Unix(0, 0)
	l.allow("known", now)
	refused := 0
	for i := range 100 {
		if !l.allow("k"+strconv.Itoa(i), now) {
			refused++
		}
	}
	if len(l.events) != 10 || refused != 91 {
		t.Fatalf("%d keys kept, %d refused; want 10 and 91", len(l.events), refused)
	}
	if !l.allow("known", now) {
		t.Error("a known key was refused because the limiter is full")
	}
	if !l.allow("new", now.Add(2*time.Minute)) {
		t.Error("a new key was refused after the others expired")
	}
}
