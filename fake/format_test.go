package fake_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/fake"
)

// TestFactorUpdate_NoVerbPrintsTheCode: %d or %x of a struct prints its
// fields unless the type has a Format method.
func TestFactorUpdate_NoVerbPrintsTheCode(t *testing.T) {
	t.Parallel()
	const code = "492039"
	u := fake.FactorUpdate{Code: code, FriendlyName: "phone"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%o"} {
		if s := fmt.Sprintf(verb, u); strings.Contains(s, code) || strings.Contains(s, fmt.Sprintf("%x", code)) {
			t.Errorf("%s prints the code: %s", verb, s)
		}
	}
}
