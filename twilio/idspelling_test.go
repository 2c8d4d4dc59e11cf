package twilio_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

// TestOneSpellingPerSID: Twilio issues SIDs with lower-case hex digits,
// and the client accepts that spelling only. Another case is an unknown
// SID, refused without a request, so that nothing a caller keys by ID
// (verify's check budgets) can be dodged by re-spelling a SID.
func TestOneSpellingPerSID(t *testing.T) {
	mux, c := setup(t)
	var requests int
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		requests++
		http.NotFound(w, r)
	})
	ctx := context.Background()
	for _, sid := range []string{
		veSID[:2] + strings.ToUpper(veSID[2:]),
		veSID[:33] + strings.ToUpper(veSID[33:]),
		strings.ToLower(veSID),
		strings.ToUpper(veSID),
	} {
		if sid == veSID {
			t.Fatalf("%s is the SID itself", sid)
		}
		calls := map[string]func() error{
			"Check": func() error {
				_, err := c.Check(ctx, provider.CheckRequest{ID: sid, Code: "123456"})
				return err
			},
			"Fetch":   func() error { _, err := c.Fetch(ctx, sid); return err },
			"Cancel":  func() error { _, err := c.Cancel(ctx, sid); return err },
			"Approve": func() error { _, err := c.Approve(ctx, sid); return err },
		}
		for name, call := range calls {
			var re *twilio.RequestError
			if err := call(); !errors.Is(err, provider.ErrNotFound) || !errors.As(err, &re) || re.Sent {
				t.Errorf("%s(%s) = %v, want an unsent RequestError matching ErrNotFound", name, sid, err)
			}
		}
	}
	if requests != 0 {
		t.Errorf("%d requests reached Twilio", requests)
	}
}
