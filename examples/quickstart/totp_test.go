package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

func TestTOTPDemo(t *testing.T) {
	var out, errOut bytes.Buffer
	qr := filepath.Join(t.TempDir(), "qr.png")
	if code := run(context.Background(), []string{"totp-demo", "-qr", qr}, noEnv, strings.NewReader(""), &out, &errOut); code != exitOK {
		t.Fatalf("totp-demo: %d %s", code, errOut.String())
	}
	for _, want := range []string{"factor verified", "challenge approved", "challenge pending: a code approves only once", "otpauth://totp/"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("totp-demo output lacks %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(qr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("the QR file is not a PNG: %v", err)
	}
}

func TestTOTPCommandsOnEmulator(t *testing.T) {
	clock := fake.NewClock(time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC))
	_, env := emulatorEnv(t, twiliotest.WithClock(clock.Now))
	ctx := context.Background()
	runq := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, args, env, strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	const id = "5f0c6b1e-user-0001"
	code, out, stderr := runq("totp-enroll", "-identity", id, "-name", "Laptop")
	if code != exitOK {
		t.Fatalf("totp-enroll: %d %s", code, stderr)
	}
	factor := regexp.MustCompile(`YF[0-9a-f]{32}`).FindString(out)
	secret := regexp.MustCompile(`type the key ([A-Z2-7]+)`).FindStringSubmatch(out)
	if factor == "" || secret == nil {
		t.Fatalf("totp-enroll output: %s", out)
	}
	key, err := totp.DecodeSecret(secret[1])
	if err != nil {
		t.Fatal(err)
	}
	v := totp.NewVerifier(key, provider.TOTPConfig{})
	now := func() string { return v.Code(v.Step(clock.Now())) }
	if code, _, _ := runq("totp-confirm", "-identity", id, "-factor", factor, "-code", "000000"); code != exitWrongCode && now() != "000000" {
		t.Errorf("wrong confirm code: %d", code)
	}
	if code, out, _ := runq("totp-check", "-identity", id, "-factor", factor, "-code", now()); code != exitUsage {
		t.Errorf("check before confirming: %d %s", code, out)
	}
	if code, out, stderr := runq("totp-confirm", "-identity", id, "-factor", factor, "-code", now()); code != exitOK || !strings.Contains(out, "verified") {
		t.Fatalf("totp-confirm: %d %s %s", code, out, stderr)
	}
	clock.Advance(30 * time.Second)
	if code, out, stderr := runq("totp-check", "-identity", id, "-factor", factor, "-code", now()); code != exitOK || !strings.Contains(out, "Approved") {
		t.Fatalf("totp-check: %d %s %s", code, out, stderr)
	}
	if code, _, _ := runq("totp-check", "-identity", id, "-factor", factor, "-code", now()); code != exitWrongCode {
		t.Errorf("replayed code: %d", code)
	}
	if code, out, _ := runq("totp-list", "-identity", id); code != exitOK || !strings.Contains(out, factor) || !strings.Contains(out, "Laptop") {
		t.Errorf("totp-list: %d %s", code, out)
	}
	if code, _, _ := runq("totp-delete", "-identity", id, "-factor", factor); code != exitOK {
		t.Errorf("totp-delete: %d", code)
	}
	if code, _, _ := runq("totp-check", "-identity", id, "-factor", factor, "-code", now()); code != exitNotFound {
		t.Errorf("check after delete: %d", code)
	}
	if code, _, _ := runq("totp-check", "-identity", "bob", "-factor", factor, "-code", "123456"); code != exitUsage {
		t.Errorf("bad identity: %d", code)
	}
	if code, _, stderr := runq("totp-enroll"); code != exitConfig && code != exitOK {
		t.Errorf("totp-enroll with defaults: %d %s", code, stderr)
	}
	var out2, err2 bytes.Buffer
	if code := run(ctx, []string{"totp-enroll"}, noEnv, strings.NewReader(""), &out2, &err2); code != exitConfig {
		t.Errorf("totp-enroll without Twilio: %d", code)
	}
}
