package provider_test

import (
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
)

// TestStatusPredicates: Verified and Approved are true for exactly their
// status.
func TestStatusPredicates(t *testing.T) {
	t.Parallel()
	for _, s := range []provider.FactorStatus{provider.FactorVerified, provider.FactorUnverified, ""} {
		if got, want := (provider.Factor{Status: s}).Verified(), s == provider.FactorVerified; got != want {
			t.Errorf("Factor{Status: %q}.Verified() = %v", s, got)
		}
	}
	for _, s := range []provider.ChallengeStatus{provider.ChallengeApproved, provider.ChallengePending, provider.ChallengeDenied, provider.ChallengeExpired, ""} {
		if got, want := (provider.Challenge{Status: s}).Approved(), s == provider.ChallengeApproved; got != want {
			t.Errorf("Challenge{Status: %q}.Approved() = %v", s, got)
		}
	}
}

// TestDescriptions: String names the value without its secrets and with
// the target or identity masked, and GoString says the same, so %#v (and
// a debugger's GoString) reveals no more than %v.
func TestDescriptions(t *testing.T) {
	t.Parallel()
	const (
		identity = "user-0000-0001"
		to       = "+14155552671"
		code     = "492039"
		secret   = "JBSWY3DPEHPK3PXP"
	)
	factor := provider.Factor{ID: "YF1", Identity: identity, Type: provider.FactorTOTP, Status: provider.FactorVerified, FriendlyName: "phone"}
	tests := []struct {
		v interface {
			String() string
			GoString() string
		}
		want []string // substrings of String
	}{
		{provider.StartRequest{To: to, Channel: provider.ChannelSMS, CustomCode: code}, []string{"StartRequest{", "Channel:sms", "CustomCode:[redacted]"}},
		{provider.StartRequest{To: to, Channel: provider.ChannelSMS}, []string{"StartRequest{", "Channel:sms}"}},
		{provider.CheckRequest{ID: "VE1", To: to, Code: code}, []string{"CheckRequest{ID:VE1 ", "Code:[redacted]}"}},
		{provider.CheckRequest{ID: "VE1", Code: code}, []string{"CheckRequest{ID:VE1 Code:[redacted]}"}},
		{provider.EnrollRequest{Identity: identity, Type: provider.FactorTOTP, FriendlyName: "phone", Secret: secret}, []string{"EnrollRequest{", "Type:totp", `FriendlyName:"phone"`, "Secret:[redacted]"}},
		{provider.EnrollRequest{Identity: identity, Type: provider.FactorTOTP}, []string{"EnrollRequest{", `FriendlyName:""}`}},
		{provider.ConfirmRequest{Identity: identity, FactorID: "YF1", Code: code}, []string{"ConfirmRequest{", "FactorID:YF1", "Code:[redacted]"}},
		{provider.ChallengeRequest{Identity: identity, FactorID: "YF1", Code: code}, []string{"ChallengeRequest{", "FactorID:YF1", "Code:[redacted]"}},
		{factor, []string{"Factor{ID:YF1 ", "Type:totp", "Status:verified}"}},
		{provider.Enrollment{Factor: factor, Secret: secret, URI: "otpauth://totp/x?secret=" + secret}, []string{"Enrollment{Factor{ID:YF1 ", "Secret:[redacted] URI:[redacted]}"}},
		{provider.Challenge{ID: "YC1", Identity: identity, FactorID: "YF1", Status: provider.ChallengeApproved}, []string{"Challenge{ID:YC1 FactorID:YF1 Status:approved}"}},
	}
	for _, tt := range tests {
		s := tt.v.String()
		if g := tt.v.GoString(); g != s {
			t.Errorf("%T: GoString %q differs from String %q", tt.v, g, s)
		}
		for _, w := range tt.want {
			if !strings.Contains(s, w) {
				t.Errorf("%T.String() = %q, want it to contain %q", tt.v, s, w)
			}
		}
		for _, leak := range []string{identity, to, "4155552671", code, secret} {
			if strings.Contains(s, leak) {
				t.Errorf("%T.String() = %q reveals %q", tt.v, s, leak)
			}
		}
	}
}
