package route_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/route"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// TestFailoverAfterVonage412 is the regression test for silent auth on a
// network Vonage does not support: Vonage answers the start with 412
// (precondition failed) and sends nothing, so the router must pass the
// start to the next route instead of ending it as an invalid request.
func TestFailoverAfterVonage412(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusPreconditionFailed)
		io.WriteString(w, `{"type":"https://developer.vonage.com/api-errors/verify#precondition-failed","title":"Precondition Failed","detail":"Silent authentication is not supported for this network.","instance":"x"}`)
	}))
	t.Cleanup(srv.Close)
	v, err := vonage.New("Acme", vonage.Application(vonagetest.DefaultApplicationID, vonagetest.DefaultPrivateKeyPEM()),
		vonage.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	fallback := fake.MustNew()
	r, err := route.New([]route.Route{{Name: "vonage", Provider: v}, {Name: "fallback", Provider: fallback}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Start(context.Background(), provider.StartRequest{To: "+447700900001", Channel: provider.ChannelSNA})
	if err != nil || route.ServedBy(got.ID) != "fallback" {
		t.Fatalf("Start = %+v, %v; want a failover to the fallback route", got, err)
	}
}
