package verify_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/verify"
)

// TestEnrollOptions_NoVerbPrintsTheSecret: %d or %x of a struct prints its
// fields unless the type has a Format method.
func TestEnrollOptions_NoVerbPrintsTheSecret(t *testing.T) {
	t.Parallel()
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	o := verify.EnrollOptions{Secret: secret}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%o"} {
		if s := fmt.Sprintf(verb, o); strings.Contains(strings.ToUpper(s), secret) || strings.Contains(s, fmt.Sprintf("%x", secret)[:16]) {
			t.Errorf("%s prints the secret: %s", verb, s)
		}
	}
}

// TestStartOptions_NoVerbPrintsTheCustomCode: StartOptions carries a
// custom code, a secret, and caller keys (IP addresses, user IDs).
func TestStartOptions_NoVerbPrintsTheCustomCode(t *testing.T) {
	t.Parallel()
	const code, ip = "731864", "203.0.113.77"
	o := verify.StartOptions{Locale: "en", CustomCode: code, CallerKeys: map[string]string{"ip": ip}}
	for _, v := range []any{o, &o} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%o"} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, code) || strings.Contains(s, ip) || strings.Contains(s, fmt.Sprintf("%x", code)) {
				t.Errorf("%s of %T prints a secret: %s", verb, v, s)
			}
		}
	}
	if s := fmt.Sprint(o); !strings.Contains(s, "CustomCode:[redacted]") || !strings.Contains(s, "ip") {
		t.Errorf("String = %s, want the custom code redacted and the caller key names", s)
	}
}
