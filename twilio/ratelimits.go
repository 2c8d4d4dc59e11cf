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
)

// RateLimit is one of a Verify Service's programmable rate limits: a named
// key (an IP address, a user ID, a number prefix…) whose values a start
// gives in StartParams.RateLimits, limited by its Buckets.
type RateLimit struct {
	SID         string            `json:"sid"` // RK…
	ServiceSID  string            `json:"service_sid"`
	AccountSID  string            `json:"account_sid"`
	UniqueName  string            `json:"unique_name"`
	Description string            `json:"description"`
	DateCreated time.Time         `json:"date_created"`
	DateUpdated time.Time         `json:"date_updated"`
	URL         string            `json:"url"`
	Links       map[string]string `json:"links"`
}

// Bucket is a limit on a RateLimit: at most Max starts per value of the
// limit in any Interval seconds.
type Bucket struct {
	SID          string    `json:"sid"` // BL…
	RateLimitSID string    `json:"rate_limit_sid"`
	ServiceSID   string    `json:"service_sid"`
	AccountSID   string    `json:"account_sid"`
	Max          int       `json:"max"`
	Interval     int       `json:"interval"` // seconds
	DateCreated  time.Time `json:"date_created"`
	DateUpdated  time.Time `json:"date_updated"`
	URL          string    `json:"url"`
}

// BucketParams are the parameters of CreateBucket and UpdateBucket. A zero
// field is not sent (UpdateBucket leaves it as it is); CreateBucket needs
// both.
type BucketParams struct {
	Max      int // starts per interval, at least 1
	Interval int // seconds, at least 1
}

const (
	opCreateRateLimit = "create rate limit"
	opFetchRateLimit  = "fetch rate limit"
	opUpdateRateLimit = "update rate limit"
	opDeleteRateLimit = "delete rate limit"
	opListRateLimits  = "list rate limits"
	opCreateBucket    = "create bucket"
	opFetchBucket     = "fetch bucket"
	opUpdateBucket    = "update bucket"
	opDeleteBucket    = "delete bucket"
	opListBuckets     = "list buckets"
)

func (c *Client) rateLimitsPath() string { return "/v2/Services/" + c.serviceSID + "/RateLimits" }

// rateLimitPath returns the path of the rate limit sid, after checking it.
func (c *Client) rateLimitPath(op, sid string) (string, error) {
	if !wire.ValidSID(sid, "RK") {
		return "", invalidInput(op, "rate limit SID must be RK followed by 32 hex digits")
	}
	return c.rateLimitsPath() + "/" + sid, nil
}

// bucketPath returns the path of the bucket sid of the rate limit
// rateLimitSID (sid empty: of its buckets), after checking them.
func (c *Client) bucketPath(op, rateLimitSID, sid string) (string, error) {
	p, err := c.rateLimitPath(op, rateLimitSID)
	if err != nil {
		return "", err
	}
	p += "/Buckets"
	if sid == "" {
		return p, nil
	}
	if !wire.ValidSID(sid, "BL") {
		return "", invalidInput(op, "bucket SID must be BL followed by 32 hex digits")
	}
	return p + "/" + sid, nil
}

// rateLimitCheck says why l is not an answer about the rate limit sid
// (any of the client's service when sid is empty).
func (c *Client) rateLimitCheck(l *RateLimit, sid string) func() error {
	return func() error {
		switch {
		case !wire.ValidSID(l.SID, "RK"):
			return errors.New("the answer has no rate limit SID")
		case sid != "" && l.SID != sid:
			return errors.New("the answer is about another rate limit")
		case l.ServiceSID != c.serviceSID:
			return errors.New("the answer is about another service")
		}
		return nil
	}
}

// bucketCheck says why b is not an answer about the bucket sid (any bucket
// of rateLimitSID when sid is empty).
func bucketCheck(b *Bucket, rateLimitSID, sid string) func() error {
	return func() error {
		switch {
		case !wire.ValidSID(b.SID, "BL"):
			return errors.New("the answer has no bucket SID")
		case sid != "" && b.SID != sid:
			return errors.New("the answer is about another bucket")
		case b.RateLimitSID != rateLimitSID:
			return errors.New("the answer is about another rate limit")
		}
		return nil
	}
}

// CreateRateLimit creates a rate limit named uniqueName (the key a start's
// StartParams.RateLimits gives values for; it names a kind of value, never
// personal data), with an optional description, with POST
// /v2/Services/{ServiceSid}/RateLimits.
//
// API: https://www.twilio.com/docs/verify/api/service-rate-limits#create-a-service-rate-limit
func (c *Client) CreateRateLimit(ctx context.Context, uniqueName, description string) (RateLimit, error) {
	if uniqueName == "" {
		return RateLimit{}, invalidInput(opCreateRateLimit, "UniqueName is required")
	}
	f := url.Values{"UniqueName": {uniqueName}}
	if description != "" {
		f.Set("Description", description)
	}
	var l RateLimit
	err := c.do(ctx, call{op: opCreateRateLimit, method: http.MethodPost, path: c.rateLimitsPath(), form: f, ok: okCreated, check: c.rateLimitCheck(&l, "")}, &l)
	return l, err
}

// FetchRateLimit returns the rate limit sid, with GET
// /v2/Services/{ServiceSid}/RateLimits/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/service-rate-limits#fetch-a-service-rate-limit
func (c *Client) FetchRateLimit(ctx context.Context, sid string) (RateLimit, error) {
	p, err := c.rateLimitPath(opFetchRateLimit, sid)
	if err != nil {
		return RateLimit{}, err
	}
	var l RateLimit
	err = c.do(ctx, call{op: opFetchRateLimit, method: http.MethodGet, path: p, ok: okOK, check: c.rateLimitCheck(&l, sid)}, &l)
	return l, err
}

// UpdateRateLimit sets the description of the rate limit sid (its
// UniqueName cannot change), with POST
// /v2/Services/{ServiceSid}/RateLimits/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/service-rate-limits#update-a-service-rate-limit
func (c *Client) UpdateRateLimit(ctx context.Context, sid, description string) (RateLimit, error) {
	p, err := c.rateLimitPath(opUpdateRateLimit, sid)
	if err != nil {
		return RateLimit{}, err
	}
	var l RateLimit
	err = c.do(ctx, call{op: opUpdateRateLimit, method: http.MethodPost, path: p, form: url.Values{"Description": {description}}, ok: okOK, check: c.rateLimitCheck(&l, sid)}, &l)
	return l, err
}

// DeleteRateLimit deletes the rate limit sid and its buckets, with DELETE
// /v2/Services/{ServiceSid}/RateLimits/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/service-rate-limits#delete-a-service-rate-limit
func (c *Client) DeleteRateLimit(ctx context.Context, sid string) error {
	p, err := c.rateLimitPath(opDeleteRateLimit, sid)
	if err != nil {
		return err
	}
	return c.do(ctx, call{op: opDeleteRateLimit, method: http.MethodDelete, path: p, ok: okDeleted}, nil)
}

// ListRateLimits returns the service's rate limits, with GET
// /v2/Services/{ServiceSid}/RateLimits, paged as ListServices is.
//
// API: https://www.twilio.com/docs/verify/api/service-rate-limits#read-multiple-service-rate-limits
func (c *Client) ListRateLimits(ctx context.Context, opts ListOptions) ([]RateLimit, error) {
	return collect(c.RateLimits(ctx, opts))
}

// RateLimits returns an iterator over the service's rate limits, which
// reads pages as the loop needs them, as Services does.
func (c *Client) RateLimits(ctx context.Context, opts ListOptions) iter.Seq2[RateLimit, error] {
	return pages(ctx, c, opListRateLimits, c.rateLimitsPath(), "rate_limits", nil, opts, func(l *RateLimit) error {
		return c.rateLimitCheck(l, "")()
	})
}

func (p BucketParams) form(op string, create bool) (url.Values, error) {
	if create && (p.Max == 0 || p.Interval == 0) {
		return nil, invalidInput(op, "Max and Interval are required")
	}
	if p.Max < 0 || p.Interval < 0 {
		return nil, invalidInput(op, "Max and Interval must be positive")
	}
	f := url.Values{}
	if p.Max > 0 {
		f.Set("Max", strconv.Itoa(p.Max))
	}
	if p.Interval > 0 {
		f.Set("Interval", strconv.Itoa(p.Interval))
	}
	return f, nil
}

// CreateBucket adds a bucket to the rate limit rateLimitSID, with POST
// /v2/Services/{ServiceSid}/RateLimits/{RateLimitSid}/Buckets.
//
// API: https://www.twilio.com/docs/verify/api/service-rate-limit-buckets#create-a-bucket
func (c *Client) CreateBucket(ctx context.Context, rateLimitSID string, p BucketParams) (Bucket, error) {
	path, err := c.bucketPath(opCreateBucket, rateLimitSID, "")
	if err != nil {
		return Bucket{}, err
	}
	f, err := p.form(opCreateBucket, true)
	if err != nil {
		return Bucket{}, err
	}
	var b Bucket
	err = c.do(ctx, call{op: opCreateBucket, method: http.MethodPost, path: path, form: f, ok: okCreated, check: bucketCheck(&b, rateLimitSID, "")}, &b)
	return b, err
}

// FetchBucket returns the bucket sid of the rate limit rateLimitSID, with
// GET /v2/Services/{ServiceSid}/RateLimits/{RateLimitSid}/Buckets/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/service-rate-limit-buckets#fetch-a-bucket
func (c *Client) FetchBucket(ctx context.Context, rateLimitSID, sid string) (Bucket, error) {
	path, err := c.bucketPath(opFetchBucket, rateLimitSID, sid)
	if err != nil {
		return Bucket{}, err
	}
	var b Bucket
	err = c.do(ctx, call{op: opFetchBucket, method: http.MethodGet, path: path, ok: okOK, check: bucketCheck(&b, rateLimitSID, sid)}, &b)
	return b, err
}

// UpdateBucket changes what p sets of the bucket sid, with POST
// /v2/Services/{ServiceSid}/RateLimits/{RateLimitSid}/Buckets/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/service-rate-limit-buckets#update-a-bucket
func (c *Client) UpdateBucket(ctx context.Context, rateLimitSID, sid string, p BucketParams) (Bucket, error) {
	path, err := c.bucketPath(opUpdateBucket, rateLimitSID, sid)
	if err != nil {
		return Bucket{}, err
	}
	f, err := p.form(opUpdateBucket, false)
	if err != nil {
		return Bucket{}, err
	}
	var b Bucket
	err = c.do(ctx, call{op: opUpdateBucket, method: http.MethodPost, path: path, form: f, ok: okOK, check: bucketCheck(&b, rateLimitSID, sid)}, &b)
	return b, err
}

// DeleteBucket deletes the bucket sid, with DELETE
// /v2/Services/{ServiceSid}/RateLimits/{RateLimitSid}/Buckets/{Sid}.
//
// API: https://www.twilio.com/docs/verify/api/service-rate-limit-buckets#delete-a-bucket
func (c *Client) DeleteBucket(ctx context.Context, rateLimitSID, sid string) error {
	path, err := c.bucketPath(opDeleteBucket, rateLimitSID, sid)
	if err != nil {
		return err
	}
	return c.do(ctx, call{op: opDeleteBucket, method: http.MethodDelete, path: path, ok: okDeleted}, nil)
}

// ListBuckets returns the buckets of the rate limit rateLimitSID, with GET
// /v2/Services/{ServiceSid}/RateLimits/{RateLimitSid}/Buckets, paged as
// ListServices is.
//
// API: https://www.twilio.com/docs/verify/api/service-rate-limit-buckets#read-multiple-buckets
func (c *Client) ListBuckets(ctx context.Context, rateLimitSID string, opts ListOptions) ([]Bucket, error) {
	return collect(c.Buckets(ctx, rateLimitSID, opts))
}

// Buckets returns an iterator over the buckets of the rate limit
// rateLimitSID, which reads pages as the loop needs them.
func (c *Client) Buckets(ctx context.Context, rateLimitSID string, opts ListOptions) iter.Seq2[Bucket, error] {
	path, err := c.bucketPath(opListBuckets, rateLimitSID, "")
	if err != nil {
		return func(yield func(Bucket, error) bool) { yield(Bucket{}, err) }
	}
	return pages(ctx, c, opListBuckets, path, "buckets", nil, opts, func(b *Bucket) error {
		return bucketCheck(b, rateLimitSID, "")()
	})
}
