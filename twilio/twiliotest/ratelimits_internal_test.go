package twiliotest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestDeleteServiceDropsRateLimits: the rate limits of a deleted service
// are not kept.
func TestDeleteServiceDropsRateLimits(t *testing.T) {
	e := MustNew()
	do := func(method, path string, form url.Values) int {
		r := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		r.SetBasicAuth(DefaultAccountSID, DefaultAuthToken)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		return w.Code
	}
	rl := "/v2/Services/" + DefaultServiceSID + "/RateLimits"
	if code := do("POST", rl, url.Values{"UniqueName": {"ip"}}); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	if code := do("DELETE", "/v2/Services/"+DefaultServiceSID, nil); code != http.StatusNoContent {
		t.Fatalf("delete service: %d", code)
	}
	e.api.mu.Lock()
	n, m := len(e.api.limits), len(e.api.limitSeq)
	e.api.mu.Unlock()
	if n != 0 || m != 0 {
		t.Errorf("after the service's delete the emulator holds %d rate limits (%d in order), want 0", n, m)
	}
}
