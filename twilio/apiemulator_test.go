package twilio_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

func apiCode(err error) int {
	var ae *twilio.APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}

func TestEmulatorSafeList(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	c := emulatorClient(t, srv)
	ctx := context.Background()
	const num = "+14155550111"
	if _, err := c.FetchSafeListNumber(ctx, num); !errors.Is(err, provider.ErrNotFound) || apiCode(err) != 20404 {
		t.Fatalf("fetch before create: %v, want 404/20404", err)
	}
	n, err := c.CreateSafeListNumber(ctx, num)
	if err != nil || n.PhoneNumber != num || n.SID[:2] != "GN" {
		t.Fatalf("create: %v, %v", n, err)
	}
	got, err := c.FetchSafeListNumber(ctx, num)
	if err != nil || got != n {
		t.Fatalf("fetch: %v, %v, want %v", got, err, n)
	}
	if err := c.DeleteSafeListNumber(ctx, num); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FetchSafeListNumber(ctx, num); apiCode(err) != 20404 {
		t.Errorf("fetch after delete: %v, want 20404", err)
	}
	if err := c.DeleteSafeListNumber(ctx, num); apiCode(err) != 20404 {
		t.Errorf("second delete: %v, want 20404", err)
	}
}

func TestEmulatorRateLimitsCRUD(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	c := emulatorClient(t, srv)
	ctx := context.Background()
	var sids []string
	for _, name := range []string{"user_id", "ip", "prefix"} {
		l, err := c.CreateRateLimit(ctx, name, "by "+name)
		if err != nil {
			t.Fatal(err)
		}
		if l.SID[:2] != "RK" || l.ServiceSID != twiliotest.DefaultServiceSID || l.Links["buckets"] == "" || l.DateCreated.IsZero() {
			t.Errorf("created %+v", l)
		}
		sids = append(sids, l.SID)
	}
	if _, err := c.CreateRateLimit(ctx, "ip", ""); apiCode(err) != 60208 {
		t.Errorf("duplicate UniqueName: %v, want 60208", err)
	}
	list, err := c.ListRateLimits(ctx, twilio.ListOptions{PageSize: 2})
	if err != nil || len(list) != 3 || list[2].SID != sids[2] {
		t.Fatalf("list (pages of 2): %v, %v", list, err)
	}
	l, err := c.UpdateRateLimit(ctx, sids[0], "changed")
	if err != nil || l.Description != "changed" || l.UniqueName != "user_id" {
		t.Errorf("update: %+v, %v", l, err)
	}
	if l, err := c.FetchRateLimit(ctx, sids[0]); err != nil || l.Description != "changed" {
		t.Errorf("fetch after update: %+v, %v", l, err)
	}
	var bls []string
	for _, iv := range []int{60, 3600, 86400} {
		b, err := c.CreateBucket(ctx, sids[0], twilio.BucketParams{Max: 5, Interval: iv})
		if err != nil || b.SID[:2] != "BL" || b.RateLimitSID != sids[0] || b.Interval != iv {
			t.Fatalf("create bucket: %+v, %v", b, err)
		}
		bls = append(bls, b.SID)
	}
	if _, err := c.CreateBucket(ctx, sids[0], twilio.BucketParams{Max: 1, Interval: 60}); apiCode(err) != 60211 {
		t.Errorf("second bucket with interval 60: %v, want 60211", err)
	}
	bl, err := c.ListBuckets(ctx, sids[0], twilio.ListOptions{PageSize: 1})
	if err != nil || len(bl) != 3 {
		t.Fatalf("list buckets (pages of 1): %v, %v", bl, err)
	}
	b, err := c.UpdateBucket(ctx, sids[0], bls[1], twilio.BucketParams{Max: 9})
	if err != nil || b.Max != 9 || b.Interval != 3600 {
		t.Errorf("update bucket: %+v, %v", b, err)
	}
	if b, err := c.FetchBucket(ctx, sids[0], bls[1]); err != nil || b.Max != 9 {
		t.Errorf("fetch bucket: %+v, %v", b, err)
	}
	if _, err := c.FetchBucket(ctx, sids[1], bls[1]); apiCode(err) != 20404 {
		t.Errorf("bucket under another limit: %v, want 20404", err)
	}
	if err := c.DeleteBucket(ctx, sids[0], bls[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FetchBucket(ctx, sids[0], bls[1]); apiCode(err) != 20404 {
		t.Errorf("deleted bucket: %v, want 20404", err)
	}
	if err := c.DeleteRateLimit(ctx, sids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FetchRateLimit(ctx, sids[0]); apiCode(err) != 20404 {
		t.Errorf("deleted limit: %v, want 20404", err)
	}
	if list, _ := c.ListRateLimits(ctx, twilio.ListOptions{}); len(list) != 2 {
		t.Errorf("after delete: %d limits, want 2", len(list))
	}
}

// TestEmulatorBucketRefusesStart: a bucket of Max 2 per 60 s refuses the
// third start for one value with 429/20429, not another value's, and lets
// starts through again once the interval has passed; a number on the Safe
// List is exempt.
func TestEmulatorBucketRefusesStart(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	c := emulatorClient(t, srv)
	ctx := context.Background()
	l, err := c.CreateRateLimit(ctx, "user_id", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(ctx, l.SID, twilio.BucketParams{Max: 2, Interval: 60}); err != nil {
		t.Fatal(err)
	}
	start := func(to, user string) error {
		_, err := c.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS,
			Extensions: []provider.Extension{twilio.StartParams{RateLimits: map[string]string{"user_id": user}}}})
		return err
	}
	for i, to := range []string{"+14155550121", "+14155550122"} {
		if err := start(to, "u-1"); err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
	}
	err = start("+14155550123", "u-1")
	if !errors.Is(err, provider.ErrRateLimited) || apiCode(err) != 20429 {
		t.Fatalf("third start for u-1: %v, want 429/20429", err)
	}
	if err := start("+14155550124", "u-2"); err != nil {
		t.Errorf("start for u-2: %v", err)
	}
	if _, err := c.CreateSafeListNumber(ctx, "+14155550125"); err != nil {
		t.Fatal(err)
	}
	if err := start("+14155550125", "u-1"); err != nil {
		t.Errorf("safe-listed number: %v, want exempt", err)
	}
	if err := start("+14155550126", "no-such"); err != nil {
		t.Errorf("start for a fresh value: %v", err)
	}
	_, err = c.Start(ctx, provider.StartRequest{To: "+14155550127", Channel: provider.ChannelSMS,
		Extensions: []provider.Extension{twilio.StartParams{RateLimits: map[string]string{"unknown_limit": "x"}}}})
	if apiCode(err) != 60200 {
		t.Errorf("unknown limit: %v, want 60200", err)
	}
	srv.Advance(61 * time.Second)
	if err := start("+14155550128", "u-1"); err != nil {
		t.Errorf("after the interval: %v", err)
	}
}

// TestEmulatorAttempts: every start (and re-send) makes an attempt whose
// SID is the verification's attempt_sid; approval converts the attempts of
// its verification; the list filters and the summary counts by country,
// channel and prefix.
func TestEmulatorAttempts(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	c := emulatorClient(t, srv)
	ctx := context.Background()
	start := func(to string, ch provider.Channel) provider.Verification {
		t.Helper()
		v, err := c.Start(ctx, provider.StartRequest{To: to, Channel: ch})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	us := start("+14155550131", provider.ChannelSMS)
	start("+14155550131", provider.ChannelSMS) // a re-send: a second attempt of the same verification
	co := start("+573003003030", provider.ChannelCall)
	start("+573053003031", provider.ChannelSMS)
	code, _ := srv.LastCode("+14155550131")
	if r, err := c.Check(ctx, provider.CheckRequest{ID: us.ID, Code: code}); err != nil || !r.Approved() {
		t.Fatalf("check: %v, %v", r, err)
	}
	all, err := c.ListAttempts(ctx, twilio.AttemptFilter{}, twilio.ListOptions{PageSize: 3})
	if err != nil || len(all) != 4 {
		t.Fatalf("list: %d attempts, %v; want 4", len(all), err)
	}
	conv, err := c.ListAttempts(ctx, twilio.AttemptFilter{Status: twilio.Converted}, twilio.ListOptions{})
	if err != nil || len(conv) != 2 {
		t.Fatalf("converted: %v, %v; want the 2 attempts of %s", conv, err, us.ID)
	}
	for _, a := range conv {
		if a.VerificationSID != us.ID || a.ChannelData == nil || a.ChannelData.Status != twilio.AttemptConfirmed || a.ChannelData.Country != "US" || a.ChannelData.CodeLength != 6 {
			t.Errorf("converted attempt %+v", a)
		}
	}
	byCo, err := c.ListAttempts(ctx, twilio.AttemptFilter{Country: "CO", Channel: twilio.AttemptCall}, twilio.ListOptions{})
	if err != nil || len(byCo) != 1 || byCo[0].VerificationSID != co.ID || byCo[0].ConversionStatus != twilio.Unconverted {
		t.Fatalf("CO call attempts: %v, %v", byCo, err)
	}
	if byCo[0].SID != co.SendAttempts[0].ID {
		t.Errorf("attempt SID %s, want the verification's attempt_sid %s", byCo[0].SID, co.SendAttempts[0].ID)
	}
	got, err := c.FetchAttempt(ctx, byCo[0].SID)
	if err != nil || got.SID != byCo[0].SID || got.Channel != twilio.AttemptCall {
		t.Errorf("fetch: %+v, %v", got, err)
	}
	if _, err := c.FetchAttempt(ctx, "VL"+strings.Repeat("f", 32)); apiCode(err) != 20404 {
		t.Errorf("fetch unknown: %v, want 20404", err)
	}
	for _, tc := range []struct {
		f    twilio.SummaryFilter
		want twilio.AttemptsSummary
	}{
		{twilio.SummaryFilter{}, twilio.AttemptsSummary{TotalAttempts: 4, TotalConverted: 2, TotalUnconverted: 2, ConversionRatePercentage: "50"}},
		{twilio.SummaryFilter{Country: "CO"}, twilio.AttemptsSummary{TotalAttempts: 2, TotalUnconverted: 2, ConversionRatePercentage: "0"}},
		{twilio.SummaryFilter{DestinationPrefix: "+57305"}, twilio.AttemptsSummary{TotalAttempts: 1, TotalUnconverted: 1, ConversionRatePercentage: "0"}},
		{twilio.SummaryFilter{Channel: twilio.AttemptSMS}, twilio.AttemptsSummary{TotalAttempts: 3, TotalConverted: 2, TotalUnconverted: 1, ConversionRatePercentage: "66.666666667"}},
	} {
		s, err := c.FetchAttemptsSummary(ctx, tc.f)
		s.URL = ""
		if err != nil || s != tc.want {
			t.Errorf("summary %+v: %+v, %v; want %+v", tc.f, s, err, tc.want)
		}
	}
}

// TestEmulatorRateLimitsGoWithService: deleting a service deletes its rate
// limits, and leaves another service's.
func TestEmulatorRateLimitsGoWithService(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	c := emulatorClient(t, srv)
	ctx := context.Background()
	s, err := c.CreateService(ctx, twilio.ServiceParams{FriendlyName: "other"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := twilio.New(s.SID, twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL), twilio.WithRetryWait(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.CreateRateLimit(ctx, "ip", ""); err != nil {
		t.Fatal(err)
	}
	kept, err := c.CreateRateLimit(ctx, "ip", "")
	if err != nil {
		t.Fatal(err)
	}
	if list, err := other.ListRateLimits(ctx, twilio.ListOptions{}); err != nil || len(list) != 1 {
		t.Fatalf("other service's limits: %v, %v", list, err)
	}
	if err := c.DeleteService(ctx, s.SID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FetchRateLimit(ctx, kept.SID); err != nil {
		t.Errorf("the default service's limit: %v", err)
	}
}
