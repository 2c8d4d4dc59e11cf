package provider_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
)

func TestFactorTypes_NeverPrintSecrets(t *testing.T) {
	const secret, code, uri = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "492039", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	values := []any{
		provider.Enrollment{Factor: provider.Factor{ID: "YF1", Identity: "user-0000-0001"}, Secret: secret, URI: uri},
		provider.EnrollRequest{Identity: "user-0000-0001", Secret: secret},
		provider.ConfirmRequest{Identity: "user-0000-0001", Code: code},
		provider.ChallengeRequest{Identity: "user-0000-0001", Code: code},
	}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			s := fmt.Sprintf(verb, v)
			if strings.Contains(s, secret) || strings.Contains(s, code) || strings.Contains(s, "user-0000-0001") {
				t.Errorf("%s of %T: %s", verb, v, s)
			}
		}
	}
}

func TestTOTPConfig_Validate(t *testing.T) {
	for _, c := range []provider.TOTPConfig{{}, {Digits: 3}, {Digits: 8}, {Period: 20 * time.Second}, {Period: 60 * time.Second}, {Skew: 2}, {Algorithm: provider.AlgSHA512}} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	for _, c := range []provider.TOTPConfig{{Digits: 2}, {Digits: 9}, {Period: 19 * time.Second}, {Period: 61 * time.Second}, {Period: 30500 * time.Millisecond}, {Skew: -1}, {Skew: 3}, {Algorithm: "md5"}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: accepted", c)
		}
	}
	for s, want := range map[string]bool{"user-001": true, "user-00": false, strings.Repeat("a", 64): true, strings.Repeat("a", 65): false, "user_0001": false, "alice@example.com": false, "+14155552671": false} {
		if provider.ValidIdentity(s) != want {
			t.Errorf("ValidIdentity(%q) != %v", s, want)
		}
	}
}
