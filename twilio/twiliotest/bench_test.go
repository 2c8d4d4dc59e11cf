package twiliotest_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// BenchmarkPair serves one Start(sms)+Check pair in process, without the
// network: the emulator's own cost per pair.
func BenchmarkPair(b *testing.B) {
	e := twiliotest.MustNew(twiliotest.WithFakeOptions(fake.WithFixedCode("424242")))
	auth := "Basic " + basicAuth(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken)
	do := func(path, body string, want int) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		to := "%2B1415" + strconv.Itoa(1000000+i%9000000)
		do(verifications, "Channel=sms&To="+to, 201)
		do(checkPath, "Code=424242&To="+to, 200)
	}
}
