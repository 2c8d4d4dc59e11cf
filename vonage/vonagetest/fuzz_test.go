package vonagetest_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// FuzzEmulatorRequest sends arbitrary bodies to every endpoint: the
// emulator must never panic or answer 5xx, every answer must be JSON of the
// right kind, and a refused start must send nothing.
func FuzzEmulatorRequest(f *testing.F) {
	f.Add("POST", "/v2/verify", `{"brand":"Acme","workflow":[{"channel":"sms","to":"447700900001"}]}`)
	f.Add("POST", "/v2/verify", `{"brand":"Acme","code":"ab12","code_length":10,"channel_timeout":15,"locale":"en-gb","client_ref":"x","workflow":[{"channel":"silent_auth","to":"447700900001"},{"channel":"email","to":"a@b.co"}]}`)
	f.Add("POST", "/v2/verify/c11236f4-00bf-4b89-84ba-88b25df97315", `{"code":"1234"}`)
	f.Add("POST", "/v2/verify/x/next_workflow", ``)
	f.Add("DELETE", "/v2/verify/x", ``)
	f.Add("POST", "/v2/verify", `{"brand":null,"workflow":[{}]}`)
	e := vonagetest.MustNew(vonagetest.WithFixedCode("1234"))
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n?#") {
			return
		}
		if _, err := url.ParseRequestURI(path); err != nil {
			return
		}
		switch method {
		case "GET", "POST", "DELETE", "PUT":
		default:
			return
		}
		before := len(e.Messages())
		req := httptest.NewRequest(method, "http://emulator"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(vonagetest.DefaultAPIKey, vonagetest.DefaultAPISecret)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, w.Code, w.Body)
		}
		ct := w.Header().Get("Content-Type")
		switch {
		case w.Code == http.StatusNoContent, w.Code == http.StatusFound, !strings.HasPrefix(path, "/v2/"):
		case w.Code >= 400 && ct != "application/problem+json":
			t.Fatalf("%d answered as %q", w.Code, ct)
		case w.Code < 400 && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "text/html"):
			t.Fatalf("%d answered as %q", w.Code, ct)
		}
		if w.Code >= 400 && len(e.Messages()) != before {
			t.Fatalf("a refused request sent a message: %s %s %q", method, path, body)
		}
		if e.Pending() > 100 {
			e = vonagetest.MustNew(vonagetest.WithFixedCode("1234"))
		}
	})
}
