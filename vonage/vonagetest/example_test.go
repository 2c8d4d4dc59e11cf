package vonagetest_test

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// Example talks to the emulator the way any HTTP client would: a start
// with Basic auth, the code from the outbox, and the check.
func Example() {
	srv := vonagetest.NewServer(vonagetest.WithFixedCode("1357"))
	defer srv.Close()
	do := func(method, path, body string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.SetBasicAuth(vonagetest.DefaultAPIKey, vonagetest.DefaultAPISecret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := do("POST", "/v2/verify", `{"brand":"Acme","workflow":[{"channel":"sms","to":"447700900123"}]}`)
	fmt.Println(resp.StatusCode)
	m, _ := srv.LastMessage("+447700900123")
	fmt.Println(m.Channel, m.Code)
	resp = do("POST", "/v2/verify/"+m.RequestID, `{"code":"0000"}`)
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"))
	resp = do("POST", "/v2/verify/"+m.RequestID, `{"code":"1357"}`)
	fmt.Println(resp.StatusCode)
	// Output:
	// 202
	// sms 1357
	// 400 application/problem+json
	// 200
}
