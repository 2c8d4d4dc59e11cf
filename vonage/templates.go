package vonage

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// Template is a custom message template of Verify v2 (a beta feature
// Vonage enables per account): a named set of fragments, one text per
// channel and locale. StartParams.TemplateID selects one for a start.
type Template struct {
	// ID is the template's UUID (template_id).
	ID string `json:"template_id"`
	// Name is the template's reference name.
	Name string `json:"name"`
	// IsDefault says the template is used by starts that name none.
	IsDefault bool `json:"is_default"`
}

// TemplateFragment is one text of a template: for a channel (sms or
// voice) and a locale. The text may use ${code}, ${brand}, ${time-limit}
// and ${time-limit-unit}.
type TemplateFragment struct {
	// ID is the fragment's UUID (template_fragment_id).
	ID string `json:"template_fragment_id"`
	// Channel is "sms" or "voice".
	Channel string `json:"channel"`
	// Locale is a lower-case locale such as "en-us".
	Locale string `json:"locale"`
	// Text is the message text.
	Text string `json:"text"`
	// DateCreated and DateUpdated are Vonage's timestamps, as sent.
	DateCreated string `json:"date_created,omitempty"`
	DateUpdated string `json:"date_updated,omitempty"`
}

// PageInfo is where a page of a list sits.
type PageInfo struct {
	Page       int `json:"page"`
	PageSize   int `json:"page_size"`
	TotalPages int `json:"total_pages"`
	TotalItems int `json:"total_items"`
}

// TemplatePage is one page of ListTemplates.
type TemplatePage struct {
	PageInfo
	Templates []Template
}

// FragmentPage is one page of ListTemplateFragments.
type FragmentPage struct {
	PageInfo
	Fragments []TemplateFragment
}

// TemplateUpdate is a change to a template; zero fields are left as they
// are.
type TemplateUpdate struct {
	// Name, when not empty, renames the template.
	Name string
	// IsDefault, when not nil, makes the template the default (or not).
	IsDefault *bool
}

// The operations of the templates API, as named in errors.
const (
	opListTemplates  = "list templates"
	opCreateTemplate = "create template"
	opGetTemplate    = "get template"
	opUpdateTemplate = "update template"
	opDeleteTemplate = "delete template"
	opListFragments  = "list template fragments"
	opCreateFragment = "create template fragment"
	opGetFragment    = "get template fragment"
	opUpdateFragment = "update template fragment"
	opDeleteFragment = "delete template fragment"
)

// validTemplateName reports whether s is a template name Vonage takes: 1
// to 64 letters, digits, '_' or '-'.
func validTemplateName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// pageQuery is the query of a list: page and page_size when set.
func pageQuery(op string, page, pageSize int) (string, error) {
	if page < 0 || pageSize < 0 {
		return "", refused(op, provider.ErrInvalidRequest, "page and page size must not be negative")
	}
	q := url.Values{}
	if page > 0 {
		q.Set("page", strconv.Itoa(page))
	}
	if pageSize > 0 {
		q.Set("page_size", strconv.Itoa(pageSize))
	}
	if len(q) == 0 {
		return "", nil
	}
	return "?" + q.Encode(), nil
}

// ListTemplates lists the account's templates with GET
// /v2/verify/templates: page (from 1) and pageSize, or zero for Vonage's
// defaults. Reads are retried like any idempotent request.
//
// API: https://developer.vonage.com/en/api/verify.v2#listTemplates
func (c *Client) ListTemplates(ctx context.Context, page, pageSize int) (TemplatePage, error) {
	q, err := pageQuery(opListTemplates, page, pageSize)
	if err != nil {
		return TemplatePage{}, err
	}
	var out struct {
		PageInfo
		Embedded struct {
			Templates []Template `json:"templates"`
		} `json:"_embedded"`
	}
	if err := c.do(ctx, opListTemplates, http.MethodGet, "/v2/verify/templates"+q, nil, nil, &out); err != nil {
		return TemplatePage{}, err
	}
	return TemplatePage{PageInfo: out.PageInfo, Templates: out.Embedded.Templates}, nil
}

// CreateTemplate creates a template named name (1 to 64 letters, digits,
// '_' or '-') with POST /v2/verify/templates. A name in use gives
// provider.ErrConflict; an account without the feature
// provider.ErrUnauthorized (403).
//
// API: https://developer.vonage.com/en/api/verify.v2#createTemplate
func (c *Client) CreateTemplate(ctx context.Context, name string) (Template, error) {
	if !validTemplateName(name) {
		return Template{}, refused(opCreateTemplate, provider.ErrInvalidRequest, "template name must be 1 to 64 letters, digits, '_' or '-'")
	}
	body, _ := json.Marshal(map[string]string{"name": name})
	return c.template(ctx, opCreateTemplate, http.MethodPost, "/v2/verify/templates", body)
}

// Template fetches a template with GET /v2/verify/templates/{id}.
//
// API: https://developer.vonage.com/en/api/verify.v2#getTemplate
func (c *Client) Template(ctx context.Context, id string) (Template, error) {
	if !wire.IsUUID(id) {
		return Template{}, refused(opGetTemplate, provider.ErrInvalidRequest, "template ID must be a UUID")
	}
	return c.template(ctx, opGetTemplate, http.MethodGet, "/v2/verify/templates/"+id, nil)
}

// UpdateTemplate renames a template or sets whether it is the default,
// with PATCH /v2/verify/templates/{id}.
//
// API: https://developer.vonage.com/en/api/verify.v2#updateTemplate
func (c *Client) UpdateTemplate(ctx context.Context, id string, u TemplateUpdate) (Template, error) {
	switch {
	case !wire.IsUUID(id):
		return Template{}, refused(opUpdateTemplate, provider.ErrInvalidRequest, "template ID must be a UUID")
	case u.Name != "" && !validTemplateName(u.Name):
		return Template{}, refused(opUpdateTemplate, provider.ErrInvalidRequest, "template name must be 1 to 64 letters, digits, '_' or '-'")
	case u.Name == "" && u.IsDefault == nil:
		return Template{}, refused(opUpdateTemplate, provider.ErrInvalidRequest, "nothing to update")
	}
	m := map[string]any{}
	if u.Name != "" {
		m["name"] = u.Name
	}
	if u.IsDefault != nil {
		m["is_default"] = *u.IsDefault
	}
	body, _ := json.Marshal(m)
	return c.template(ctx, opUpdateTemplate, http.MethodPatch, "/v2/verify/templates/"+id, body)
}

// DeleteTemplate deletes a template with DELETE
// /v2/verify/templates/{id}; one that still has fragments gives
// provider.ErrConflict.
//
// API: https://developer.vonage.com/en/api/verify.v2#deleteTemplate
func (c *Client) DeleteTemplate(ctx context.Context, id string) error {
	if !wire.IsUUID(id) {
		return refused(opDeleteTemplate, provider.ErrInvalidRequest, "template ID must be a UUID")
	}
	return c.do(ctx, opDeleteTemplate, http.MethodDelete, "/v2/verify/templates/"+id, nil, nil, nil)
}

func (c *Client) template(ctx context.Context, op, method, path string, body []byte) (Template, error) {
	var t Template
	if err := c.do(ctx, op, method, path, body, nil, &t); err != nil {
		return Template{}, err
	}
	if !wire.IsUUID(t.ID) {
		return Template{}, requestError(ctx, op, method != http.MethodGet, errors.New("the answer has no valid template_id"))
	}
	return t, nil
}

// ListTemplateFragments lists a template's fragments with GET
// /v2/verify/templates/{id}/template_fragments.
//
// API: https://developer.vonage.com/en/api/verify.v2#listTemplateFragments
func (c *Client) ListTemplateFragments(ctx context.Context, templateID string, page, pageSize int) (FragmentPage, error) {
	if !wire.IsUUID(templateID) {
		return FragmentPage{}, refused(opListFragments, provider.ErrInvalidRequest, "template ID must be a UUID")
	}
	q, err := pageQuery(opListFragments, page, pageSize)
	if err != nil {
		return FragmentPage{}, err
	}
	var out struct {
		PageInfo
		Embedded struct {
			Fragments []TemplateFragment `json:"template_fragments"`
		} `json:"_embedded"`
	}
	if err := c.do(ctx, opListFragments, http.MethodGet, "/v2/verify/templates/"+templateID+"/template_fragments"+q, nil, nil, &out); err != nil {
		return FragmentPage{}, err
	}
	return FragmentPage{PageInfo: out.PageInfo, Fragments: out.Embedded.Fragments}, nil
}

// CreateTemplateFragment adds a text for channel ("sms" or "voice") and
// locale (such as "en-us") to a template, with POST
// /v2/verify/templates/{id}/template_fragments. One for the same channel
// and locale gives provider.ErrConflict.
//
// API: https://developer.vonage.com/en/api/verify.v2#addTemplateFragmentToTemplate
func (c *Client) CreateTemplateFragment(ctx context.Context, templateID, channel, locale, text string) (TemplateFragment, error) {
	switch {
	case !wire.IsUUID(templateID):
		return TemplateFragment{}, refused(opCreateFragment, provider.ErrInvalidRequest, "template ID must be a UUID")
	case channel != chSMS && channel != chVoice:
		return TemplateFragment{}, refused(opCreateFragment, provider.ErrInvalidRequest, "a fragment's channel is sms or voice")
	case locale == "" || locale != strings.ToLower(locale) || len(locale) > 16:
		return TemplateFragment{}, refused(opCreateFragment, provider.ErrInvalidRequest, "locale must be a lower-case locale such as en-us")
	case strings.TrimSpace(text) == "":
		return TemplateFragment{}, refused(opCreateFragment, provider.ErrInvalidRequest, "empty text")
	}
	body, _ := json.Marshal(map[string]string{"channel": channel, "locale": locale, "text": text})
	return c.fragment(ctx, opCreateFragment, http.MethodPost, "/v2/verify/templates/"+templateID+"/template_fragments", body)
}

// TemplateFragment fetches a fragment with GET
// /v2/verify/templates/{id}/template_fragments/{fragment_id}.
//
// API: https://developer.vonage.com/en/api/verify.v2#getTemplateFragment
func (c *Client) TemplateFragment(ctx context.Context, templateID, fragmentID string) (TemplateFragment, error) {
	if !wire.IsUUID(templateID) || !wire.IsUUID(fragmentID) {
		return TemplateFragment{}, refused(opGetFragment, provider.ErrInvalidRequest, "template and fragment IDs must be UUIDs")
	}
	return c.fragment(ctx, opGetFragment, http.MethodGet, "/v2/verify/templates/"+templateID+"/template_fragments/"+fragmentID, nil)
}

// UpdateTemplateFragment replaces a fragment's text with PATCH
// /v2/verify/templates/{id}/template_fragments/{fragment_id}.
//
// API: https://developer.vonage.com/en/api/verify.v2#updateTemplateFragment
func (c *Client) UpdateTemplateFragment(ctx context.Context, templateID, fragmentID, text string) (TemplateFragment, error) {
	switch {
	case !wire.IsUUID(templateID) || !wire.IsUUID(fragmentID):
		return TemplateFragment{}, refused(opUpdateFragment, provider.ErrInvalidRequest, "template and fragment IDs must be UUIDs")
	case strings.TrimSpace(text) == "":
		return TemplateFragment{}, refused(opUpdateFragment, provider.ErrInvalidRequest, "empty text")
	}
	body, _ := json.Marshal(map[string]string{"text": text})
	return c.fragment(ctx, opUpdateFragment, http.MethodPatch, "/v2/verify/templates/"+templateID+"/template_fragments/"+fragmentID, body)
}

// DeleteTemplateFragment deletes a fragment with DELETE
// /v2/verify/templates/{id}/template_fragments/{fragment_id}.
//
// API: https://developer.vonage.com/en/api/verify.v2#deleteTemplateFragment
func (c *Client) DeleteTemplateFragment(ctx context.Context, templateID, fragmentID string) error {
	if !wire.IsUUID(templateID) || !wire.IsUUID(fragmentID) {
		return refused(opDeleteFragment, provider.ErrInvalidRequest, "template and fragment IDs must be UUIDs")
	}
	return c.do(ctx, opDeleteFragment, http.MethodDelete, "/v2/verify/templates/"+templateID+"/template_fragments/"+fragmentID, nil, nil, nil)
}

func (c *Client) fragment(ctx context.Context, op, method, path string, body []byte) (TemplateFragment, error) {
	var f TemplateFragment
	if err := c.do(ctx, op, method, path, body, nil, &f); err != nil {
		return TemplateFragment{}, err
	}
	if !wire.IsUUID(f.ID) {
		return TemplateFragment{}, requestError(ctx, op, method != http.MethodGet, errors.New("the answer has no valid template_fragment_id"))
	}
	return f, nil
}
