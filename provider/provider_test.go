package provider_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
)

func TestChannelKnown(t *testing.T) {
	t.Parallel()
	for _, c := range []provider.Channel{"sms", "call", "whatsapp", "email", "sna", "auto"} {
		if !c.Known() {
			t.Errorf("%q.Known() = false", c)
		}
	}
	for _, c := range []provider.Channel{"", "SMS", "rcs", "pigeon"} {
		if c.Known() {
			t.Errorf("%q.Known() = true", c)
		}
	}
	if !provider.ChannelEmail.Email() || provider.ChannelSMS.Email() {
		t.Error("Email() is wrong")
	}
}

func TestStatusKnown(t *testing.T) {
	t.Parallel()
	for _, s := range []provider.Status{"pending", "approved", "canceled", "expired", "max_attempts_reached", "failed", "deleted", "denied"} {
		if !s.Known() {
			t.Errorf("%q.Known() = false", s)
		}
	}
	for _, s := range []provider.Status{"", "Pending", "verified"} {
		if s.Known() {
			t.Errorf("%q.Known() = true", s)
		}
	}
}

func TestApproved(t *testing.T) {
	t.Parallel()
	if !(provider.Verification{Status: provider.StatusApproved}).Approved() {
		t.Error("approved verification: Approved() = false")
	}
	if (provider.Verification{Status: provider.StatusPending}).Approved() {
		t.Error("pending verification: Approved() = true")
	}
}

// TestStringsRedact checks every formatting verb on every value that can
// carry a code or a target.
func TestStringsRedact(t *testing.T) {
	t.Parallel()
	const code, to = "55512345", "+14155552671"
	values := []any{
		provider.StartRequest{To: to, Channel: provider.ChannelSMS, CustomCode: code},
		provider.CheckRequest{ID: "VE1", To: to, Code: code},
		provider.CheckRequest{ID: "VE1", Code: code},
		provider.Verification{ID: "VE1", To: to, Status: provider.StatusPending},
		&provider.StartRequest{To: to, CustomCode: code},
	}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			s := fmt.Sprintf(verb, v)
			if strings.Contains(s, code) || strings.Contains(s, to) {
				t.Errorf("Sprintf(%q, %T) = %q reveals a secret", verb, v, s)
			}
		}
	}
	if got, want := (provider.CheckRequest{ID: "VE1", To: to, Code: code}).String(), "CheckRequest{ID:VE1 To:+14*******71 Code:[redacted]}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (provider.StartRequest{To: to, Channel: "sms"}).String(), "StartRequest{To:+14*******71 Channel:sms}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

type waitErr time.Duration

func (w waitErr) Error() string             { return "wait" }
func (w waitErr) RetryAfter() time.Duration { return time.Duration(w) }

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want time.Duration
		ok   bool
	}{
		{nil, 0, false},
		{errors.New("x"), 0, false},
		{waitErr(3 * time.Second), 3 * time.Second, true},
		{fmt.Errorf("wrapped: %w", waitErr(time.Minute)), time.Minute, true},
		{waitErr(0), 0, false},
		{waitErr(-time.Second), 0, false},
	}
	for _, tt := range tests {
		got, ok := provider.RetryAfter(tt.err)
		if got != tt.want || ok != tt.ok {
			t.Errorf("RetryAfter(%v) = %v, %v, want %v, %v", tt.err, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStatusFinal(t *testing.T) {
	t.Parallel()
	for s, want := range map[provider.Status]bool{
		provider.StatusPending: false, provider.StatusApproved: true, provider.StatusDenied: true,
		provider.StatusMaxAttemptsReached: true, "verified_by_pigeon": false,
	} {
		if got := s.Final(); got != want {
			t.Errorf("%q.Final() = %v, want %v", s, got, want)
		}
	}
}

type reporter struct {
	provider.Provider
	caps provider.Capabilities
}

func (r reporter) Capabilities() provider.Capabilities { return r.caps }

func TestCapabilitiesOf(t *testing.T) {
	t.Parallel()
	if got := provider.CapabilitiesOf(struct{ provider.Provider }{}); got.CheckByTo || got.ResendOnStart || got.Channels != nil {
		t.Errorf("CapabilitiesOf(a provider that reports none) = %+v, want the zero value", got)
	}
	chs := []provider.Channel{provider.ChannelSMS, "rcs"}
	got := provider.CapabilitiesOf(reporter{caps: provider.Capabilities{CheckByTo: true, Channels: chs}})
	if !got.CheckByTo || got.ResendOnStart || !got.Supports("rcs") || got.Supports(provider.ChannelCall) {
		t.Errorf("CapabilitiesOf = %+v", got)
	}
	got.Channels[0] = "changed"
	if chs[0] != provider.ChannelSMS {
		t.Error("CapabilitiesOf returned the provider's slice, not a copy")
	}
	var none provider.Capabilities
	if !none.Supports(provider.ChannelSMS) || none.Supports("rcs") || none.Supports("") {
		t.Error("with no channels declared, Supports must report Known")
	}
}

func TestChannelFits(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ch   provider.Channel
		to   string
		want bool
	}{
		{provider.ChannelSMS, "+14155552671", true},
		{provider.ChannelCall, "+14155552671", true},
		{provider.ChannelSMS, "alice@example.com", false},
		{provider.ChannelSNA, "14155552671", false},
		{provider.ChannelEmail, "alice@example.com", true},
		{provider.ChannelEmail, "+14155552671", false},
		{provider.ChannelEmail, "a\xff@example.com", false},
		{provider.ChannelAuto, "+14155552671", true},
		{provider.ChannelAuto, "alice@example.com", true},
		{provider.ChannelAuto, "alice", false},
		{"rcs", "+14155552671", true},
		{"rcs", "alice@example.com", true},
		{"rcs", "nobody", false},
	} {
		if got := provider.ChannelFits(tt.ch, tt.to); got != tt.want {
			t.Errorf("ChannelFits(%q, %q) = %v, want %v", tt.ch, tt.to, got, tt.want)
		}
	}
}

func TestPendingID(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("start: %w", pendingErr("VE1"))
	if id, ok := provider.PendingID(err); !ok || id != "VE1" || !errors.Is(err, provider.ErrConflict) {
		t.Errorf("PendingID = %q, %v", id, ok)
	}
	if _, ok := provider.PendingID(pendingErr("")); ok {
		t.Error("PendingID of an empty ID: ok")
	}
	if _, ok := provider.PendingID(provider.ErrConflict); ok {
		t.Error("PendingID of a bare sentinel: ok")
	}
}

type pendingErr string

func (e pendingErr) Error() string     { return "conflict" }
func (e pendingErr) Unwrap() error     { return provider.ErrConflict }
func (e pendingErr) PendingID() string { return string(e) }
