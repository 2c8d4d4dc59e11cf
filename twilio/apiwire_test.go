package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

const (
	rkSID = "RKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	blSID = "BLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	gnSID = "GNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

// wireCase is one call and what the server must see and answer.
type wireCase struct {
	name                string
	call                func(context.Context, *twilio.Client) (any, error)
	method, path, query string
	form                url.Values
	status              int
	answer              string
	want                any
}

// runWire runs each case against a server that records the request and
// answers the case's body, and compares the request and the decoded
// result with the case's.
func runWire(t *testing.T, cases []wireCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mux, c := setup(t)
			var got request
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				got = record(t, r)
				reply(w, tc.status, []byte(tc.answer))
			})
			res, err := tc.call(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			wantForm := tc.form
			if wantForm == nil {
				wantForm = url.Values{}
			}
			want := request{Method: tc.method, Path: tc.path, User: accountSID, Password: authToken, RawQuery: tc.query, Form: wantForm}
			if tc.method == "POST" {
				want.ContentType = "application/x-www-form-urlencoded"
			}
			got.UserAgent = ""
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

var (
	day1 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	day2 = time.Date(2026, 1, 3, 3, 4, 5, 0, time.UTC)
)

const rkJSON = `{"sid":"` + rkSID + `","service_sid":"` + serviceSID + `","account_sid":"` + accountSID + `","unique_name":"user_id","description":"per user","date_created":"2026-01-02T03:04:05Z","date_updated":"2026-01-03T03:04:05Z","url":"https://verify.twilio.com/v2/Services/` + serviceSID + `/RateLimits/` + rkSID + `","links":{"buckets":"https://verify.twilio.com/v2/Services/` + serviceSID + `/RateLimits/` + rkSID + `/Buckets"}}`

const blJSON = `{"sid":"` + blSID + `","rate_limit_sid":"` + rkSID + `","service_sid":"` + serviceSID + `","account_sid":"` + accountSID + `","max":5,"interval":60,"date_created":"2026-01-02T03:04:05Z","date_updated":"2026-01-03T03:04:05Z","url":"https://verify.twilio.com/v2/x"}`

var (
	wantRK = twilio.RateLimit{
		SID: rkSID, ServiceSID: serviceSID, AccountSID: accountSID, UniqueName: "user_id", Description: "per user",
		DateCreated: day1, DateUpdated: day2, URL: "https://verify.twilio.com/v2/Services/" + serviceSID + "/RateLimits/" + rkSID,
		Links: map[string]string{"buckets": "https://verify.twilio.com/v2/Services/" + serviceSID + "/RateLimits/" + rkSID + "/Buckets"},
	}
	wantBL = twilio.Bucket{
		SID: blSID, RateLimitSID: rkSID, ServiceSID: serviceSID, AccountSID: accountSID, Max: 5, Interval: 60,
		DateCreated: day1, DateUpdated: day2, URL: "https://verify.twilio.com/v2/x",
	}
)

func TestSafeListWire(t *testing.T) {
	const num = "+14155550100"
	gn := `{"sid":"` + gnSID + `","phone_number":"` + num + `","url":"https://verify.twilio.com/v2/SafeList/Numbers/+14155550100"}`
	want := twilio.SafeListNumber{SID: gnSID, PhoneNumber: num, URL: "https://verify.twilio.com/v2/SafeList/Numbers/+14155550100"}
	runWire(t, []wireCase{
		{name: "create", call: func(ctx context.Context, c *twilio.Client) (any, error) { return c.CreateSafeListNumber(ctx, num) },
			method: "POST", path: "/v2/SafeList/Numbers", form: url.Values{"PhoneNumber": {num}}, status: 201, answer: gn, want: want},
		{name: "fetch", call: func(ctx context.Context, c *twilio.Client) (any, error) { return c.FetchSafeListNumber(ctx, num) },
			method: "GET", path: "/v2/SafeList/Numbers/" + num, status: 200, answer: gn, want: want},
		{name: "delete", call: func(ctx context.Context, c *twilio.Client) (any, error) { return nil, c.DeleteSafeListNumber(ctx, num) },
			method: "DELETE", path: "/v2/SafeList/Numbers/" + num, status: 204},
	})
	if s := want.String(); strings.Contains(s, "5550100") {
		t.Errorf("String %q shows the phone number", s)
	}
}

func TestRateLimitsWire(t *testing.T) {
	rk := "/v2/Services/" + serviceSID + "/RateLimits"
	bl := rk + "/" + rkSID + "/Buckets"
	runWire(t, []wireCase{
		{name: "create limit", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.CreateRateLimit(ctx, "user_id", "per user")
		}, method: "POST", path: rk, form: url.Values{"UniqueName": {"user_id"}, "Description": {"per user"}}, status: 201, answer: rkJSON, want: wantRK},
		{name: "fetch limit", call: func(ctx context.Context, c *twilio.Client) (any, error) { return c.FetchRateLimit(ctx, rkSID) },
			method: "GET", path: rk + "/" + rkSID, status: 200, answer: rkJSON, want: wantRK},
		{name: "update limit", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.UpdateRateLimit(ctx, rkSID, "per user")
		},
			method: "POST", path: rk + "/" + rkSID, form: url.Values{"Description": {"per user"}}, status: 200, answer: rkJSON, want: wantRK},
		{name: "delete limit", call: func(ctx context.Context, c *twilio.Client) (any, error) { return nil, c.DeleteRateLimit(ctx, rkSID) },
			method: "DELETE", path: rk + "/" + rkSID, status: 204},
		{name: "list limits", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.ListRateLimits(ctx, twilio.ListOptions{PageSize: 20})
		}, method: "GET", path: rk, query: "PageSize=20", status: 200, answer: `{"rate_limits":[` + rkJSON + `],"meta":{"next_page_url":null}}`, want: []twilio.RateLimit{wantRK}},
		{name: "create bucket", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.CreateBucket(ctx, rkSID, twilio.BucketParams{Max: 5, Interval: 60})
		}, method: "POST", path: bl, form: url.Values{"Max": {"5"}, "Interval": {"60"}}, status: 201, answer: blJSON, want: wantBL},
		{name: "fetch bucket", call: func(ctx context.Context, c *twilio.Client) (any, error) { return c.FetchBucket(ctx, rkSID, blSID) },
			method: "GET", path: bl + "/" + blSID, status: 200, answer: blJSON, want: wantBL},
		{name: "update bucket", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.UpdateBucket(ctx, rkSID, blSID, twilio.BucketParams{Max: 5})
		}, method: "POST", path: bl + "/" + blSID, form: url.Values{"Max": {"5"}}, status: 200, answer: blJSON, want: wantBL},
		{name: "delete bucket", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return nil, c.DeleteBucket(ctx, rkSID, blSID)
		},
			method: "DELETE", path: bl + "/" + blSID, status: 204},
		{name: "list buckets", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.ListBuckets(ctx, rkSID, twilio.ListOptions{})
		}, method: "GET", path: bl, status: 200, answer: `{"buckets":[` + blJSON + `],"meta":{"next_page_url":null}}`, want: []twilio.Bucket{wantBL}},
	})
}

// TestAPIInputRefused: malformed input is refused before anything is sent.
func TestAPIInputRefused(t *testing.T) {
	mux, c := setup(t)
	mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) { t.Error("a request was sent") })
	ctx := context.Background()
	for name, err := range map[string]error{
		"safelist not e164": func() error { _, err := c.CreateSafeListNumber(ctx, "4155550100"); return err }(),
		"limit no name":     func() error { _, err := c.CreateRateLimit(ctx, "", ""); return err }(),
		"limit bad sid":     func() error { _, err := c.FetchRateLimit(ctx, "RK1"); return err }(),
		"bucket no max":     func() error { _, err := c.CreateBucket(ctx, rkSID, twilio.BucketParams{Interval: 60}); return err }(),
		"bucket bad sid":    c.DeleteBucket(ctx, rkSID, "BLx"),
		"negative":          func() error { _, err := c.UpdateBucket(ctx, rkSID, blSID, twilio.BucketParams{Max: -1}); return err }(),
	} {
		if !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("%s: %v, want ErrInvalidRequest", name, err)
		}
	}
}

// TestAPIAnswerAboutAnotherResource: a success answer about another
// resource is not taken for the one asked about.
func TestAPIAnswerAboutAnotherResource(t *testing.T) {
	mux, c := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, []byte(strings.ReplaceAll(rkJSON, rkSID, "RKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")))
	})
	if _, err := c.FetchRateLimit(context.Background(), rkSID); err == nil {
		t.Error("FetchRateLimit took an answer about another rate limit")
	}
}

const vlSID = "VLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

const vlJSON = `{"sid":"` + vlSID + `","account_sid":"` + accountSID + `","service_sid":"` + serviceSID + `","verification_sid":"` + veSID + `","date_created":"2026-01-02T03:04:05Z","date_updated":"2026-01-03T03:04:05Z","conversion_status":"unconverted","channel":"sms","price":{"value":"0.005","currency":"usd"},"channel_data":{"verification_sid":"` + veSID + `","to":"+573003003030","status":"unconfirmed","message_status":"undelivered","error_code":"30008","country":"CO","code_length":6,"locale":"es","mcc":"732","mnc":"103","carrier":"Colombia Movil (Tigo)"},"url":"https://verify.twilio.com/v2/Attempts/` + vlSID + `"}`

var wantVL = twilio.VerificationAttempt{
	SID: vlSID, AccountSID: accountSID, ServiceSID: serviceSID, VerificationSID: veSID, DateCreated: day1, DateUpdated: day2,
	ConversionStatus: twilio.Unconverted, Channel: twilio.AttemptSMS, Price: &twilio.AttemptPrice{Value: "0.005", Currency: "usd"},
	ChannelData: &twilio.AttemptChannelData{VerificationSID: veSID, To: "+573003003030", Status: twilio.AttemptUnconfirmed,
		MessageStatus: "undelivered", ErrorCode: "30008", Country: "CO", CodeLength: 6, Locale: "es", MCC: "732", MNC: "103", Carrier: "Colombia Movil (Tigo)"},
	URL: "https://verify.twilio.com/v2/Attempts/" + vlSID,
}

func TestAttemptsWire(t *testing.T) {
	runWire(t, []wireCase{
		{name: "list", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.ListAttempts(ctx, twilio.AttemptFilter{
				DateCreatedAfter: day1, DateCreatedBefore: day2, To: "+573003003030", Country: "CO", Channel: twilio.AttemptSMS,
				ServiceSID: serviceSID, VerificationSID: veSID, Status: twilio.Unconverted,
			}, twilio.ListOptions{PageSize: 10})
		}, method: "GET", path: "/v2/Attempts",
			query:  "Channel=sms&ChannelData.To=%2B573003003030&Country=CO&DateCreatedAfter=2026-01-02T03%3A04%3A05Z&DateCreatedBefore=2026-01-03T03%3A04%3A05Z&PageSize=10&Status=unconverted&VerificationSid=" + veSID + "&VerifyServiceSid=" + serviceSID,
			status: 200, answer: `{"attempts":[` + vlJSON + `],"meta":{"next_page_url":null}}`, want: []twilio.VerificationAttempt{wantVL}},
		{name: "fetch", call: func(ctx context.Context, c *twilio.Client) (any, error) { return c.FetchAttempt(ctx, vlSID) },
			method: "GET", path: "/v2/Attempts/" + vlSID, status: 200, answer: vlJSON, want: wantVL},
		{name: "summary", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.FetchAttemptsSummary(ctx, twilio.SummaryFilter{DateCreatedAfter: day1, DateCreatedBefore: day2, Country: "CO",
				Channel: twilio.AttemptSMS, ServiceSID: serviceSID, DestinationPrefix: "+57305"})
		}, method: "GET", path: "/v2/Attempts/Summary",
			query:  "Channel=sms&Country=CO&DateCreatedAfter=2026-01-02T03%3A04%3A05Z&DateCreatedBefore=2026-01-03T03%3A04%3A05Z&DestinationPrefix=%2B57305&VerifyServiceSid=" + serviceSID,
			status: 200, answer: `{"total_attempts":11,"total_converted":9,"total_unconverted":2,"conversion_rate_percentage":"81.818181818","url":"https://verify.twilio.com/v2/Attempts/Summary"}`,
			want: twilio.AttemptsSummary{TotalAttempts: 11, TotalConverted: 9, TotalUnconverted: 2, ConversionRatePercentage: "81.818181818", URL: "https://verify.twilio.com/v2/Attempts/Summary"}},
	})
	if s := fmt.Sprint(wantVL); strings.Contains(s, "3003030") {
		t.Errorf("%%v shows the destination: %s", s)
	}
}
