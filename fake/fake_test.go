package fake_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/provider/providertest"
	"github.com/verifykit/verifykit/pushdevice"
)

// defaultLimits are the fake's default limits, as its documentation states
// them.
var defaultLimits = providertest.Limits{Validity: 10 * time.Minute, MaxSends: 5, MaxChecks: 5, MinCodeLength: 4, MaxCodeLength: 10}

// defaultFactorLimits are the fake's default factor limits.
var defaultFactorLimits = providertest.FactorLimits{MaxWrong: fake.DefaultFactorMaxChecks, Window: fake.DefaultFactorCheckWindow, TOTP: totpDefaults}

// totpDefaults are the fake's TOTP defaults, as its doc states them.
var totpDefaults = provider.TOTPConfig{Digits: 6, Period: 30 * time.Second, Skew: 1, Algorithm: provider.AlgSHA1}

// harness returns the conformance harness of f, whose time now reads and
// advance moves.
func harness(f *fake.Fake, now func() time.Time, advance func(time.Duration), lim providertest.Limits, flim providertest.FactorLimits) *providertest.HarnessFuncs {
	return &providertest.HarnessFuncs{
		Subject:         f,
		LastCodeFunc:    f.LastCode,
		AdvanceFunc:     advance,
		ErrorTargetFunc: func() any { return new(*fake.Error) },
		Declared:        lim,
		NowFunc:         now,
		DeclaredFactors: flim,
		PushDeviceFunc:  f.Device,
		OpenSNAFunc:     snaDevice(f.SNAHandler()),
		FailSNAFunc: func(to string, fallBack bool) error {
			kind := provider.ErrInvalidRequest
			if fallBack {
				kind = provider.ErrUndeliverable
			}
			f.InjectFault(fake.Fault{Op: fake.OpSNA, To: to, Err: kind})
			return nil
		},
	}
}

// snaDevice opens an SNA URL as pushdevice.OpenSNA does, over a server of
// h started for the visit (the fake's URLs point at
// fake.DefaultSNABaseURL), and returns the token the device passes on.
func snaDevice(h http.Handler) func(context.Context, string) (string, error) {
	return func(ctx context.Context, url string) (string, error) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		res, err := pushdevice.OpenSNA(ctx, srv.Client(), strings.Replace(url, fake.DefaultSNABaseURL, srv.URL, 1))
		return res.Token, err
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		clock := fake.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		return harness(fake.MustNew(fake.WithClock(clock.Now)), clock.Now, clock.Advance, defaultLimits, defaultFactorLimits)
	})
}

// TestConformanceCustomLimits runs the suite against non-default limits
// (factor limits too), so the suite and the options are checked together.
func TestConformanceCustomLimits(t *testing.T) {
	t.Parallel()
	lim := providertest.Limits{Validity: 2 * time.Minute, MaxSends: 2, MaxChecks: 3, MinCodeLength: 4, MaxCodeLength: 10}
	flim := providertest.FactorLimits{MaxWrong: 2, Window: time.Minute}
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		clock := fake.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		f := fake.MustNew(fake.WithClock(clock.Now), fake.WithValidity(lim.Validity),
			fake.WithMaxSends(lim.MaxSends), fake.WithMaxChecks(lim.MaxChecks), fake.WithRandomCodes(),
			fake.WithFactorLimits(flim.MaxWrong, flim.Window))
		return harness(f, clock.Now, clock.Advance, lim, flim)
	})
}

// TestConformanceSynctest runs the suite on the default clock (time.Now)
// inside a synctest bubble, where Advance sleeps in fake time.
func TestConformanceSynctest(t *testing.T) {
	t.Parallel()
	for _, r := range providertest.Rules() {
		t.Run(r.Name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				providertest.RunRule(t, r, harness(fake.MustNew(), time.Now, time.Sleep, defaultLimits, defaultFactorLimits))
			})
		})
	}
}

const to = "+14155552671"

func sms(to string) provider.StartRequest {
	return provider.StartRequest{To: to, Channel: provider.ChannelSMS}
}

func TestDeterministicCodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	codes := func(opts ...fake.Option) []string {
		f := fake.MustNew(opts...)
		var out []string
		for i := range 3 {
			target := fmt.Sprintf("+1415555%04d", i)
			if _, err := f.Start(ctx, sms(target)); err != nil {
				t.Fatal(err)
			}
			c, _ := f.LastCode(target)
			out = append(out, c)
		}
		return out
	}
	a, b := codes(), codes()
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two default fakes gave different codes (-first +second):\n%s", diff)
	}
	// The documented default: the first code of a default fake.
	if a[0] != fake.FirstDefaultCode {
		t.Errorf("first default code = %q, want FirstDefaultCode %q", a[0], fake.FirstDefaultCode)
	}
	if a[0] == a[1] && a[1] == a[2] {
		t.Errorf("default codes do not vary: %q", a)
	}
	if c := codes(fake.WithSeed(42)); cmp.Equal(c, a) {
		t.Errorf("WithSeed(42) gave the default sequence %q", c)
	}
	if c := codes(fake.WithFixedCode("424242")); !cmp.Equal(c, []string{"424242", "424242", "424242"}) {
		t.Errorf("WithFixedCode codes = %q", c)
	}
	for _, c := range codes(fake.WithCodeLength(8), fake.WithRandomCodes()) {
		if len(c) != 8 || strings.Trim(c, "0123456789") != "" {
			t.Errorf("WithCodeLength(8), WithRandomCodes: code %q is not 8 digits", c)
		}
	}
	for _, c := range codes(fake.WithCodeLength(4)) {
		if len(c) != 4 {
			t.Errorf("WithCodeLength(4): code %q", c)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	bad := map[string]fake.Option{
		"nil option":         nil,
		"nil clock":          fake.WithClock(nil),
		"zero validity":      fake.WithValidity(0),
		"zero sends":         fake.WithMaxSends(0),
		"zero checks":        fake.WithMaxChecks(0),
		"code length 3":      fake.WithCodeLength(3),
		"code length 11":     fake.WithCodeLength(11),
		"short fixed code":   fake.WithFixedCode("123"),
		"fixed code symbols": fake.WithFixedCode("12-34"),
		"empty name":         fake.WithFriendlyName(""),
		"long name":          fake.WithFriendlyName(strings.Repeat("x", 31)),
		"zero outbox":        fake.WithOutboxLimit(0),
		"nil on-send":        fake.WithOnSend(nil),
	}
	for name, opt := range bad {
		if _, err := fake.New(opt); err == nil {
			t.Errorf("New(%s): no error", name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustNew with a bad option did not panic")
		}
	}()
	fake.MustNew(fake.WithMaxSends(-1))
}

func TestOutbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := fake.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	var hooked []fake.Message
	var mu sync.Mutex
	f := fake.MustNew(fake.WithClock(clock.Now), fake.WithFixedCode("1234"), fake.WithFriendlyName("Acme"),
		fake.WithOutboxLimit(2), fake.WithOnSend(func(_ context.Context, m fake.Message) { mu.Lock(); hooked = append(hooked, m); mu.Unlock() }))
	if _, ok := f.LastCode(to); ok {
		t.Fatal("LastCode before any send: ok")
	}
	v, err := f.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS, Locale: "pt-BR"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := f.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelCall, FriendlyName: "Other"}); err != nil {
		t.Fatal(err)
	}
	want := []fake.Message{
		{To: to, Channel: provider.ChannelSMS, Code: "1234", Body: "Your Acme verification code is: 1234",
			VerificationID: v.ID, FriendlyName: "Acme", Locale: "pt-BR", SentAt: clock.Now().Add(-time.Minute)},
		{To: to, Channel: provider.ChannelCall, Code: "1234", Body: "Your Other verification code is: 1234",
			VerificationID: v.ID, FriendlyName: "Other", SentAt: clock.Now()},
	}
	if diff := cmp.Diff(want, f.Messages()); diff != "" {
		t.Errorf("Messages() (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, hooked); diff != "" {
		t.Errorf("WithOnSend saw (-want +got):\n%s", diff)
	}
	// The limit drops the oldest message first.
	if _, err := f.Start(ctx, sms("+14155550100")); err != nil {
		t.Fatal(err)
	}
	msgs := f.Messages()
	if len(msgs) != 2 || msgs[0].Channel != provider.ChannelCall || msgs[1].To != "+14155550100" {
		t.Errorf("after a third send with limit 2, Messages() = %v", msgs)
	}
	if m, ok := f.LastMessage(to); !ok || m.Channel != provider.ChannelCall {
		t.Errorf("LastMessage(%s) = %v, %v", to, m, ok)
	}
}

func TestResendAndChannels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := fake.MustNew()
	v1, err := f.Start(ctx, sms(to))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := f.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelCall})
	if err != nil {
		t.Fatal(err)
	}
	if v2.ID != v1.ID || v2.Channel != provider.ChannelCall || len(v2.SendAttempts) != 2 ||
		v2.SendAttempts[0].Channel != provider.ChannelSMS || v2.SendAttempts[1].Channel != provider.ChannelCall {
		t.Errorf("resend over call = %+v", v2)
	}
	if v2.SendAttempts[0].ID == v2.SendAttempts[1].ID || len(v2.SendAttempts[0].ID) != 32 {
		t.Errorf("send attempt IDs %q, %q", v2.SendAttempts[0].ID, v2.SendAttempts[1].ID)
	}
	if len(v1.ID) != 32 || strings.Trim(v1.ID, "0123456789abcdef") != "" {
		t.Errorf("ID %q is not 32 hex digits", v1.ID)
	}
	if !v1.ExpiresAt.Equal(v1.CreatedAt.Add(10 * time.Minute)) {
		t.Errorf("ExpiresAt = %v, want CreatedAt + 10m", v1.ExpiresAt)
	}
	// Auto resolves to sms for a phone number and email for an address.
	v3, err := f.Start(ctx, provider.StartRequest{To: "+14155550100", Channel: provider.ChannelAuto})
	if err != nil || v3.Channel != provider.ChannelSMS {
		t.Errorf("auto to a phone: %v, %v", v3, err)
	}
	v4, err := f.Start(ctx, provider.StartRequest{To: "bob@example.com", Channel: provider.ChannelAuto})
	if err != nil || v4.Channel != provider.ChannelEmail {
		t.Errorf("auto to an address: %v, %v", v4, err)
	}
}

func TestCustomCodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	req := provider.StartRequest{To: to, Channel: provider.ChannelSMS, CustomCode: "A1B2C3"}
	_, err := fake.MustNew().Start(ctx, req)
	if !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("custom code by default: %v, want ErrUnsupported", err)
	}
	var fe *fake.Error
	if !errors.As(err, &fe) || fe.Reason != fake.ReasonCustomCodesDisabled {
		t.Errorf("custom code by default: %#v, want reason %s", err, fake.ReasonCustomCodesDisabled)
	}
	f := fake.MustNew(fake.WithCustomCodes(true))
	if _, err := f.Start(ctx, req); err != nil {
		t.Fatal(err)
	}
	if c, _ := f.LastCode(to); c != "A1B2C3" {
		t.Errorf("LastCode = %q, want the custom code", c)
	}
	got, err := f.Check(ctx, provider.CheckRequest{To: to, Code: "A1B2C3"})
	if err != nil || !got.Approved() {
		t.Errorf("Check(custom code) = %v, %v", got, err)
	}
	req.CustomCode = "12"
	if _, err := f.Start(ctx, req); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("short custom code: %v", err)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := fake.MustNew()
	for _, req := range []provider.StartRequest{
		{To: "+0123456789", Channel: provider.ChannelSMS},
		{To: "+1234567", Channel: provider.ChannelSMS},
		{To: "+12345678901234567", Channel: provider.ChannelSMS},
		{To: "no-at-sign", Channel: provider.ChannelEmail},
		{To: "a@b", Channel: provider.ChannelEmail},
		{To: "a b@example.com", Channel: provider.ChannelEmail},
		{To: "nonsense", Channel: provider.ChannelAuto},
		{To: to, Channel: provider.ChannelSMS, FriendlyName: strings.Repeat("n", 31)},
	} {
		if _, err := f.Start(ctx, req); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("Start(%v): %v, want ErrInvalidRequest", req, err)
		}
	}
	_, err := f.Check(ctx, provider.CheckRequest{Code: "123456"})
	var fe *fake.Error
	if !errors.Is(err, provider.ErrInvalidRequest) || !errors.As(err, &fe) || fe.Reason != fake.ReasonMissingTarget {
		t.Errorf("Check with neither ID nor To: %v, want ErrInvalidRequest, ReasonMissingTarget", err)
	}
	for _, op := range []func(context.Context, string) (provider.Verification, error){f.Fetch, f.Cancel, f.Approve} {
		if _, err := op(ctx, ""); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("by-ID operation with an empty ID: %v", err)
		}
	}
}

func TestCheckIDAndToMustAgree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := fake.MustNew()
	v, _ := f.Start(ctx, sms(to))
	code, _ := f.LastCode(to)
	_, err := f.Check(ctx, provider.CheckRequest{ID: v.ID, To: "+14155550100", Code: code})
	if !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("Check with mismatched ID and To: %v, want ErrNotFound", err)
	}
	got, err := f.Check(ctx, provider.CheckRequest{ID: v.ID, To: to, Code: code})
	if err != nil || !got.Approved() {
		t.Errorf("Check with matching ID and To: %v, %v", got, err)
	}
}

func TestApprove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := fake.MustNew()
	v, _ := f.Start(ctx, sms(to))
	got, err := f.Approve(ctx, v.ID)
	if err != nil || !got.Approved() {
		t.Fatalf("Approve = %v, %v", got, err)
	}
	if _, err := f.Fetch(ctx, v.ID); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("Fetch after Approve: %v", err)
	}
}

func TestMagicNumbers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name      string
		req       provider.StartRequest
		startErr  error
		reason    fake.Reason
		checkErr  error // of a right-code check after a successful start
		approved  bool  // whether that check took effect
		retryWait time.Duration
	}{
		{name: "landline sms", req: sms(fake.NumberLandline), startErr: provider.ErrUndeliverable, reason: fake.ReasonLandline},
		{name: "landline whatsapp", req: provider.StartRequest{To: fake.NumberLandline, Channel: provider.ChannelWhatsApp}, startErr: provider.ErrUndeliverable, reason: fake.ReasonLandline},
		{name: "landline call", req: provider.StartRequest{To: fake.NumberLandline, Channel: provider.ChannelCall}, approved: true},
		{name: "blocked", req: provider.StartRequest{To: fake.NumberBlocked, Channel: provider.ChannelCall}, startErr: provider.ErrUndeliverable, reason: fake.ReasonBlocked},
		{name: "rate limited", req: sms(fake.NumberRateLimited), startErr: provider.ErrRateLimited, reason: fake.ReasonThrottled, retryWait: fake.RateLimitedWait},
		{name: "unavailable", req: sms(fake.NumberUnavailable), startErr: provider.ErrUnavailable},
		{name: "bouncing email", req: provider.StartRequest{To: fake.EmailUndeliverable, Channel: provider.ChannelEmail}, startErr: provider.ErrUndeliverable, reason: fake.ReasonBounced},
		{name: "check outcome unknown", req: sms(fake.NumberCheckOutcomeUnknown), checkErr: provider.ErrOutcomeUnknown, approved: true},
		{name: "start outcome unknown", req: sms(fake.NumberStartOutcomeUnknown), startErr: provider.ErrOutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.MustNew()
			_, err := f.Start(ctx, tt.req)
			if !errors.Is(err, tt.startErr) || (tt.startErr == nil) != (err == nil) {
				t.Fatalf("Start: %v, want %v", err, tt.startErr)
			}
			var fe *fake.Error
			if err != nil && (!errors.As(err, &fe) || fe.Reason != tt.reason) {
				t.Errorf("Start: %#v, want reason %q", err, tt.reason)
			}
			if d, _ := provider.RetryAfter(err); d != tt.retryWait {
				t.Errorf("RetryAfter = %v, want %v", d, tt.retryWait)
			}
			code, sent := f.LastCode(tt.req.To)
			if err != nil {
				if sent != (tt.startErr == provider.ErrOutcomeUnknown) {
					t.Errorf("failed Start delivered a code: %v", sent)
				}
				return
			}
			_, err = f.Check(ctx, provider.CheckRequest{To: tt.req.To, Code: code})
			if !errors.Is(err, tt.checkErr) || (tt.checkErr == nil) != (err == nil) {
				t.Errorf("Check: %v, want %v", err, tt.checkErr)
			}
			_, err = f.Check(ctx, provider.CheckRequest{To: tt.req.To, Code: code})
			if gone := errors.Is(err, provider.ErrNotFound); gone != tt.approved {
				t.Errorf("second Check: %v; want approved (gone) = %v", err, tt.approved)
			}
		})
	}
	t.Run("unavailable check", func(t *testing.T) {
		f := fake.MustNew()
		_, err := f.Check(ctx, provider.CheckRequest{To: fake.NumberUnavailable, Code: "123456"})
		if !errors.Is(err, provider.ErrUnavailable) {
			t.Errorf("Check: %v, want ErrUnavailable", err)
		}
	})
}

func TestInjectFault(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := fake.MustNew(fake.WithFixedCode("1234"))
	other := "+14155550100"

	// FailNext fails the next n calls of any kind, before they take effect.
	f.FailNext(2, provider.ErrUnavailable)
	if _, err := f.Start(ctx, sms(to)); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("first Start: %v", err)
	}
	if _, err := f.Check(ctx, provider.CheckRequest{To: to, Code: "1234"}); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("Check: %v", err)
	}
	if _, ok := f.LastCode(to); ok {
		t.Error("a failed Start delivered a code")
	}
	f.FailNext(0, provider.ErrUnavailable) // no-op
	v, err := f.Start(ctx, sms(to))
	if err != nil {
		t.Fatalf("third call: %v", err)
	}

	// A fault for one target and one operation leaves the others alone.
	f.InjectFault(fake.Fault{Op: fake.OpCheck, To: to, Times: -1, Err: &fake.Error{Kind: provider.ErrRateLimited, Reason: fake.ReasonThrottled, Wait: 5 * time.Second}})
	if _, err := f.Start(ctx, sms(other)); err != nil {
		t.Errorf("Start to another target: %v", err)
	}
	for range 3 {
		_, err := f.Check(ctx, provider.CheckRequest{To: to, Code: "1234"})
		var fe *fake.Error
		if !errors.Is(err, provider.ErrRateLimited) || !errors.As(err, &fe) || fe.Reason != fake.ReasonThrottled || fe.Op != fake.OpCheck {
			t.Errorf("Check with a permanent fault: %#v", err)
		}
		if d, ok := provider.RetryAfter(err); !ok || d != 5*time.Second {
			t.Errorf("RetryAfter = %v, %v", d, ok)
		}
	}
	if _, err := f.Fetch(ctx, v.ID); err != nil {
		t.Errorf("Fetch with a check-only fault: %v", err)
	}
	f.ClearFaults()

	// A processed fault takes effect, then fails: the check approved.
	f.InjectFault(fake.Fault{Op: fake.OpCheck, Err: provider.ErrOutcomeUnknown, Processed: true})
	if _, err := f.Check(ctx, provider.CheckRequest{To: to, Code: "1234"}); !errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Errorf("processed fault: %v", err)
	}
	if _, err := f.Fetch(ctx, v.ID); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("after a processed right-code check, Fetch: %v, want ErrNotFound", err)
	}

	// Faults on by-ID operations match the verification's target.
	v2, _ := f.Start(ctx, sms(other))
	f.InjectFault(fake.Fault{Op: fake.OpCancel, To: other, Err: provider.ErrOutcomeUnknown, Processed: true})
	f.InjectFault(fake.Fault{Op: fake.OpFetch, To: other})
	if _, err := f.Fetch(ctx, v2.ID); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("Fetch with a default-error fault: %v, want ErrUnavailable", err)
	}
	if _, err := f.Cancel(ctx, v2.ID); !errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Errorf("Cancel: %v", err)
	}
	if _, err := f.Fetch(ctx, v2.ID); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("after a processed Cancel, Fetch: %v, want ErrNotFound", err)
	}
}

func TestEvictionBoundsMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := fake.MustNew(fake.WithClock(clock.Now), fake.WithFixedCode("1234"), fake.WithOutboxLimit(10))
	peak := 0
	for i := range 5000 {
		target := fmt.Sprintf("+1415%07d", i)
		if _, err := f.Start(ctx, sms(target)); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 { // a third are approved at once
			if _, err := f.Check(ctx, provider.CheckRequest{To: target, Code: "1234"}); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(time.Second) // so about 600 are within the window
		peak = max(peak, f.Pending())
	}
	// About 400 are live at once (two thirds of 600); expired ones are
	// swept so that no more than half as many again are held.
	if peak > 650 {
		t.Errorf("peak of %d verifications held; want eviction to keep it near 400", peak)
	}
	clock.Advance(time.Hour)
	for i := range 1000 {
		f.Start(ctx, sms(fmt.Sprintf("+1416%07d", i)))
		f.Check(ctx, provider.CheckRequest{To: fmt.Sprintf("+1416%07d", i), Code: "1234"})
	}
	if n := f.Pending(); n > 64 {
		t.Errorf("after everything expired or was approved, %d verifications held", n)
	}
}

func TestRedaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := fake.MustNew(fake.WithFixedCode("987654"), fake.WithCustomCodes(true))
	f.Start(ctx, sms(to))
	m, _ := f.LastMessage(to)
	values := []any{
		m,
		provider.CheckRequest{To: to, Code: "987654"},
		provider.StartRequest{To: to, Channel: provider.ChannelSMS, CustomCode: "987654"},
	}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			s := fmt.Sprintf(verb, v)
			if strings.Contains(s, "987654") || strings.Contains(s, to) {
				t.Errorf("Sprintf(%q, %T) = %q reveals the code or the number", verb, v, s)
			}
		}
	}
	// Errors name no code and no full number.
	f.InjectFault(fake.Fault{Err: provider.ErrUnavailable})
	_, err := f.Check(ctx, provider.CheckRequest{To: to, Code: "987654"})
	if s := err.Error(); strings.Contains(s, "987654") || strings.Contains(s, to) {
		t.Errorf("error %q reveals a secret", s)
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *fake.Error
		want string
	}{
		{&fake.Error{Op: fake.OpStart, Kind: provider.ErrTooManySends, Reason: fake.ReasonChecksSpent}, "fake: start: too many send attempts (checks_spent)"},
		{&fake.Error{Op: fake.OpCheck, Kind: provider.ErrNotFound}, "fake: check: verification not found"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestClockSet(t *testing.T) {
	t.Parallel()
	c := fake.NewClock(time.Unix(0, 0))
	want := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Set(want)
	if !c.Now().Equal(want) {
		t.Errorf("after Set, Now() = %v", c.Now())
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	var p provider.Provider = fake.MustNew()
	if n, ok := p.(provider.Namer); !ok || n.Name() != "fake" {
		t.Errorf("Name() = %v", p)
	}
}

func TestAfterTooManyChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := fake.MustNew(fake.WithFixedCode("123456"), fake.WithMaxChecks(2))
	v, err := f.Start(ctx, sms(to))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := f.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "000000"}); err != nil {
			t.Fatal(err)
		}
	}
	n := len(f.Messages())
	_, err = f.Start(ctx, sms(to))
	var fe *fake.Error
	if !errors.Is(err, provider.ErrTooManySends) || !errors.As(err, &fe) || fe.Reason != fake.ReasonChecksSpent || len(f.Messages()) != n {
		t.Errorf("Start after the check limit: %v, %d messages sent, want ErrTooManySends (checks_spent) and none", err, len(f.Messages())-n)
	}
	for name, op := range map[string]func(context.Context, string) (provider.Verification, error){"Fetch": f.Fetch, "Cancel": f.Cancel, "Approve": f.Approve} {
		if _, err := op(ctx, v.ID); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("%s after the check limit: %v, want ErrNotFound", name, err)
		}
	}
	if _, err := f.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "123456"}); !errors.Is(err, provider.ErrTooManyChecks) {
		t.Errorf("Check after the check limit: %v, want ErrTooManyChecks", err)
	}
}

// hookKey marks the caller's context, for TestHooksGetCallerContext.
type hookKey struct{}

// TestHooksGetCallerContext checks that WithOnSend and WithOnFactor
// receive the context of the call they report, fault or not.
func TestHooksGetCallerContext(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	note := func(what string, ctx context.Context) {
		mu.Lock()
		defer mu.Unlock()
		v, _ := ctx.Value(hookKey{}).(string)
		seen = append(seen, what+":"+v)
	}
	f := fake.MustNew(
		fake.WithOnSend(func(ctx context.Context, _ fake.Message) { note("send", ctx) }),
		fake.WithOnFactor(func(ctx context.Context, e fake.FactorEvent) { note(string(e.Op), ctx) }))
	ctx := context.WithValue(context.Background(), hookKey{}, "caller")
	if _, err := f.Start(ctx, sms(to)); err != nil {
		t.Fatal(err)
	}
	const id = "user-00000001"
	if _, err := f.EnrollFactor(ctx, provider.EnrollRequest{Identity: id, Type: provider.FactorTOTP, FriendlyName: "phone"}); err != nil {
		t.Fatal(err)
	}
	f.InjectFault(fake.Fault{Op: fake.OpListFactors, To: id, Err: provider.ErrUnavailable})
	if _, err := f.ListFactors(ctx, id); !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("injected fault: %v", err)
	}
	want := []string{"send:caller", string(fake.OpEnrollFactor) + ":caller", string(fake.OpListFactors) + ":caller"}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("hooks saw (-want +got):\n%s", diff)
	}
}

// TestLastCodeReadsTargetsLikeTheClient checks that LastCode finds a code
// by any spelling of the target verify.Client accepts: the E.164 form, an
// international form with spaces or punctuation, a national form (read in
// the region of the number it was sent to), and an e-mail address with
// the domain in another case.
func TestLastCodeReadsTargetsLikeTheClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := fake.MustNew()
	for _, to := range []string{"+14155552671", "+442079460000", "ann@example.com"} {
		ch := provider.ChannelSMS
		if strings.Contains(to, "@") {
			ch = provider.ChannelEmail
		}
		if _, err := f.Start(ctx, provider.StartRequest{To: to, Channel: ch}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ typed, sentTo string }{
		{"+14155552671", "+14155552671"},
		{" +1 (415) 555-2671 ", "+14155552671"},
		{"(415) 555-2671", "+14155552671"},
		{"415-555-2671", "+14155552671"},
		{"+44 20 7946 0000", "+442079460000"},
		{"020 7946 0000", "+442079460000"},
		{"ann@EXAMPLE.com", "ann@example.com"},
	} {
		want, _ := f.LastCode(tc.sentTo)
		got, ok := f.LastCode(tc.typed)
		if !ok || got != want {
			t.Errorf("LastCode(%q) = %q, %v; want %q (the code sent to %s)", tc.typed, got, ok, want, tc.sentTo)
		}
		if m, ok := f.LastMessage(tc.typed); !ok || m.To != tc.sentTo {
			t.Errorf("LastMessage(%q) = %v, %v; want the message to %s", tc.typed, m, ok, tc.sentTo)
		}
	}
	for _, typed := range []string{"(415) 555-0000", "+1 415 555 0000", "bob@example.com", "", "020 7946 0001"} {
		if code, ok := f.LastCode(typed); ok {
			t.Errorf("LastCode(%q) = %q, true; nothing was sent there", typed, code)
		}
	}
}
