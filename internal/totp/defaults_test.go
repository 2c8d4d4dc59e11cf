package totp

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
)

// TestFill: zero fields take the defaults, set fields are kept, and a zero
// Skew takes the default only when it was not chosen.
func TestFill(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      provider.TOTPConfig
		skewSet bool
		want    provider.TOTPConfig
	}{
		{provider.TOTPConfig{}, false, provider.TOTPConfig{Digits: 6, Period: 30 * time.Second, Skew: 1, Algorithm: provider.AlgSHA1}},
		{provider.TOTPConfig{}, true, provider.TOTPConfig{Digits: 6, Period: 30 * time.Second, Algorithm: provider.AlgSHA1}},
		{provider.TOTPConfig{Digits: 8, Skew: 2}, false, provider.TOTPConfig{Digits: 8, Period: 30 * time.Second, Skew: 2, Algorithm: provider.AlgSHA1}},
		{provider.TOTPConfig{Period: time.Minute, Algorithm: provider.AlgSHA512}, true, provider.TOTPConfig{Digits: 6, Period: time.Minute, Algorithm: provider.AlgSHA512}},
		{provider.TOTPConfig{Digits: 7, Period: 20 * time.Second, Skew: 1, Algorithm: provider.AlgSHA256}, false, provider.TOTPConfig{Digits: 7, Period: 20 * time.Second, Skew: 1, Algorithm: provider.AlgSHA256}},
	}
	for _, tt := range tests {
		got := Fill(tt.in, tt.skewSet)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Fill(%+v, %v) (-want +got):\n%s", tt.in, tt.skewSet, diff)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("Fill(%+v, %v) is not valid: %v", tt.in, tt.skewSet, err)
		}
	}
}
