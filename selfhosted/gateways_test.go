package selfhosted_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
)

const (
	accessKey = "live_SECRETaccesskey123"
	gwToken   = "GWtokenSECRET456"
)

var smsMsg = selfhosted.Message{To: "+4512345678", Channel: provider.ChannelSMS, Code: "482913", AppName: "Acme"}

// gateway is a test server that records requests and answers from a
// script of (status, headers, body).
type gateway struct {
	*httptest.Server
	hits    atomic.Int32
	answers []answer
	check   func(t *testing.T, r *http.Request, body []byte)
}

type answer struct {
	status int
	header map[string]string
	body   string
}

func newGateway(t *testing.T, check func(t *testing.T, r *http.Request, body []byte), answers ...answer) *gateway {
	g := &gateway{answers: answers, check: check}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(g.hits.Add(1)) - 1
		body, _ := io.ReadAll(r.Body)
		g.check(t, r, body)
		a := g.answers[min(i, len(g.answers)-1)]
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(g.Close)
	return g
}

func checkMessageBird(t *testing.T, r *http.Request, body []byte) {
	t.Helper()
	if r.Method != http.MethodPost || r.URL.Path != "/messages" {
		t.Errorf("request %s %s, want POST /messages", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Authorization"); got != "AccessKey "+accessKey {
		t.Errorf("Authorization = %q", got)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"originator": "Acme", "body": "Your Acme verification code is: 482913", "recipients": []any{4512345678.0}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("body (-want +got):\n%s", d)
	}
}

func checkGatewayAPI(t *testing.T, r *http.Request, body []byte) {
	t.Helper()
	if r.Method != http.MethodPost || r.URL.Path != "/rest/mtsms" {
		t.Errorf("request %s %s, want POST /rest/mtsms", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Token "+gwToken {
		t.Errorf("Authorization = %q", got)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"sender": "Acme", "message": "Your Acme verification code is: 482913", "recipients": []any{map[string]any{"msisdn": 4512345678.0}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("body (-want +got):\n%s", d)
	}
}

type gatewayCase struct {
	name    string
	answers []answer
	want    error // nil: delivered
	hits    int32
	code    string
	wait    time.Duration
}

func runGatewayCases(t *testing.T, newSender func(url string) selfhosted.Sender, check func(*testing.T, *http.Request, []byte), cases []gatewayCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGateway(t, check, tc.answers...)
			err := newSender(g.URL).Send(t.Context(), smsMsg)
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("Send: %v", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("Send: error = %v, want %v", err, tc.want)
			}
			if got := g.hits.Load(); got != tc.hits {
				t.Errorf("the gateway got %d requests, want %d", got, tc.hits)
			}
			if err == nil {
				return
			}
			var se *selfhosted.SendError
			if !errors.As(err, &se) {
				t.Fatalf("errors.As(*SendError) failed on %v", err)
			}
			if se.Code != tc.code || se.Wait != tc.wait {
				t.Errorf("SendError code %q wait %v, want %q %v", se.Code, se.Wait, tc.code, tc.wait)
			}
			for _, secret := range []string{accessKey, gwToken, smsMsg.Code, "4512345678"} {
				if s := fmt.Sprintf("%v %+v", err, err); strings.Contains(s, secret) {
					t.Errorf("the error %q reveals %q", s, secret)
				}
			}
		})
	}
}

func TestMessageBird(t *testing.T) {
	t.Parallel()
	newSender := func(url string) selfhosted.Sender {
		s, err := selfhosted.NewMessageBird(accessKey, "Acme", selfhosted.WithGatewayURL(url), selfhosted.WithGatewayRetries(2, 0))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	echo := `{"errors":[{"code":9,"description":"no (correct) recipients found for key ` + accessKey + ` and 482913 to 4512345678","parameter":"recipients"}]}`
	runGatewayCases(t, newSender, checkMessageBird, []gatewayCase{
		{name: "accepted", answers: []answer{{status: 201, body: `{"id":"49e40bae"}`}}, hits: 1},
		{name: "bad key", answers: []answer{{status: 401, body: `{"errors":[{"code":2,"description":"Request not allowed (incorrect access_key)","parameter":"access_key"}]}`}}, want: provider.ErrUnauthorized, hits: 1, code: "2"},
		{name: "bad recipient echoing secrets", answers: []answer{{status: 422, body: echo}}, want: provider.ErrUndeliverable, hits: 1, code: "9"},
		{name: "no balance", answers: []answer{{status: 422, body: `{"errors":[{"code":25,"description":"Not enough balance"}]}`}}, want: provider.ErrUnavailable, hits: 1, code: "25"},
		{name: "throttled", answers: []answer{{status: 429, header: map[string]string{"Retry-After": "7"}, body: `{}`}}, want: provider.ErrRateLimited, hits: 1, wait: 7 * time.Second},
		{name: "503 then accepted", answers: []answer{{status: 503}, {status: 201, body: `{}`}}, hits: 2},
		{name: "503 three times", answers: []answer{{status: 503}}, want: provider.ErrUnavailable, hits: 3},
		{name: "500 is not retried", answers: []answer{{status: 500}}, want: provider.ErrOutcomeUnknown, hits: 1},
		{name: "502 is not retried", answers: []answer{{status: 502}}, want: provider.ErrOutcomeUnknown, hits: 1},
	})
}

func TestGatewayAPI(t *testing.T) {
	t.Parallel()
	newSender := func(url string) selfhosted.Sender {
		s, err := selfhosted.NewGatewayAPI(gwToken, "Acme", selfhosted.WithGatewayURL(url), selfhosted.WithGatewayRetries(2, 0))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	runGatewayCases(t, newSender, checkGatewayAPI, []gatewayCase{
		{name: "accepted", answers: []answer{{status: 200, body: `{"ids":[421332671],"usage":{"currency":"DKK"}}`}}, hits: 1},
		{name: "200 without ids", answers: []answer{{status: 200, body: `{}`}}, want: provider.ErrOutcomeUnknown, hits: 1},
		{name: "bad token", answers: []answer{{status: 401, body: `{"code":"0x0001","message":"unauthorized ` + gwToken + `"}`}}, want: provider.ErrUnauthorized, hits: 1, code: "0x0001"},
		{name: "invalid recipient", answers: []answer{{status: 422, body: `{"code":"0x0216","message":"invalid msisdn 4512345678"}`}}, want: provider.ErrUndeliverable, hits: 1, code: "0x0216"},
		{name: "no credit", answers: []answer{{status: 402, body: `{"code":"0x0203","message":"insufficient credit"}`}}, want: provider.ErrUnavailable, hits: 1, code: "0x0203"},
		{name: "code quoting the token", answers: []answer{{status: 401, body: `{"code":"` + gwToken + `","message":"x"}`}}, want: provider.ErrUnauthorized, hits: 1, code: "[redacted]"},
		{name: "code quoting the message", answers: []answer{{status: 400, body: `{"code":"` + smsMsg.Code + ` 4512345678","message":"x"}`}}, want: provider.ErrUndeliverable, hits: 1, code: "[redacted] +45******78"},
		{name: "503 then accepted", answers: []answer{{status: 503}, {status: 200, body: `{"ids":[1]}`}}, hits: 2},
		{name: "504 is not retried", answers: []answer{{status: 504}}, want: provider.ErrOutcomeUnknown, hits: 1},
	})
}

// TestGatewayTransportFaults checks the two transport failures: a gateway
// that cannot be reached (nothing sent, retried, ErrUnavailable) and one
// that does not answer in time (maybe sent, not retried,
// ErrOutcomeUnknown).
func TestGatewayTransportFaults(t *testing.T) {
	t.Parallel()
	// Port 0: nothing can listen there, so every dial is refused. (A port
	// freed by closing a listener is not: another test can take it.)
	dead := "http://127.0.0.1:0"
	s, _ := selfhosted.NewGatewayAPI(gwToken, "Acme", selfhosted.WithGatewayURL(dead), selfhosted.WithGatewayRetries(1, 0))
	if err := s.Send(t.Context(), smsMsg); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("unreachable gateway: error = %v, want ErrUnavailable", err)
	}

	release := make(chan struct{})
	var hits atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	s, _ = selfhosted.NewGatewayAPI(gwToken, "Acme", selfhosted.WithGatewayURL(slow.URL), selfhosted.WithGatewayRetries(2, 0))
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := s.Send(ctx, smsMsg); !errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Errorf("gateway that does not answer: error = %v, want ErrOutcomeUnknown", err)
	}
	if hits.Load() != 1 {
		t.Errorf("a send whose outcome is unknown was retried: %d requests", hits.Load())
	}
}

func TestGatewayOptions(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://example.com", "ftp://127.0.0.1", "::bad"} {
		if _, err := selfhosted.NewMessageBird(accessKey, "Acme", selfhosted.WithGatewayURL(u)); err == nil {
			t.Errorf("WithGatewayURL(%q) accepted", u)
		}
	}
	if _, err := selfhosted.NewGatewayAPI("", "Acme"); err == nil {
		t.Error("NewGatewayAPI accepted an empty token")
	}
	mb, _ := selfhosted.NewMessageBird(accessKey, "Acme")
	gw, _ := selfhosted.NewGatewayAPI(gwToken, "Acme")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{mb, gw} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, accessKey) || strings.Contains(s, gwToken) {
				t.Errorf("Sprintf(%q, %T) = %q reveals a credential", verb, v, s)
			}
		}
	}
	if err := mb.Send(t.Context(), selfhosted.Message{To: "a@example.com", Channel: provider.ChannelEmail, Code: "1"}); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("MessageBird to an e-mail address: %v, want ErrInvalidRequest", err)
	}
}
