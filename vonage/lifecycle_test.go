package vonage_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/vonage"
)

// TestCallbackLifecycle: a signed callback, parsed by ParseCallback, maps
// into the one event type.
func TestCallbackLifecycle(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		body string
		want provider.LifecycleEvent
	}{
		{`{"type":"summary","request_id":"` + reqID + `","status":"completed","submitted_at":"2026-01-02T03:00:00Z","finalized_at":"2026-01-02T03:04:05Z"}`,
			provider.LifecycleEvent{Kind: provider.EventVerificationApproved, Status: "completed", Time: at}},
		{`{"type":"summary","request_id":"` + reqID + `","status":"expired"}`,
			provider.LifecycleEvent{Kind: provider.EventVerificationExpired, Status: "expired"}},
		{`{"type":"summary","request_id":"` + reqID + `","status":"failed"}`,
			provider.LifecycleEvent{Kind: provider.EventVerificationFailed, Status: "failed"}},
		{`{"type":"event","request_id":"` + reqID + `","status":"user_rejected","channel":"whatsapp","triggered_at":"2026-01-02T03:04:05Z"}`,
			provider.LifecycleEvent{Kind: provider.EventVerificationDenied, Status: "user_rejected", Channel: provider.ChannelWhatsApp, Time: at}},
		{`{"type":"event","request_id":"` + reqID + `","status":"completed","channel":"silent_auth"}`,
			provider.LifecycleEvent{Kind: provider.EventVerificationApproved, Status: "completed", Channel: provider.ChannelSNA}},
		{`{"type":"event","request_id":"` + reqID + `","status":"failed","channel":"sms"}`,
			provider.LifecycleEvent{Kind: provider.EventUnknown, Status: "failed", Channel: provider.ChannelSMS}},
	} {
		body := []byte(tc.body)
		tok, err := vonage.SignCallback(body, secret, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("POST", "/webhook", strings.NewReader(tc.body))
		r.Header.Set("Authorization", tok)
		cb, err := vonage.ParseCallback(r, secret)
		if err != nil {
			t.Fatal(err)
		}
		got := cb.Lifecycle()
		want := tc.want
		want.Provider, want.VerificationID = "vonage", reqID
		want.ID = reqID + ":" + cb.Type + ":" + cb.Channel + ":" + cb.Status
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.body, diff)
		}
	}
}
