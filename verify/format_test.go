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
