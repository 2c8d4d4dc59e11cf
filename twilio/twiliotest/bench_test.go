package twiliotest_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// BenchmarkPair serves one Start(sms)+Check pair in process, without the
// network; BenchmarkPairBare serves the same requests with a handler that
// only checks the auth, parses the form and writes fixed JSON. The
// difference is the emulator's own cost per pair.
func BenchmarkPair(b *testing.B) {
	benchPair(b, twiliotest.MustNew(twiliotest.WithFixedCode("424242")))
}

func BenchmarkPairBare(b *testing.B) {
	start := []byte(`{"sid":"VE00000000000000000000000000000001","status":"pending","valid":false}`)
	check := []byte(`{"sid":"VE00000000000000000000000000000001","status":"approved","valid":true}`)
	benchPair(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != twiliotest.DefaultAccountSID || pass != twiliotest.DefaultAuthToken || r.ParseForm() != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/VerificationCheck") {
			w.Write(check)
			return
		}
		w.WriteHeader(http.StatusCreated)
		w.Write(start)
	}))
}

func benchPair(b *testing.B, e http.Handler) {
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
