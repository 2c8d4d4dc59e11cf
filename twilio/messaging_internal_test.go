package twilio

import "testing"

func TestAPIURL(t *testing.T) {
	t.Parallel()
	creds := AuthToken("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "token")
	for _, tc := range []struct {
		opts []Option
		want string
	}{
		{nil, "https://api.twilio.com"},
		{[]Option{WithEdge("sydney"), WithRegion("au1")}, "https://api.sydney.au1.twilio.com"},
		{[]Option{WithBaseURL("http://127.0.0.1:9999")}, "http://127.0.0.1:9999"},
	} {
		c, err := New("VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", creds, tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.apiURL(); got != tc.want {
			t.Errorf("apiURL() = %q, want %q", got, tc.want)
		}
	}
}
