package twilio_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/verifykit/verifykit/twilio"
)

// FuzzDecodeAPIAnswers feeds arbitrary success bodies to the readers of
// the Safe List, rate limits, buckets, attempts, access tokens, webhooks,
// notifications and new factors (the first page of a list; later pages
// are empty): the client must never panic, and whatever it returns
// without an error must carry the SID prefix of its resource.
func FuzzDecodeAPIAnswers(f *testing.F) {
	f.Add([]byte(`{"rate_limits":[` + rkJSON + `],"buckets":[` + blJSON + `],"attempts":[` + vlJSON + `],"meta":{"next_page_url":"https://verify.twilio.com/v2/Attempts?PageToken=x"}}`))
	f.Add([]byte(vlJSON))
	f.Add([]byte(`{"sid":"GNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","phone_number":"+14155550100"}`))
	f.Add([]byte(`{"total_attempts":"x","conversion_rate_percentage":1}`))
	f.Add([]byte(`{"attempts":null,"meta":[]}`))
	f.Add([]byte{})
	f.Add([]byte(ykJSON))
	f.Add([]byte(`{"webhooks":[` + ywJSON + `],"meta":{}}`))
	f.Add([]byte(newPushFactorJSON))
	f.Add([]byte(`{"sid":"` + ntSID + `","challenge_sid":"` + ycSID + `","ttl":"x"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var calls atomic.Int32
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				w.Write(body)
				return
			}
			w.Write([]byte(`{"rate_limits":[],"buckets":[],"attempts":[],"webhooks":[],"meta":{}}`))
		})
		c, err := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken), twilio.WithBaseURL("http://127.0.0.1:1"),
			twilio.WithHTTPClient(&http.Client{Transport: handlerTransport{h}}), twilio.WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		prefixed := func(what, sid, prefix string) {
			if !strings.HasPrefix(sid, prefix) || len(sid) != 34 {
				t.Fatalf("%s returned SID %q without an error", what, sid)
			}
		}
		calls.Store(0)
		if ls, err := c.ListRateLimits(ctx, twilio.ListOptions{}); err == nil {
			for _, l := range ls {
				prefixed("ListRateLimits", l.SID, "RK")
			}
		}
		calls.Store(0)
		if bs, err := c.ListBuckets(ctx, rkSID, twilio.ListOptions{}); err == nil {
			for _, b := range bs {
				prefixed("ListBuckets", b.SID, "BL")
			}
		}
		calls.Store(0)
		if as, err := c.ListAttempts(ctx, twilio.AttemptFilter{}, twilio.ListOptions{}); err == nil {
			for _, a := range as {
				prefixed("ListAttempts", a.SID, "VL")
				_ = a.String()
			}
		}
		calls.Store(0)
		if a, err := c.FetchAttempt(ctx, vlSID); err == nil && a.SID != vlSID {
			t.Fatalf("FetchAttempt returned %q", a.SID)
		}
		calls.Store(0)
		if n, err := c.FetchSafeListNumber(ctx, "+14155550100"); err == nil {
			prefixed("FetchSafeListNumber", n.SID, "GN")
		}
		calls.Store(0)
		_, _ = c.FetchAttemptsSummary(ctx, twilio.SummaryFilter{})
		calls.Store(0)
		if tk, err := c.IssueAccessToken(ctx, twilio.AccessTokenParams{Identity: pushIdent}); err == nil {
			prefixed("CreateAccessToken", tk.SID, "YK")
			if tk.Token == "" || tk.EntityIdentity != pushIdent || strings.Contains(tk.String(), tk.Token) {
				t.Fatalf("CreateAccessToken returned %v without an error", tk)
			}
		}
		calls.Store(0)
		if tk, err := c.FetchAccessToken(ctx, ykSID); err == nil && tk.SID != ykSID {
			t.Fatalf("FetchAccessToken returned %q", tk.SID)
		}
		calls.Store(0)
		if hs, err := c.ListWebhooks(ctx, twilio.ListOptions{}); err == nil {
			for _, h := range hs {
				prefixed("ListWebhooks", h.SID, "YW")
			}
		}
		calls.Store(0)
		if h, err := c.FetchWebhook(ctx, ywSID); err == nil && h.SID != ywSID {
			t.Fatalf("FetchWebhook returned %q", h.SID)
		}
		calls.Store(0)
		if n, err := c.CreateNotification(ctx, pushIdent, ycSID, twilio.NotificationParams{}); err == nil {
			prefixed("CreateNotification", n.SID, "NT")
		}
		calls.Store(0)
		if nf, err := c.CreateNewFactor(ctx, pushIdent, twilio.NewFactorParams{FriendlyName: "p", FactorType: "push", PublicKey: pushPubKey, NotificationPlatform: "none"}); err == nil {
			prefixed("CreateNewFactor", nf.SID, "YF")
			_ = nf.String()
		}
	})
}
