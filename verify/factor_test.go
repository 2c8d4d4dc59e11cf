package verify_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/verify"
)

const user = "user-0000-0001"

// onlyCodes is a provider without factors.
type onlyCodes struct{ provider.Provider }

func TestClient_FactorsUnsupported(t *testing.T) {
	t.Parallel()
	c, _ := verify.New(onlyCodes{fake.MustNew()})
	_, err := c.EnrollTOTP(t.Context(), user, "Phone", nil)
	if !errors.Is(err, verify.ErrUnsupported) {
		t.Errorf("EnrollTOTP on a provider without factors: %v, want ErrUnsupported", err)
	}
	if _, err := c.CheckFactor(t.Context(), user, "YF1", "123456"); !errors.Is(err, verify.ErrUnsupported) {
		t.Errorf("CheckFactor: %v, want ErrUnsupported", err)
	}
}

func TestClient_FactorInputRefusedBeforeProvider(t *testing.T) {
	t.Parallel()
	var calls int
	var mu sync.Mutex
	f := fake.MustNew(fake.WithOnFactor(func(context.Context, fake.FactorEvent) { mu.Lock(); calls++; mu.Unlock() }))
	c, _ := verify.New(f)
	ctx := t.Context()
	for name, call := range map[string]func() error{
		"short identity": func() error { _, err := c.EnrollTOTP(ctx, "bob", "Phone", nil); return err },
		"email identity": func() error { _, err := c.EnrollTOTP(ctx, "alice@example.com", "Phone", nil); return err },
		"empty name":     func() error { _, err := c.EnrollTOTP(ctx, user, "", nil); return err },
		"long name":      func() error { _, err := c.EnrollTOTP(ctx, user, strings.Repeat("x", 65), nil); return err },
		"9 digits": func() error {
			_, err := c.EnrollTOTP(ctx, user, "P", &verify.EnrollOptions{Config: verify.TOTPConfig{Digits: 9}})
			return err
		},
		"zero skew and 2": func() error {
			_, err := c.EnrollTOTP(ctx, user, "P", &verify.EnrollOptions{ZeroSkew: true, Config: verify.TOTPConfig{Skew: 2}})
			return err
		},
		"letters code":     func() error { _, err := c.CheckFactor(ctx, user, "YF1", "abcdef"); return err },
		"short code":       func() error { _, err := c.CheckFactor(ctx, user, "YF1", "12"); return err },
		"long code":        func() error { _, err := c.ConfirmFactor(ctx, user, "YF1", "123456789"); return err },
		"bad factor ID":    func() error { _, err := c.FetchFactor(ctx, user, "YF/../x"); return err },
		"empty factor ID":  func() error { return c.DeleteFactor(ctx, user, "") },
		"delete bad ident": func() error { return c.DeleteIdentity(ctx, "+14155552671") },
		"list bad ident":   func() error { _, err := c.ListFactors(ctx, "a b c d e f g"); return err },
	} {
		if err := call(); !errors.Is(err, verify.ErrInvalidRequest) {
			t.Errorf("%s: %v, want ErrInvalidRequest", name, err)
		}
	}
	if calls != 0 {
		t.Errorf("%d refused calls reached the provider", calls)
	}
}

func TestClient_FactorEventsLeakNothing(t *testing.T) {
	t.Parallel()
	clock := fake.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	f := fake.MustNew(fake.WithClock(clock.Now))
	var logs bytes.Buffer
	var events []verify.Event
	var mu sync.Mutex
	c, _ := verify.New(f, verify.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		verify.WithHook(func(_ context.Context, e verify.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }))
	ctx := t.Context()
	e, err := c.EnrollTOTP(ctx, user, "Phone", nil)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := f.FactorCode(user, e.ID)
	c.ConfirmFactor(ctx, user, e.ID, code)
	c.CheckFactor(ctx, user, e.ID, code) // a replay
	c.CheckFactor(ctx, user, e.ID, "999999")
	c.FetchFactor(ctx, user, e.ID)
	c.ListFactors(ctx, user)
	f.InjectFault(fake.Fault{Op: fake.OpChallengeFactor, Err: provider.ErrUnavailable})
	_, ferr := c.CheckFactor(ctx, user, e.ID, code)
	c.DeleteFactor(ctx, user, e.ID)
	c.DeleteIdentity(ctx, user)

	var ops []string
	for _, ev := range events {
		ops = append(ops, ev.Op+":"+string(ev.Status)+":"+string(ev.Code))
		if strings.Contains(ev.Target, user) {
			t.Errorf("event %s carries the unmasked identity %q", ev.Op, ev.Target)
		}
	}
	want := []string{
		"enroll factor:unverified:ok", "confirm factor:verified:ok", "check factor:pending:ok", "check factor:pending:ok",
		"fetch factor:verified:ok", "list factors::ok", "check factor::unavailable", "delete factor::ok", "delete identity::ok",
	}
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	all := logs.String() + fmt.Sprintf("%+v %#v %v %+v", events, ferr, e, e)
	for _, secret := range []string{e.Secret, e.URI, code, "999999", user} {
		if strings.Contains(all, secret) {
			t.Errorf("logs, events, errors or printing reveal %q", secret[:4]+"…")
		}
	}
	if !errors.Is(ferr, verify.ErrUnavailable) {
		t.Errorf("injected fault: %v", ferr)
	}
	var fe *fake.Error
	if !errors.As(ferr, &fe) {
		t.Error("errors.As does not reach *fake.Error")
	}
}

func TestEnrollment_QRCode(t *testing.T) {
	t.Parallel()
	c, _ := verify.New(fake.MustNew())
	e, err := c.EnrollTOTP(t.Context(), user, "Phone", &verify.EnrollOptions{Config: verify.TOTPConfig{Digits: 8}})
	if err != nil {
		t.Fatal(err)
	}
	url, err := e.QRCodeDataURL(180)
	if err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(url, "data:image/png;base64,"))
	if err != nil || !strings.HasPrefix(url, "data:image/png;base64,") {
		t.Fatalf("data URL: %v", err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != 180 {
		t.Errorf("QR PNG: %v, width %d", err, cfg.Width)
	}
	if _, err := (verify.Enrollment{}).QRCodePNG(100); !errors.Is(err, verify.ErrInvalidRequest) {
		t.Errorf("QR of an empty enrolment: %v", err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		if s := fmt.Sprintf(verb, e); strings.Contains(s, e.Secret) || strings.Contains(s, "otpauth") {
			t.Errorf("%s reveals the secret: %s", verb, s)
		}
	}
	if s := fmt.Sprintf("%+v", verify.EnrollOptions{Secret: e.Secret}); strings.Contains(s, e.Secret) {
		t.Error("EnrollOptions prints its secret")
	}
}

func TestClient_FactorCodeCleaning(t *testing.T) {
	t.Parallel()
	clock := fake.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	f := fake.MustNew(fake.WithClock(clock.Now))
	c, _ := verify.New(f)
	e, _ := c.EnrollTOTP(t.Context(), user, "Phone", nil)
	code, _ := f.FactorCode(user, e.ID)
	fa, err := c.ConfirmFactor(t.Context(), user, e.ID, " "+code[:3]+" - "+code[3:]+"\t")
	if err != nil || !fa.Verified() {
		t.Errorf("a code with spaces and a dash: %v, %v", fa.Status, err)
	}
}

// A friendly name becomes the label an authenticator app shows: invalid
// UTF-8 and control characters are refused before the provider is asked.
func TestClient_EnrollTOTPRefusesUnprintableFriendlyName(t *testing.T) {
	t.Parallel()
	f := fake.MustNew()
	c, _ := verify.New(f)
	for _, name := range []string{"Ph\xffone", "Ph\x00one", "Phone\nX", "Phone\u202e"} {
		_, err := c.EnrollTOTP(t.Context(), user, name, nil)
		if !errors.Is(err, verify.ErrInvalidRequest) {
			t.Errorf("EnrollTOTP(friendly name %q): %v, want ErrInvalidRequest", name, err)
		}
		if err != nil && strings.Contains(err.Error(), name) {
			t.Errorf("the error echoes the friendly name: %v", err)
		}
	}
	if fs, err := c.ListFactors(t.Context(), user); err == nil && len(fs) != 0 {
		t.Errorf("%d factors made from refused names", len(fs))
	}
	if _, err := c.EnrollTOTP(t.Context(), user, "Ada's phone ☎", nil); err != nil {
		t.Errorf("a printable name: %v", err)
	}
}
