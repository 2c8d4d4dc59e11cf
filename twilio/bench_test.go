package twilio_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

// benchServer answers a start with a created verification and a check with
// an approved one, from the fixtures.
func benchServer(b *testing.B) *httptest.Server {
	created, approved := fixture(b, "verification_created.json"), fixture(b, "check_approved.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/Verifications") {
			w.WriteHeader(201)
			w.Write(created)
			return
		}
		w.Write(approved)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkStartCheck is one Start and one Check through the twilio client
// against a loopback server.
func BenchmarkStartCheck(b *testing.B) { startCheck(b) }

func startCheck(b *testing.B) {
	srv := benchServer(b)
	c, err := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken), twilio.WithBaseURL(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS}); err != nil {
			b.Fatal(err)
		}
		if v, err := c.Check(ctx, provider.CheckRequest{To: "+14155552671", Code: "123456"}); err != nil || !v.Approved() {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkStartCheckBaseline makes the same two requests with bare
// net/http: a form post with Basic auth, reading the body. It decodes
// nothing, so it is the floor the client is measured against.
func BenchmarkStartCheckBaseline(b *testing.B) { baseline(b, false) }

// BenchmarkStartCheckBaselineDecode is the baseline plus decoding each body
// into twilio.Verification, as the client does: the difference to
// BenchmarkStartCheck is the client's own overhead (validation, retry
// policy, error handling), the rest is JSON.
func BenchmarkStartCheckBaselineDecode(b *testing.B) { baseline(b, true) }

func baseline(b *testing.B, decode bool) {
	srv := benchServer(b)
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	post := func(path string, form url.Values) {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(form.Encode()))
		req.SetBasicAuth(accountSID, authToken)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if decode {
			var v twilio.Verification
			if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
				b.Fatal(err)
			}
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.ReportAllocs()
	for b.Loop() {
		post("/v2/Services/"+serviceSID+"/Verifications", url.Values{"To": {"+14155552671"}, "Channel": {"sms"}})
		post("/v2/Services/"+serviceSID+"/VerificationCheck", url.Values{"To": {"+14155552671"}, "Code": {"123456"}})
	}
}

// TestStartCheckRatios measures the client and both baselines in turns
// (testing.Benchmark, five rounds) and logs the client's medians as ratios
// to each: against bare net/http posting the same two forms, and against
// the same plus decoding each answer into a Verification. It asserts
// nothing (time on a shared machine is noisy; allocations are exact) and
// runs only when asked:
//
//	RATIOS=1 go test ./twilio -run TestStartCheckRatios -v
func TestStartCheckRatios(t *testing.T) {
	if os.Getenv("RATIOS") == "" {
		t.Skip("set RATIOS=1 to measure")
	}
	var client, bare, decode []testing.BenchmarkResult
	for range 5 {
		client = append(client, testing.Benchmark(startCheck))
		bare = append(bare, testing.Benchmark(func(b *testing.B) { baseline(b, false) }))
		decode = append(decode, testing.Benchmark(func(b *testing.B) { baseline(b, true) }))
	}
	median := func(rs []testing.BenchmarkResult, f func(testing.BenchmarkResult) int64) float64 {
		v := make([]int64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return float64(v[len(v)/2])
	}
	ns := testing.BenchmarkResult.NsPerOp
	allocs := testing.BenchmarkResult.AllocsPerOp
	bytes := testing.BenchmarkResult.AllocedBytesPerOp
	for _, r := range []struct {
		name string
		rs   []testing.BenchmarkResult
	}{{"client", client}, {"bare", bare}, {"bare+decode", decode}} {
		t.Logf("%-12s %8.0f ns/pair %6.0f B/pair %5.0f allocs/pair", r.name, median(r.rs, ns), median(r.rs, bytes), median(r.rs, allocs))
	}
	for _, base := range []struct {
		name string
		rs   []testing.BenchmarkResult
	}{{"bare", bare}, {"bare+decode", decode}} {
		t.Logf("client / %-12s time %.2fx  allocs %.2fx  bytes %.2fx", base.name,
			median(client, ns)/median(base.rs, ns), median(client, allocs)/median(base.rs, allocs), median(client, bytes)/median(base.rs, bytes))
	}
}
