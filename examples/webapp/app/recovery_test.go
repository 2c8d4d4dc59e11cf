package app

import (
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var recoveryRE = regexp.MustCompile(`<li><code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code></li>`)

// recoveryCodes reads the recovery codes from the page that shows them.
func (b *browser) recoveryCodes() []string {
	b.e.t.Helper()
	b.wantPage("recovery codes page", "Save your recovery codes")
	var codes []string
	for _, m := range recoveryRE.FindAllStringSubmatch(b.page, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		b.e.t.Fatalf("%d recovery codes on the page, want 10:\n%s", len(codes), b.page)
	}
	return codes
}

// member returns a browser logged in to a new account with no second
// factor.
func (e *env) member() *browser {
	b := e.browser()
	b.signup(email, password)
	b.login(email, password)
	return b
}

func (b *browser) useRecovery(code string) {
	b.post("/verify", "/verify", url.Values{"action": {"recovery"}, "recovery": {code}})
}

func TestRecoveryCodes(t *testing.T) {
	e := setup(t)
	b := e.member()
	ap := b.enrollApp()
	codes := b.recoveryCodes()
	b.wantPage("confirmed", "authenticator app is on")

	// Shown once: not on the home page, not again on a second enrolment.
	for _, c := range codes {
		if strings.Contains(b.get("/"), c) {
			t.Fatal("the home page shows a recovery code")
		}
	}

	// The phone is gone: a login step offers a recovery code.
	b.logout()
	b.login(email, password)
	b.wantPage("login step", `id="recovery-code"`)
	b.useRecovery("0000-0000-0000")
	if b.loggedIn() {
		t.Fatal("a wrong recovery code logged in")
	}
	b.useRecovery(strings.ToUpper(codes[3]))
	b.wantPage("recovered", "You used a recovery code: 9 left")
	if !b.loggedIn() {
		t.Fatal("a right recovery code did not log in")
	}

	// Each code works once.
	b.logout()
	b.login(email, password)
	b.useRecovery(codes[3])
	b.wantPage("used code", "not right, or was used already")
	if b.loggedIn() {
		t.Fatal("a used recovery code logged in again")
	}
	b.useRecovery(codes[4])
	if !b.loggedIn() {
		t.Fatal("a second code did not log in")
	}

	// Switching the last factor off deletes the codes; the next factor
	// brings a new set, and the old codes are void.
	e.advance(30 * time.Second)
	b.post("/", "/totp/remove", url.Values{})
	b.code(ap.code())
	b.wantPage("removed", "authenticator app is off")
	b.enrollApp()
	fresh := b.recoveryCodes()
	if fresh[0] == codes[0] {
		t.Fatal("the new set is the old one")
	}
	b.logout()
	b.login(email, password)
	b.useRecovery(codes[5])
	if b.loggedIn() {
		t.Fatal("a code of the deleted set logged in")
	}
	b.useRecovery(fresh[5])
	if !b.loggedIn() {
		t.Fatal("a code of the new set did not log in")
	}
}

func TestRecoveryCodeOnlyFinishesALogin(t *testing.T) {
	e := setup(t)
	b := e.member()
	b.enrollApp()
	codes := b.recoveryCodes()

	// Removing the app asks for its code: a recovery code is refused there.
	b.post("/", "/totp/remove", url.Values{})
	b.wantPage("remove step", "Confirm it is you")
	if strings.Contains(b.page, `id="recovery-code"`) {
		t.Error("a removal step offers a recovery code")
	}
	b.useRecovery(codes[0])
	if e.user(email).totp == "" {
		t.Fatal("a recovery code removed the app")
	}
	// The code was not spent by the refused step.
	b.logout()
	b.login(email, password)
	b.useRecovery(codes[0])
	if !b.loggedIn() {
		t.Fatal("the code refused for the removal did not log in afterwards")
	}
}

func TestRecoveryCodeRace(t *testing.T) {
	e := setup(t)
	b := e.member()
	b.enrollApp()
	code := b.recoveryCodes()[0]
	b.logout()

	const n = 6
	bs := make([]*browser, n)
	for i := range bs {
		bs[i] = e.browser()
		bs[i].login(email, password)
	}
	var wg sync.WaitGroup
	for _, x := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x.useRecovery(code)
		}()
	}
	wg.Wait()
	in := 0
	for _, x := range bs {
		if x.loggedIn() {
			in++
		}
	}
	if in != 1 {
		t.Fatalf("%d logins with one recovery code, want 1", in)
	}
}

func TestRecoveryOff(t *testing.T) {
	e := setupWith(t, nil, func(c *Config) { c.Recovery = nil })
	b := e.member()
	b.enrollApp()
	b.wantPage("confirmed without codes", "authenticator app is on")
	b.logout()
	b.login(email, password)
	b.wantPage("login step", "authenticator app")
	if strings.Contains(b.page, `id="recovery-code"`) {
		t.Error("a login step offers recovery codes that were never issued")
	}
}
