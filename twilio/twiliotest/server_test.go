package twiliotest_test

import (
	"net/http"
	"testing"

	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// TestServerClientOwnTransport: Server.Client has a transport of its own,
// so closing another server (which closes http.DefaultTransport's idle
// connections) leaves it alone, and it is not the default client.
func TestServerClientOwnTransport(t *testing.T) {
	t.Parallel()
	srv := twiliotest.NewServer()
	defer srv.Close()
	c := srv.Client()
	if c == http.DefaultClient || c.Transport == nil || c.Transport == http.DefaultTransport {
		t.Fatalf("Client() = %+v; want a client with a transport of its own", c)
	}
	if c != srv.Client() {
		t.Error("Client() returned a different client on the second call")
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/Services", nil)
	req.SetBasicAuth(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v2/Services through Client(): %d", resp.StatusCode)
	}
}
