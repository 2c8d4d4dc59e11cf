package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/examples/webapp/app"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/verify"
)

// phoneApp is the user's authenticator app: RFC 6238 (SHA-1, 6 digits,
// 30 s) computed here from the key the page shows, on the provider's
// clock.
type phoneApp struct {
	key   []byte
	clock *fake.Clock
}

func (p phoneApp) code() string {
	mac := hmac.New(sha1.New, p.key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(p.clock.Now().Unix()/30))
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0xf
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:])&0x7fffffff)%1_000_000)
}

// script runs JavaScript in the page and returns its result.
func (b *browser) script(js string) (any, error) {
	var out struct {
		Value any `json:"value"`
	}
	err := b.cmd("POST", "/execute/sync", map[string]any{"script": js, "args": []any{}}, &out)
	return out.Value, err
}

// TestAuthenticatorAppInBrowser sets up an authenticator app from the QR
// page (reading the key from the page and computing codes itself),
// confirms it, logs in with a code, sees a replayed code refused, and
// removes the app.
func TestAuthenticatorAppInBrowser(t *testing.T) {
	chromium := tool(t, "chromium", "chromium-browser", "google-chrome")
	chromedriver := tool(t, "chromedriver")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The provider's clock moves only when the test says, so codes of
	// successive logins are of successive time steps without waiting.
	clock := fake.NewClock(time.Now().Truncate(30 * time.Second))
	f := fake.MustNew(fake.WithRandomCodes(), fake.WithFriendlyName("verifykit demo"), fake.WithClock(clock.Now))
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
			snap("totp-failure")
			t.Fatal(err)
		}
	}
	wantText := func(css, want string) {
		t.Helper()
		if _, err := b.waitText(css, want, 10*time.Second); err != nil {
			snap("totp-failure")
			t.Fatal(err)
		}
	}
	login := func(email, password string) {
		t.Helper()
		must(b.open(srv.URL + "/login"))
		must(b.typeInto("#email", email))
		must(b.typeInto("#password", password))
		must(b.click("#submit"))
	}

	const email, password = "katherine@example.com", "a long enough password"
	must(b.open(srv.URL + "/signup"))
	must(b.typeInto("#email", email))
	must(b.typeInto("#password", password))
	must(b.click("#submit"))
	wantText("#flash", "your account is ready")
	login(email, password)
	wantText("#totp-status", "Authenticator app: off")

	// Enrol: the QR code is on the page and rendered (the page's policy
	// lets its data: URL through); the key is read from the page.
	must(b.click("#totp-enroll"))
	wantText("h1", "Confirm your authenticator app")
	w, err := b.script(`const i = document.getElementById("qr"); return i.complete ? i.naturalWidth : 0;`)
	must(err)
	if n, _ := w.(float64); n < 100 {
		snap("totp-qr")
		t.Fatalf("the QR code did not render: naturalWidth %v", w)
	}
	snap("totp-qr")
	secret, err := b.text("#secret")
	must(err)
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimSpace(secret))
	if err != nil || len(key) < 16 {
		t.Fatalf("the page's key %q is not Base32 of 16 bytes or more: %v", secret, err)
	}
	phone := phoneApp{key: key, clock: clock}
	must(b.typeInto("#code", phone.code()))
	must(b.click("#verify"))
	wantText("#totp-status", "Authenticator app: on")

	// Log in with the app's next code.
	must(b.click("#logout"))
	wantText("#flash", "You are logged out.")
	clock.Advance(30 * time.Second)
	login(email, password)
	wantText("h1", "Enter the code we sent you")
	wantText("main", "authenticator app")
	snap("totp-code-entry")
	code := phone.code()
	must(b.typeInto("#code", code))
	must(b.click("#verify"))
	wantText("h1", "Welcome, "+email)

	// The same code again is refused.
	must(b.click("#logout"))
	wantText("#flash", "You are logged out.")
	login(email, password)
	wantText("h1", "Enter the code we sent you")
	must(b.typeInto("#code", code))
	must(b.click("#verify"))
	wantText("#error", "That code is not right.")
	snap("totp-replay")
	clock.Advance(30 * time.Second)
	must(b.typeInto("#code", phone.code()))
	must(b.click("#verify"))
	wantText("h1", "Welcome, "+email)

	// Remove it with a fresh code.
	clock.Advance(30 * time.Second)
	must(b.click("#totp-remove"))
	wantText("h1", "Confirm it is you")
	must(b.typeInto("#code", phone.code()))
	must(b.click("#verify"))
	wantText("#totp-status", "Authenticator app: off")
	snap("totp-removed")
}
