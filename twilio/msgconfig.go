package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/verifykit/verifykit/internal/wire"
)

// MessagingConfiguration sends a Verify Service's SMS to one country (or,
// with Country "all", to every country without its own) through a
// Programmable Messaging Service (MG…) instead of Twilio's own senders.
type MessagingConfiguration struct {
	AccountSID          string    `json:"account_sid"`
	ServiceSID          string    `json:"service_sid"`
	Country             string    `json:"country"`               // ISO 3166-1 alpha-2, or "all"
	MessagingServiceSID string    `json:"messaging_service_sid"` // MG…
	DateCreated         time.Time `json:"date_created"`
	DateUpdated         time.Time `json:"date_updated"`
	URL                 string    `json:"url"`
}

// CountryAll is the Country of the global messaging configuration, used
// for every country that has none of its own.
const CountryAll = "all"

const (
	opCreateMessagingConfig = "create messaging configuration"
	opFetchMessagingConfig  = "fetch messaging configuration"
	opUpdateMessagingConfig = "update messaging configuration"
	opDeleteMessagingConfig = "delete messaging configuration"
	opListMessagingConfigs  = "list messaging configurations"
	opListTemplates         = "list templates"
	opFetchForm             = "fetch form"
)

func (c *Client) messagingConfigsPath() string {
	return "/v2/Services/" + c.serviceSID + "/MessagingConfigurations"
}

// validCountry reports whether country is an upper-case ISO 3166-1 alpha-2
// code or "all".
func validCountry(country string) bool {
	if country == CountryAll {
		return true
	}
	return len(country) == 2 && country[0] >= 'A' && country[0] <= 'Z' && country[1] >= 'A' && country[1] <= 'Z'
}

// messagingConfigPath returns the path of country's configuration, after
// checking country (and messagingServiceSID unless it is "-").
func (c *Client) messagingConfigPath(op, country, messagingServiceSID string) (string, error) {
	if !validCountry(country) {
		return "", invalidInput(op, `country must be an upper-case ISO 3166-1 alpha-2 code or "all"`)
	}
	if messagingServiceSID != "-" && !wire.ValidSID(messagingServiceSID, "MG") {
		return "", invalidInput(op, "messaging service SID must be MG followed by 32 hex digits")
	}
	return c.messagingConfigsPath() + "/" + country, nil
}

// messagingConfigCheck says why m is not an answer about country's
// configuration (any country when country is empty).
func (c *Client) messagingConfigCheck(m *MessagingConfiguration, country string) func() error {
	return func() error {
		switch {
		case !validCountry(m.Country):
			return errors.New("the answer has no country")
		case country != "" && m.Country != country:
			return errors.New("the answer is about another country")
		case m.ServiceSID != c.serviceSID:
			return errors.New("the answer is about another service")
		case !wire.ValidSID(m.MessagingServiceSID, "MG"):
			return errors.New("the answer has no messaging service SID")
		}
		return nil
	}
}

// CreateMessagingConfiguration sends the service's SMS to country (ISO
// 3166-1 alpha-2, or CountryAll) through the Messaging Service
// messagingServiceSID (MG…), with POST
// /v2/Services/{ServiceSid}/MessagingConfigurations.
//
// API: https://www.twilio.com/docs/verify/api/verify-messaging-configuration#create-a-messaging-configuration
func (c *Client) CreateMessagingConfiguration(ctx context.Context, country, messagingServiceSID string) (MessagingConfiguration, error) {
	if _, err := c.messagingConfigPath(opCreateMessagingConfig, country, messagingServiceSID); err != nil {
		return MessagingConfiguration{}, err
	}
	var m MessagingConfiguration
	err := c.do(ctx, call{
		op: opCreateMessagingConfig, method: http.MethodPost, path: c.messagingConfigsPath(),
		form: url.Values{"Country": {country}, "MessagingServiceSid": {messagingServiceSID}},
		ok:   okCreated, check: c.messagingConfigCheck(&m, country),
	}, &m)
	return m, err
}

// FetchMessagingConfiguration returns country's messaging configuration,
// with GET /v2/Services/{ServiceSid}/MessagingConfigurations/{Country}.
//
// API: https://www.twilio.com/docs/verify/api/verify-messaging-configuration#fetch-a-messaging-configuration
func (c *Client) FetchMessagingConfiguration(ctx context.Context, country string) (MessagingConfiguration, error) {
	p, err := c.messagingConfigPath(opFetchMessagingConfig, country, "-")
	if err != nil {
		return MessagingConfiguration{}, err
	}
	var m MessagingConfiguration
	err = c.do(ctx, call{op: opFetchMessagingConfig, method: http.MethodGet, path: p, ok: okOK, check: c.messagingConfigCheck(&m, country)}, &m)
	return m, err
}

// UpdateMessagingConfiguration sends country's SMS through another
// Messaging Service, with POST
// /v2/Services/{ServiceSid}/MessagingConfigurations/{Country}.
//
// API: https://www.twilio.com/docs/verify/api/verify-messaging-configuration#update-a-messaging-configuration
func (c *Client) UpdateMessagingConfiguration(ctx context.Context, country, messagingServiceSID string) (MessagingConfiguration, error) {
	p, err := c.messagingConfigPath(opUpdateMessagingConfig, country, messagingServiceSID)
	if err != nil {
		return MessagingConfiguration{}, err
	}
	var m MessagingConfiguration
	err = c.do(ctx, call{
		op: opUpdateMessagingConfig, method: http.MethodPost, path: p,
		form: url.Values{"MessagingServiceSid": {messagingServiceSID}}, ok: okOK, check: c.messagingConfigCheck(&m, country),
	}, &m)
	return m, err
}

// DeleteMessagingConfiguration deletes country's messaging configuration
// (its SMS go out through Twilio's senders again, or the "all" one), with
// DELETE /v2/Services/{ServiceSid}/MessagingConfigurations/{Country}.
//
// API: https://www.twilio.com/docs/verify/api/verify-messaging-configuration#delete-a-messaging-configuration
func (c *Client) DeleteMessagingConfiguration(ctx context.Context, country string) error {
	p, err := c.messagingConfigPath(opDeleteMessagingConfig, country, "-")
	if err != nil {
		return err
	}
	return c.do(ctx, call{op: opDeleteMessagingConfig, method: http.MethodDelete, path: p, ok: okDeleted}, nil)
}

// ListMessagingConfigurations returns the service's messaging
// configurations, with GET /v2/Services/{ServiceSid}/MessagingConfigurations,
// paged as ListServices is.
//
// API: https://www.twilio.com/docs/verify/api/verify-messaging-configuration#read-multiple-messaging-configurations
func (c *Client) ListMessagingConfigurations(ctx context.Context, opts ListOptions) ([]MessagingConfiguration, error) {
	return collect(c.MessagingConfigurations(ctx, opts))
}

// MessagingConfigurations returns an iterator over the service's messaging
// configurations, which reads pages as the loop needs them.
func (c *Client) MessagingConfigurations(ctx context.Context, opts ListOptions) iter.Seq2[MessagingConfiguration, error] {
	return pages(ctx, c, opListMessagingConfigs, c.messagingConfigsPath(), "messaging_configurations", nil, opts, func(m *MessagingConfiguration) error {
		return c.messagingConfigCheck(m, "")()
	})
}

// Template is one of the account's message templates: the text of a
// verification's SMS or call, chosen by StartParams.TemplateSID or a
// service's DefaultTemplateSID.
type Template struct {
	SID          string   `json:"sid"` // HJ…
	AccountSID   string   `json:"account_sid"`
	FriendlyName string   `json:"friendly_name"`
	Channels     []string `json:"channels"` // sms, voice
	// Translations are keyed by locale, such as "en" or "pt-BR".
	Translations map[string]TemplateTranslation `json:"translations"`
}

// TemplateTranslation is a template's text in one locale. Text has the
// placeholders {{code}} and {{friendly_name}}, and any custom ones that
// StartParams.TemplateCustomSubstitutions fills.
type TemplateTranslation struct {
	IsDefaultTranslation bool      `json:"is_default_translation"`
	Status               string    `json:"status"` // approved, pending, rejected…
	Locale               string    `json:"locale"`
	Text                 string    `json:"text"`
	DateCreated          time.Time `json:"date_created"`
	DateUpdated          time.Time `json:"date_updated"`
}

func checkTemplate(t *Template) error {
	if !wire.ValidSID(t.SID, "HJ") {
		return errors.New("the answer has no template SID")
	}
	return nil
}

// ListTemplates returns the account's message templates whose friendly
// name contains friendlyName (all when it is empty), with GET
// /v2/Templates, paged as ListServices is.
//
// API: https://www.twilio.com/docs/verify/api/templates#list-available-templates
func (c *Client) ListTemplates(ctx context.Context, friendlyName string, opts ListOptions) ([]Template, error) {
	return collect(c.Templates(ctx, friendlyName, opts))
}

// Templates returns an iterator over the account's message templates,
// which reads pages as the loop needs them.
func (c *Client) Templates(ctx context.Context, friendlyName string, opts ListOptions) iter.Seq2[Template, error] {
	var q url.Values
	if friendlyName != "" {
		q = url.Values{"FriendlyName": {friendlyName}}
	}
	return pages(ctx, c, opListTemplates, "/v2/Templates", "templates", q, opts, checkTemplate)
}

// FormTypePush is the only form type Twilio documents: the forms of a push
// factor's creation, verification and challenges.
const FormTypePush = "form-push"

// Form is what Twilio asks for in a form type's requests: JSON Schemas of
// each form (Forms, keyed by form name such as "create_factor") and extra
// facts about them (FormMeta). Both are kept as the raw JSON Twilio sent.
type Form struct {
	FormType string                     `json:"form_type"`
	Forms    map[string]json.RawMessage `json:"forms"`
	FormMeta json.RawMessage            `json:"form_meta"`
	URL      string                     `json:"url"`
}

// FetchForm returns the forms of formType (FormTypePush), with GET
// /v2/Forms/{FormType}.
//
// API: https://www.twilio.com/docs/verify/api/forms
func (c *Client) FetchForm(ctx context.Context, formType string) (Form, error) {
	if formType != FormTypePush {
		return Form{}, invalidInput(opFetchForm, "the only form type is "+FormTypePush)
	}
	var f Form
	err := c.do(ctx, call{op: opFetchForm, method: http.MethodGet, path: "/v2/Forms/" + formType, ok: okOK, check: func() error {
		if f.FormType != formType {
			return errors.New("the answer is about another form type")
		}
		return nil
	}}, &f)
	return f, err
}
