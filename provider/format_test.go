package provider_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
)

// TestRequests_NoVerbPrintsACode formats the requests that carry a code
// with every verb: fmt prints a struct's fields for %d, %o or %x unless the
// type has a Format method, String and GoString are not enough.
func TestRequests_NoVerbPrintsACode(t *testing.T) {
	t.Parallel()
	const code, custom, to = "492039", "731864", "+14155552671"
	values := []any{
		provider.StartRequest{To: to, Channel: provider.ChannelSMS, CustomCode: custom},
		provider.CheckRequest{ID: "VE1", To: to, Code: code},
		&provider.CheckRequest{To: to, Code: code},
	}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%o"} {
			s := fmt.Sprintf(verb, v)
			for _, secret := range []string{code, custom, to, "4155552671"} {
				if strings.Contains(s, secret) {
					t.Errorf("%s of %T prints %q: %s", verb, v, secret, s)
				}
			}
		}
	}
}
