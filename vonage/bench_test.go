package vonage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
)

// benchServer answers a start with 202 and a check with 200, as Vonage
// does, without any work of its own.
func benchServer(b *testing.B) *httptest.Server {
	startBody := []byte(`{"request_id":"` + reqID + `"}`)
	checkBody := []byte(`{"request_id":"` + reqID + `","status":"completed"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v2/verify" {
			w.WriteHeader(http.StatusAccepted)
			w.Write(startBody)
			return
		}
		w.Write(checkBody)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkStartCheck is one Start and one right-code Check through the
// client, against a loopback server.
func BenchmarkStartCheck(b *testing.B) {
	srv := benchServer(b)
	c := jwtClient(b, srv.URL)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v, err := c.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
		if err != nil {
			b.Fatal(err)
		}
		got, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "1234"})
		if err != nil || !got.Approved() {
			b.Fatal(got, err)
		}
	}
}

// BenchmarkBareHTTP makes the same two requests with net/http alone (same
// headers, a reused token, JSON bodies encoded and decoded), the baseline
// of BenchmarkStartCheck.
func BenchmarkBareHTTP(b *testing.B) {
	srv := benchServer(b)
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	token := "Bearer " + strings.Repeat("x", 600) // a JWT's length
	post := func(url string, body any, out any) {
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
		req.Header.Set("Authorization", token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		data, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := json.Unmarshal(data, out); err != nil {
			b.Fatal(err)
		}
	}
	type step struct {
		Channel string `json:"channel"`
		To      string `json:"to"`
	}
	b.ReportAllocs()
	for b.Loop() {
		var s struct {
			RequestID string `json:"request_id"`
		}
		post(srv.URL+"/v2/verify", struct {
			Brand    string `json:"brand"`
			Workflow []step `json:"workflow"`
		}{"Acme", []step{{"sms", "447700900001"}}}, &s)
		var r struct {
			Status string `json:"status"`
		}
		post(srv.URL+"/v2/verify/"+s.RequestID, map[string]string{"code": "1234"}, &r)
		if r.Status != "completed" {
			b.Fatal(r)
		}
	}
}
