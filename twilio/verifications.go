package twilio

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// The operations, as named in errors and retry events.
const (
	opStart    = "start"
	opCheck    = "check"
	opCheckSNA = "check sna"
	opFetch    = "fetch"
	opCancel   = "cancel"
	opApprove  = "approve"
)

// Verification is Twilio's Verification resource, with every field the API
// documents. provider.Verification.Detail holds one for every verification
// the client returns.
type Verification struct {
	SID              string            `json:"sid"`
	ServiceSID       string            `json:"service_sid"`
	AccountSID       string            `json:"account_sid"`
	To               string            `json:"to"`
	Channel          string            `json:"channel"`
	Status           string            `json:"status"`
	Valid            bool              `json:"valid"`
	Lookup           Lookup            `json:"lookup"`
	Amount           string            `json:"amount"`
	Payee            string            `json:"payee"`
	SendCodeAttempts []SendCodeAttempt `json:"send_code_attempts"`
	DateCreated      time.Time         `json:"date_created"`
	DateUpdated      time.Time         `json:"date_updated"`
	SNA              *SNA              `json:"sna"`
	URL              string            `json:"url"`
	SNAAttemptErrors []SNAAttemptError `json:"sna_attempts_error_codes"` // on checks only
}

// Lookup is the carrier information Twilio attaches when the service has
// lookups enabled.
type Lookup struct {
	Carrier *Carrier `json:"carrier"`
}

// Carrier describes the network of a phone number.
type Carrier struct {
	MobileCountryCode string `json:"mobile_country_code"`
	MobileNetworkCode string `json:"mobile_network_code"`
	Name              string `json:"name"`
	Type              string `json:"type"` // "mobile", "landline" or "voip"
	ErrorCode         *int   `json:"error_code"`
}

// SendCodeAttempt is one delivery of the code.
type SendCodeAttempt struct {
	Time       time.Time `json:"time"`
	Channel    string    `json:"channel"`
	AttemptSID string    `json:"attempt_sid"`
}

// SNA carries the Silent Network Authentication URL of an sna
// verification.
type SNA struct {
	URL string `json:"url"`
}

// SNAAttemptError is the error of one Silent Network Authentication
// attempt.
type SNAAttemptError struct {
	AttemptSID string `json:"attempt_sid"`
	Code       int    `json:"code"`
}

// String describes the verification with the target masked.
func (v *Verification) String() string { return v.public().String() }

// GoString is like String.
func (v *Verification) GoString() string { return v.String() }

// public converts v to the provider's view.
func (v *Verification) public() provider.Verification {
	out := provider.Verification{
		ID:        v.SID,
		To:        v.To,
		Channel:   provider.Channel(strings.ToLower(v.Channel)),
		Status:    provider.Status(v.Status),
		RawStatus: v.Status,
		CreatedAt: v.DateCreated,
		UpdatedAt: v.DateUpdated,
		Detail:    v,
	}
	if v.SNA != nil {
		out.SNAURL = v.SNA.URL
	}
	if len(v.SendCodeAttempts) > 0 {
		out.SendAttempts = make([]provider.SendAttempt, len(v.SendCodeAttempts))
		for i, a := range v.SendCodeAttempts {
			out.SendAttempts[i] = provider.SendAttempt{Time: a.Time, Channel: provider.Channel(strings.ToLower(a.Channel)), ID: a.AttemptSID}
		}
	}
	return out
}

// RiskCheck switches Twilio's Fraud Guard on or off for one SMS start.
type RiskCheck string

// The RiskCheck values.
const (
	RiskCheckEnable  RiskCheck = "enable"
	RiskCheckDisable RiskCheck = "disable"
)

// StartParams are Twilio-only parameters of a verification start. Pass a
// StartParams (or a *StartParams) in verify.StartOptions.Extensions or
// provider.StartRequest.Extensions. Zero fields are not sent. The common
// parameters (Locale, CustomFriendlyName, CustomCode) come from the start
// request itself.
type StartParams struct {
	// SendDigits are DTMF tones to play when a call is answered ("ww1").
	SendDigits string
	// AppHash is the Android SMS Retriever hash to append to an SMS.
	AppHash string
	// TemplateSID selects a message template (HJ…).
	TemplateSID string
	// TemplateCustomSubstitutions fills the template's variables.
	TemplateCustomSubstitutions map[string]string
	// Email configures an email start.
	Email *EmailConfig
	// RateLimits gives values for the service's rate limits, keyed by
	// their unique names.
	RateLimits map[string]string
	// DeviceIP is the user's IP address, for channel auto.
	DeviceIP string
	// EnableSNAClientToken asks for an SNA client token.
	EnableSNAClientToken bool
	// RiskCheck switches Fraud Guard on or off for this start.
	RiskCheck RiskCheck
	// Tags are up to 10 key-value pairs of at most 128 characters each,
	// attached to the verification's logs. The start request's Reference,
	// when set, is added as the tag "reference" unless Tags has one.
	Tags map[string]string
	// Amount and Payee are a PSD2 transaction's, for services with PSD2
	// enabled.
	Amount, Payee string
}

// ExtensionFor returns "twilio".
func (StartParams) ExtensionFor() string { return Name }

// EmailConfig is the channel configuration of an email start.
type EmailConfig struct {
	From          string            `json:"from,omitempty"`
	FromName      string            `json:"from_name,omitempty"`
	TemplateID    string            `json:"template_id,omitempty"`
	Substitutions map[string]string `json:"substitutions,omitempty"`
}

// CheckParams are Twilio-only parameters of a check: the amount and payee
// of a PSD2 transaction, which must match the start's.
type CheckParams struct {
	Amount, Payee string
}

// ExtensionFor returns "twilio".
func (CheckParams) ExtensionFor() string { return Name }

// Start sends a verification code (or re-sends the pending one), with
// POST /v2/Services/{ServiceSid}/Verifications.
//
// API: https://www.twilio.com/docs/verify/api/verification#start-new-verification
func (c *Client) Start(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
	body, err := startBody(req)
	if err != nil {
		return provider.Verification{}, err
	}
	var v Verification
	err = c.do(ctx, call{
		op: opStart, method: http.MethodPost, body: body, secret: req.CustomCode,
		url: c.verificationsURL, ok: okCreated, wantTo: req.To,
	}, &v)
	if err != nil {
		return provider.Verification{}, err
	}
	return v.public(), nil
}

// startBody returns the encoded form of a start: built directly when the
// request has no Twilio extensions and no tags (the common case), else
// through startForm.
func startBody(req provider.StartRequest) ([]byte, error) {
	if len(req.Extensions) > 0 || req.Reference != "" {
		f, err := startForm(req)
		if err != nil {
			return nil, err
		}
		return []byte(f.Encode()), nil
	}
	if err := checkStart(req); err != nil {
		return nil, err
	}
	// The keys in order, as url.Values.Encode writes them.
	b := make(formBody, 0, 64+len(req.To)+len(req.Locale)+3*(len(req.FriendlyName)+len(req.CustomCode)))
	b.add("Channel", string(req.Channel))
	b.add("CustomCode", req.CustomCode)
	b.add("CustomFriendlyName", req.FriendlyName)
	b.add("Locale", req.Locale)
	b.add("To", req.To)
	return b, nil
}

// checkStart refuses a start request that must not be sent.
func checkStart(req provider.StartRequest) error {
	invalid := func(msg string) error { return invalidInput(opStart, msg) }
	switch {
	case !req.Channel.Known():
		return invalid("unknown channel")
	case !provider.ChannelFits(req.Channel, req.To):
		return invalid(targetProblem(req.Channel))
	case len(req.FriendlyName) > 30:
		return invalid("friendly name longer than 30 bytes")
	case len(req.Reference) > 128:
		return invalid("reference longer than 128 characters")
	}
	return nil
}

func startForm(req provider.StartRequest) (url.Values, error) {
	invalid := func(msg string) error { return invalidInput(opStart, msg) }
	if err := checkStart(req); err != nil {
		return nil, err
	}
	f := url.Values{"To": {req.To}, "Channel": {string(req.Channel)}}
	setForm(f, "Locale", req.Locale)
	setForm(f, "CustomFriendlyName", req.FriendlyName)
	setForm(f, "CustomCode", req.CustomCode)
	// Twilio keeps a verification's tags in its logs: the caller's
	// correlation ID goes there, unless the caller tags it otherwise.
	var tags map[string]string
	if req.Reference != "" {
		tags = map[string]string{"reference": req.Reference}
	}
	for p := range extensionsOf[StartParams](req.Extensions) {
		if tags == nil && len(p.Tags) > 0 {
			tags = make(map[string]string, len(p.Tags))
		}
		if err := p.addTo(f, tags); err != nil {
			return nil, invalid(err.Error())
		}
	}
	if len(tags) > 10 {
		return nil, invalid("more than 10 tags")
	}
	if len(tags) > 0 {
		b, _ := json.Marshal(tags) // a map of strings always encodes
		f.Set("Tags", string(b))
	}
	return f, nil
}

// addTo checks p and adds its parameters to f, and its tags to tags.
func (p StartParams) addTo(f url.Values, tags map[string]string) error {
	switch {
	case p.TemplateSID != "" && !wire.ValidSID(p.TemplateSID, "HJ"):
		return errors.New("template SID must be HJ followed by 32 hex digits")
	case p.DeviceIP != "" && net.ParseIP(p.DeviceIP) == nil:
		return errors.New("device IP is not an IP address")
	case p.RiskCheck != "" && p.RiskCheck != RiskCheckEnable && p.RiskCheck != RiskCheckDisable:
		return errors.New("risk check must be enable or disable")
	}
	for k, v := range p.Tags {
		if len(k) > 128 || len(v) > 128 {
			return errors.New("tag longer than 128 characters")
		}
		tags[k] = v
	}
	setForm(f, "SendDigits", p.SendDigits)
	setForm(f, "AppHash", p.AppHash)
	setForm(f, "TemplateSid", p.TemplateSID)
	setForm(f, "DeviceIp", p.DeviceIP)
	setForm(f, "RiskCheck", string(p.RiskCheck))
	setForm(f, "Amount", p.Amount)
	setForm(f, "Payee", p.Payee)
	if p.EnableSNAClientToken {
		f.Set("EnableSnaClientToken", "true")
	}
	if len(p.TemplateCustomSubstitutions) > 0 {
		if err := setJSON(f, "TemplateCustomSubstitutions", p.TemplateCustomSubstitutions); err != nil {
			return err
		}
	}
	if p.Email != nil {
		if err := setJSON(f, "ChannelConfiguration", p.Email); err != nil {
			return err
		}
	}
	if len(p.RateLimits) > 0 {
		return setJSON(f, "RateLimits", p.RateLimits)
	}
	return nil
}

// setForm sets k to v in f, unless v is empty.
func setForm(f url.Values, k, v string) {
	if v != "" {
		f[k] = []string{v}
	}
}

// setJSON sets k to v encoded as JSON in f.
func setJSON(f url.Values, k string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return errors.New("cannot encode " + k)
	}
	f[k] = []string{string(b)}
	return nil
}

// extensionsOf yields, in order, every extension in exts that is a T or a
// non-nil *T: a caller may pass either.
func extensionsOf[T any](exts []provider.Extension) iter.Seq[T] {
	return func(yield func(T) bool) {
		for _, e := range exts {
			switch v := any(e).(type) {
			case T:
				if !yield(v) {
					return
				}
			case *T:
				if v != nil && !yield(*v) {
					return
				}
			}
		}
	}
}

// targetProblem says what target ch needs, for a refusal.
func targetProblem(ch provider.Channel) string {
	switch ch {
	case provider.ChannelEmail:
		return "channel email needs an e-mail address"
	case provider.ChannelAuto:
		return "the target must be an E.164 phone number or an e-mail address"
	}
	return "the target must be an E.164 phone number"
}

// Check verifies a code, with POST
// /v2/Services/{ServiceSid}/VerificationCheck, keyed by the verification's
// SID when req.ID is set and by To otherwise. A wrong code gives status
// pending and a nil error.
//
// API: https://www.twilio.com/docs/verify/api/verification-check
func (c *Client) Check(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	if !wire.ValidCode(req.Code) {
		return provider.Verification{}, invalidInput(opCheck, "code must be 4 to 10 letters or digits")
	}
	return c.check(ctx, opCheck, req)
}

// CheckSNA checks a Silent Network Authentication verification (one
// started with channel sna), with POST
// /v2/Services/{ServiceSid}/VerificationCheck and no Code: the carrier
// proved the number when the device opened the verification's SNA URL
// (provider.Verification.SNAURL). It is keyed like Check, by req.ID when
// set and by req.To otherwise. req.Code is the SNA client token the
// device got from the URL when the start asked for one
// (StartParams.EnableSNAClientToken), sent as SnaClientToken; empty
// otherwise. It implements provider.SNAChecker.
//
// An approved answer is returned as is; canceled, expired and deleted
// ones are provider.ErrNotFound, max_attempts_reached
// provider.ErrTooManyChecks, and any other status is returned as is. A
// pending answer is a
// *provider.SNAError named by the last of the verification's
// sna_attempts_error_codes: 60519 (or none yet) matches
// provider.ErrNotYet (check again shortly), 60540 (the number is invalid)
// provider.ErrInvalidRequest (do not fall back), and every other code
// (60510, 60511, 60517, 60520, 60533, 60534, and codes Twilio adds later)
// provider.ErrUndeliverable (fall back to another channel). An error
// answer with one of these codes matches the same sentinels.
//
// API: https://www.twilio.com/docs/verify/api/verification-check
func (c *Client) CheckSNA(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	if len(req.Code) > 1024 || strings.ContainsAny(req.Code, " \r\n\t\x00") {
		return provider.Verification{}, invalidInput(opCheckSNA, "the SNA client token must be at most 1024 characters without spaces")
	}
	v, err := c.check(ctx, opCheckSNA, req)
	if err != nil || v.Approved() {
		return v, err
	}
	switch v.Status {
	case provider.StatusPending:
		return provider.Verification{}, snaPending(v.Detail.(*Verification))
	case provider.StatusCanceled, provider.StatusExpired, provider.StatusDeleted:
		return provider.Verification{}, &RequestError{Op: opCheckSNA, Err: errors.New("the verification is " + string(v.Status)), kind: provider.ErrNotFound}
	case provider.StatusMaxAttemptsReached:
		return provider.Verification{}, &RequestError{Op: opCheckSNA, Err: errors.New("the verification's attempts are spent"), kind: provider.ErrTooManyChecks}
	}
	return v, nil // another status: the caller reads it
}

// snaPending is the error of a pending answer to an SNA check: what the
// last attempt's error code means.
func snaPending(v *Verification) error {
	code := twiliocode.SNAPending
	if n := len(v.SNAAttemptErrors); n > 0 && v.SNAAttemptErrors[n-1].Code != 0 {
		code = v.SNAAttemptErrors[n-1].Code
	}
	e := &provider.SNAError{Op: "twilio: " + opCheckSNA, Kind: twiliocode.SNASentinel(code), Code: strconv.Itoa(code)}
	if en, ok := twiliocode.Lookup(code); ok {
		e.Description = en.Message
	}
	return e
}

// check sends a VerificationCheck; req.Code is sent when not empty, as
// the Code, or for an SNA check as the SnaClientToken.
func (c *Client) check(ctx context.Context, op string, req provider.CheckRequest) (provider.Verification, error) {
	switch {
	case req.ID != "":
		if !wire.ValidSID(req.ID, "VE") {
			return provider.Verification{}, unknownSID(op)
		}
	case req.To != "":
		if !provider.IsPhone(req.To) && !provider.IsEmail(req.To) {
			return provider.Verification{}, invalidInput(op, "To must be an E.164 phone number or an e-mail address")
		}
	default:
		return provider.Verification{}, invalidInput(op, "neither To nor VerificationSid given")
	}
	// The last non-empty Amount and Payee of the extensions count.
	var amount, payee string
	for p := range extensionsOf[CheckParams](req.Extensions) {
		amount = cmp.Or(p.Amount, amount)
		payee = cmp.Or(p.Payee, payee)
	}
	// The keys in order, as url.Values.Encode writes them.
	f := make(formBody, 0, 64+len(req.To)+len(req.ID)+len(req.Code)+3*(len(amount)+len(payee)))
	code, token := req.Code, ""
	if op == opCheckSNA {
		code, token = "", req.Code
	}
	f.add("Amount", amount)
	f.add("Code", code)
	f.add("Payee", payee)
	f.add("SnaClientToken", token)
	f.add("To", req.To)
	f.add("VerificationSid", req.ID)
	var v Verification
	err := c.do(ctx, call{
		op: op, method: http.MethodPost, body: f, secret: req.Code,
		url: c.checkURL, ok: okChecked, wantSID: req.ID, wantTo: req.To,
	}, &v)
	if err != nil {
		return provider.Verification{}, err
	}
	return v.public(), nil
}

// Fetch returns a pending verification, with GET
// /v2/Services/{ServiceSid}/Verifications/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/verification#fetch-a-verification
func (c *Client) Fetch(ctx context.Context, sid string) (provider.Verification, error) {
	return c.byID(ctx, opFetch, http.MethodGet, sid, nil)
}

// Cancel cancels a pending verification, with POST
// /v2/Services/{ServiceSid}/Verifications/{Sid} and Status=canceled.
//
// API: https://www.twilio.com/docs/verify/api/verification#update-a-verification-status
func (c *Client) Cancel(ctx context.Context, sid string) (provider.Verification, error) {
	return c.byID(ctx, opCancel, http.MethodPost, sid, url.Values{"Status": {"canceled"}})
}

// Approve approves a pending verification without a code, with POST
// /v2/Services/{ServiceSid}/Verifications/{Sid} and Status=approved. It is
// meant for flows that send and check a custom code themselves.
//
// API: https://www.twilio.com/docs/verify/api/verification#update-a-verification-status
func (c *Client) Approve(ctx context.Context, sid string) (provider.Verification, error) {
	return c.byID(ctx, opApprove, http.MethodPost, sid, url.Values{"Status": {"approved"}})
}

func (c *Client) byID(ctx context.Context, op, method, sid string, form url.Values) (provider.Verification, error) {
	if sid == "" {
		return provider.Verification{}, invalidInput(op, "empty verification SID")
	}
	if !wire.ValidSID(sid, "VE") {
		return provider.Verification{}, unknownSID(op)
	}
	var v Verification
	err := c.do(ctx, call{
		op: op, method: method, form: form,
		path: "/v2/Services/" + c.serviceSID + "/Verifications/" + sid,
		ok:   okOK, wantSID: sid,
	}, &v)
	if err != nil {
		return provider.Verification{}, err
	}
	return v.public(), nil
}

// checkAnswer says why v is not a well-formed answer about the
// verification sid (any verification when sid is empty) of the target to
// (any target when to is empty), or returns nil.
func (c *Client) checkAnswer(v *Verification, sid, to string) error {
	switch {
	case !wire.ValidSID(v.SID, "VE"):
		return errors.New("the answer has no verification SID")
	case sid != "" && v.SID != sid:
		return errors.New("the answer is about another verification (" + v.SID + ", not " + sid + ")")
	case v.Status == "":
		return errors.New("the answer has no status")
	case v.ServiceSID != "" && v.ServiceSID != c.serviceSID:
		return errors.New("the answer is about another service")
	case to != "" && v.To != "" && !sameTarget(v.To, to):
		return errors.New("the answer is about another target")
	case provider.Status(v.Status) == provider.StatusApproved && !v.Valid:
		return errors.New("the answer says approved but not valid")
	}
	return nil
}

// sameTarget reports whether two targets are the same: phone numbers
// exactly, e-mail addresses without regard to case.
func sameTarget(a, b string) bool {
	return a == b || strings.Contains(a, "@") && strings.EqualFold(a, b)
}
