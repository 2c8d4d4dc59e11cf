package app

import (
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
)

var secretRE = regexp.MustCompile(`<code id="secret">([A-Z2-7]+)</code>`)

// app is what the user's authenticator app computes from the key shown on
// the page, independently of the provider.
type app struct {
	v *totp.Verifier
	e *env
}

func (a app) code() string { return a.v.Code(a.v.Step(a.e.clock.Now())) }

// enrollApp sets up an authenticator app from the page: reads the key,
// types the first code.
func (b *browser) enrollApp() app {
	b.e.t.Helper()
	b.post("/", "/totp/enroll", url.Values{})
	b.wantPage("enrolment page", `<img src="data:image/png;base64,`)
	m := secretRE.FindStringSubmatch(b.page)
	if m == nil {
		b.e.t.Fatalf("no key on the enrolment page:\n%s", b.page)
	}
	key, err := totp.DecodeSecret(m[1])
	if err != nil {
		b.e.t.Fatal(err)
	}
	a := app{v: totp.NewVerifier(key, provider.TOTPConfig{}), e: b.e}
	b.code(a.code())
	return a
}

// opaqueIdentity is the form of newIdentity's identities: "u-" and 32 hex
// digits, room for no "@", "+" or anything but random hex.
var opaqueIdentity = regexp.MustCompile(`^u-[0-9a-f]{32}$`)

func TestAuthenticatorAppEndToEnd(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signup(email, password)
	b.login(email, password)
	if !b.loggedIn() {
		t.Fatal("not logged in")
	}
	b.get("/")
	b.wantPage("home", "Authenticator app: <strong>off</strong>")

	// A wrong first code leaves the app off.
	b.post("/", "/totp/enroll", url.Values{})
	b.wantPage("enrolment page", "QR code")
	b.code("000000")
	b.wantPage("wrong first code", "not right")
	if e.user(email).totp != "" {
		t.Fatal("a wrong first code switched the app on")
	}

	a := b.enrollApp()
	b.wantPage("confirmed", "authenticator app is on")
	u := e.user(email)
	// The identity is the opaque random form and carries no personal data:
	// neither the e-mail address nor the phone number. Its hex may contain
	// the letters "ada" by chance, so the check is the exact format, not a
	// substring of the address.
	if u.totp == "" || !opaqueIdentity.MatchString(u.identity) ||
		strings.Contains(u.identity, email) || strings.Contains(u.identity, phone) {
		t.Fatalf("after confirming: totp %q identity %q, want %v", u.totp, u.identity, opaqueIdentity)
	}
	// The key is not shown again.
	if strings.Contains(b.get("/"), "secret") {
		t.Error("the home page shows the key")
	}

	// Log in with a code from the app.
	b.logout()
	b.login(email, password)
	b.wantPage("login step", "authenticator app")
	if b.loggedIn() {
		t.Fatal("logged in before the code")
	}
	e.advance(30 * time.Second)
	b.code("123 456x")
	if b.loggedIn() {
		t.Fatal("a malformed code logged in")
	}
	code := a.code()
	b.code(code)
	if !b.loggedIn() {
		t.Fatalf("the app's code did not log in:\n%s", b.page)
	}

	// The same code cannot log in again.
	b.logout()
	b.login(email, password)
	b.wantPage("second login", "authenticator app")
	b.code(code)
	b.wantPage("replay", "not right")
	if b.loggedIn() {
		t.Fatal("a replayed code logged in")
	}

	// No phone: no "text me a code instead".
	b.get("/verify")
	if strings.Contains(b.page, "sms-instead") {
		t.Error("SMS fallback offered without a phone")
	}
	e.advance(30 * time.Second)
	b.code(a.code())
	if !b.loggedIn() {
		t.Fatal("the next code did not log in")
	}

	// Add a phone (a recent proof with the app lets it through), then log
	// in falling back to SMS.
	b.enroll(phone)
	b.code(e.lastCode(phone))
	if !e.user(email).twoFA {
		t.Fatalf("phone not enrolled:\n%s", b.page)
	}
	e.advance(time.Minute) // past the resend cooldown of the enrolment's code
	b.logout()
	b.login(email, password)
	b.get("/verify")
	b.wantPage("login with both factors", `id="sms-instead"`)
	b.action("sms")
	b.wantPage("fallback", "text message")
	b.code(e.lastCode(phone))
	if !b.loggedIn() {
		t.Fatalf("the SMS fallback did not log in:\n%s", b.page)
	}

	// Removing the app needs a fresh code from it.
	e.advance(30 * time.Second)
	b.post("/", "/totp/remove", url.Values{})
	b.code("000000")
	if e.user(email).totp == "" {
		t.Fatal("a wrong code removed the app")
	}
	b.code(a.code())
	b.wantPage("removed", "authenticator app is off")
	if e.user(email).totp != "" {
		t.Fatal("the app is still on")
	}
	// The unconfirmed first try was deleted when the second began, and the
	// removed app is deleted too.
	if list, err := e.app.cfg.Verify.ListFactors(ctx(), u.identity); err != nil || len(list) != 0 {
		t.Errorf("factors left at the provider: %v %v", list, err)
	}
	e.advance(time.Minute) // past the resend cooldown of the fallback's code
	b.logout()
	b.login(email, password)
	b.wantPage("login after removal", "We sent you a code")
}

// With a second factor on and no recent proof, setting up the app first
// asks for a code from the current factor.
func TestAuthenticatorAppNeedsRecentProof(t *testing.T) {
	e := setup(t)
	b := e.enrolled()
	e.advance(6 * time.Minute) // past the re-authentication window
	b.post("/", "/totp/enroll", url.Values{})
	b.wantPage("reauth", "Confirm it is you")
	if strings.Contains(b.page, `id="secret"`) {
		t.Fatal("the key was shown before the current factor was proved")
	}
	b.code(e.lastCode(phone))
	b.wantPage("after reauth", `id="secret"`)
}

// TestOneAppCodeLogsInOneSession: two sessions of one account wait for
// the app's code, and the same code is submitted to both, from several
// requests at once. It logs in one session only (the provider refuses the
// code's time step once used); the other is still at the code step.
func TestOneAppCodeLogsInOneSession(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.browser()
	b.signup(email, password)
	b.login(email, password)
	a := b.enrollApp()
	b.wantPage("confirmed", "authenticator app is on")
	b.logout()
	e.advance(30 * time.Second)

	b1, b2 := e.browser(), e.browser()
	b1.login(email, password)
	b2.login(email, password)
	t1, t2 := b1.csrf("/verify"), b2.csrf("/verify")
	code := a.code()
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			form := url.Values{"action": {"verify"}, "code": {code}}
			if i%2 == 0 {
				b1.submit("/verify", t1, form)
			} else {
				b2.submit("/verify", t2, form)
			}
		}()
	}
	wg.Wait()
	if in1, in2 := b1.loggedIn(), b2.loggedIn(); in1 == in2 {
		t.Errorf("logged in: session 1 %v, session 2 %v; want exactly one", in1, in2)
	}
}

// TestReplacingTheAppDeletesTheOldFactor: setting up a new app in place
// of the current one deletes the old factor at the provider, so repeated
// replacements do not fill the identity's factors (the provider holds 20
// at most) or leave a second key that still checks.
func TestReplacingTheAppDeletesTheOldFactor(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.browser()
	b.signup(email, password)
	b.login(email, password)
	b.enrollApp()
	b.wantPage("first app", "authenticator app is on")
	first := e.user(email).totp
	e.advance(30 * time.Second)
	b.enrollApp() // within the re-authentication window: no new proof asked
	b.wantPage("second app", "authenticator app is on")
	u := e.user(email)
	if u.totp == first {
		t.Fatal("the app was not replaced")
	}
	fs, err := e.app.cfg.Verify.ListFactors(t.Context(), u.identity)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.ID)
	}
	if diff := cmp.Diff([]string{u.totp}, ids); diff != "" {
		t.Errorf("factors at the provider (-want +got):\n%s", diff)
	}
}

// TestAbandonedAppSetupsDoNotPileUp: an app set up but never confirmed
// (the user went on to another step, or logged out) leaves no factor
// behind once the next setup begins.
func TestAbandonedAppSetupsDoNotPileUp(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.browser()
	b.signup(email, password)
	b.login(email, password)
	b.post("/", "/totp/enroll", url.Values{})
	b.wantPage("enrolment page", `id="secret"`)
	b.logout() // abandoned
	b.login(email, password)
	b.post("/", "/totp/enroll", url.Values{})
	b.wantPage("enrolment page", `id="secret"`)
	b.enroll(phone) // abandoned for another step
	b.enrollApp()
	b.wantPage("app on", "authenticator app is on")
	u := e.user(email)
	fs, err := e.app.cfg.Verify.ListFactors(t.Context(), u.identity)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.ID)
	}
	if diff := cmp.Diff([]string{u.totp}, ids); diff != "" {
		t.Errorf("factors at the provider (-want +got):\n%s", diff)
	}
}
