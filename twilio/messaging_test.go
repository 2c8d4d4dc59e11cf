package twilio_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

func TestSendMessageAndStartCall(t *testing.T) {
	t.Parallel()
	mux, c := setup(t)
	var hits atomic.Int32
	mux.HandleFunc("POST /2010-04-01/Accounts/"+accountSID+"/Messages.json", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if u, p, _ := r.BasicAuth(); u != accountSID || p != authToken {
			t.Errorf("basic auth %q", u)
		}
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		want := url.Values{"To": {"+14155552671"}, "From": {"+15005550006"}, "Body": {"Your code is 482913"}}
		if strings.HasPrefix(form.Get("MessagingServiceSid"), "MG") {
			want.Del("From")
			want.Set("MessagingServiceSid", form.Get("MessagingServiceSid"))
		}
		if d := cmp.Diff(want, form); d != "" {
			t.Errorf("form (-want +got):\n%s", d)
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid":"SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","status":"queued"}`)
	})
	mux.HandleFunc("POST /2010-04-01/Accounts/"+accountSID+"/Calls.json", func(w http.ResponseWriter, r *http.Request) {
		if got := r.FormValue("Twiml"); got != "<Response><Say>4 8 2</Say></Response>" {
			t.Errorf("Twiml = %q", got)
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid":"CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","status":"queued"}`)
	})
	ctx := t.Context()
	var d twilio.Delivery
	d, err := c.SendMessage(ctx, accountSID, "+15005550006", "+14155552671", "Your code is 482913", "482913")
	if err != nil || d.SID != "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" || d.Status != "queued" {
		t.Fatalf("SendMessage = %+v, %v", d, err)
	}
	if _, err := c.SendMessage(ctx, accountSID, "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "+14155552671", "Your code is 482913", "482913"); err != nil {
		t.Fatalf("SendMessage through a Messaging Service: %v", err)
	}
	if d, err := c.StartCall(ctx, accountSID, "+15005550006", "+14155552671", "<Response><Say>4 8 2</Say></Response>", "482"); err != nil || d.SID == "" {
		t.Fatalf("StartCall = %+v, %v", d, err)
	}
	if _, err := c.SendMessage(ctx, "not-an-account", "+15005550006", "+14155552671", "x", ""); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("bad account SID: %v, want ErrInvalidRequest", err)
	}
}

func TestSendMessageFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status   int
		body     string
		want     error
		sentOnce bool
	}{
		{400, `{"code":21211,"message":"The 'To' number +14155552671 is not valid (482913)","status":400}`, nil, true},
		{500, `{}`, provider.ErrOutcomeUnknown, true},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			mux, c := setup(t)
			var hits atomic.Int32
			mux.HandleFunc("POST /2010-04-01/Accounts/"+accountSID+"/Messages.json", func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			_, err := c.SendMessage(t.Context(), accountSID, "+15005550006", "+14155552671", "Your code is 482913", "482913")
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
			if tc.want == nil && errors.Is(err, provider.ErrOutcomeUnknown) {
				t.Errorf("a refused message is reported as maybe sent: %v", err)
			}
			if hits.Load() != 1 {
				t.Errorf("%d requests, want 1 (no retry)", hits.Load())
			}
			if s := fmt.Sprintf("%v %+v", err, err); strings.Contains(s, "482913") || strings.Contains(s, authToken) {
				t.Errorf("error reveals a secret: %s", s)
			}
		})
	}
}
