package e2e

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
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
// confirms it and saves the recovery codes shown once, logs in with a
// code, sees a replayed code refused, logs in with a recovery code (once),
// and removes the app.
func TestAuthenticatorAppInBrowser(t *testing.T) {
	// The provider's clock moves only when the test says, so codes of
	// successive logins are of successive time steps without waiting.
	clock := fake.NewClock(time.Now().Truncate(30 * time.Second))
	s := newSession(t, "totp-failure", fake.WithClock(clock.Now))
	b, must, wantText, snap, login := s.b, s.must, s.wantText, s.snap, s.login

	const email, password = "katherine@example.com", "a long enough password"
	s.signUp(email, password)
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
	wantText("h1", "Save your recovery codes")
	snap("recovery-codes")
	codes := s.recoveryCodes()
	must(b.click("#recovery-done"))
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

	// The phone is lost: a recovery code logs in instead, once.
	must(b.click("#logout"))
	wantText("#flash", "You are logged out.")
	login(email, password)
	wantText("h1", "Enter the code we sent you")
	must(b.typeInto("#recovery-code", codes[0]))
	must(b.click("#use-recovery"))
	wantText("#flash", "You used a recovery code: 9 left.")
	wantText("h1", "Welcome, "+email)
	snap("recovery-login")
	must(b.click("#logout"))
	wantText("#flash", "You are logged out.")
	login(email, password)
	must(b.typeInto("#recovery-code", codes[0]))
	must(b.click("#use-recovery"))
	wantText("#flash", "not right, or was used already")
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
