package twilio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

const (
	serviceSID = "VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	accountSID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	authToken  = "sEcReTtOkEn0123456789"
	veSID      = "VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

// setup returns a mux to register handlers on and a client that talks to
// it, with retries that do not wait.
func setup(t *testing.T, opts ...twilio.Option) (*http.ServeMux, *twilio.Client) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	opts = append([]twilio.Option{twilio.WithBaseURL(srv.URL), twilio.WithRetryWait(0, 0)}, opts...)
	c, err := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return mux, c
}

// fixture returns the contents of testdata/name.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// request is what a handler saw of a request.
type request struct {
	Method, Path, User, Password, ContentType, UserAgent, RawQuery string
	Form                                                           url.Values
}

func record(t *testing.T, r *http.Request) request {
	t.Helper()
	body := make([]byte, 1<<16)
	n, _ := r.Body.Read(body)
	form, err := url.ParseQuery(string(body[:n]))
	if err != nil {
		t.Errorf("body %q is not form-encoded: %v", body[:n], err)
	}
	user, pass, _ := r.BasicAuth()
	return request{
		Method: r.Method, Path: r.URL.Path, User: user, Password: pass, RawQuery: r.URL.RawQuery,
		ContentType: r.Header.Get("Content-Type"), UserAgent: r.Header.Get("User-Agent"), Form: form,
	}
}

func reply(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

func TestStartSendsEveryParameter(t *testing.T) {
	mux, c := setup(t, twilio.WithUserAgent("acme/1.2"))
	var got request
	mux.HandleFunc("/v2/Services/"+serviceSID+"/Verifications", func(w http.ResponseWriter, r *http.Request) {
		got = record(t, r)
		reply(w, http.StatusCreated, fixture(t, "verification_created.json"))
	})
	req := provider.StartRequest{
		To: "+14155552671", Channel: provider.ChannelSMS, Locale: "pt-BR", FriendlyName: "Acme & Co",
		CustomCode: "A1B2C3", Reference: "ignored-by-twilio",
		Extensions: []provider.Extension{
			otherExtension{},
			twilio.StartParams{
				SendDigits: "ww1", AppHash: "He42w354ol9", TemplateSID: "HJaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				TemplateCustomSubstitutions: map[string]string{"AppName": "Acme"},
				Email:                       &twilio.EmailConfig{From: "no-reply@acme.example", FromName: "Acme", TemplateID: "d-123", Substitutions: map[string]string{"n": "1"}},
				RateLimits:                  map[string]string{"end_user_ip": "192.0.2.1"},
				DeviceIP:                    "2001:db8::1", EnableSNAClientToken: true, RiskCheck: twilio.RiskCheckDisable,
				Tags: map[string]string{"campaign": "spring"}, Amount: "EUR 12.00", Payee: "Acme Ltd",
			},
		},
	}
	v, err := c.Start(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := request{
		Method: "POST", Path: "/v2/Services/" + serviceSID + "/Verifications", User: accountSID, Password: authToken,
		ContentType: "application/x-www-form-urlencoded",
		Form: url.Values{
			"To": {"+14155552671"}, "Channel": {"sms"}, "Locale": {"pt-BR"}, "CustomFriendlyName": {"Acme & Co"},
			"CustomCode": {"A1B2C3"}, "SendDigits": {"ww1"}, "AppHash": {"He42w354ol9"},
			"TemplateSid":                 {"HJaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
			"TemplateCustomSubstitutions": {`{"AppName":"Acme"}`},
			"ChannelConfiguration":        {`{"from":"no-reply@acme.example","from_name":"Acme","template_id":"d-123","substitutions":{"n":"1"}}`},
			"RateLimits":                  {`{"end_user_ip":"192.0.2.1"}`},
			"DeviceIp":                    {"2001:db8::1"}, "EnableSnaClientToken": {"true"}, "RiskCheck": {"disable"},
			"Tags": {`{"campaign":"spring","reference":"ignored-by-twilio"}`}, "Amount": {"EUR 12.00"}, "Payee": {"Acme Ltd"},
		},
	}
	ua := got.UserAgent
	got.UserAgent = ""
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(ua, "verifykit/") || !strings.HasSuffix(ua, " acme/1.2") || !strings.Contains(ua, " go/go1.") {
		t.Errorf("User-Agent = %q", ua)
	}
	if v.ID != veSID || v.Status != provider.StatusPending || v.Channel != provider.ChannelSMS {
		t.Errorf("Start = %v", v)
	}
}

type otherExtension struct{}

func (otherExtension) ExtensionFor() string { return "other" }

func TestStartPointerParamsAndMinimalForm(t *testing.T) {
	mux, c := setup(t)
	var got []url.Values
	mux.HandleFunc("/v2/Services/"+serviceSID+"/Verifications", func(w http.ResponseWriter, r *http.Request) {
		got = append(got, record(t, r).Form)
		var v map[string]any
		json.Unmarshal(fixture(t, "verification_created.json"), &v)
		v["to"] = got[len(got)-1].Get("To")
		b, _ := json.Marshal(v)
		reply(w, http.StatusOK, b) // 200 is accepted too
	})
	ctx := context.Background()
	if _, err := c.Start(ctx, provider.StartRequest{To: "alice@example.com", Channel: provider.ChannelEmail}); err != nil {
		t.Fatal(err)
	}
	var nilParams *twilio.StartParams
	if _, err := c.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelCall,
		Extensions: []provider.Extension{&twilio.StartParams{SendDigits: "1"}, nilParams}}); err != nil {
		t.Fatal(err)
	}
	// The common parameters without extensions (the form built directly).
	if _, err := c.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS,
		Locale: "pt-BR", FriendlyName: "Ünï & co=1%", CustomCode: "12 34+5"}); err != nil {
		t.Fatal(err)
	}
	want := []url.Values{
		{"To": {"alice@example.com"}, "Channel": {"email"}},
		{"To": {"+14155552671"}, "Channel": {"call"}, "SendDigits": {"1"}},
		{"To": {"+14155552671"}, "Channel": {"sms"}, "Locale": {"pt-BR"}, "CustomFriendlyName": {"Ünï & co=1%"}, "CustomCode": {"12 34+5"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("forms (-want +got):\n%s", diff)
	}
}

// TestFormInjection shows that values with form syntax reach Twilio as
// values, never as extra fields.
func TestFormInjection(t *testing.T) {
	mux, c := setup(t)
	var raw string
	mux.HandleFunc("/v2/Services/"+serviceSID+"/Verifications", func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 4096)
		n, _ := r.Body.Read(b)
		raw = string(b[:n])
		reply(w, http.StatusCreated, fixture(t, "verification_created.json"))
	})
	_, err := c.Start(context.Background(), provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS,
		FriendlyName: "a&Channel=call", Locale: "en\nX-Injected: 1"})
	if err != nil {
		t.Fatal(err)
	}
	want := "Channel=sms&CustomFriendlyName=a%26Channel%3Dcall&Locale=en%0AX-Injected%3A+1&To=%2B14155552671"
	if raw != want {
		t.Errorf("body = %q, want %q", raw, want)
	}
}

func TestStartRefusesBeforeSending(t *testing.T) {
	mux, c := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("request sent: %s %s", r.Method, r.URL) })
	ctx := context.Background()
	for _, req := range []provider.StartRequest{
		{To: "4155552671", Channel: provider.ChannelSMS},
		{To: "+14155552671", Channel: "pigeon"},
		{To: "+14155552671", Channel: provider.ChannelEmail},
		{To: "alice@example.com", Channel: provider.ChannelSMS},
		{To: "nonsense", Channel: provider.ChannelAuto},
		{To: "+14155552671", Channel: provider.ChannelSMS, FriendlyName: strings.Repeat("x", 31)},
		{To: "+14155552671", Channel: provider.ChannelSMS, Extensions: []provider.Extension{twilio.StartParams{TemplateSID: "HJ1"}}},
		{To: "+14155552671", Channel: provider.ChannelSMS, Extensions: []provider.Extension{twilio.StartParams{DeviceIP: "999.1.1.1"}}},
		{To: "+14155552671", Channel: provider.ChannelSMS, Extensions: []provider.Extension{twilio.StartParams{RiskCheck: "maybe"}}},
		{To: "+14155552671", Channel: provider.ChannelSMS, Extensions: []provider.Extension{twilio.StartParams{Tags: map[string]string{"k": strings.Repeat("v", 129)}}}},
		{To: "+14155552671", Channel: provider.ChannelSMS, Extensions: []provider.Extension{twilio.StartParams{Tags: manyTags(11)}}},
	} {
		_, err := c.Start(ctx, req)
		var re *twilio.RequestError
		if !errors.Is(err, provider.ErrInvalidRequest) || !errors.As(err, &re) || re.Sent {
			t.Errorf("Start(%v) = %v, want an unsent RequestError matching ErrInvalidRequest", req, err)
		}
	}
	for _, req := range []provider.CheckRequest{
		{Code: "123456"},
		{To: "4155552671", Code: "123456"},
		{To: "+14155552671", Code: "12"},
		{To: "+14155552671", Code: "12&34"},
	} {
		if _, err := c.Check(ctx, req); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("Check(%v) = %v, want ErrInvalidRequest", req, err)
		}
	}
	if _, err := c.Fetch(ctx, ""); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("Fetch(\"\") = %v, want ErrInvalidRequest", err)
	}
	// IDs are opaque to callers: one Twilio cannot have issued is not
	// found, without a request (the conformance rule UnknownIDIsNotFound).
	if _, err := c.Check(ctx, provider.CheckRequest{ID: "VE1", Code: "123456"}); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("Check(ID VE1) = %v, want ErrNotFound", err)
	}
	for _, id := range []string{"VE1", "VA" + veSID[2:], veSID + "/x", "../" + veSID[3:]} {
		var re *twilio.RequestError
		if _, err := c.Fetch(ctx, id); !errors.Is(err, provider.ErrNotFound) || !errors.As(err, &re) || re.Sent {
			t.Errorf("Fetch(%q) = %v, want an unsent RequestError matching ErrNotFound", id, err)
		}
	}
}

// TestReferenceBecomesATag: the caller's correlation ID travels as the tag
// "reference", and an explicit tag of that name wins.
func TestReferenceBecomesATag(t *testing.T) {
	mux, c := setup(t)
	var got []string
	mux.HandleFunc("/v2/Services/"+serviceSID+"/Verifications", func(w http.ResponseWriter, r *http.Request) {
		got = append(got, record(t, r).Form.Get("Tags"))
		reply(w, http.StatusCreated, fixture(t, "verification_created.json"))
	})
	ctx := context.Background()
	reqs := []provider.StartRequest{
		{To: "+14155552671", Channel: provider.ChannelSMS, Reference: "order-42"},
		{To: "+14155552671", Channel: provider.ChannelSMS, Reference: "order-42",
			Extensions: []provider.Extension{twilio.StartParams{Tags: map[string]string{"reference": "mine"}}}},
		{To: "+14155552671", Channel: provider.ChannelSMS},
	}
	for _, req := range reqs {
		if _, err := c.Start(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{`{"reference":"order-42"}`, `{"reference":"mine"}`, ""}, got); diff != "" {
		t.Errorf("Tags sent (-want +got):\n%s", diff)
	}
	// The reference counts toward the 10 tags, and is bounded like one.
	for _, req := range []provider.StartRequest{
		{To: "+14155552671", Channel: provider.ChannelSMS, Reference: "r", Extensions: []provider.Extension{twilio.StartParams{Tags: manyTags(10)}}},
		{To: "+14155552671", Channel: provider.ChannelSMS, Reference: strings.Repeat("r", 129)},
	} {
		if _, err := c.Start(ctx, req); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("Start(%v) = %v, want ErrInvalidRequest", req, err)
		}
	}
}

func manyTags(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprint(i)] = "x"
	}
	return m
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		req      provider.CheckRequest
		status   int
		fixture  string
		wantForm url.Values
		want     provider.Status
	}{
		{"by To, approved, 200", provider.CheckRequest{To: "+14155552671", Code: "123456"}, 200, "check_approved.json",
			url.Values{"To": {"+14155552671"}, "Code": {"123456"}}, provider.StatusApproved},
		{"by SID, pending, 201", provider.CheckRequest{ID: veSID, Code: "000000"}, 201, "check_pending.json",
			url.Values{"VerificationSid": {veSID}, "Code": {"000000"}}, provider.StatusPending},
		{"by both, with PSD2", provider.CheckRequest{ID: veSID, To: "+14155552671", Code: "1234",
			Extensions: []provider.Extension{twilio.CheckParams{Amount: "EUR 1", Payee: "Acme"}, &twilio.CheckParams{}}}, 200, "check_approved.json",
			url.Values{"VerificationSid": {veSID}, "To": {"+14155552671"}, "Code": {"1234"}, "Amount": {"EUR 1"}, "Payee": {"Acme"}}, provider.StatusApproved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux, c := setup(t)
			var got request
			mux.HandleFunc("/v2/Services/"+serviceSID+"/VerificationCheck", func(w http.ResponseWriter, r *http.Request) {
				got = record(t, r)
				reply(w, tt.status, fixture(t, tt.fixture))
			})
			v, err := c.Check(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got.Method != "POST" || got.ContentType != "application/x-www-form-urlencoded" {
				t.Errorf("request %s with %q", got.Method, got.ContentType)
			}
			if diff := cmp.Diff(tt.wantForm, got.Form); diff != "" {
				t.Errorf("form (-want +got):\n%s", diff)
			}
			if v.Status != tt.want || v.ID != veSID {
				t.Errorf("Check = %v, want status %s", v, tt.want)
			}
		})
	}
}

func TestFetchCancelApprove(t *testing.T) {
	mux, c := setup(t)
	var got []request
	mux.HandleFunc("/v2/Services/"+serviceSID+"/Verifications/"+veSID, func(w http.ResponseWriter, r *http.Request) {
		got = append(got, record(t, r))
		var v map[string]any
		json.Unmarshal(fixture(t, "verification_created.json"), &v)
		if s := got[len(got)-1].Form.Get("Status"); s != "" {
			v["status"], v["valid"] = s, s == "approved"
		}
		b, _ := json.Marshal(v)
		reply(w, http.StatusOK, b)
	})
	ctx := context.Background()
	f, err := c.Fetch(ctx, veSID)
	if err != nil || f.Status != provider.StatusPending {
		t.Fatalf("Fetch = %v, %v", f, err)
	}
	cv, err := c.Cancel(ctx, veSID)
	if err != nil || cv.Status != provider.StatusCanceled {
		t.Fatalf("Cancel = %v, %v", cv, err)
	}
	av, err := c.Approve(ctx, veSID)
	if err != nil || !av.Approved() {
		t.Fatalf("Approve = %v, %v", av, err)
	}
	methods := []string{got[0].Method, got[1].Method, got[2].Method}
	if diff := cmp.Diff([]string{"GET", "POST", "POST"}, methods); diff != "" {
		t.Errorf("methods (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(url.Values{"Status": {"canceled"}}, got[1].Form); diff != "" {
		t.Errorf("cancel form (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(url.Values{"Status": {"approved"}}, got[2].Form); diff != "" {
		t.Errorf("approve form (-want +got):\n%s", diff)
	}
}

func TestDecodeFixtures(t *testing.T) {
	mux, c := setup(t)
	mux.HandleFunc("/v2/Services/"+serviceSID+"/Verifications/", func(w http.ResponseWriter, r *http.Request) {
		name := map[string]string{veSID: "verification_created.json", "VEcccccccccccccccccccccccccccccccc": "verification_sna.json"}[strings.TrimPrefix(r.URL.Path, "/v2/Services/"+serviceSID+"/Verifications/")]
		reply(w, http.StatusOK, fixture(t, name))
	})
	v, err := c.Fetch(context.Background(), veSID)
	if err != nil {
		t.Fatal(err)
	}
	ts := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	detail := &twilio.Verification{
		SID: veSID, ServiceSID: serviceSID, AccountSID: accountSID, To: "+14155552671", Channel: "sms", Status: "pending",
		Lookup: twilio.Lookup{Carrier: &twilio.Carrier{MobileCountryCode: "310", MobileNetworkCode: "456", Name: "Example Wireless", Type: "mobile"}},
		SendCodeAttempts: []twilio.SendCodeAttempt{
			{Time: ts("2015-07-30T20:00:00Z"), Channel: "SMS", AttemptSID: "VLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
			{Time: ts("2015-07-30T20:00:30Z"), Channel: "call", AttemptSID: "VLbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
		},
		DateCreated: ts("2015-07-30T20:00:00Z"), DateUpdated: ts("2015-07-30T20:00:01Z"),
		URL: "https://verify.twilio.com/v2/Services/" + serviceSID + "/Verifications/" + veSID,
	}
	want := provider.Verification{
		ID: veSID, To: "+14155552671", Channel: provider.ChannelSMS, Status: provider.StatusPending, RawStatus: "pending",
		CreatedAt: ts("2015-07-30T20:00:00Z"), UpdatedAt: ts("2015-07-30T20:00:01Z"),
		SendAttempts: []provider.SendAttempt{
			{Time: ts("2015-07-30T20:00:00Z"), Channel: provider.ChannelSMS, ID: "VLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
			{Time: ts("2015-07-30T20:00:30Z"), Channel: provider.ChannelCall, ID: "VLbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
		},
		Detail: detail,
	}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	sna, err := c.Fetch(context.Background(), "VEcccccccccccccccccccccccccccccccc")
	if err != nil {
		t.Fatal(err)
	}
	d := sna.Detail.(*twilio.Verification)
	if d.SNA == nil || d.SNA.URL != "https://mi.dnlsrv.com/m/id/ANBByzx7?data=example" || d.Amount != "EUR 12.00" ||
		d.Payee != "Acme Ltd" || d.Lookup.Carrier != nil || sna.Channel != provider.ChannelSNA || sna.SNAURL != d.SNA.URL {
		t.Errorf("sna verification decoded as %+v", d)
	}
	if s := fmt.Sprintf("%v %+v %#v", d, d, d); strings.Contains(s, "+447400123456") {
		t.Errorf("formatting a Verification shows the number: %s", s)
	}
}

// TestUnknownValuesPassThrough checks that a status and a channel the
// library does not know are kept, not refused.
func TestUnknownValuesPassThrough(t *testing.T) {
	mux, c := setup(t)
	mux.HandleFunc("/v2/Services/"+serviceSID+"/VerificationCheck", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, []byte(`{"sid":"`+veSID+`","status":"verified_by_pigeon","channel":"RCS","valid":false,"date_created":null}`))
	})
	v, err := c.Check(context.Background(), provider.CheckRequest{ID: veSID, Code: "1234"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != "verified_by_pigeon" || v.Status.Known() || v.Channel != "rcs" || !v.CreatedAt.IsZero() {
		t.Errorf("Check = %+v", v)
	}
}

func TestAPIErrors(t *testing.T) {
	tests := []struct {
		name   string
		op     func(*twilio.Client) error
		status int
		body   string
		header map[string]string
		want   error
		code   int
		wait   time.Duration
	}{
		{"20404 on check", check, 404, `{"code":20404,"message":"The requested resource /Services/VA/VerificationCheck was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`, nil, provider.ErrNotFound, 20404, 0},
		{"60202 on check", check, 429, `{"code":60202,"message":"Max check attempts reached","status":429}`, nil, provider.ErrTooManyChecks, 60202, 0},
		{"60202 on start", start, 429, `{"code":60202,"message":"Max check attempts reached","status":429}`, nil, provider.ErrTooManySends, 60202, 0},
		{"60203", start, 429, `{"code":60203,"message":"Max send attempts reached","status":429}`, nil, provider.ErrTooManySends, 60203, 0},
		{"60212", start, 429, `{"code":60212,"status":429}`, nil, provider.ErrRateLimited, 60212, 0},
		{"60200", start, 400, `{"code":60200,"message":"Invalid parameter: To","status":400}`, nil, provider.ErrInvalidRequest, 60200, 0},
		{"60221", check, 400, `{"code":60221,"status":400}`, nil, provider.ErrInvalidRequest, 60221, 0},
		{"60205", start, 403, `{"code":60205,"message":"SMS is not supported by landline phone number","status":403}`, nil, provider.ErrUndeliverable, 60205, 0},
		{"60223", start, 400, `{"code":60223,"status":400}`, nil, provider.ErrUndeliverable, 60223, 0},
		{"60605", start, 403, `{"code":60605,"status":403}`, nil, provider.ErrUndeliverable, 60605, 0},
		{"60410", start, 403, `{"code":60410,"status":403}`, nil, provider.ErrUndeliverable, 60410, 0},
		{"60238", start, 403, `{"code":60238,"status":403}`, nil, provider.ErrUndeliverable, 60238, 0},
		{"20003", fetch, 401, `{"code":20003,"message":"Authenticate","status":401}`, nil, provider.ErrUnauthorized, 20003, 0},
		{"60204", start, 403, `{"code":60204,"status":403}`, nil, provider.ErrUnsupported, 60204, 0},
		{"unknown 403", start, 403, `{"code":99999,"status":403}`, nil, provider.ErrUnauthorized, 99999, 0},
		{"unknown 404", fetch, 404, `{}`, nil, provider.ErrNotFound, 0, 0},
		{"unknown 422", start, 422, `{"code":1}`, nil, provider.ErrInvalidRequest, 1, 0},
		{"429 with Retry-After seconds", start, 429, `{"code":60212,"status":429}`, map[string]string{"Retry-After": "7"}, provider.ErrRateLimited, 60212, 7 * time.Second},
		{"500 on POST", start, 500, `{"code":20500,"status":500}`, nil, provider.ErrOutcomeUnknown, 20500, 0},
		{"502 HTML on POST", check, 502, `<html>Bad Gateway</html>`, nil, provider.ErrOutcomeUnknown, 0, 0},
		{"504 on POST", cancel, 504, ``, nil, provider.ErrOutcomeUnknown, 0, 0},
		{"500 on GET", fetch, 500, `{"code":20500}`, nil, provider.ErrUnavailable, 20500, 0},
		{"503 HTML on POST", check, 503, `<html><body>Service Unavailable</body></html>`, nil, provider.ErrOutcomeUnknown, 0, 0},
		{"503 HTML on GET", fetch, 503, `<html><body>Service Unavailable</body></html>`, nil, provider.ErrUnavailable, 0, 0},
		{"Twilio's 503 on POST", check, 503, twilio503, nil, provider.ErrUnavailable, 20503, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux, c := setup(t, twilio.WithRetries(0))
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				reply(w, tt.status, []byte(tt.body))
			})
			err := tt.op(c)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v does not match %v", err, tt.want)
			}
			for _, other := range allSentinels {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("error %v also matches %v", err, other)
				}
			}
			var ae *twilio.APIError
			if !errors.As(err, &ae) || ae.Status != tt.status || ae.Code != tt.code || ae.Wait != tt.wait {
				t.Fatalf("APIError = %#v", ae)
			}
			if twilio.CodeOf(err) != tt.code {
				t.Errorf("CodeOf = %d", twilio.CodeOf(err))
			}
			if d, _ := provider.RetryAfter(err); d != tt.wait {
				t.Errorf("RetryAfter = %v, want %v", d, tt.wait)
			}
			if strings.Contains(err.Error(), authToken) {
				t.Errorf("error %q contains the auth token", err)
			}
		})
	}
}

var allSentinels = []error{
	provider.ErrInvalidRequest, provider.ErrNotFound, provider.ErrTooManyChecks, provider.ErrTooManySends,
	provider.ErrRateLimited, provider.ErrUndeliverable, provider.ErrUnauthorized, provider.ErrUnsupported,
	provider.ErrUnavailable, provider.ErrOutcomeUnknown,
}

func start(c *twilio.Client) error {
	_, err := c.Start(context.Background(), provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	return err
}

func check(c *twilio.Client) error {
	_, err := c.Check(context.Background(), provider.CheckRequest{To: "+14155552671", Code: "123456"})
	return err
}

func fetch(c *twilio.Client) error {
	_, err := c.Fetch(context.Background(), veSID)
	return err
}

func cancel(c *twilio.Client) error {
	_, err := c.Cancel(context.Background(), veSID)
	return err
}

func TestAPIErrorMasksTargets(t *testing.T) {
	mux, c := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 400, []byte(`{"code":60200,"message":"Invalid parameter To: +1 415 555 2671 or alice.smith@example.com","status":400}`))
	})
	err := start(c)
	var ae *twilio.APIError
	errors.As(err, &ae)
	for _, s := range []string{err.Error(), ae.Message, fmt.Sprintf("%#v", ae), fmt.Sprintf("%+v", err)} {
		if strings.Contains(s, "555 2671") || strings.Contains(s, "alice.smith") {
			t.Errorf("%q shows the target", s)
		}
	}
	if want := "twilio: start: 400 60200: Invalid parameter To: +14*******71 or a**********@example.com"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestOversizedAndTruncatedBodies(t *testing.T) {
	big := `{"sid":"` + veSID + `","status":"approved","pad":"` + strings.Repeat("x", 2<<20) + `"}`
	tests := []struct {
		name string
		op   func(*twilio.Client) error
		body string
		want error
	}{
		{"2 MiB success on check", check, big, provider.ErrOutcomeUnknown},
		{"truncated success on check", check, `{"sid":"` + veSID + `","status":"appr`, provider.ErrOutcomeUnknown},
		{"empty success on start", start, ``, provider.ErrOutcomeUnknown},
		{"not JSON success on fetch", fetch, `<html>`, provider.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux, c := setup(t, twilio.WithRetries(0))
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				status := 200
				if r.URL.Path == "/v2/Services/"+serviceSID+"/Verifications" {
					status = 201
				}
				reply(w, status, []byte(tt.body))
			})
			err := tt.op(c)
			var re *twilio.RequestError
			if !errors.Is(err, tt.want) || !errors.As(err, &re) {
				t.Errorf("error %#v, want a RequestError matching %v", err, tt.want)
			}
		})
	}
}

func TestServices(t *testing.T) {
	mux, c := setup(t)
	var got []request
	svc := fixture(t, "service.json")
	mux.HandleFunc("/v2/Services", func(w http.ResponseWriter, r *http.Request) {
		got = append(got, record(t, r))
		switch {
		case r.Method == "POST":
			reply(w, 201, svc)
		case r.URL.Query().Get("PageToken") == "":
			// next_page_url names Twilio's host: the client must follow it
			// on its own base URL.
			reply(w, 200, []byte(`{"services":[`+string(svc)+`,`+string(svc)+`],"meta":{"page":0,"page_size":2,"next_page_url":"https://verify.twilio.com/v2/Services?PageSize=2&Page=1&PageToken=PT2","key":"services"}}`))
		default:
			reply(w, 200, []byte(`{"services":[`+string(svc)+`],"meta":{"page":1,"page_size":2,"next_page_url":null,"key":"services"}}`))
		}
	})
	mux.HandleFunc("/v2/Services/"+serviceSID, func(w http.ResponseWriter, r *http.Request) {
		got = append(got, record(t, r))
		if r.Method == "DELETE" {
			w.WriteHeader(204)
			return
		}
		reply(w, 200, svc)
	})
	ctx := context.Background()
	s, err := c.CreateService(ctx, twilio.ServiceParams{
		FriendlyName: "Acme Login", CodeLength: 6, LookupEnabled: twilio.Bool(true), SkipSMSToLandlines: twilio.Bool(true),
		CustomCodeEnabled: twilio.Bool(false), DTMFInputRequired: twilio.Bool(true), TTSName: "Polly.Joanna",
		PushIncludeDate: twilio.Bool(false), PushAPNCredentialSID: "CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		TOTPIssuer: "Acme", TOTPTimeStep: 30, TOTPCodeLength: 6, TOTPSkew: twilio.Int(0),
		DefaultTemplateSID: "HJaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", WhatsAppMsgServiceSID: "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", WhatsAppFrom: "+14155550100",
	})
	if err != nil {
		t.Fatal(err)
	}
	wantForm := url.Values{
		"FriendlyName": {"Acme Login"}, "CodeLength": {"6"}, "LookupEnabled": {"true"}, "SkipSmsToLandlines": {"true"},
		"CustomCodeEnabled": {"false"}, "DtmfInputRequired": {"true"}, "TtsName": {"Polly.Joanna"},
		"Push.IncludeDate": {"false"}, "Push.ApnCredentialSid": {"CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		"Totp.Issuer": {"Acme"}, "Totp.TimeStep": {"30"}, "Totp.CodeLength": {"6"}, "Totp.Skew": {"0"},
		"DefaultTemplateSid": {"HJaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "Whatsapp.MsgServiceSid": {"MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "Whatsapp.From": {"+14155550100"},
	}
	if diff := cmp.Diff(wantForm, got[0].Form); diff != "" {
		t.Errorf("create form (-want +got):\n%s", diff)
	}
	wantSvc := twilio.Service{
		SID: serviceSID, AccountSID: accountSID, FriendlyName: "Acme Login", CodeLength: 6, LookupEnabled: true,
		SkipSMSToLandlines: true, DTMFInputRequired: true, TTSName: "Polly.Joanna", CustomCodeEnabled: true,
		Push:        &twilio.ServicePush{APNCredentialSID: "CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		TOTP:        &twilio.ServiceTOTP{Issuer: "Acme", TimeStep: 30, CodeLength: 6, Skew: 1},
		WhatsApp:    &twilio.ServiceWhatsApp{},
		DateCreated: time.Date(2015, 7, 30, 20, 0, 0, 0, time.UTC), DateUpdated: time.Date(2015, 7, 30, 20, 0, 0, 0, time.UTC),
		URL: "https://verify.twilio.com/v2/Services/" + serviceSID,
		Links: map[string]string{
			"verifications":       "https://verify.twilio.com/v2/Services/" + serviceSID + "/Verifications",
			"verification_checks": "https://verify.twilio.com/v2/Services/" + serviceSID + "/VerificationCheck",
		},
	}
	if diff := cmp.Diff(wantSvc, s); diff != "" {
		t.Errorf("service (-want +got):\n%s", diff)
	}
	if _, err := c.FetchService(ctx, serviceSID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateService(ctx, serviceSID, twilio.ServiceParams{CodeLength: 8, PSD2Enabled: twilio.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(url.Values{"CodeLength": {"8"}, "Psd2Enabled": {"false"}}, got[2].Form); diff != "" {
		t.Errorf("update form (-want +got):\n%s", diff)
	}
	list, err := c.ListServices(ctx, twilio.ListOptions{PageSize: 2})
	if err != nil || len(list) != 3 {
		t.Fatalf("ListServices = %d services, %v", len(list), err)
	}
	if got[3].RawQuery != "PageSize=2" || got[4].RawQuery != "Page=1&PageSize=2&PageToken=PT2" {
		t.Errorf("list queries %q, %q", got[3].RawQuery, got[4].RawQuery)
	}
	if l, err := c.ListServices(ctx, twilio.ListOptions{Limit: 1}); err != nil || len(l) != 1 {
		t.Errorf("ListServices with limit 1 = %d, %v", len(l), err)
	}
	if err := c.DeleteService(ctx, serviceSID); err != nil {
		t.Fatal(err)
	}
	methods := make([]string, len(got))
	for i, r := range got {
		methods[i] = r.Method
	}
	if diff := cmp.Diff([]string{"POST", "GET", "POST", "GET", "GET", "GET", "DELETE"}, methods); diff != "" {
		t.Errorf("methods (-want +got):\n%s", diff)
	}
}

func TestServicesRefuseBadInput(t *testing.T) {
	mux, c := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("request sent: %s %s", r.Method, r.URL) })
	ctx := context.Background()
	bad := []twilio.ServiceParams{
		{},
		{FriendlyName: strings.Repeat("n", 31)},
		{FriendlyName: "x", CodeLength: 3},
		{FriendlyName: "x", CodeLength: 11},
		{FriendlyName: "x", TOTPTimeStep: 10},
		{FriendlyName: "x", TOTPCodeLength: 9},
		{FriendlyName: "x", TOTPSkew: twilio.Int(3)},
		{FriendlyName: "x", DefaultTemplateSID: "HJ1"},
		{FriendlyName: "x", WhatsAppMsgServiceSID: "XX" + serviceSID[2:]},
	}
	for _, p := range bad {
		if _, err := c.CreateService(ctx, p); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("CreateService(%+v) = %v", p, err)
		}
	}
	if _, err := c.UpdateService(ctx, serviceSID, twilio.ServiceParams{CodeLength: 2}); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("UpdateService with a bad code length: %v", err)
	}
	for _, sid := range []string{"", "VA1", veSID} {
		if _, err := c.FetchService(ctx, sid); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("FetchService(%q) = %v", sid, err)
		}
		if _, err := c.UpdateService(ctx, sid, twilio.ServiceParams{}); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("UpdateService(%q) = %v", sid, err)
		}
		if err := c.DeleteService(ctx, sid); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("DeleteService(%q) = %v", sid, err)
		}
	}
	if _, err := c.ListServices(ctx, twilio.ListOptions{PageSize: 1001}); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("ListServices(1001) = %v", err)
	}
}

func TestListServicesRefusesForeignNextPage(t *testing.T) {
	mux, c := setup(t)
	mux.HandleFunc("/v2/Services", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, []byte(`{"services":[],"meta":{"next_page_url":"https://evil.example/steal?x=1"}}`))
	})
	if _, err := c.ListServices(context.Background(), twilio.ListOptions{}); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("ListServices with a foreign next page = %v", err)
	}
}

func newServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestAPIErrorFollowsTheCodeTable checks that APIError matches the sentinel
// of every code in the shared table, and that its documentation lists each
// code with a sentinel.
func TestAPIErrorFollowsTheCodeTable(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("errors.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src[:strings.Index(string(src), "type APIError struct")])
	for _, e := range twiliocode.All() {
		if e.Sentinel == nil {
			continue
		}
		for _, op := range []string{"check", "start"} {
			want := e.Sentinel
			if op == "start" && e.OnStart != nil {
				want = e.OnStart
			}
			ae := &twilio.APIError{Op: op, Status: e.Status, Code: e.Code}
			if !errors.Is(ae, want) {
				t.Errorf("%s: %d %d does not match %v", op, e.Status, e.Code, want)
			}
		}
		if !strings.Contains(doc, strconv.Itoa(e.Code)) {
			t.Errorf("APIError's documentation does not list %d", e.Code)
		}
	}
}

// TestServicesIterator checks that the iterator reads a page only when the
// loop needs it, and stops at the first error.
func TestServicesIterator(t *testing.T) {
	t.Parallel()
	mux, c := setup(t)
	var pages atomic.Int32
	svc := func(n int) string { return fmt.Sprintf(`{"sid":"VA%032d"}`, n) }
	mux.HandleFunc("/v2/Services", func(w http.ResponseWriter, r *http.Request) {
		switch pages.Add(1); r.URL.Query().Get("Page") {
		case "":
			reply(w, 200, []byte(`{"services":[`+svc(1)+`,`+svc(2)+`],"meta":{"next_page_url":"https://verify.twilio.com/v2/Services?Page=1"}}`))
		default:
			reply(w, 200, []byte(`{"services":[`+svc(3)+`],"meta":{"next_page_url":"https://evil.example/v2/Elsewhere"}}`))
		}
	})
	var got []string
	for s, err := range c.Services(context.Background(), twilio.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s.SID[len(s.SID)-1:])
		if len(got) == 2 {
			break
		}
	}
	if diff := cmp.Diff([]string{"1", "2"}, got); diff != "" || pages.Load() != 1 {
		t.Errorf("services (-want +got):\n%s\nafter %d pages", diff, pages.Load())
	}
	got = nil
	var errs []error
	for s, err := range c.Services(context.Background(), twilio.ListOptions{}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, s.SID[len(s.SID)-1:])
	}
	if diff := cmp.Diff([]string{"1", "2", "3"}, got); diff != "" || len(errs) != 1 || !errors.Is(errs[0], provider.ErrUnavailable) {
		t.Errorf("services (-want +got):\n%s\nerrors %v", diff, errs)
	}
	list, err := c.ListServices(context.Background(), twilio.ListOptions{Limit: 3})
	if err != nil || len(list) != 3 {
		t.Errorf("ListServices(Limit 3) = %d, %v", len(list), err)
	}
}

// TestCheckSNA checks that an SNA check is sent without a Code, keyed by
// SID or To, with the device's client token as SnaClientToken, and that a
// pending answer becomes the typed error its last attempt's code means.
func TestCheckSNA(t *testing.T) {
	t.Parallel()
	const sna = "VEcccccccccccccccccccccccccccccccc"
	attempt := func(codes ...int) []any {
		var out []any
		for _, c := range codes {
			out = append(out, map[string]any{"attempt_sid": "VLcccccccccccccccccccccccccccccccc", "code": c})
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		req      provider.CheckRequest
		status   string
		errs     []any // sna_attempts_error_codes
		wantForm url.Values
		want     error  // nil: approved
		wantCode string // the SNAError's code
	}{
		{"approved by SID", provider.CheckRequest{ID: sna}, "approved", attempt(60519), url.Values{"VerificationSid": {sna}}, nil, ""},
		{"approved by To with a token", provider.CheckRequest{To: "+447400123456", Code: "tok-1.x"}, "approved", nil,
			url.Values{"To": {"+447400123456"}, "SnaClientToken": {"tok-1.x"}}, nil, ""},
		{"not yet, no attempt", provider.CheckRequest{ID: sna}, "pending", nil, url.Values{"VerificationSid": {sna}}, provider.ErrNotYet, "60519"},
		{"not yet, 60519", provider.CheckRequest{ID: sna}, "pending", attempt(60519), url.Values{"VerificationSid": {sna}}, provider.ErrNotYet, "60519"},
		{"bad number, 60540", provider.CheckRequest{ID: sna}, "pending", attempt(60519, 60540), url.Values{"VerificationSid": {sna}}, provider.ErrInvalidRequest, "60540"},
		{"wifi, 60510", provider.CheckRequest{ID: sna}, "pending", attempt(60510), url.Values{"VerificationSid": {sna}}, provider.ErrUndeliverable, "60510"},
		{"60511", provider.CheckRequest{ID: sna}, "pending", attempt(60511), url.Values{"VerificationSid": {sna}}, provider.ErrUndeliverable, "60511"},
		{"60517", provider.CheckRequest{ID: sna}, "pending", attempt(60517), url.Values{"VerificationSid": {sna}}, provider.ErrUndeliverable, "60517"},
		{"60520", provider.CheckRequest{ID: sna}, "pending", attempt(60520), url.Values{"VerificationSid": {sna}}, provider.ErrUndeliverable, "60520"},
		{"60533", provider.CheckRequest{ID: sna}, "pending", attempt(60533), url.Values{"VerificationSid": {sna}}, provider.ErrUndeliverable, "60533"},
		{"60534", provider.CheckRequest{ID: sna}, "pending", attempt(60534), url.Values{"VerificationSid": {sna}}, provider.ErrUndeliverable, "60534"},
		{"a code Twilio adds later", provider.CheckRequest{ID: sna}, "pending", attempt(60599), url.Values{"VerificationSid": {sna}}, provider.ErrUndeliverable, "60599"},
		{"expired", provider.CheckRequest{ID: sna}, "expired", nil, url.Values{"VerificationSid": {sna}}, provider.ErrNotFound, ""},
		{"canceled", provider.CheckRequest{ID: sna}, "canceled", nil, url.Values{"VerificationSid": {sna}}, provider.ErrNotFound, ""},
		{"max attempts", provider.CheckRequest{ID: sna}, "max_attempts_reached", nil, url.Values{"VerificationSid": {sna}}, provider.ErrTooManyChecks, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, c := setup(t)
			var got []url.Values
			mux.HandleFunc("/v2/Services/"+serviceSID+"/VerificationCheck", func(w http.ResponseWriter, r *http.Request) {
				got = append(got, record(t, r).Form)
				var v map[string]any
				json.Unmarshal(fixture(t, "verification_sna.json"), &v)
				v["status"], v["valid"] = tc.status, tc.status == "approved"
				v["sna_attempts_error_codes"] = tc.errs
				b, _ := json.Marshal(v)
				reply(w, 200, b)
			})
			v, err := c.CheckSNA(context.Background(), tc.req)
			if tc.want == nil {
				if err != nil || !v.Approved() || v.ID != sna || v.Channel != provider.ChannelSNA {
					t.Fatalf("CheckSNA = %v, %v; want approved", v, err)
				}
			} else {
				var se *provider.SNAError
				isSNA := errors.As(err, &se)
				if !errors.Is(err, tc.want) || isSNA != (tc.wantCode != "") || isSNA && se.Code != tc.wantCode || v.ID != "" {
					t.Fatalf("CheckSNA = %v, %v; want %v (an SNAError with code %q)", v, err, tc.want, tc.wantCode)
				}
				for _, other := range []error{provider.ErrNotYet, provider.ErrUndeliverable, provider.ErrInvalidRequest} {
					if other != tc.want && errors.Is(err, other) {
						t.Errorf("%v also matches %v", err, other)
					}
				}
			}
			if diff := cmp.Diff([]url.Values{tc.wantForm}, got); diff != "" {
				t.Errorf("forms (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckSNARefusals checks what is refused before anything is sent: no
// key, a token that cannot be one, and a code check without a code.
func TestCheckSNARefusals(t *testing.T) {
	t.Parallel()
	const sna = "VEcccccccccccccccccccccccccccccccc"
	mux, c := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("sent %s %s", r.Method, r.URL) })
	ctx := context.Background()
	for _, bad := range []func() error{
		func() error { _, err := c.CheckSNA(ctx, provider.CheckRequest{ID: sna, Code: "has space"}); return err },
		func() error {
			_, err := c.CheckSNA(ctx, provider.CheckRequest{ID: sna, Code: strings.Repeat("x", 1025)})
			return err
		},
		func() error { _, err := c.CheckSNA(ctx, provider.CheckRequest{}); return err },
		func() error { _, err := c.Check(ctx, provider.CheckRequest{ID: sna}); return err },
	} {
		if err := bad(); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("refused check = %v, want ErrInvalidRequest", err)
		}
	}
}
