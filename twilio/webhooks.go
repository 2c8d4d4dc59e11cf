package twilio

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/verifykit/verifykit/internal/wire"
)

// Webhook is Twilio's Webhook resource (verify.v2.service.webhook): a URL
// to which Twilio posts signed events about the service's factors and
// challenges. NewWebhookHandler receives them.
type Webhook struct {
	SID           string    `json:"sid"` // YW…
	ServiceSID    string    `json:"service_sid"`
	AccountSID    string    `json:"account_sid"`
	FriendlyName  string    `json:"friendly_name"`
	EventTypes    []string  `json:"event_types"`    // see WebhookParams.EventTypes
	Status        string    `json:"status"`         // enabled, disabled
	Version       string    `json:"version"`        // v1, v2
	WebhookURL    string    `json:"webhook_url"`    // where events are sent
	WebhookMethod string    `json:"webhook_method"` // GET, POST
	DateCreated   time.Time `json:"date_created"`
	DateUpdated   time.Time `json:"date_updated"`
	URL           string    `json:"url"`
}

// The webhook event types. The factor and challenge ones are the
// provider.LifecycleKind words NewWebhookHandler hands over.
const (
	WebhookAllEvents         = "*"
	WebhookFactorCreated     = "factor.created"
	WebhookFactorVerified    = "factor.verified"
	WebhookFactorDeleted     = "factor.deleted"
	WebhookChallengeApproved = "challenge.approved"
	WebhookChallengeDenied   = "challenge.denied"
)

// WebhookParams are the parameters of CreateWebhook and UpdateWebhook,
// every one of the API's. Zero fields are not sent (UpdateWebhook leaves
// them as they are); CreateWebhook needs FriendlyName, EventTypes and
// WebhookURL.
type WebhookParams struct {
	// FriendlyName names the webhook; it must not be personal data.
	FriendlyName string
	// EventTypes are the events sent: WebhookAllEvents or any of the
	// other Webhook* event types.
	EventTypes []string
	// WebhookURL is where Twilio sends the events (http or https).
	WebhookURL string
	// Status is enabled (Twilio's default) or disabled.
	Status string
	// Version is v2 (Twilio's default, every field) or the legacy v1.
	Version string
}

const (
	opCreateWebhook = "create webhook"
	opFetchWebhook  = "fetch webhook"
	opUpdateWebhook = "update webhook"
	opDeleteWebhook = "delete webhook"
	opListWebhooks  = "list webhooks"
)

func (c *Client) webhooksPath() string { return "/v2/Services/" + c.serviceSID + "/Webhooks" }

// webhookPath returns the path of the webhook sid, after checking it.
func (c *Client) webhookPath(op, sid string) (string, error) {
	if !wire.ValidSID(sid, "YW") {
		return "", invalidInput(op, "webhook SID must be YW followed by 32 hex digits")
	}
	return c.webhooksPath() + "/" + sid, nil
}

// webhookCheck says why h is not an answer about the webhook sid (any of
// the client's service when sid is empty).
func (c *Client) webhookCheck(h *Webhook, sid string) func() error {
	return func() error {
		switch {
		case !wire.ValidSID(h.SID, "YW"):
			return errors.New("the answer has no webhook SID")
		case sid != "" && h.SID != sid:
			return errors.New("the answer is about another webhook")
		case h.ServiceSID != c.serviceSID:
			return errors.New("the answer is about another service")
		}
		return nil
	}
}

// form checks p and returns its form.
func (p WebhookParams) form(op string, create bool) (url.Values, error) {
	if create && (p.FriendlyName == "" || len(p.EventTypes) == 0 || p.WebhookURL == "") {
		return nil, invalidInput(op, "FriendlyName, EventTypes and WebhookURL are required")
	}
	for _, t := range p.EventTypes {
		switch t {
		case WebhookAllEvents, WebhookFactorCreated, WebhookFactorVerified, WebhookFactorDeleted, WebhookChallengeApproved, WebhookChallengeDenied:
		default:
			return nil, invalidInput(op, "unknown event type")
		}
	}
	if p.WebhookURL != "" {
		u, err := url.Parse(p.WebhookURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, invalidInput(op, "WebhookURL must be an absolute http or https URL")
		}
	}
	switch p.Status {
	case "", "enabled", "disabled":
	default:
		return nil, invalidInput(op, "status must be enabled or disabled")
	}
	switch p.Version {
	case "", "v1", "v2":
	default:
		return nil, invalidInput(op, "version must be v1 or v2")
	}
	f := url.Values{}
	setForm(f, "FriendlyName", p.FriendlyName)
	if len(p.EventTypes) > 0 {
		f["EventTypes"] = append([]string(nil), p.EventTypes...)
	}
	setForm(f, "WebhookUrl", p.WebhookURL)
	setForm(f, "Status", p.Status)
	setForm(f, "Version", p.Version)
	return f, nil
}

// CreateWebhook registers a webhook, with POST
// /v2/Services/{ServiceSid}/Webhooks and FriendlyName, EventTypes (one
// parameter per type), WebhookUrl, Status and Version.
//
// API: https://www.twilio.com/docs/verify/api/webhooks#create-a-webhook-resource
func (c *Client) CreateWebhook(ctx context.Context, p WebhookParams) (Webhook, error) {
	f, err := p.form(opCreateWebhook, true)
	if err != nil {
		return Webhook{}, err
	}
	var h Webhook
	err = c.do(ctx, call{op: opCreateWebhook, method: http.MethodPost, path: c.webhooksPath(), form: f, ok: okCreated, check: c.webhookCheck(&h, "")}, &h)
	return h, err
}

// FetchWebhook returns the webhook sid, with GET
// /v2/Services/{ServiceSid}/Webhooks/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/webhooks#fetch-a-webhook-resource
func (c *Client) FetchWebhook(ctx context.Context, sid string) (Webhook, error) {
	p, err := c.webhookPath(opFetchWebhook, sid)
	if err != nil {
		return Webhook{}, err
	}
	var h Webhook
	err = c.do(ctx, call{op: opFetchWebhook, method: http.MethodGet, path: p, ok: okOK, check: c.webhookCheck(&h, sid)}, &h)
	return h, err
}

// UpdateWebhook changes what p sets of the webhook sid, with POST
// /v2/Services/{ServiceSid}/Webhooks/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/webhooks#update-a-webhook-resource
func (c *Client) UpdateWebhook(ctx context.Context, sid string, p WebhookParams) (Webhook, error) {
	path, err := c.webhookPath(opUpdateWebhook, sid)
	if err != nil {
		return Webhook{}, err
	}
	f, err := p.form(opUpdateWebhook, false)
	if err != nil {
		return Webhook{}, err
	}
	var h Webhook
	err = c.do(ctx, call{op: opUpdateWebhook, method: http.MethodPost, path: path, form: f, ok: okOK, check: c.webhookCheck(&h, sid)}, &h)
	return h, err
}

// DeleteWebhook deletes the webhook sid, with DELETE
// /v2/Services/{ServiceSid}/Webhooks/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/webhooks#delete-a-webhook-resource
func (c *Client) DeleteWebhook(ctx context.Context, sid string) error {
	p, err := c.webhookPath(opDeleteWebhook, sid)
	if err != nil {
		return err
	}
	return c.do(ctx, call{op: opDeleteWebhook, method: http.MethodDelete, path: p, ok: okDeleted}, nil)
}

// ListWebhooks returns the service's webhooks, with GET
// /v2/Services/{ServiceSid}/Webhooks, paged as ListServices is.
//
// API: https://www.twilio.com/docs/verify/api/webhooks#read-multiple-webhook-resources
func (c *Client) ListWebhooks(ctx context.Context, opts ListOptions) ([]Webhook, error) {
	return collect(c.Webhooks(ctx, opts))
}

// Webhooks returns an iterator over the service's webhooks, which reads
// pages as the loop needs them, as Services does.
func (c *Client) Webhooks(ctx context.Context, opts ListOptions) iter.Seq2[Webhook, error] {
	return pages(ctx, c, opListWebhooks, c.webhooksPath(), "webhooks", nil, opts, func(h *Webhook) error {
		return c.webhookCheck(h, "")()
	})
}
