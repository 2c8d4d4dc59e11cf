package twilio_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

const (
	mgSID  = "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	mgSID2 = "MGbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	hjSID  = "HJaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

const mcJSON = `{"account_sid":"` + accountSID + `","service_sid":"` + serviceSID + `","country":"CA","messaging_service_sid":"` + mgSID + `","date_created":"2026-01-02T03:04:05Z","date_updated":"2026-01-03T03:04:05Z","url":"https://verify.twilio.com/v2/Services/` + serviceSID + `/MessagingConfigurations/CA"}`

var wantMC = twilio.MessagingConfiguration{
	AccountSID: accountSID, ServiceSID: serviceSID, Country: "CA", MessagingServiceSID: mgSID, DateCreated: day1, DateUpdated: day2,
	URL: "https://verify.twilio.com/v2/Services/" + serviceSID + "/MessagingConfigurations/CA",
}

const hjJSON = `{"sid":"` + hjSID + `","account_sid":"` + accountSID + `","friendly_name":"Base","channels":["sms","voice"],"translations":{"en":{"is_default_translation":true,"status":"approved","locale":"en","text":"{{code}} is your code","date_updated":"2026-01-03T03:04:05Z","date_created":"2026-01-02T03:04:05Z"}}}`

var wantHJ = twilio.Template{
	SID: hjSID, AccountSID: accountSID, FriendlyName: "Base", Channels: []string{"sms", "voice"},
	Translations: map[string]twilio.TemplateTranslation{"en": {IsDefaultTranslation: true, Status: "approved", Locale: "en", Text: "{{code}} is your code", DateCreated: day1, DateUpdated: day2}},
}

func TestMessagingConfigurationsWire(t *testing.T) {
	mc := "/v2/Services/" + serviceSID + "/MessagingConfigurations"
	runWire(t, []wireCase{
		{name: "create", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.CreateMessagingConfiguration(ctx, "CA", mgSID)
		}, method: "POST", path: mc, form: url.Values{"Country": {"CA"}, "MessagingServiceSid": {mgSID}}, status: 201, answer: mcJSON, want: wantMC},
		{name: "fetch", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.FetchMessagingConfiguration(ctx, "CA")
		},
			method: "GET", path: mc + "/CA", status: 200, answer: mcJSON, want: wantMC},
		{name: "update", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.UpdateMessagingConfiguration(ctx, "CA", mgSID)
		}, method: "POST", path: mc + "/CA", form: url.Values{"MessagingServiceSid": {mgSID}}, status: 200, answer: mcJSON, want: wantMC},
		{name: "delete", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return nil, c.DeleteMessagingConfiguration(ctx, "CA")
		}, method: "DELETE", path: mc + "/CA", status: 204},
		{name: "list", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.ListMessagingConfigurations(ctx, twilio.ListOptions{PageSize: 5})
		}, method: "GET", path: mc, query: "PageSize=5", status: 200, answer: `{"messaging_configurations":[` + mcJSON + `],"meta":{"next_page_url":null}}`,
			want: []twilio.MessagingConfiguration{wantMC}},
		{name: "templates", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.ListTemplates(ctx, "Base", twilio.ListOptions{})
		}, method: "GET", path: "/v2/Templates", query: "FriendlyName=Base", status: 200, answer: `{"templates":[` + hjJSON + `],"meta":{"next_page_url":null}}`,
			want: []twilio.Template{wantHJ}},
		{name: "form", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			f, err := c.FetchForm(ctx, twilio.FormTypePush)
			return []any{f.FormType, string(f.Forms["verify_factor"]), string(f.FormMeta), f.URL}, err
		}, method: "GET", path: "/v2/Forms/form-push", status: 200,
			answer: `{"form_type":"form-push","forms":{"create_factor":{},"verify_factor":{"type":"object"},"create_challenge":{}},"form_meta":{},"url":"https://verify.twilio.com/v2/Forms/form-push"}`,
			want:   []any{"form-push", `{"type":"object"}`, `{}`, "https://verify.twilio.com/v2/Forms/form-push"}},
	})
}

// TestMessagingConfigurationsRefused: malformed input is refused before
// anything is sent, and an answer about another country is not taken.
func TestMessagingConfigurationsRefused(t *testing.T) {
	mux, c := setup(t)
	sent := false
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		sent = true
		reply(w, 200, []byte(strings.ReplaceAll(mcJSON, `"CA"`, `"US"`)))
	})
	ctx := context.Background()
	for name, err := range map[string]error{
		"lower-case country": func() error { _, err := c.CreateMessagingConfiguration(ctx, "ca", mgSID); return err }(),
		"three letters":      func() error { _, err := c.FetchMessagingConfiguration(ctx, "CAN"); return err }(),
		"not MG":             func() error { _, err := c.UpdateMessagingConfiguration(ctx, "CA", "MX1"); return err }(),
		"path escape":        c.DeleteMessagingConfiguration(ctx, "../"),
		"form type":          func() error { _, err := c.FetchForm(ctx, "form-sms"); return err }(),
	} {
		if !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("%s: %v, want ErrInvalidRequest", name, err)
		}
	}
	if sent {
		t.Fatal("a malformed request was sent")
	}
	if _, err := c.FetchMessagingConfiguration(ctx, "CA"); err == nil {
		t.Error("FetchMessagingConfiguration took an answer about another country")
	}
}

// TestEmulatorMessagingConfigurations: the configurations are a resource
// with state, and an SMS goes out through its country's Messaging Service
// (else the "all" one) in the emulator's outbox.
func TestEmulatorMessagingConfigurations(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	c := emulatorClient(t, srv)
	ctx := context.Background()
	if _, err := c.FetchMessagingConfiguration(ctx, "CA"); apiCode(err) != 20404 {
		t.Fatalf("fetch before create: %v, want 20404", err)
	}
	ca, err := c.CreateMessagingConfiguration(ctx, "CA", mgSID)
	if err != nil || ca.Country != "CA" || ca.MessagingServiceSID != mgSID || ca.ServiceSID != c.ServiceSID() {
		t.Fatalf("create: %+v, %v", ca, err)
	}
	if _, err := c.CreateMessagingConfiguration(ctx, "CA", mgSID2); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("a second configuration for CA: %v, want ErrInvalidRequest", err)
	}
	if _, err := c.CreateMessagingConfiguration(ctx, twilio.CountryAll, mgSID2); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListMessagingConfigurations(ctx, twilio.ListOptions{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{list[0].Country, list[1].Country}; len(list) != 2 || !cmp.Equal(got, []string{"all", "CA"}) {
		t.Fatalf("list: %+v", list)
	}
	sentVia := func(to string) string {
		t.Helper()
		if _, err := c.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS}); err != nil {
			t.Fatal(err)
		}
		m, ok := srv.LastMessage(to)
		if !ok {
			t.Fatalf("no message to %s", to)
		}
		return m.MessagingServiceSID
	}
	if got := sentVia("+16135550101"); got != mgSID {
		t.Errorf("SMS to Canada went through %q, want %s", got, mgSID)
	}
	if _, err := c.CreateMessagingConfiguration(ctx, "GB", mgSID); err != nil {
		t.Fatal(err)
	}
	if got := sentVia("+447700900101"); got != mgSID { // a drama number: GB by its calling code
		t.Errorf("SMS to a UK drama number went through %q, want GB's %s", got, mgSID)
	}
	if got := sentVia("+14155550101"); got != mgSID2 {
		t.Errorf("SMS to the US went through %q, want the all configuration's %s", got, mgSID2)
	}
	if _, err := c.UpdateMessagingConfiguration(ctx, "CA", mgSID2); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteMessagingConfiguration(ctx, twilio.CountryAll); err != nil {
		t.Fatal(err)
	}
	if got := sentVia("+16135550102"); got != mgSID2 {
		t.Errorf("after the update, SMS to Canada went through %q, want %s", got, mgSID2)
	}
	if got := sentVia("+14155550102"); got != "" {
		t.Errorf("after deleting all, SMS to the US went through %q, want Twilio's own senders", got)
	}
	if err := c.DeleteMessagingConfiguration(ctx, twilio.CountryAll); apiCode(err) != 20404 {
		t.Errorf("second delete: %v, want 20404", err)
	}
}

// TestEmulatorTemplates: the templates are listed, filtered by name, and
// a start's template (or the service's default) makes the outbox body.
func TestEmulatorTemplates(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	c := emulatorClient(t, srv)
	ctx := context.Background()
	all, err := c.ListTemplates(ctx, "", twilio.ListOptions{})
	if err != nil || len(all) != len(twiliotest.TemplateSIDs) {
		t.Fatalf("list: %d templates, %v", len(all), err)
	}
	custom, err := c.ListTemplates(ctx, "CUSTOM", twilio.ListOptions{})
	if err != nil || len(custom) != 1 || custom[0].SID != twiliotest.TemplateSIDs[2] {
		t.Fatalf("list by name: %+v, %v", custom, err)
	}
	start := func(to string, p *twilio.StartParams, locale string) twiliotest.Message {
		t.Helper()
		req := provider.StartRequest{To: to, Channel: provider.ChannelSMS, Locale: locale}
		if p != nil {
			req.Extensions = []provider.Extension{*p}
		}
		if _, err := c.Start(ctx, req); err != nil {
			t.Fatal(err)
		}
		m, _ := srv.LastMessage(to)
		return m
	}
	m := start("+14155550111", &twilio.StartParams{TemplateSID: twiliotest.TemplateSIDs[2], TemplateCustomSubstitutions: map[string]string{"app_name": "Acme"}}, "")
	if want := m.Code + " signs you in to Acme."; m.Body != want || m.TemplateSID != twiliotest.TemplateSIDs[2] {
		t.Errorf("custom template: body %q template %q, want %q", m.Body, m.TemplateSID, want)
	}
	m = start("+14155550112", &twilio.StartParams{TemplateSID: twiliotest.TemplateSIDs[0]}, "es")
	if !strings.HasPrefix(m.Body, m.Code+" es tu código de ") {
		t.Errorf("template in es: body %q", m.Body)
	}
	if _, err := c.UpdateService(ctx, c.ServiceSID(), twilio.ServiceParams{DefaultTemplateSID: twiliotest.TemplateSIDs[1]}); err != nil {
		t.Fatal(err)
	}
	m = start("+14155550113", nil, "")
	if m.TemplateSID != twiliotest.TemplateSIDs[1] || !strings.Contains(m.Body, m.Code+" is your code. Nobody") {
		t.Errorf("default template: %q, body %q", m.TemplateSID, m.Body)
	}
	_, err = c.Start(ctx, provider.StartRequest{To: "+14155550114", Channel: provider.ChannelSMS, Extensions: []provider.Extension{twilio.StartParams{TemplateSID: hjSID}}})
	if !errors.Is(err, provider.ErrInvalidRequest) || apiCode(err) != 60200 {
		t.Errorf("unknown template: %v, want 60200", err)
	}
}

// TestEmulatorForm: form-push answers the push forms as JSON Schemas.
func TestEmulatorForm(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	c := emulatorClient(t, srv)
	f, err := c.FetchForm(context.Background(), twilio.FormTypePush)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"create_factor", "verify_factor", "create_challenge"} {
		var schema struct {
			Type     string   `json:"type"`
			Required []string `json:"required"`
		}
		if err := json.Unmarshal(f.Forms[name], &schema); err != nil || schema.Type != "object" || len(schema.Required) == 0 {
			t.Errorf("form %s: %s (%v)", name, f.Forms[name], err)
		}
	}
}
