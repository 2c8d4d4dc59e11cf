package vonage_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/vonage"
)

// TestNoRedirects: a redirect is never followed, not even with a caller's
// client whose CheckRedirect follows them: the code and the credentials
// stay with Vonage's host, and an answer from elsewhere is never taken
// for Vonage's.
func TestNoRedirects(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/v2/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"request_id":"` + reqID + `","status":"completed"}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	follow := &http.Client{Transport: srv.Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	for _, opts := range [][]vonage.Option{nil, {vonage.WithHTTPClient(follow)}} {
		c := jwtClient(t, srv.URL, opts...)
		v, err := c.Check(context.Background(), provider.CheckRequest{ID: reqID, Code: "1234"})
		if err == nil || v.Approved() || elsewhere.Load() != 0 {
			t.Errorf("Check through a redirect = %v, %v; followed %d times", v.Status, err, elsewhere.Load())
		}
		only(t, "check answered with a redirect", err, provider.ErrOutcomeUnknown)
		var ae *vonage.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusTemporaryRedirect {
			t.Errorf("Check through a redirect: %v, want an APIError with status 307", err)
		}
	}
	if follow.CheckRedirect(nil, nil) != nil {
		t.Error("the caller's client was modified")
	}
}
