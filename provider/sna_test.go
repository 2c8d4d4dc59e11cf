package provider_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
)

// TestSNAError_Is checks that an SNA failure matches its Kind, and only
// its Kind, so each of the three decisions is told apart with errors.Is.
func TestSNAError_Is(t *testing.T) {
	t.Parallel()
	kinds := []error{provider.ErrNotYet, provider.ErrUndeliverable, provider.ErrInvalidRequest}
	for _, kind := range kinds {
		err := fmt.Errorf("wrapped: %w", &provider.SNAError{Op: "check sna", Kind: kind, Code: "60510"})
		for _, other := range append(kinds, provider.ErrOutcomeUnknown, provider.ErrNotFound) {
			if got, want := errors.Is(err, other), other == kind; got != want {
				t.Errorf("errors.Is(SNAError{Kind: %v}, %v) = %v, want %v", kind, other, got, want)
			}
		}
	}
	if got := (&provider.SNAError{Op: "check sna", Kind: provider.ErrUndeliverable, Code: "60510", Description: "SNA Error"}).Error(); got != "check sna: undeliverable (60510: SNA Error)" {
		t.Errorf("Error() = %q", got)
	}
}

// TestFallBack is the table of when silent network auth may fall back to
// another channel: only after a failure that proves the silent attempt
// failed and says nothing against the number.
func TestFallBack(t *testing.T) {
	t.Parallel()
	sna := func(kind error) error { return &provider.SNAError{Op: "check sna", Kind: kind} }
	both := errors.Join(provider.ErrUndeliverable, provider.ErrInvalidRequest)
	lost := errors.Join(provider.ErrUndeliverable, provider.ErrOutcomeUnknown)
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"sna failed", sna(provider.ErrUndeliverable), true},
		{"unsupported", provider.ErrUnsupported, true},
		{"undeliverable", fmt.Errorf("x: %w", provider.ErrUndeliverable), true},
		{"bad number", sna(provider.ErrInvalidRequest), false},
		{"undeliverable and invalid", both, false},
		{"not yet", sna(provider.ErrNotYet), false},
		{"outcome unknown", provider.ErrOutcomeUnknown, false},
		{"undeliverable but lost", lost, false},
		{"canceled", errors.Join(provider.ErrUndeliverable, context.Canceled), false},
		{"deadline", errors.Join(provider.ErrUnsupported, context.DeadlineExceeded), false},
		{"unavailable", provider.ErrUnavailable, false},
		{"rate limited", provider.ErrRateLimited, false},
		{"not found", provider.ErrNotFound, false},
	} {
		if got := provider.FallBack(tc.err); got != tc.want {
			t.Errorf("%s: FallBack(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// TestVerification_NoVerbPrintsTheSNAURL formats a verification with an
// SNA URL with every verb: the URL is a credential for the device.
func TestVerification_NoVerbPrintsTheSNAURL(t *testing.T) {
	t.Parallel()
	v := provider.Verification{ID: "VE1", To: "+14155552671", Channel: provider.ChannelSNA, SNAURL: "https://sna.example/secret-token"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%o"} {
		for _, x := range []any{v, &v} {
			if s := fmt.Sprintf(verb, x); strings.Contains(s, "secret-token") || strings.Contains(s, "4155552671") {
				t.Errorf("%s of %T prints the URL or the number: %s", verb, x, s)
			}
		}
	}
}
