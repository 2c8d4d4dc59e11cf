package e2e

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/verifykit/verifykit/examples/webapp/app"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
	"github.com/verifykit/verifykit/verify/recovery"
)

// tool finds a program, or skips the test when it is absent, unless
// E2E_REQUIRED is set (as in CI), when its absence is a failure.
func tool(t *testing.T, names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("E2E_REQUIRED") != "" {
		t.Fatalf("none of %v is installed (apt-get install chromium chromium-driver)", names)
	}
	t.Skipf("none of %v is installed; set E2E_REQUIRED=1 to make this a failure", names)
	return ""
}

// session is one browser test's world: the demo app on a fake provider,
// served on loopback, and a browser driving it. Its checks save a
// screenshot named failName (into $E2E_SCREENSHOTS when set) on failure.
type session struct {
	t        *testing.T
	srv      *httptest.Server
	b        *browser
	shots    string
	failName string
	// newBrowser opens another browser (another device) on the same
	// driver, closed when the test ends.
	newBrowser func() *browser
}

// newSession starts the app on a fake made with opts (and random codes),
// chromedriver and a browser, all stopped when the test ends; it skips the
// test when chromium or chromedriver is missing (see tool).
func newSession(t *testing.T, failName string, opts ...fake.Option) *session {
	t.Helper()
	f := fake.MustNew(append([]fake.Option{fake.WithRandomCodes(), fake.WithFriendlyName("verifykit demo")}, opts...)...)
	return newSessionOn(t, failName, f, f.Device(), f)
}

// newSessionOn is newSession on provider p, whose push device side is
// device and whose messages /dev/outbox shows when outbox is not nil.
func newSessionOn(t *testing.T, failName string, p provider.Provider, device provider.PushDeviceAPI, outbox *fake.Fake) *session {
	t.Helper()
	chromium := tool(t, "chromium", "chromium-browser", "google-chrome")
	chromedriver := tool(t, "chromedriver")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)

	client, err := verify.New(p, verify.WithDefaultRegion("US"))
	if err != nil {
		t.Fatal(err)
	}
	mem, err := store.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	codes, err := recovery.New(mem, client, recovery.WithIterations(1000))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Config{Verify: client, Recovery: codes, Device: device, Outbox: outbox, Iterations: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)

	d, err := startDriver(ctx, chromedriver)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.stop)
	b, err := d.newBrowser(ctx, chromium, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.close)

	shots := os.Getenv("E2E_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	another := func() *browser {
		b, err := d.newBrowser(ctx, chromium, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.close)
		return b
	}
	return &session{t: t, srv: srv, b: b, shots: shots, failName: failName, newBrowser: another}
}

// snap saves a screenshot of the page as name.png.
func (s *session) snap(name string) {
	png, err := s.b.screenshot()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.shots, name+".png"), png, 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// must fails the test, with a screenshot, when err is not nil.
func (s *session) must(err error) {
	s.t.Helper()
	if err != nil {
		s.snap(s.failName)
		s.t.Fatal(err)
	}
}

// wantText waits for the element css to show want, failing the test with
// a screenshot when it does not within 10 s.
func (s *session) wantText(css, want string) {
	s.t.Helper()
	if _, err := s.b.waitText(css, want, 10*time.Second); err != nil {
		s.snap(s.failName)
		s.t.Fatal(err)
	}
}

// recoveryCodes reads the recovery codes from the page that shows them.
func (s *session) recoveryCodes() []string {
	s.t.Helper()
	v, err := s.b.script(`return Array.from(document.querySelectorAll("#recovery-codes code")).map(e => e.textContent);`)
	s.must(err)
	list, _ := v.([]any)
	var codes []string
	for _, c := range list {
		if c, ok := c.(string); ok && len(c) == 14 {
			codes = append(codes, c)
		}
	}
	if len(codes) != 10 {
		s.snap(s.failName)
		s.t.Fatalf("the page shows %d recovery codes (%v), want 10", len(codes), v)
	}
	return codes
}

// login submits the login form.
func (s *session) login(email, password string) {
	s.t.Helper()
	s.must(s.b.open(s.srv.URL + "/login"))
	s.must(s.b.typeInto("#email", email))
	s.must(s.b.typeInto("#password", password))
	s.must(s.b.click("#submit"))
}

// signUp creates an account through the sign-up page.
func (s *session) signUp(email, password string) {
	s.t.Helper()
	s.must(s.b.open(s.srv.URL + "/signup"))
	s.must(s.b.typeInto("#email", email))
	s.must(s.b.typeInto("#password", password))
	s.must(s.b.click("#submit"))
	s.wantText("#flash", "your account is ready")
}

// TestTwoStepLoginInBrowser signs up, enrols a phone, logs out, logs in
// reading the code from the outbox page, and sees a wrong code refused.
func TestTwoStepLoginInBrowser(t *testing.T) {
	s := newSession(t, "failure")
	b, srv, must, wantText, snap := s.b, s.srv, s.must, s.wantText, s.snap
	// readCode opens the outbox in the same tab and reads the newest code.
	readCode := func(back string) string {
		t.Helper()
		must(b.open(srv.URL + "/dev/outbox"))
		code, err := b.text("#outbox tr:nth-child(2) td.code")
		must(err)
		must(b.open(srv.URL + back))
		return code
	}

	const email, password = "grace@example.com", "a long enough password"
	s.signUp(email, password)

	must(b.typeInto("#email", email))
	must(b.typeInto("#password", password))
	must(b.click("#submit"))
	wantText("#status", "Two-step login is off")

	must(b.click("#enroll"))
	must(b.typeInto("#phone", "(415) 555-2671"))
	must(b.click("#submit"))
	wantText("h1", "Confirm your number")
	code := readCode("/verify")
	must(b.typeInto("#code", code))
	must(b.click("#verify"))
	wantText("h1", "Save your recovery codes")
	s.recoveryCodes()
	must(b.click("#recovery-done"))
	wantText("#status", "Two-step login is on")

	must(b.click("#logout"))
	wantText("#flash", "You are logged out.") // the logout's redirect has landed
	must(b.open(srv.URL + "/login"))
	must(b.typeInto("#email", email))
	must(b.typeInto("#password", password))
	must(b.click("#submit"))
	wantText("h1", "Enter the code we sent you")
	snap("code-entry")

	code = readCode("/verify")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	must(b.typeInto("#code", wrong))
	must(b.click("#verify"))
	wantText("#error", "That code is not right. 4 tries left.")
	snap("wrong-code")

	must(b.typeInto("#code", code))
	must(b.click("#verify"))
	wantText("h1", "Welcome, "+email)
	snap("logged-in")
}
