package pushdevice_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/pushdevice"
)

// TestOpenSNA is the table of answers a device can get, and what OpenSNA makes
// of each.
func TestOpenSNA(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    pushdevice.SNAResult
		wantErr *pushdevice.SNAError // nil: success
	}{
		{"twilio success", text(200, "ErrorCode=0&ErrorDescription=Success&Carrier=VZW"), pushdevice.SNAResult{Carrier: "VZW"}, nil},
		{"twilio success with a client token", text(200, "ErrorCode=0&ErrorDescription=Success&Carrier=EMU&SnaClientToken=abc123\n"),
			pushdevice.SNAResult{Carrier: "EMU", Token: "abc123"}, nil},
		{"twilio failure", text(200, "ErrorCode=60510&ErrorDescription=SNA+Error"), pushdevice.SNAResult{},
			&pushdevice.SNAError{Status: 200, Code: "60510", Description: "SNA Error"}},
		{"success code on an error status", text(500, "ErrorCode=0&ErrorDescription=Success"), pushdevice.SNAResult{}, &pushdevice.SNAError{Status: 500, Code: "0", Description: "Success"}},
		{"redirects, then success", redirects(3, "ErrorCode=0&ErrorDescription=Success&Carrier=VZW"), pushdevice.SNAResult{Carrier: "VZW"}, nil},
		{"too many redirects", redirects(11, "ErrorCode=0&ErrorDescription=Success"), pushdevice.SNAResult{}, nil},
		{"vonage redirect with a fragment", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/app" {
				t.Error("OpenSNA followed the redirect that carries the code")
			}
			http.Redirect(w, r, "/app#request_id=c11236f4&code=si9sfG", http.StatusFound)
		}, pushdevice.SNAResult{Token: "si9sfG"}, nil},
		{"vonage redirect with a query", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/app?request_id=c11236f4&code=4a7f", http.StatusFound)
		}, pushdevice.SNAResult{Token: "4a7f"}, nil},
		{"vonage JSON", text(200, `{"request_id":"c11236f4","code":"si9sfG"}`), pushdevice.SNAResult{Token: "si9sfG"}, nil},
		{"not found", text(404, "not found"), pushdevice.SNAResult{}, &pushdevice.SNAError{Status: 404}},
		{"an unknown body", text(200, "hello"), pushdevice.SNAResult{}, &pushdevice.SNAError{Status: 200}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var agents []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				agents = append(agents, r.UserAgent())
				tc.handler(w, r)
			}))
			defer srv.Close()
			got, err := pushdevice.OpenSNA(context.Background(), srv.Client(), srv.URL+"/sna/secret-token")
			if tc.name == "too many redirects" {
				if err == nil || errors.Is(err, pushdevice.ErrSNAFailed) || strings.Contains(err.Error(), "secret-token") {
					t.Fatalf("Open = %v, %v; want a transport error that does not print the URL", got, err)
				}
				return
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("result (-want +got):\n%s", diff)
				}
			} else {
				var e *pushdevice.SNAError
				if !errors.Is(err, pushdevice.ErrSNAFailed) || !errors.As(err, &e) {
					t.Fatalf("Open = %v, %v; want an *Error", got, err)
				}
				if diff := cmp.Diff(tc.wantErr, e); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
			}
			for _, a := range agents {
				if a != pushdevice.SNAUserAgent {
					t.Errorf("User-Agent %q on a request, want %q on every one", a, pushdevice.SNAUserAgent)
				}
			}
		})
	}
}

// TestOpenSNARefusesAndHides: a URL that is not http(s) is refused, and a
// transport error names the host, never the URL's token.
func TestOpenSNARefusesAndHides(t *testing.T) {
	t.Parallel()
	if _, err := pushdevice.OpenSNA(context.Background(), nil, "ftp://sna.example/x"); err == nil {
		t.Error("Open(ftp) succeeded")
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens now
	_, err := pushdevice.OpenSNA(context.Background(), srv.Client(), srv.URL+"/sna/secret-token")
	if err == nil || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("Open of a closed server = %v; want an error without the token", err)
	}
	r := pushdevice.SNAResult{Token: "secret-token", Carrier: "EMU"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
		if s := fmt.Sprintf(verb, r); strings.Contains(s, "secret-token") {
			t.Errorf("%s prints the token: %s", verb, s)
		}
	}
}

func text(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

// redirects answers n redirects (/r1, /r2, …) before the body.
func redirects(n int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var i int
		fmt.Sscanf(r.URL.Path, "/r%d", &i)
		if i < n {
			http.Redirect(w, r, fmt.Sprintf("/r%d", i+1), http.StatusFound)
			return
		}
		fmt.Fprint(w, body)
	}
}
