package twilio_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

func TestEmulatorWebhooksCRUD(t *testing.T) {
	srv := twiliotest.NewServer(twiliotest.WithManualWebhookDelivery())
	defer srv.Close()
	c := emulatorClient(t, srv)
	ctx := context.Background()
	var sids []string
	for _, name := range []string{"a", "b", "c"} {
		h, err := c.CreateWebhook(ctx, twilio.WebhookParams{FriendlyName: name, EventTypes: []string{twilio.WebhookFactorVerified, twilio.WebhookChallengeApproved},
			WebhookURL: "https://app.example/hooks/" + name})
		if err != nil {
			t.Fatal(err)
		}
		if h.Status != "enabled" || h.Version != "v2" || h.WebhookMethod != "POST" || h.DateCreated.IsZero() || h.URL == "" ||
			!slices.Equal(h.EventTypes, []string{"factor.verified", "challenge.approved"}) {
			t.Errorf("created %+v", h)
		}
		sids = append(sids, h.SID)
	}
	list, err := c.ListWebhooks(ctx, twilio.ListOptions{PageSize: 2})
	if err != nil || len(list) != 3 || list[2].SID != sids[2] {
		t.Fatalf("list (pages of 2): %v, %v", list, err)
	}
	h, err := c.UpdateWebhook(ctx, sids[0], twilio.WebhookParams{Status: "disabled", Version: "v1", EventTypes: []string{"*"}})
	if err != nil || h.Status != "disabled" || h.Version != "v1" || h.FriendlyName != "a" || !slices.Equal(h.EventTypes, []string{"*"}) {
		t.Errorf("update: %+v, %v", h, err)
	}
	if h, err := c.FetchWebhook(ctx, sids[0]); err != nil || h.Status != "disabled" {
		t.Errorf("fetch after update: %+v, %v", h, err)
	}
	if err := c.DeleteWebhook(ctx, sids[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FetchWebhook(ctx, sids[1]); !errors.Is(err, provider.ErrNotFound) || apiCode(err) != 20404 {
		t.Errorf("fetch after delete: %v, want 20404", err)
	}
	if list, _ := c.ListWebhooks(ctx, twilio.ListOptions{}); len(list) != 2 {
		t.Errorf("list after delete: %d webhooks", len(list))
	}
}
