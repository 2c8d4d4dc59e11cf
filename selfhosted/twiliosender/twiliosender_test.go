package twiliosender_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/selfhosted/twiliosender"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/twilio"
)

const (
	account = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	token   = "sEcReTtOkEn0123456789"
)

// TestThroughProvider runs the self-hosted provider with Twilio as its
// sender, against a test server that asserts Twilio's wire format, and
// checks the code it received.
func TestThroughProvider(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	got := map[string]url.Values{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != account || p != token {
			t.Errorf("auth %q", u)
		}
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		mu.Lock()
		got[r.URL.Path] = form
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid":"SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","status":"queued"}`)
	}))
	defer srv.Close()
	c, err := twilio.New("VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", twilio.AuthToken(account, token), twilio.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	s, err := twiliosender.New(c, account, "+15005550006")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := store.NewMemory()
	p, err := selfhosted.New(m, selfhosted.GenerateKey("k"), selfhosted.WithSender(s, provider.ChannelSMS, provider.ChannelCall), selfhosted.WithAppName("Acme"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	v, err := p.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	sms := got["/2010-04-01/Accounts/"+account+"/Messages.json"]
	if sms.Get("To") != "+14155552671" || sms.Get("From") != "+15005550006" {
		t.Fatalf("message form %v", sms)
	}
	const prefix = "Your Acme verification code is: "
	body := sms.Get("Body")
	if len(body) != len(prefix)+6 || body[:len(prefix)] != prefix {
		t.Fatalf("Body = %q", body)
	}
	code := body[len(prefix):]
	if _, err := p.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelCall}); err != nil {
		t.Fatal(err)
	}
	call := got["/2010-04-01/Accounts/"+account+"/Calls.json"]
	spoken := ""
	for i, d := range code {
		if i > 0 {
			spoken += " "
		}
		spoken += string(d)
	}
	if want := "<Response><Say>Your Acme verification code is " + spoken + ". Again: " + spoken + ".</Say></Response>"; call.Get("Twiml") != want {
		t.Fatalf("Twiml = %q, want %q", call.Get("Twiml"), want)
	}
	r, err := p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
	if err != nil || !r.Approved() {
		t.Fatalf("Check = %v, %v", r, err)
	}
}

// TestRefusalTakesSendBack checks that a message Twilio refused (400) is
// not counted as sent.
func TestRefusalTakesSendBack(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"code":21211,"message":"Invalid 'To' Phone Number","status":400}`)
	}))
	defer srv.Close()
	c, _ := twilio.New("VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", twilio.AuthToken(account, token), twilio.WithBaseURL(srv.URL))
	s, _ := twiliosender.New(c, account, "+15005550006")
	m, _ := store.NewMemory()
	p, _ := selfhosted.New(m, selfhosted.GenerateKey("k"), selfhosted.WithSender(s, provider.ChannelSMS))
	_, err := p.Start(t.Context(), provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	if err == nil || errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Fatalf("Start refused by Twilio: error = %v, want a definite refusal", err)
	}
	if m.Len() != 1 { // the provider's key check record only
		t.Fatalf("a refused send left %d records besides the key check", m.Len()-1)
	}
	var apiErr *twilio.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 21211 {
		t.Fatalf("errors.As(*twilio.APIError) = %v", err)
	}
}

// TestCallRefusalQuotingTheTwiMLHidesTheCode: the call's TwiML speaks the
// code digit by digit; Twilio refusing it with a message that quotes the
// TwiML must not put the spoken code in the error.
func TestCallRefusalQuotingTheTwiMLHidesTheCode(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		b, _ := json.Marshal(map[string]any{"code": 12100, "message": "Document parse failure: " + r.PostForm.Get("Twiml"), "status": 400})
		w.Write(b)
	}))
	defer srv.Close()
	c, _ := twilio.New("VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", twilio.AuthToken(account, token), twilio.WithBaseURL(srv.URL))
	s, _ := twiliosender.New(c, account, "+15005550006")
	err := s.Send(t.Context(), selfhosted.Message{To: "+14155552671", Channel: provider.ChannelCall, Code: "482913", AppName: "Acme"})
	if err == nil {
		t.Fatal("Send: no error")
	}
	for _, secret := range []string{"482913", "4 8 2 9 1 3", token} {
		if out := fmt.Sprintf("%v %+v", err, err); strings.Contains(out, secret) {
			t.Errorf("the error %q reveals %q", out, secret)
		}
	}
}
