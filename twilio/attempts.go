package twilio

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/internal/wire"
)

// AttemptChannel is the channel of a Verification Attempt.
type AttemptChannel string

// The channels of Verification Attempts.
const (
	AttemptSMS      AttemptChannel = "sms"
	AttemptCall     AttemptChannel = "call"
	AttemptEmail    AttemptChannel = "email"
	AttemptWhatsApp AttemptChannel = "whatsapp"
	AttemptRBM      AttemptChannel = "rbm"
)

// ConversionStatus says whether an attempt's verification was approved.
type ConversionStatus string

// The conversion statuses of Verification Attempts.
const (
	Converted   ConversionStatus = "converted"
	Unconverted ConversionStatus = "unconverted"
)

// AttemptStatus is the status in an attempt's channel data.
type AttemptStatus string

// The attempt statuses.
const (
	AttemptConfirmed   AttemptStatus = "confirmed"
	AttemptUnconfirmed AttemptStatus = "unconfirmed"
	AttemptExpired     AttemptStatus = "expired"
)

// VerificationAttempt is one code sent by a start (Twilio's Verification
// Attempts, account-wide): its channel, its cost and whether its
// verification was approved.
type VerificationAttempt struct {
	SID              string              `json:"sid"` // VL…, the attempt_sid of send_code_attempts
	AccountSID       string              `json:"account_sid"`
	ServiceSID       string              `json:"service_sid"`
	VerificationSID  string              `json:"verification_sid"`
	DateCreated      time.Time           `json:"date_created"`
	DateUpdated      time.Time           `json:"date_updated"`
	ConversionStatus ConversionStatus    `json:"conversion_status"`
	Channel          AttemptChannel      `json:"channel"`
	Price            *AttemptPrice       `json:"price"`
	ChannelData      *AttemptChannelData `json:"channel_data"`
	URL              string              `json:"url"`
}

// String describes a without its destination.
func (a VerificationAttempt) String() string {
	to := ""
	if a.ChannelData != nil {
		to = mask.Target(a.ChannelData.To)
	}
	return "twilio.VerificationAttempt{SID:" + a.SID + " Verification:" + a.VerificationSID + " Channel:" + string(a.Channel) +
		" Status:" + string(a.ConversionStatus) + " To:" + to + "}"
}

// GoString is like String.
func (a VerificationAttempt) GoString() string { return a.String() }

// AttemptPrice is what an attempt cost; Twilio may fill it in late.
type AttemptPrice struct {
	Value    string `json:"value"`
	Currency string `json:"currency"`
}

// AttemptChannelData is the channel-specific part of an attempt, as
// Twilio's example shows it (the specification leaves it free-form).
// MessageStatus is set for messages, CallStatus for calls.
type AttemptChannelData struct {
	VerificationSID string        `json:"verification_sid"`
	To              string        `json:"to"`
	Status          AttemptStatus `json:"status"`
	MessageStatus   string        `json:"message_status"`
	CallStatus      string        `json:"call_status"`
	ErrorCode       string        `json:"error_code"`
	Country         string        `json:"country"`
	CodeLength      int           `json:"code_length"`
	Locale          string        `json:"locale"`
	MCC             string        `json:"mcc"`
	MNC             string        `json:"mnc"`
	Carrier         string        `json:"carrier"`
}

// AttemptFilter selects the attempts ListAttempts returns; zero fields do
// not filter.
type AttemptFilter struct {
	DateCreatedAfter, DateCreatedBefore time.Time
	To                                  string // ChannelData.To
	Country                             string // ISO 3166-1 alpha-2
	Channel                             AttemptChannel
	ServiceSID                          string // VA…
	VerificationSID                     string // VE…
	Status                              ConversionStatus
}

// SummaryFilter selects the attempts FetchAttemptsSummary counts; zero
// fields do not filter.
type SummaryFilter struct {
	DateCreatedAfter, DateCreatedBefore time.Time
	Country                             string
	Channel                             AttemptChannel
	ServiceSID                          string
	DestinationPrefix                   string // E.164 prefix, such as +57305
}

// AttemptsSummary counts attempts and how many converted.
type AttemptsSummary struct {
	TotalAttempts    int `json:"total_attempts"`
	TotalConverted   int `json:"total_converted"`
	TotalUnconverted int `json:"total_unconverted"`
	// ConversionRatePercentage is Twilio's decimal text, such as
	// "81.818181818".
	ConversionRatePercentage string `json:"conversion_rate_percentage"`
	URL                      string `json:"url"`
}

const (
	opListAttempts   = "list attempts"
	opFetchAttempt   = "fetch attempt"
	opAttemptSummary = "fetch attempts summary"
)

// query builds the filters of a list or summary, or says which is
// malformed.
func attemptQuery(op string, after, before time.Time, country string, ch AttemptChannel, service string) (url.Values, error) {
	f := url.Values{}
	if !after.IsZero() {
		f.Set("DateCreatedAfter", after.UTC().Format(time.RFC3339))
	}
	if !before.IsZero() {
		f.Set("DateCreatedBefore", before.UTC().Format(time.RFC3339))
	}
	if country != "" {
		if len(country) != 2 {
			return nil, invalidInput(op, "Country must be an ISO 3166-1 alpha-2 code")
		}
		f.Set("Country", country)
	}
	switch ch {
	case "":
	case AttemptSMS, AttemptCall, AttemptEmail, AttemptWhatsApp, AttemptRBM:
		f.Set("Channel", string(ch))
	default:
		return nil, invalidInput(op, "unknown Channel")
	}
	if service != "" {
		if !wire.ValidSID(service, "VA") {
			return nil, invalidInput(op, "service SID must be VA followed by 32 hex digits")
		}
		f.Set("VerifyServiceSid", service)
	}
	return f, nil
}

func checkAttempt(a *VerificationAttempt, sid string) error {
	switch {
	case !wire.ValidSID(a.SID, "VL"):
		return errors.New("the answer has no attempt SID")
	case sid != "" && a.SID != sid:
		return errors.New("the answer is about another attempt")
	}
	return nil
}

// ListAttempts returns the account's Verification Attempts that f selects,
// with GET /v2/Attempts, paged as ListServices is.
//
// API: https://www.twilio.com/docs/verify/api/list-verification-attempts#read-multiple-verificationattempt-resources
func (c *Client) ListAttempts(ctx context.Context, f AttemptFilter, opts ListOptions) ([]VerificationAttempt, error) {
	return collect(c.Attempts(ctx, f, opts))
}

// Attempts returns an iterator over the attempts f selects, which reads
// pages as the loop needs them.
func (c *Client) Attempts(ctx context.Context, f AttemptFilter, opts ListOptions) iter.Seq2[VerificationAttempt, error] {
	q, err := attemptQuery(opListAttempts, f.DateCreatedAfter, f.DateCreatedBefore, f.Country, f.Channel, f.ServiceSID)
	if err == nil && f.VerificationSID != "" && !wire.ValidSID(f.VerificationSID, "VE") {
		err = invalidInput(opListAttempts, "verification SID must be VE followed by 32 hex digits")
	}
	if err == nil && f.Status != "" && f.Status != Converted && f.Status != Unconverted {
		err = invalidInput(opListAttempts, "unknown Status")
	}
	if err != nil {
		return func(yield func(VerificationAttempt, error) bool) { yield(VerificationAttempt{}, err) }
	}
	for k, v := range map[string]string{"ChannelData.To": f.To, "VerificationSid": f.VerificationSID, "Status": string(f.Status)} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return pages(ctx, c, opListAttempts, "/v2/Attempts", "attempts", q, opts, func(a *VerificationAttempt) error { return checkAttempt(a, "") })
}

// FetchAttempt returns the Verification Attempt sid (VL…), with GET
// /v2/Attempts/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/list-verification-attempts#fetch-a-verificationattempt-resource
func (c *Client) FetchAttempt(ctx context.Context, sid string) (VerificationAttempt, error) {
	if !wire.ValidSID(sid, "VL") {
		return VerificationAttempt{}, invalidInput(opFetchAttempt, "attempt SID must be VL followed by 32 hex digits")
	}
	var a VerificationAttempt
	err := c.do(ctx, call{op: opFetchAttempt, method: http.MethodGet, path: "/v2/Attempts/" + sid, ok: okOK,
		check: func() error { return checkAttempt(&a, sid) }}, &a)
	return a, err
}

// FetchAttemptsSummary counts the attempts f selects and how many
// converted, with GET /v2/Attempts/Summary.
//
// API: https://www.twilio.com/docs/verify/api/summary-verification-attempts
func (c *Client) FetchAttemptsSummary(ctx context.Context, f SummaryFilter) (AttemptsSummary, error) {
	q, err := attemptQuery(opAttemptSummary, f.DateCreatedAfter, f.DateCreatedBefore, f.Country, f.Channel, f.ServiceSID)
	if err != nil {
		return AttemptsSummary{}, err
	}
	if f.DestinationPrefix != "" {
		q.Set("DestinationPrefix", f.DestinationPrefix)
	}
	var s AttemptsSummary
	err = c.do(ctx, call{op: opAttemptSummary, method: http.MethodGet, path: "/v2/Attempts/Summary", form: q, ok: okOK}, &s)
	return s, err
}
