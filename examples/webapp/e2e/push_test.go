package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
)

// TestPushLoginInBrowser enrols a phone (a second browser on the phone
// page, whose key WebCrypto makes and uses) from the QR page's link, logs
// in by approving on it while the login page waits, sees a denial refused,
// and logs in with a recovery code when the phone is not used.
func TestPushLoginInBrowser(t *testing.T) {
	pushLoginInBrowser(t, newSession(t, "push-failure"))
}

// TestPushLoginInBrowserSelfhosted is TestPushLoginInBrowser on the
// self-hosted provider: its push factors on the factor engine over a
// store, the phone polling (no notifier).
func TestPushLoginInBrowserSelfhosted(t *testing.T) {
	m, err := store.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	p, err := selfhosted.New(m, selfhosted.GenerateKey("e2e"), selfhosted.WithAppName("verifykit demo"),
		selfhosted.WithSender(new(selfhosted.Outbox), provider.ChannelSMS, provider.ChannelEmail))
	if err != nil {
		t.Fatal(err)
	}
	pushLoginInBrowser(t, newSessionOn(t, "push-selfhosted-failure", p, p.Device(), nil))
}

func pushLoginInBrowser(t *testing.T, s *session) {
	b, srv, must, wantText, snap := s.b, s.srv, s.must, s.wantText, s.snap
	login := s.login
	const email, password = "margaret@example.com", "a long enough password"
	s.signUp(email, password)
	login(email, password)
	wantText("#push-status", "Phone: off")

	// Enrol: the QR code renders; the phone opens the link it encodes.
	must(b.click("#push-enroll"))
	wantText("h1", "Set up your phone")
	w, err := b.script(`const i = document.getElementById("qr"); return i.complete ? i.naturalWidth : 0;`)
	must(err)
	if n, _ := w.(float64); n < 100 {
		snap("push-qr")
		t.Fatalf("the QR code did not render: naturalWidth %v", w)
	}
	snap("push-qr")
	href, err := b.script(`return document.getElementById("phone-link").href;`)
	must(err)
	link, _ := href.(string)
	if !strings.HasPrefix(link, srv.URL+"/phone#") {
		t.Fatalf("phone link %q", link)
	}
	phone := s.newBrowser()
	pwant := func(css, want string) {
		t.Helper()
		if _, err := phone.waitText(css, want, 15*time.Second); err != nil {
			shot, _ := phone.screenshot()
			_ = shot
			t.Fatal(err)
		}
	}
	must(phone.open(link))
	pwant("#phone-status", "Enrolled")
	// The enrolment page goes on by itself (wait.js): the recovery codes.
	wantText("h1", "Save your recovery codes")
	codes := s.recoveryCodes()
	must(b.click("#recovery-done"))
	wantText("#push-status", "Phone: on")

	// Log in: the login page waits; the phone approves.
	must(b.click("#logout"))
	wantText("#flash", "You are logged out.")
	login(email, password)
	wantText("h1", "Approve on your phone")
	snap("push-waiting")
	pwant(".request-message", "Log in to verifykit demo?")
	must(phone.click("button.approve"))
	pwant("#phone-result", "Request approved.")
	wantText("h1", "Welcome, "+email)

	// A denial on the phone logs nothing in; a recovery code does.
	must(b.click("#logout"))
	wantText("#flash", "You are logged out.")
	login(email, password)
	wantText("h1", "Approve on your phone")
	pwant(".request-message", "Log in to verifykit demo?")
	must(phone.click("button.deny"))
	pwant("#phone-result", "Request denied.")
	wantText("#flash", "denied on your phone")
	must(b.typeInto("#recovery-code", codes[1]))
	must(b.click("#use-recovery"))
	wantText("h1", "Welcome, "+email)
	snap("push-recovered")
}
