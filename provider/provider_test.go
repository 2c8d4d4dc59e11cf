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
	for _, s := range []provider.Status{"pending", "approved", "canceled", "expired", "max_attempts_reached", "failed", "deleted"} {
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
