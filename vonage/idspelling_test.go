package vonage_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
)

// TestOneSpellingPerRequestID: Vonage writes request IDs (UUIDs) in lower
// case and may find a request by its UUID in any case; the client accepts
// the issued spelling only, and refuses another as unknown without a
// request, so nothing keyed by ID (verify's check budgets) is dodged.
func TestOneSpellingPerRequestID(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t) // any request is an error
	c := jwtClient(t, rec.srv.URL)
	ctx := context.Background()
	for _, id := range []string{strings.ToUpper(reqID), reqID[:7] + "F" + reqID[8:], "C" + reqID[1:]} {
		if id == reqID {
			t.Fatalf("%s is the ID itself", id)
		}
		if _, err := c.Check(ctx, provider.CheckRequest{ID: id, Code: "1234"}); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Check(%s) = %v, want ErrNotFound", id, err)
		}
		if _, err := c.Cancel(ctx, id); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Cancel(%s) = %v, want ErrNotFound", id, err)
		}
		if err := c.NextWorkflow(ctx, id); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("NextWorkflow(%s) = %v, want ErrNotFound", id, err)
		}
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("%d requests reached Vonage", n)
	}
}
