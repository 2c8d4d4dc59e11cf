package verify_test

import (
	"context"
	"errors"
	"fmt"
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

// recorder is a provider that records the requests it receives and answers
// with fixed results.
type recorder struct {
	idOnly bool // report no CheckByTo capability
	mu     sync.Mutex
	starts []provider.StartRequest
	checks []provider.CheckRequest
	v      provider.Verification
	err    error
}

func (r *recorder) Capabilities() provider.Capabilities {
	return provider.Capabilities{CheckByTo: !r.idOnly, ResendOnStart: true}
}

func (r *recorder) Start(_ context.Context, req provider.StartRequest) (provider.Verification, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.starts = append(r.starts, req)
	return r.v, r.err
}

func (r *recorder) Check(_ context.Context, req provider.CheckRequest) (provider.Verification, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks = append(r.checks, req)
	return r.v, r.err
}

func newClient(t *testing.T, p provider.Provider, opts ...verify.Option) *verify.Client {
	t.Helper()
	c, err := verify.New(p, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStartNormalises(t *testing.T) {
	t.Parallel()
	tests := []struct {
		to     string
		ch     verify.Channel
		region string
		want   string
	}{
		{"+14155552671", verify.ChannelSMS, "", "+14155552671"},
		{" +1 (415) 555-2671 ", verify.ChannelSMS, "", "+14155552671"},
		{"(415) 555-2671", verify.ChannelCall, "US", "+14155552671"},
		{"415.555.2671", verify.ChannelWhatsApp, "us", "+14155552671"},
		{"020 7183 8750", verify.ChannelCall, "GB", "+442071838750"},
		{"+44 20 7183 8750", verify.ChannelSMS, "US", "+442071838750"},
		{"00 44 20 7183 8750", verify.ChannelSMS, "FR", "+442071838750"},
		{"Alice@Example.COM", verify.ChannelEmail, "", "Alice@example.com"},
		{"bob.smith+tag@mail.example.co.uk", verify.ChannelEmail, "", "bob.smith+tag@mail.example.co.uk"},
		{"bob@example.com", verify.ChannelAuto, "", "bob@example.com"},
		{"+14155552671", verify.ChannelAuto, "", "+14155552671"},
		{"+14155552671", verify.ChannelSNA, "", "+14155552671"},
	}
	for _, tt := range tests {
		t.Run(tt.to, func(t *testing.T) {
			rec := &recorder{v: provider.Verification{ID: "VE1", Status: provider.StatusPending}}
			var opts []verify.Option
			if tt.region != "" {
				opts = append(opts, verify.WithDefaultRegion(tt.region))
			}
			c := newClient(t, rec, opts...)
			if _, err := c.Start(context.Background(), tt.to, tt.ch, &verify.StartOptions{Locale: "fr", Reference: "r1"}); err != nil {
				t.Fatalf("Start: %v", err)
			}
			want := []provider.StartRequest{{To: tt.want, Channel: tt.ch, Locale: "fr", Reference: "r1"}}
			if diff := cmp.Diff(want, rec.starts); diff != "" {
				t.Errorf("provider saw (-want +got):\n%s", diff)
			}
			if got, err := c.Normalize(tt.to); err != nil || got != tt.want {
				t.Errorf("Normalize(%q) = %q, %v, want %q", tt.to, got, err, tt.want)
			}
		})
	}
}

func TestStartRefusesBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		to   string
		ch   verify.Channel
		opts []verify.Option
	}{
		{"empty", "", verify.ChannelSMS, nil},
		{"blank", "   ", verify.ChannelSMS, nil},
		{"national without region", "(415) 555-2671", verify.ChannelSMS, nil},
		{"too short", "+1 415 555", verify.ChannelSMS, nil},
		{"invalid number", "+15555550100", verify.ChannelSMS, nil},
		{"letters", "call me maybe", verify.ChannelSMS, []verify.Option{verify.WithDefaultRegion("US")}},
		{"too long", "+1" + strings.Repeat("5", 300), verify.ChannelSMS, nil},
		{"not UTF-8", "+1415\xff5552671", verify.ChannelSMS, nil},
		{"control character", "+1415555\n2671", verify.ChannelSMS, nil},
		{"form injection", "+14155552671&Channel=call", verify.ChannelSMS, nil},
		{"unknown channel", "+14155552671", "pigeon", nil},
		{"empty channel", "+14155552671", "", nil},
		{"email to sms", "alice@example.com", verify.ChannelSMS, nil},
		{"phone to email", "+14155552671", verify.ChannelEmail, nil},
		{"display name", "Alice <alice@example.com>", verify.ChannelEmail, nil},
		{"no domain dot", "alice@localhost", verify.ChannelEmail, nil},
		{"numeric TLD", "alice@example.123", verify.ChannelEmail, nil},
		{"bad domain label", "alice@-example.com", verify.ChannelEmail, nil},
		{"two ats", "a@b@example.com", verify.ChannelEmail, nil},
		{"long local part", strings.Repeat("a", 65) + "@example.com", verify.ChannelEmail, nil},
		// Issue 10: a byte that is not UTF-8 was accepted in an address.
		{"email not UTF-8", "a\xff@example.com", verify.ChannelEmail, nil},
		{"email not UTF-8 auto", "a\xff@example.com", verify.ChannelAuto, nil},
		{"quoted local part", "\"a b\"@example.com", verify.ChannelEmail, nil},
		{"leading dot", ".a@example.com", verify.ChannelEmail, nil},
		{"double dot", "a..b@example.com", verify.ChannelEmail, nil},
		{"domain literal", "a@[192.0.2.1]", verify.ChannelEmail, nil},
		{"replacement character", "a\ufffd@example.com", verify.ChannelEmail, nil},
		{"landline sms", "+442071838750", verify.ChannelSMS, []verify.Option{verify.WithRefuseLandlines()}},
		{"landline whatsapp", "+442071838750", verify.ChannelWhatsApp, []verify.Option{verify.WithRefuseLandlines()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			c := newClient(t, rec, tt.opts...)
			_, err := c.Start(context.Background(), tt.to, tt.ch, nil)
			if !errors.Is(err, verify.ErrInvalidRequest) {
				t.Fatalf("Start(%q, %q) = %v, want ErrInvalidRequest", tt.to, tt.ch, err)
			}
			var ve *verify.Error
			if !errors.As(err, &ve) || ve.Op != "start" {
				t.Errorf("error %#v is not a *verify.Error for op start", err)
			}
			if len(rec.starts) != 0 {
				t.Errorf("the provider was called: %v", rec.starts)
			}
			if len(tt.to) > 6 && strings.Contains(err.Error(), tt.to) {
				t.Errorf("error %q contains the unmasked target", err)
			}
		})
	}
}

func TestLandlinePolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClient(t, fake.MustNew(), verify.WithRefuseLandlines())
	_, err := c.Start(ctx, "+442071838750", verify.ChannelSMS, nil)
	if !errors.Is(err, verify.ErrUndeliverable) || !errors.Is(err, verify.ErrInvalidRequest) || verify.CodeOf(err) != verify.CodeUndeliverable {
		t.Errorf("sms to a landline: %v (code %s), want ErrUndeliverable and ErrInvalidRequest", err, verify.CodeOf(err))
	}
	if _, err := c.Start(ctx, "+442071838750", verify.ChannelCall, nil); err != nil {
		t.Errorf("call to a landline: %v", err)
	}
	if _, err := c.Start(ctx, "+447400123456", verify.ChannelSMS, nil); err != nil {
		t.Errorf("sms to a mobile: %v", err)
	}
	// Without the policy the landline reaches the provider.
	rec := &recorder{}
	if _, err := newClient(t, rec).Start(ctx, "+442071838750", verify.ChannelSMS, nil); err != nil || len(rec.starts) != 1 {
		t.Errorf("without the policy: %v, %d provider calls", err, len(rec.starts))
	}
}

// TestLandlinePolicyAfterNormalize checks that a number the client has
// already normalised without its type (Normalize, Check) is still
// classified when a landline policy needs the type: the normalisation
// cache must not answer with a type it never computed.
func TestLandlinePolicyAfterNormalize(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := &recorder{}
	c := newClient(t, rec, verify.WithRefuseLandlines())
	for _, in := range []string{"+442071838750", "+44 20 7183 8750"} {
		if _, err := c.Normalize(in); err != nil {
			t.Fatalf("Normalize(%q): %v", in, err)
		}
		if _, err := c.Start(ctx, in, verify.ChannelSMS, nil); !errors.Is(err, verify.ErrUndeliverable) {
			t.Errorf("sms to landline %q after Normalize: %v, want ErrUndeliverable", in, err)
		}
	}
	if len(rec.starts) != 0 {
		t.Errorf("the provider saw %d starts; want 0", len(rec.starts))
	}
}

func TestCheckCleansCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		want string // "" means refused
	}{
		{"123456", "123456"},
		{" 123 456 ", "123456"},
		{"123-456", "123456"},
		{"12\u2013 34\t56", "123456"},
		{"AbC123", "AbC123"},
		{"1234", "1234"},
		{"1234567890", "1234567890"},
		{"", ""},
		{"   ", ""},
		{"123", ""},
		{"12345678901", ""},
		{"12345٦", ""},
		{"1234&To=x", ""},
		{"1234\n", "1234"},
		{"1234\x00", ""},
		{strings.Repeat("1", 1000), ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.code), func(t *testing.T) {
			rec := &recorder{v: provider.Verification{Status: provider.StatusPending}}
			c := newClient(t, rec, verify.WithCodeLength(4, 10))
			_, err := c.Check(context.Background(), "+14155552671", tt.code, nil)
			if tt.want == "" {
				if !errors.Is(err, verify.ErrInvalidRequest) || len(rec.checks) != 0 {
					t.Errorf("Check(code %q) = %v with %d provider calls, want ErrInvalidRequest and none", tt.code, err, len(rec.checks))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := []provider.CheckRequest{{To: "+14155552671", Code: tt.want}}
			if diff := cmp.Diff(want, rec.checks); diff != "" {
				t.Errorf("provider saw (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCodeLengthOption(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	c := newClient(t, rec, verify.WithCodeLength(6, 6))
	for _, code := range []string{"12345", "1234567"} {
		if _, err := c.Check(context.Background(), "+14155552671", code, nil); !errors.Is(err, verify.ErrInvalidRequest) {
			t.Errorf("Check(%q) with length 6..6: %v", code, err)
		}
	}
	if _, err := c.Check(context.Background(), "+14155552671", "123456", nil); err != nil {
		t.Errorf("Check(6 digits): %v", err)
	}
}

func TestCheckIDAndExtensions(t *testing.T) {
	t.Parallel()
	rec := &recorder{v: provider.Verification{ID: "VE1", Status: provider.StatusApproved}}
	c := newClient(t, rec)
	ext := testExtension("x")
	v, err := c.CheckID(context.Background(), "VE1", "1234", &verify.CheckOptions{Extensions: []verify.Extension{ext}})
	if err != nil || !v.Approved() {
		t.Fatalf("CheckID = %v, %v", v, err)
	}
	want := []provider.CheckRequest{{ID: "VE1", Code: "1234", Extensions: []provider.Extension{ext}}}
	if diff := cmp.Diff(want, rec.checks); diff != "" {
		t.Errorf("provider saw (-want +got):\n%s", diff)
	}
	for _, id := range []string{"", "VE1/../x", "VE 1", "VE1?x", strings.Repeat("V", 65), "VE\x01"} {
		if _, err := c.CheckID(context.Background(), id, "1234", nil); !errors.Is(err, verify.ErrInvalidRequest) {
			t.Errorf("CheckID(%q): %v, want ErrInvalidRequest", id, err)
		}
		if _, err := c.Fetch(context.Background(), id); !errors.Is(err, verify.ErrInvalidRequest) {
			t.Errorf("Fetch(%q): %v, want ErrInvalidRequest", id, err)
		}
	}
	if len(rec.checks) != 1 {
		t.Errorf("bad IDs reached the provider: %v", rec.checks)
	}
}

type testExtension string

func (testExtension) ExtensionFor() string { return "test" }

func TestFlowWithFake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := fake.MustNew()
	c := newClient(t, f, verify.WithDefaultRegion("US"))
	v, err := c.Start(ctx, "(415) 555-2671", verify.ChannelSMS, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := f.LastCode("+14155552671")
	got, err := c.Check(ctx, "415-555-2671", "000000", nil)
	if err != nil || got.Status != verify.StatusPending || got.ID != v.ID {
		t.Fatalf("wrong code: %v, %v", got, err)
	}
	fetched, err := c.Fetch(ctx, v.ID)
	if err != nil || fetched.Status != verify.StatusPending {
		t.Fatalf("Fetch: %v, %v", fetched, err)
	}
	got, err = c.Check(ctx, "+1 415 555 2671", code, nil)
	if err != nil || !got.Approved() {
		t.Fatalf("right code: %v, %v", got, err)
	}
	if _, err := c.Cancel(ctx, v.ID); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("Cancel after approval: %v", err)
	}

	v2, _ := c.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
	canceled, err := c.Cancel(ctx, v2.ID)
	if err != nil || canceled.Status != verify.StatusCanceled {
		t.Fatalf("Cancel: %v, %v", canceled, err)
	}
}

// TestErrorsThroughClient walks every sentinel through the client and
// checks the wrapping: errors.Is, errors.As to both error types, CodeOf and
// a message with the masked target.
func TestErrorsThroughClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sentinels := []struct {
		err  error
		code verify.Code
	}{
		{verify.ErrInvalidRequest, verify.CodeInvalidRequest},
		{verify.ErrNotFound, verify.CodeNotFound},
		{verify.ErrTooManyChecks, verify.CodeTooManyChecks},
		{verify.ErrTooManySends, verify.CodeTooManySends},
		{verify.ErrRateLimited, verify.CodeRateLimited},
		{verify.ErrUndeliverable, verify.CodeUndeliverable},
		{verify.ErrUnauthorized, verify.CodeUnauthorized},
		{verify.ErrUnsupported, verify.CodeUnsupported},
		{verify.ErrUnavailable, verify.CodeUnavailable},
		{verify.ErrOutcomeUnknown, verify.CodeOutcomeUnknown},
	}
	for _, s := range sentinels {
		t.Run(string(s.code), func(t *testing.T) {
			f := fake.MustNew()
			c := newClient(t, f)
			f.InjectFault(fake.Fault{Op: fake.OpStart, Err: s.err})
			_, err := c.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
			if !errors.Is(err, s.err) {
				t.Errorf("errors.Is(%v, %v) = false", err, s.err)
			}
			if got := verify.CodeOf(err); got != s.code {
				t.Errorf("CodeOf = %s, want %s", got, s.code)
			}
			var ve *verify.Error
			var fe *fake.Error
			if !errors.As(err, &ve) || !errors.As(err, &fe) {
				t.Fatalf("errors.As failed for %#v", err)
			}
			if ve.Op != "start" || ve.Provider != "fake" || ve.Target != "+14*******71" || fe.Op != fake.OpStart {
				t.Errorf("Error = %+v, fake error %+v", ve, fe)
			}
			want := "verify: start +14*******71: fake: start: " + s.err.Error() + ": injected fault"
			if err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestCodeOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want verify.Code
	}{
		{nil, verify.CodeOK},
		{errors.New("x"), verify.CodeUnknown},
		{context.Canceled, verify.CodeCanceled},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), verify.CodeDeadlineExceeded},
		{errors.Join(context.Canceled, verify.ErrOutcomeUnknown), verify.CodeOutcomeUnknown},
		{&verify.Error{Op: "check", Err: verify.ErrTooManyChecks}, verify.CodeTooManyChecks},
	}
	for _, tt := range tests {
		if got := verify.CodeOf(tt.err); got != tt.want {
			t.Errorf("CodeOf(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestContextDone(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := &recorder{}
	c := newClient(t, withCancelFetch{rec})
	calls := map[string]func() error{
		"start":   func() error { _, err := c.Start(ctx, "+14155552671", verify.ChannelSMS, nil); return err },
		"check":   func() error { _, err := c.Check(ctx, "+14155552671", "1234", nil); return err },
		"checkID": func() error { _, err := c.CheckID(ctx, "VE1", "1234", nil); return err },
		"cancel":  func() error { _, err := c.Cancel(ctx, "VE1"); return err },
		"fetch":   func() error { _, err := c.Fetch(ctx, "VE1"); return err },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, context.Canceled) || verify.CodeOf(err) != verify.CodeCanceled {
			t.Errorf("%s with a canceled context: %v", name, err)
		}
	}
	if len(rec.starts)+len(rec.checks) != 0 {
		t.Errorf("the provider was called with a canceled context")
	}
}

type withCancelFetch struct{ *recorder }

func (w withCancelFetch) Cancel(context.Context, string) (provider.Verification, error) {
	panic("Cancel called")
}

func (w withCancelFetch) Fetch(context.Context, string) (provider.Verification, error) {
	panic("Fetch called")
}

func TestUnsupportedCapabilities(t *testing.T) {
	t.Parallel()
	rec := &recorder{idOnly: true}
	c := newClient(t, rec)
	if _, err := c.Cancel(context.Background(), "VE1"); !errors.Is(err, verify.ErrUnsupported) {
		t.Errorf("Cancel on a provider without Canceler: %v", err)
	}
	if _, err := c.Fetch(context.Background(), "VE1"); !errors.Is(err, verify.ErrUnsupported) {
		t.Errorf("Fetch on a provider without Fetcher: %v", err)
	}
	if _, err := c.Approve(context.Background(), "VE1"); !errors.Is(err, verify.ErrUnsupported) || verify.CodeOf(err) != verify.CodeUnsupported {
		t.Errorf("Approve on a provider without Approver: %v", err)
	}
	if _, err := c.Check(context.Background(), "+14155552671", "123456", nil); !errors.Is(err, verify.ErrUnsupported) {
		t.Errorf("Check by To on a provider without CheckByTo: %v", err)
	}
	if len(rec.checks) != 0 {
		t.Errorf("the provider was called %d times", len(rec.checks))
	}
	// CheckID needs no capability.
	if _, err := c.CheckID(context.Background(), "VE1", "123456", nil); err != nil {
		t.Errorf("CheckID: %v", err)
	}
	if c.Capabilities().CheckByTo {
		t.Error("Capabilities().CheckByTo = true, want the provider's false")
	}
}

func TestUndeclaredCapabilitiesAreAbsent(t *testing.T) {
	t.Parallel()
	p := &struct{ provider.Provider }{&recorder{}} // hides the recorder's Capabilities
	c := newClient(t, p)
	if diff := cmp.Diff(provider.Capabilities{}, c.Capabilities()); diff != "" {
		t.Errorf("Capabilities of a provider that reports none (-want +got):\n%s", diff)
	}
	if _, err := c.Check(context.Background(), "+14155552671", "123456", nil); !errors.Is(err, verify.ErrUnsupported) {
		t.Errorf("Check by To: %v, want ErrUnsupported", err)
	}
	// With no channels declared, the known ones pass and others are refused.
	if _, err := c.Start(context.Background(), "+14155552671", verify.ChannelCall, nil); err != nil {
		t.Errorf("Start(call): %v", err)
	}
	if _, err := c.Start(context.Background(), "+14155552671", "rcs", nil); !errors.Is(err, verify.ErrInvalidRequest) {
		t.Errorf("Start(rcs): %v, want ErrInvalidRequest", err)
	}
}

// channels is a provider that declares its channels.
type channels struct {
	recorder
	chs []provider.Channel
}

func (c *channels) Capabilities() provider.Capabilities {
	return provider.Capabilities{CheckByTo: true, Channels: c.chs}
}

func TestDeclaredChannels(t *testing.T) {
	t.Parallel()
	p := &channels{chs: []provider.Channel{verify.ChannelSMS, "rcs", verify.ChannelEmail}}
	c := newClient(t, p)
	ctx := context.Background()
	for _, tt := range []struct {
		to   string
		ch   verify.Channel
		want error
	}{
		{"+14155552671", verify.ChannelSMS, nil},
		{"+14155552671", "rcs", nil},                                // unknown to this package, declared
		{"alice@example.com", "rcs", nil},                           // unknown channels take either target
		{"+14155552671", verify.ChannelCall, verify.ErrUnsupported}, // known, not declared
		{"+14155552671", "pigeon", verify.ErrInvalidRequest},        // neither
		{"+14155552671", verify.ChannelEmail, verify.ErrInvalidRequest},
	} {
		_, err := c.Start(ctx, tt.to, tt.ch, nil)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("Start(%s, %s) = %v, want %v", tt.to, tt.ch, err, tt.want)
		}
	}
	want := []provider.StartRequest{{To: "+14155552671", Channel: verify.ChannelSMS}, {To: "+14155552671", Channel: "rcs"}, {To: "alice@example.com", Channel: "rcs"}}
	if diff := cmp.Diff(want, p.starts); diff != "" {
		t.Errorf("provider saw (-want +got):\n%s", diff)
	}
	p.chs[0] = "changed"
	if c.Capabilities().Channels[0] != verify.ChannelSMS {
		t.Error("the client's capabilities share memory with the provider's")
	}
}

func TestDefaultCodeLengthIsWide(t *testing.T) {
	t.Parallel()
	rec := &recorder{v: provider.Verification{Status: provider.StatusPending}}
	c := newClient(t, rec)
	for _, code := range []string{"1", "123", "12345678901", strings.Repeat("7", 64)} {
		if _, err := c.Check(context.Background(), "+14155552671", code, nil); err != nil {
			t.Errorf("Check(%q) with the default length: %v", code, err)
		}
	}
	if _, err := c.Check(context.Background(), "+14155552671", strings.Repeat("7", 65), nil); !errors.Is(err, verify.ErrInvalidRequest) {
		t.Errorf("Check(65 digits): %v, want ErrInvalidRequest", err)
	}
}

// approver answers Approve and a conflict on Start.
type approver struct{ recorder }

func (a *approver) Approve(_ context.Context, id string) (provider.Verification, error) {
	return provider.Verification{ID: id, Status: provider.StatusApproved}, nil
}

type conflictError struct{ id string }

func (e conflictError) Error() string     { return "already pending" }
func (e conflictError) Unwrap() error     { return provider.ErrConflict }
func (e conflictError) PendingID() string { return e.id }

func TestApproveAndConflict(t *testing.T) {
	t.Parallel()
	var events []verify.Event
	a := &approver{recorder{err: nil}}
	c := newClient(t, a, verify.WithHook(func(_ context.Context, e verify.Event) { events = append(events, e) }))
	v, err := c.Approve(context.Background(), "VE1")
	if err != nil || !v.Approved() || v.ID != "VE1" {
		t.Errorf("Approve = %v, %v", v, err)
	}
	if _, err := c.Approve(context.Background(), "bad id"); !errors.Is(err, verify.ErrInvalidRequest) {
		t.Errorf("Approve(bad id) = %v", err)
	}
	a.err = conflictError{id: "VE2"}
	_, err = c.Start(context.Background(), "+14155552671", verify.ChannelSMS, nil)
	if !errors.Is(err, verify.ErrConflict) || verify.CodeOf(err) != verify.CodeConflict {
		t.Errorf("Start = %v, want ErrConflict", err)
	}
	if id, ok := verify.PendingID(err); !ok || id != "VE2" {
		t.Errorf("PendingID = %q, %v, want VE2", id, ok)
	}
	if _, ok := verify.PendingID(errors.New("x")); ok {
		t.Error("PendingID of an unrelated error: ok")
	}
	if len(events) == 0 || events[0].Op != "approve" {
		t.Errorf("events = %v, want the first to be an approve", events)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	if _, err := verify.New(nil); err == nil {
		t.Error("New(nil): no error")
	}
	bad := map[string]verify.Option{
		"nil option":       nil,
		"unknown region":   verify.WithDefaultRegion("XX"),
		"empty region":     verify.WithDefaultRegion(""),
		"nil logger":       verify.WithLogger(nil),
		"nil hook":         verify.WithHook(nil),
		"empty name":       verify.WithProviderName(""),
		"code length 0":    verify.WithCodeLength(0, 4),
		"code length desc": verify.WithCodeLength(6, 4),
		"code length 65":   verify.WithCodeLength(4, 65),
	}
	for name, opt := range bad {
		if _, err := verify.New(fake.MustNew(), opt); err == nil {
			t.Errorf("New(%s): no error", name)
		}
	}
	// The provider's name comes from Namer, the option, or the type. Every
	// provider here answers Check with an error naming it.
	for _, tt := range []struct {
		p    provider.Provider
		opts []verify.Option
		want string
	}{
		{fake.MustNew(), nil, "fake"},
		{fake.MustNew(), []verify.Option{verify.WithProviderName("mine")}, "mine"},
		{&recorder{err: verify.ErrNotFound}, nil, "*verify_test.recorder"},
	} {
		c := newClient(t, tt.p, tt.opts...)
		_, err := c.Check(context.Background(), "+14155552671", "12345678", nil)
		var ve *verify.Error
		if !errors.As(err, &ve) || ve.Provider != tt.want {
			t.Errorf("provider name = %+v, want %q", ve, tt.want)
		}
		if c.Provider() != tt.p {
			t.Errorf("Provider() did not return the provider")
		}
	}
}

// captureHandler records every slog record, with its attributes rendered.
type captureHandler struct {
	mu      sync.Mutex
	records []string
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *captureHandler) WithGroup(string) slog.Handler            { return h }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	h.mu.Lock()
	h.records = append(h.records, b.String())
	h.mu.Unlock()
	return nil
}

func TestLoggerAndHook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const code = "918273"
	f := fake.MustNew(fake.WithFixedCode(code))
	h := &captureHandler{}
	var events []verify.Event
	c := newClient(t, f, verify.WithLogger(slog.New(h)), verify.WithHook(func(_ context.Context, e verify.Event) {
		e.Duration = 0
		events = append(events, e)
	}))
	c.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
	c.Check(ctx, "+14155552671", "000000", nil)
	c.Check(ctx, "+14155552671", code, nil)
	_, checkErr := c.Check(ctx, "+14155552671", code, nil)
	_, startErr := c.Start(ctx, "alice@example.com", verify.ChannelEmail, &verify.StartOptions{CustomCode: code})

	want := []verify.Event{
		{Op: "start", Provider: "fake", Channel: verify.ChannelSMS, Target: "+14*******71", Country: "US", Status: verify.StatusPending, Code: verify.CodeOK},
		{Op: "check", Provider: "fake", Channel: verify.ChannelSMS, Target: "+14*******71", Status: verify.StatusPending, Code: verify.CodeOK},
		{Op: "check", Provider: "fake", Channel: verify.ChannelSMS, Target: "+14*******71", Status: verify.StatusApproved, Code: verify.CodeOK},
		{Op: "check", Provider: "fake", Target: "+14*******71", Code: verify.CodeNotFound, Err: checkErr},
		{Op: "start", Provider: "fake", Channel: verify.ChannelEmail, Target: "a****@example.com", Code: verify.CodeUnsupported, Err: startErr},
	}
	if diff := cmp.Diff(want, events, cmp.Comparer(func(a, b error) bool { return (a == nil) == (b == nil) })); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if len(h.records) != len(want) {
		t.Fatalf("%d log records, want %d: %q", len(h.records), len(want), h.records)
	}
	if !strings.HasPrefix(h.records[0], "INFO verify start op=start provider=fake target=+14*******71") ||
		!strings.HasPrefix(h.records[3], "WARN verify check") || !strings.Contains(h.records[3], "code=not_found") {
		t.Errorf("records = %q", h.records)
	}
	for _, r := range h.records {
		if strings.Contains(r, code) || strings.Contains(r, "4155552671") || strings.Contains(r, "alice@") {
			t.Errorf("log record %q reveals a code or a target", r)
		}
	}
}

func TestConcurrentClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := fake.MustNew(fake.WithRandomCodes())
	c := newClient(t, f, verify.WithHook(func(context.Context, verify.Event) {}))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			to := fmt.Sprintf("+1415555%04d", i)
			if _, err := c.Start(ctx, to, verify.ChannelSMS, nil); err != nil {
				t.Error(err)
				return
			}
			code, _ := f.LastCode(to)
			if v, err := c.Check(ctx, to, code, nil); err != nil || !v.Approved() {
				t.Errorf("Check(%s) = %v, %v", to, v, err)
			}
		})
	}
	wg.Wait()
}

func TestEventDuration(t *testing.T) {
	t.Parallel()
	var d time.Duration = -1
	c := newClient(t, fake.MustNew(), verify.WithHook(func(_ context.Context, e verify.Event) { d = e.Duration }))
	c.Start(context.Background(), "+14155552671", verify.ChannelSMS, nil)
	if d < 0 {
		t.Errorf("Duration = %v", d)
	}
}
