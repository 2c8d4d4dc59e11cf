package twiliotest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

// receiver is an application's webhook endpoint: twilio.NewWebhookHandler
// behind a switch that answers 500 while fail is set.
type receiver struct {
	URL    string
	fail   atomic.Bool
	hits   atomic.Int32
	mu     sync.Mutex
	events []provider.LifecycleEvent
}

func newReceiver(t *testing.T, token string) *receiver {
	t.Helper()
	rc := &receiver{}
	h, err := twilio.NewWebhookHandler(token, func(_ context.Context, e provider.LifecycleEvent) error {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.events = append(rc.events, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.hits.Add(1)
		if rc.fail.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL + "/hooks/verify"
	return rc
}

func (rc *receiver) got() []provider.LifecycleEvent {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]provider.LifecycleEvent(nil), rc.events...)
}

// hookEmulator is an emulator on a stopped clock, delivering by hand, with
// a client for its API.
func hookEmulator(t *testing.T, opts ...Option) (*Emulator, *twilio.Client) {
	t.Helper()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e := MustNew(append([]Option{WithClock(func() time.Time { return start }), WithManualWebhookDelivery()}, opts...)...)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	c, err := twilio.New(DefaultServiceSID, twilio.AuthToken(DefaultAccountSID, DefaultAuthToken), twilio.WithBaseURL(srv.URL), twilio.WithRetryWait(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return e, c
}

var approved = provider.LifecycleEvent{
	Kind: provider.EventChallengeApproved, Identity: "user-0000-0001", FactorID: "YF0123456789abcdef0123456789abcdef",
	FactorType: provider.FactorPush, ChallengeID: "YC0123456789abcdef0123456789abcdef", Status: "approved",
	Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
}

// TestWebhookDeliveryRetries: a delivery the application refuses is
// retried after 1, 2, 4 and 8 seconds of the emulator's clock, not before;
// the signed event reaches twilio.NewWebhookHandler intact.
func TestWebhookDeliveryRetries(t *testing.T) {
	e, c := hookEmulator(t)
	ctx := context.Background()
	rc := newReceiver(t, DefaultAuthToken)
	if _, err := c.CreateWebhook(ctx, twilio.WebhookParams{FriendlyName: "app", EventTypes: []string{"*"}, WebhookURL: rc.URL}); err != nil {
		t.Fatal(err)
	}
	rc.fail.Store(true)
	e.queueEvent(DefaultServiceSID, approved)
	waits := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
	for i, wait := range waits {
		if n := e.DeliverWebhooks(ctx); n != 0 || rc.hits.Load() != int32(i+1) {
			t.Fatalf("attempt %d: delivered %d, %d requests", i+1, n, rc.hits.Load())
		}
		e.Advance(wait - time.Millisecond)
		if e.DeliverWebhooks(ctx); rc.hits.Load() != int32(i+1) {
			t.Fatalf("retry %d made %v early", i+1, time.Millisecond)
		}
		e.Advance(time.Millisecond)
	}
	rc.fail.Store(false)
	if n := e.DeliverWebhooks(ctx); n != 1 {
		t.Fatalf("fourth attempt delivered %d", n)
	}
	want := approved
	want.Provider, want.ID = "twilio", "7e57e7e7-0000-4000-8000-000000000001"
	if diff := cmp.Diff([]provider.LifecycleEvent{want}, rc.got()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if st := e.WebhookStats(); st != (WebhookStats{Delivered: 1}) {
		t.Errorf("stats %+v", st)
	}
}

// TestWebhookDeliveryGivesUp: after WebhookAttempts refused attempts the
// delivery is dropped and counted as failed.
func TestWebhookDeliveryGivesUp(t *testing.T) {
	e, c := hookEmulator(t)
	ctx := context.Background()
	rc := newReceiver(t, DefaultAuthToken)
	if _, err := c.CreateWebhook(ctx, twilio.WebhookParams{FriendlyName: "app", EventTypes: []string{"challenge.approved"}, WebhookURL: rc.URL}); err != nil {
		t.Fatal(err)
	}
	rc.fail.Store(true)
	e.queueEvent(DefaultServiceSID, approved)
	for range WebhookAttempts + 2 {
		e.DeliverWebhooks(ctx)
		e.Advance(time.Minute)
	}
	if rc.hits.Load() != WebhookAttempts {
		t.Errorf("%d attempts, want %d", rc.hits.Load(), WebhookAttempts)
	}
	if st := e.WebhookStats(); st != (WebhookStats{Failed: 1}) {
		t.Errorf("stats %+v", st)
	}
}

// TestWebhookWrongTokenRefused: a delivery signed with another auth token
// is refused by the handler (403), so a delivery that succeeds proves the
// signature.
func TestWebhookWrongTokenRefused(t *testing.T) {
	e, c := hookEmulator(t)
	ctx := context.Background()
	rc := newReceiver(t, "another-auth-token-0123456789ab")
	if _, err := c.CreateWebhook(ctx, twilio.WebhookParams{FriendlyName: "app", EventTypes: []string{"*"}, WebhookURL: rc.URL}); err != nil {
		t.Fatal(err)
	}
	e.queueEvent(DefaultServiceSID, approved)
	if n := e.DeliverWebhooks(ctx); n != 0 || len(rc.got()) != 0 || rc.hits.Load() != 1 {
		t.Errorf("delivered %d, events %v", n, rc.got())
	}
}

// TestWebhookSubscriptionsAndQueueBound: only enabled webhooks subscribed
// to an event (or to "*") get it, of the service it happened in; an event
// that finds the queue full is dropped and counted.
func TestWebhookSubscriptionsAndQueueBound(t *testing.T) {
	e, c := hookEmulator(t, WithWebhookQueue(2))
	ctx := context.Background()
	all, verified, disabled := newReceiver(t, DefaultAuthToken), newReceiver(t, DefaultAuthToken), newReceiver(t, DefaultAuthToken)
	for _, p := range []twilio.WebhookParams{
		{FriendlyName: "all", EventTypes: []string{"*"}, WebhookURL: all.URL},
		{FriendlyName: "verified", EventTypes: []string{"factor.verified"}, WebhookURL: verified.URL},
		{FriendlyName: "off", EventTypes: []string{"*"}, WebhookURL: disabled.URL, Status: "disabled"},
	} {
		if _, err := c.CreateWebhook(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	e.queueEvent(DefaultServiceSID, approved)
	e.queueEvent("VAffffffffffffffffffffffffffffffff", approved) // another service's
	fv := provider.LifecycleEvent{Kind: provider.EventFactorVerified, Identity: "user-0000-0001", FactorID: approved.FactorID, FactorType: provider.FactorPush, Status: "verified"}
	e.queueEvent(DefaultServiceSID, fv)                                                                // for "all" and "verified": the second finds the queue full
	e.queueEvent(DefaultServiceSID, provider.LifecycleEvent{Kind: provider.EventVerificationApproved}) // not a webhook event
	if st := e.WebhookStats(); st != (WebhookStats{Queued: 2, Dropped: 1}) {
		t.Fatalf("stats %+v", st)
	}
	if n := e.DeliverWebhooks(ctx); n != 2 {
		t.Fatalf("delivered %d", n)
	}
	if len(all.got()) != 2 || all.got()[0].Kind != provider.EventChallengeApproved || all.got()[1].Kind != provider.EventFactorVerified ||
		verified.hits.Load() != 0 || disabled.hits.Load() != 0 {
		t.Errorf("all %v, verified %v, disabled %d requests", all.got(), verified.got(), disabled.hits.Load())
	}
}

// TestWebhookAutomaticDelivery: without WithManualWebhookDelivery a queued
// event is delivered by the emulator's own goroutine.
func TestWebhookAutomaticDelivery(t *testing.T) {
	e := MustNew()
	srv := httptest.NewServer(e)
	defer srv.Close()
	c, _ := twilio.New(DefaultServiceSID, twilio.AuthToken(DefaultAccountSID, DefaultAuthToken), twilio.WithBaseURL(srv.URL))
	done := make(chan provider.LifecycleEvent, 1)
	h, _ := twilio.NewWebhookHandler(DefaultAuthToken, func(_ context.Context, ev provider.LifecycleEvent) error { done <- ev; return nil })
	app := httptest.NewServer(h)
	defer app.Close()
	if _, err := c.CreateWebhook(context.Background(), twilio.WebhookParams{FriendlyName: "app", EventTypes: []string{"*"}, WebhookURL: app.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	e.queueEvent(DefaultServiceSID, approved)
	if ev := <-done; ev.ChallengeID != approved.ChallengeID {
		t.Errorf("event %v", ev)
	}
}
