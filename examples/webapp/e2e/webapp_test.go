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
	"github.com/verifykit/verifykit/verify"
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

// TestTwoStepLoginInBrowser signs up, enrols a phone, logs out, logs in
// reading the code from the outbox page, and sees a wrong code refused.
func TestTwoStepLoginInBrowser(t *testing.T) {
	chromium := tool(t, "chromium", "chromium-browser", "google-chrome")
	chromedriver := tool(t, "chromedriver")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	f := fake.MustNew(fake.WithRandomCodes(), fake.WithFriendlyName("verifykit demo"))
	client, err := verify.New(f, verify.WithDefaultRegion("US"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Config{Verify: client, Outbox: f, Iterations: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	defer srv.Close()

	d, err := startDriver(ctx, chromedriver)
	if err != nil {
		t.Fatal(err)
	}
	defer d.stop()
	b, err := d.newBrowser(ctx, chromium, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()

	shots := os.Getenv("E2E_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	snap := func(name string) {
		png, err := b.screenshot()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			snap("failure")
			t.Fatal(err)
		}
	}
	wantText := func(css, want string) {
		t.Helper()
		if _, err := b.waitText(css, want, 10*time.Second); err != nil {
			snap("failure")
			t.Fatal(err)
		}
	}
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
	must(b.open(srv.URL + "/signup"))
	must(b.typeInto("#email", email))
	must(b.typeInto("#password", password))
	must(b.click("#submit"))
	wantText("#flash", "your account is ready")

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
