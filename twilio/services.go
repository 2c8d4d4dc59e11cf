package twilio

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// Service is a Twilio Verify Service: the configuration that verifications
// run under (name in messages, code length, enabled features).
type Service struct {
	SID                            string            `json:"sid"`
	AccountSID                     string            `json:"account_sid"`
	FriendlyName                   string            `json:"friendly_name"`
	CodeLength                     int               `json:"code_length"`
	LookupEnabled                  bool              `json:"lookup_enabled"`
	PSD2Enabled                    bool              `json:"psd2_enabled"`
	SkipSMSToLandlines             bool              `json:"skip_sms_to_landlines"`
	DTMFInputRequired              bool              `json:"dtmf_input_required"`
	TTSName                        string            `json:"tts_name"`
	DoNotShareWarningEnabled       bool              `json:"do_not_share_warning_enabled"`
	CustomCodeEnabled              bool              `json:"custom_code_enabled"`
	Push                           *ServicePush      `json:"push"`
	TOTP                           *ServiceTOTP      `json:"totp"`
	DefaultTemplateSID             string            `json:"default_template_sid"`
	WhatsApp                       *ServiceWhatsApp  `json:"whatsapp"`
	VerifyEventSubscriptionEnabled bool              `json:"verify_event_subscription_enabled"`
	DateCreated                    time.Time         `json:"date_created"`
	DateUpdated                    time.Time         `json:"date_updated"`
	URL                            string            `json:"url"`
	Links                          map[string]string `json:"links"`
}

// ServicePush is a service's push configuration.
type ServicePush struct {
	IncludeDate      bool   `json:"include_date"`
	APNCredentialSID string `json:"apn_credential_sid"`
	FCMCredentialSID string `json:"fcm_credential_sid"`
}

// ServiceTOTP is a service's TOTP configuration.
type ServiceTOTP struct {
	Issuer     string `json:"issuer"`
	TimeStep   int    `json:"time_step"`
	CodeLength int    `json:"code_length"`
	Skew       int    `json:"skew"`
}

// ServiceWhatsApp is a service's WhatsApp sender configuration.
type ServiceWhatsApp struct {
	MsgServiceSID string `json:"msg_service_sid"`
	From          string `json:"from"`
}

// ServiceParams are the parameters of CreateService and UpdateService.
// Zero values are not sent: an empty string or a zero number leaves the
// setting as it is (or at Twilio's default), and the booleans are pointers
// so that false can be sent; use Bool to make one.
type ServiceParams struct {
	// FriendlyName appears in messages; at most 30 characters. Required
	// by CreateService.
	FriendlyName string
	// CodeLength is the number of digits of codes, 4 to 10.
	CodeLength int

	LookupEnabled                  *bool
	SkipSMSToLandlines             *bool // needs LookupEnabled
	DTMFInputRequired              *bool
	PSD2Enabled                    *bool
	DoNotShareWarningEnabled       *bool
	CustomCodeEnabled              *bool
	VerifyEventSubscriptionEnabled *bool

	TTSName            string
	DefaultTemplateSID string // HJ…

	// PushIncludeDate makes push challenges' details carry "date"
	// (ChallengeDetails.Date), their creation time. Twilio deprecates it:
	// Challenge.DateCreated holds the same time.
	PushIncludeDate      *bool
	PushAPNCredentialSID string // CR…
	PushFCMCredentialSID string // CR…

	TOTPIssuer     string
	TOTPTimeStep   int // 20 to 60
	TOTPCodeLength int // 3 to 8
	TOTPSkew       *int

	WhatsAppMsgServiceSID string // MG…
	WhatsAppFrom          string
}

// Bool returns a pointer to b, for ServiceParams.
func Bool(b bool) *bool { return &b }

// Int returns a pointer to n, for ServiceParams.TOTPSkew.
func Int(n int) *int { return &n }

func (p ServiceParams) form(op string) (url.Values, error) {
	invalid := func(msg string) error { return invalidInput(op, msg) }
	f := url.Values{}
	str := func(k, v string) {
		if v != "" {
			f.Set(k, v)
		}
	}
	boolean := func(k string, v *bool) {
		if v != nil {
			f.Set(k, strconv.FormatBool(*v))
		}
	}
	integer := func(k string, v, lo, hi int) error {
		if v == 0 {
			return nil
		}
		if v < lo || v > hi {
			return invalid(k + " must be " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi))
		}
		f.Set(k, strconv.Itoa(v))
		return nil
	}
	if len(p.FriendlyName) > 30 {
		return nil, invalid("FriendlyName longer than 30 characters")
	}
	str("FriendlyName", p.FriendlyName)
	for _, err := range []error{
		integer("CodeLength", p.CodeLength, 4, 10),
		integer("Totp.TimeStep", p.TOTPTimeStep, 20, 60),
		integer("Totp.CodeLength", p.TOTPCodeLength, 3, 8),
	} {
		if err != nil {
			return nil, err
		}
	}
	if p.TOTPSkew != nil {
		if *p.TOTPSkew < 0 || *p.TOTPSkew > 2 {
			return nil, invalid("Totp.Skew must be 0 to 2")
		}
		f.Set("Totp.Skew", strconv.Itoa(*p.TOTPSkew))
	}
	for _, s := range []struct{ val, prefix, name string }{
		{p.DefaultTemplateSID, "HJ", "DefaultTemplateSid"},
		{p.PushAPNCredentialSID, "CR", "Push.ApnCredentialSid"},
		{p.PushFCMCredentialSID, "CR", "Push.FcmCredentialSid"},
		{p.WhatsAppMsgServiceSID, "MG", "Whatsapp.MsgServiceSid"},
	} {
		if s.val != "" && !wire.ValidSID(s.val, s.prefix) {
			return nil, invalid(s.name + " must be " + s.prefix + " followed by 32 hex digits")
		}
		str(s.name, s.val)
	}
	boolean("LookupEnabled", p.LookupEnabled)
	boolean("SkipSmsToLandlines", p.SkipSMSToLandlines)
	boolean("DtmfInputRequired", p.DTMFInputRequired)
	boolean("Psd2Enabled", p.PSD2Enabled)
	boolean("DoNotShareWarningEnabled", p.DoNotShareWarningEnabled)
	boolean("CustomCodeEnabled", p.CustomCodeEnabled)
	boolean("VerifyEventSubscriptionEnabled", p.VerifyEventSubscriptionEnabled)
	boolean("Push.IncludeDate", p.PushIncludeDate)
	str("TtsName", p.TTSName)
	str("Totp.Issuer", p.TOTPIssuer)
	str("Whatsapp.From", p.WhatsAppFrom)
	return f, nil
}

// CreateService creates a Verify Service, with POST /v2/Services. The
// client's own service SID is not involved; use the returned SID with New.
//
// API: https://www.twilio.com/docs/verify/api/service#create-a-service
func (c *Client) CreateService(ctx context.Context, p ServiceParams) (Service, error) {
	const op = "create service"
	if p.FriendlyName == "" {
		return Service{}, invalidInput(op, "FriendlyName is required")
	}
	f, err := p.form(op)
	if err != nil {
		return Service{}, err
	}
	var s Service
	err = c.do(ctx, call{op: op, method: http.MethodPost, path: "/v2/Services", form: f, ok: okCreated}, &s)
	return s, err
}

// FetchService returns the Verify Service sid, with GET
// /v2/Services/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/service#fetch-a-service
func (c *Client) FetchService(ctx context.Context, sid string) (Service, error) {
	const op = "fetch service"
	if err := checkServiceSID(op, sid); err != nil {
		return Service{}, err
	}
	var s Service
	err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/v2/Services/" + sid, ok: okOK, wantSID: sid}, &s)
	return s, err
}

// UpdateService changes the settings p sets on the Verify Service sid, with
// POST /v2/Services/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/service#update-a-service
func (c *Client) UpdateService(ctx context.Context, sid string, p ServiceParams) (Service, error) {
	const op = "update service"
	if err := checkServiceSID(op, sid); err != nil {
		return Service{}, err
	}
	f, err := p.form(op)
	if err != nil {
		return Service{}, err
	}
	var s Service
	err = c.do(ctx, call{op: op, method: http.MethodPost, path: "/v2/Services/" + sid, form: f, ok: okOK, wantSID: sid}, &s)
	return s, err
}

// DeleteService deletes the Verify Service sid, with DELETE
// /v2/Services/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/service#delete-a-service
func (c *Client) DeleteService(ctx context.Context, sid string) error {
	const op = "delete service"
	if err := checkServiceSID(op, sid); err != nil {
		return err
	}
	return c.do(ctx, call{op: op, method: http.MethodDelete, path: "/v2/Services/" + sid, ok: okDeleted}, nil)
}

// ListOptions bound ListServices and Services. The zero value reads every
// service, in pages of Twilio's default size.
type ListOptions struct {
	// PageSize is the number of services asked for per page, 1 to 1000;
	// 0 means Twilio's default of 50.
	PageSize int
	// Limit is the most services read; 0 means no limit.
	Limit int
}

// ListServices returns the account's Verify Services, with GET
// /v2/Services, following meta.next_page_url until the last page or until
// opts.Limit services have been read. On an error it returns the services
// read so far with it.
//
// Next-page URLs are followed on the client's own base URL (only their path
// and query are used), so credentials never go to another host.
//
// API: https://www.twilio.com/docs/verify/api/service#read-multiple-service-resources
func (c *Client) ListServices(ctx context.Context, opts ListOptions) ([]Service, error) {
	var out []Service
	for s, err := range c.Services(ctx, opts) {
		if err != nil {
			return out, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Services returns an iterator over the account's Verify Services, which
// reads pages as the loop needs them, as ListServices does. An error ends
// the iteration: it is yielded with a zero Service.
func (c *Client) Services(ctx context.Context, opts ListOptions) iter.Seq2[Service, error] {
	return func(yield func(Service, error) bool) {
		const op = "list services"
		if opts.PageSize < 0 || opts.PageSize > 1000 || opts.Limit < 0 {
			yield(Service{}, invalidInput(op, "page size must be 0 to 1000 and limit not negative"))
			return
		}
		form := url.Values{}
		if opts.PageSize > 0 {
			form.Set("PageSize", strconv.Itoa(opts.PageSize))
		}
		path := "/v2/Services"
		read := 0
		for pages := 0; ; pages++ {
			if pages >= 10000 {
				yield(Service{}, &RequestError{Op: op, Err: errors.New("more than 10000 pages"), kind: provider.ErrUnavailable})
				return
			}
			var page struct {
				Services *[]Service `json:"services"`
				Meta     struct {
					NextPageURL string `json:"next_page_url"`
				} `json:"meta"`
			}
			check := func() error {
				if page.Services == nil {
					return errors.New("the answer has no services list")
				}
				for i := range *page.Services {
					if err := checkService(&(*page.Services)[i], ""); err != nil {
						return err
					}
				}
				return nil
			}
			if err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, form: form, ok: okOK, check: check}, &page); err != nil {
				yield(Service{}, err)
				return
			}
			for _, s := range *page.Services {
				if !yield(s, nil) {
					return
				}
				if read++; opts.Limit > 0 && read >= opts.Limit {
					return
				}
			}
			if page.Meta.NextPageURL == "" {
				return
			}
			next, err := url.Parse(page.Meta.NextPageURL)
			if err != nil || next.Path != "/v2/Services" {
				yield(Service{}, &RequestError{Op: op, Err: errors.New("next_page_url is not a Services page"), kind: provider.ErrUnavailable})
				return
			}
			path, form = next.Path, next.Query()
		}
	}
}

func checkServiceSID(op, sid string) error {
	if !wire.ValidSID(sid, "VA") {
		return invalidInput(op, "service SID must be VA followed by 32 hex digits")
	}
	return nil
}

// checkService says why s is not a well-formed answer about the service
// sid (any service when sid is empty), or returns nil.
func checkService(s *Service, sid string) error {
	switch {
	case !wire.ValidSID(s.SID, "VA"):
		return errors.New("the answer has no service SID")
	case sid != "" && s.SID != sid:
		return errors.New("the answer is about another service (" + s.SID + ", not " + sid + ")")
	}
	return nil
}
