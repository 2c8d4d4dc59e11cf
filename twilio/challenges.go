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
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// Challenge is Twilio's Challenge resource, with every field of the API's
// verify.v2.service.entity.challenge. provider.Challenge.Detail holds one
// for every challenge the client returns.
type Challenge struct {
	SID             string            `json:"sid"` // YC…
	AccountSID      string            `json:"account_sid"`
	ServiceSID      string            `json:"service_sid"`
	EntitySID       string            `json:"entity_sid"`
	Identity        string            `json:"identity"`
	FactorSID       string            `json:"factor_sid"`
	DateCreated     time.Time         `json:"date_created"`
	DateUpdated     time.Time         `json:"date_updated"`
	DateResponded   time.Time         `json:"date_responded"`
	ExpirationDate  time.Time         `json:"expiration_date"`
	Status          string            `json:"status"`           // pending, expired, approved, denied
	RespondedReason string            `json:"responded_reason"` // none, not_needed, not_requested
	Details         *ChallengeDetails `json:"details"`
	HiddenDetails   map[string]string `json:"hidden_details"`
	Metadata        map[string]string `json:"metadata"`
	FactorType      string            `json:"factor_type"`
	URL             string            `json:"url"`
	Links           map[string]string `json:"links"` // notifications
}

// ChallengeDetails is what a push challenge shows on the device.
type ChallengeDetails struct {
	Message string           `json:"message"`
	Date    string           `json:"date,omitempty"`
	Fields  []ChallengeField `json:"fields,omitempty"`
}

// ChallengeField is one label and value of ChallengeDetails.
type ChallengeField struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// String describes the challenge.
func (ch *Challenge) String() string { return ch.public().String() }

// GoString is like String.
func (ch *Challenge) GoString() string { return ch.String() }

func (ch *Challenge) public() provider.Challenge {
	return provider.Challenge{
		ID: ch.SID, Identity: ch.Identity, FactorID: ch.FactorSID,
		Status:    provider.ChallengeStatus(ch.Status),
		CreatedAt: ch.DateCreated, UpdatedAt: ch.DateUpdated, RespondedAt: ch.DateResponded,
		ExpiresAt: ch.ExpirationDate, Push: ch.pushDetails(), Detail: ch,
	}
}

// ChallengeParams are Twilio-specific parameters of a challenge's creation,
// as a provider.Extension of a ChallengeRequest.
type ChallengeParams struct {
	// Details is what a push challenge shows on the device
	// (Details.Message, at most 256 bytes, and up to 20 Details.Fields).
	Details *ChallengeDetails
	// HiddenDetails are details not shown to the user, such as the IP
	// address of the login (string values, at most 1024 bytes as JSON).
	HiddenDetails map[string]string
}

// ExtensionFor returns "twilio".
func (ChallengeParams) ExtensionFor() string { return Name }

// ChallengeListOptions filter Challenges. Zero fields do not filter.
type ChallengeListOptions struct {
	FactorSID string                   // YF…
	Status    provider.ChallengeStatus // pending, expired, approved or denied
	Order     string                   // asc (Twilio's default) or desc
	PageSize  int                      // 1 to 1000; 0 means Twilio's default (50)
	Limit     int                      // stop after this many; 0 means all
}

func (c *Client) challengePath(op, identity, sid string) (string, error) {
	path, err := c.entityPath(op, identity)
	if err != nil {
		return "", err
	}
	switch {
	case sid == "":
		return "", invalidInput(op, "empty challenge SID")
	case !wire.ValidSID(sid, "YC"):
		return "", unknownFactorSID(op, "challenge")
	}
	return path + "/Challenges/" + sid, nil
}

// ChallengeFactor checks a code, with POST
// /v2/Services/{ServiceSid}/Entities/{Identity}/Challenges and FactorSid,
// AuthPayload (the code, evaluated at creation) and ExpirationDate (when
// req.ExpiresAt is set). A right code gives status approved; a wrong one
// gives a pending challenge and no error (Twilio before 2021-10-27 answered
// 403 with error 60324 instead, which the client turns into the same
// outcome, without a challenge ID).
//
// A challenge's creation is not idempotent: like a verification check it
// is retried only when it provably did not reach Twilio, and otherwise
// fails with ErrOutcomeUnknown.
//
// API: https://www.twilio.com/docs/verify/api/challenge#create-a-challenge-resource
func (c *Client) ChallengeFactor(ctx context.Context, req provider.ChallengeRequest) (provider.Challenge, error) {
	const op = opCreateChallenge
	path, err := c.entityPath(op, req.Identity)
	if err != nil {
		return provider.Challenge{}, err
	}
	switch {
	case req.FactorID == "":
		return provider.Challenge{}, invalidInput(op, "empty factor SID")
	case req.Code != "" && !validTOTPCode(req.Code):
		return provider.Challenge{}, invalidInput(op, "code must be 3 to 8 digits")
	}
	if !wire.ValidSID(req.FactorID, "YF") {
		return provider.Challenge{}, unknownFactorSID(op, "factor")
	}
	f := url.Values{"FactorSid": {req.FactorID}}
	setForm(f, "AuthPayload", req.Code)
	if !req.ExpiresAt.IsZero() {
		f.Set("ExpirationDate", req.ExpiresAt.UTC().Format(time.RFC3339))
	}
	for _, ext := range req.Extensions {
		var p *ChallengeParams
		switch e := ext.(type) {
		case ChallengeParams:
			p = &e
		case *ChallengeParams:
			p = e
		}
		if p == nil {
			continue
		}
		if d := p.Details; d != nil {
			if len(d.Message) > 256 || len(d.Fields) > 20 {
				return provider.Challenge{}, invalidInput(op, "details: message at most 256 bytes, at most 20 fields")
			}
			setForm(f, "Details.Message", d.Message)
			for _, fl := range d.Fields {
				b, _ := json.Marshal(fl)
				f.Add("Details.Fields", string(b))
			}
		}
		if p.HiddenDetails != nil {
			b, err := json.Marshal(p.HiddenDetails)
			if err != nil || len(b) > 1024 {
				return provider.Challenge{}, invalidInput(op, "hidden details must be at most 1024 bytes of JSON")
			}
			f.Set("HiddenDetails", string(b))
		}
	}
	var ch Challenge
	err = c.do(ctx, call{op: op, method: http.MethodPost, path: path + "/Challenges", form: f, secrets: []string{req.Code},
		ok: []int{http.StatusCreated, http.StatusOK}}, &ch)
	if CodeOf(err) == twiliocode.ChallengeVerifyFailed {
		return provider.Challenge{Identity: req.Identity, FactorID: req.FactorID, Status: provider.ChallengePending}, nil
	}
	if err != nil {
		return provider.Challenge{}, err
	}
	return ch.public(), nil
}

// UpdateChallenge answers a pending challenge, with POST
// /v2/Services/{ServiceSid}/Entities/{Identity}/Challenges/{Sid} and
// AuthPayload (a TOTP code, or a push device's signed answer) and Metadata.
// Like a creation it is not retried once it may have reached Twilio.
//
// API: https://www.twilio.com/docs/verify/api/challenge#update-a-challenge-resource
func (c *Client) UpdateChallenge(ctx context.Context, identity, sid, authPayload string, metadata map[string]string) (provider.Challenge, error) {
	const op = opUpdateChallenge
	path, err := c.challengePath(op, identity, sid)
	if err != nil {
		return provider.Challenge{}, err
	}
	if authPayload == "" || len(authPayload) > 5456 {
		return provider.Challenge{}, invalidInput(op, "AuthPayload must be 1 to 5456 bytes")
	}
	f := url.Values{"AuthPayload": {authPayload}}
	if metadata != nil {
		b, err := json.Marshal(metadata)
		if err != nil || len(b) > 1024 {
			return provider.Challenge{}, invalidInput(op, "metadata must be at most 1024 bytes of JSON")
		}
		f.Set("Metadata", string(b))
	}
	var ch Challenge
	err = c.do(ctx, call{op: op, method: http.MethodPost, path: path, form: f, secrets: []string{authPayload}, ok: []int{http.StatusOK}}, &ch)
	if CodeOf(err) == twiliocode.ChallengeVerifyFailed {
		return provider.Challenge{ID: sid, Identity: identity, Status: provider.ChallengePending}, nil
	}
	if err != nil {
		return provider.Challenge{}, err
	}
	return ch.public(), nil
}

// FetchChallenge returns a challenge, with GET
// /v2/Services/{ServiceSid}/Entities/{Identity}/Challenges/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/challenge#fetch-a-challenge-resource
func (c *Client) FetchChallenge(ctx context.Context, identity, sid string) (provider.Challenge, error) {
	path, err := c.challengePath(opFetchChallenge, identity, sid)
	if err != nil {
		return provider.Challenge{}, err
	}
	var ch Challenge
	if err := c.do(ctx, call{op: opFetchChallenge, method: http.MethodGet, path: path, ok: []int{http.StatusOK}}, &ch); err != nil {
		return provider.Challenge{}, err
	}
	return ch.public(), nil
}

// ListChallenges returns identity's challenges, with GET
// /v2/Services/{ServiceSid}/Entities/{Identity}/Challenges, only those of
// q.FactorID and with q.Status when they are set, following every page;
// Challenges reads them with every filter and page option of the API.
//
// API: https://www.twilio.com/docs/verify/api/challenge#read-multiple-challenge-resources
func (c *Client) ListChallenges(ctx context.Context, identity string, q provider.ChallengeQuery) ([]provider.Challenge, error) {
	out, err := collect(c.Challenges(ctx, identity, ChallengeListOptions{FactorSID: q.FactorID, Status: q.Status}))
	if out == nil && err == nil {
		out = []provider.Challenge{}
	}
	return out, err
}

// Challenges returns an iterator over identity's challenges, with GET
// /v2/Services/{ServiceSid}/Entities/{Identity}/Challenges and the filters
// of opts (FactorSid, Status, Order), which reads pages (of opts.PageSize)
// as the loop needs them, until opts.Limit.
func (c *Client) Challenges(ctx context.Context, identity string, opts ChallengeListOptions) iter.Seq2[provider.Challenge, error] {
	const op = opListChallenges
	fail := func(err error) iter.Seq2[provider.Challenge, error] {
		return func(yield func(provider.Challenge, error) bool) { yield(provider.Challenge{}, err) }
	}
	path, err := c.entityPath(op, identity)
	if err != nil {
		return fail(err)
	}
	f := url.Values{}
	if opts.FactorSID != "" {
		if !wire.ValidSID(opts.FactorSID, "YF") {
			return fail(invalidInput(op, "factor SID must be YF followed by 32 hex digits"))
		}
		f.Set("FactorSid", opts.FactorSID)
	}
	switch opts.Status {
	case "", provider.ChallengePending, provider.ChallengeApproved, provider.ChallengeDenied, provider.ChallengeExpired:
		setForm(f, "Status", string(opts.Status))
	default:
		return fail(invalidInput(op, "status must be pending, approved, denied or expired"))
	}
	switch opts.Order {
	case "", "asc", "desc":
		setForm(f, "Order", opts.Order)
	default:
		return fail(invalidInput(op, "order must be asc or desc"))
	}
	seq := pages(ctx, c, op, path+"/Challenges", "challenges", f, ListOptions{PageSize: opts.PageSize, Limit: opts.Limit}, func(ch *Challenge) error {
		if !wire.ValidSID(ch.SID, "YC") {
			return errors.New("the answer has no challenge SID")
		}
		return nil
	})
	return func(yield func(provider.Challenge, error) bool) {
		for ch, err := range seq {
			if err != nil {
				yield(provider.Challenge{}, err)
				return
			}
			if !yield(ch.public(), nil) {
				return
			}
		}
	}
}
