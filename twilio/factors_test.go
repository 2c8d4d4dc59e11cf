package twilio_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/provider/providertest"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// endpoint is what the API reference (Twilio's OpenAPI spec for Verify v2)
// allows on one factor endpoint.
type endpoint struct {
	method   string
	path     *regexp.Regexp
	allowed  map[string]*regexp.Regexp // form field → value shape
	required []string
}

var (
	sidVA    = `VA[0-9a-fA-F]{32}`
	identRe  = `[A-Za-z0-9-]{8,64}`
	totpCode = regexp.MustCompile(`^[0-9]{3,8}$`)
	anyText  = regexp.MustCompile(`^(?s).+$`)
	intRe    = func(lo, hi int) *regexp.Regexp {
		alts := []string{}
		for i := lo; i <= hi; i++ {
			alts = append(alts, strconv.Itoa(i))
		}
		return regexp.MustCompile(`^(` + strings.Join(alts, "|") + `)$`)
	}
	jsonObj = regexp.MustCompile(`^\{.*\}$`)
)

// factorEndpoints is the spec's parameter list of each factor operation.
var factorEndpoints = []endpoint{
	{"POST", regexp.MustCompile(`^/v2/Services/` + sidVA + `/Entities$`), map[string]*regexp.Regexp{"Identity": regexp.MustCompile(`^` + identRe + `$`)}, []string{"Identity"}},
	{"GET", regexp.MustCompile(`^/v2/Services/` + sidVA + `/Entities$`), map[string]*regexp.Regexp{"PageSize": intRe(1, 1000), "Page": regexp.MustCompile(`^[0-9]+$`), "PageToken": anyText}, nil},
	{"GET", regexp.MustCompile(`^/v2/Services/` + sidVA + `/Entities/` + identRe + `$`), nil, nil},
	{"DELETE", regexp.MustCompile(`^/v2/Services/` + sidVA + `/Entities/` + identRe + `$`), nil, nil},
	{"POST", regexp.MustCompile(`^/v2/Services/` + sidVA + `/Entities/` + identRe + `/Factors$`), map[string]*regexp.Regexp{
		"FriendlyName": regexp.MustCompile(`^.{1,64}$`), "FactorType": regexp.MustCompile(`^totp$`),
		"Binding.Secret": regexp.MustCompile(`^[A-Za-z2-7=]{16,}$`), "Config.TimeStep": intRe(20, 60), "Config.Skew": intRe(0, 2),
		"Config.CodeLength": intRe(3, 8), "Config.Alg": regexp.MustCompile(`^(sha1|sha256|sha512)$`), "Metadata": jsonObj,
	}, []string{"FriendlyName", "FactorType"}},
	{"GET", regexp.MustCompile(`^/v2/Services/` + sidVA + `/Entities/` + identRe + `/Factors$`), map[string]*regexp.Regexp{"PageSize": intRe(1, 1000), "Page": regexp.MustCompile(`^[0-9]+$`), "PageToken": anyText}, nil},
	{"GET", regexp.MustCompile(`^/v2/Services/` + sidVA + `/Entities/` + identRe + `/Factors/YF[0-9a-f]{32}$`), nil, nil},
	{"DELETE", regexp.MustCompile(`^/v2/Services/` + sidVA + `/Entities/` + identRe + `/Factors/YF[0-9a-f]{32}$`), nil, nil},
	{"POST", regexp.MustCompile(`^/v2/Services/` + sidVA + `/Entities/` + identRe + `/Factors/YF[0-9a-f]{32}$`), map[string]*regexp.Regexp{
		"AuthPayload": totpCode, "FriendlyName": regexp.MustCompile(`^.{1,64}$`), "Config.TimeStep": intRe(20, 60), "Config.Skew": intRe(0, 2),
		"Config.CodeLength": intRe(3, 8), "Config.Alg": regexp.MustCompile(`^(sha1|sha256|sha512)$`),
		"Config.NotificationToken": anyText, "Config.SdkVersion": anyText, "Config.NotificationPlatform": regexp.MustCompile(`^(apn|fcm|none)$`),
	}, nil},
	{"POST", regexp.MustCompile(`^/v2/Services/` + sidVA + `/Entities/` + identRe + `/Challenges$`), map[string]*regexp.Regexp{
		"FactorSid": regexp.MustCompile(`^YF[0-9a-fA-F]{32}$`), "ExpirationDate": regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`),
		"Details.Message": regexp.MustCompile(`^.{1,256}$`), "Details.Fields": jsonObj, "HiddenDetails": jsonObj, "AuthPayload": totpCode,
	}, []string{"FactorSid"}},
	{"GET", regexp.MustCompile(`^/v2/Services/` + sidVA + `/Entities/` + identRe + `/Challenges$`), map[string]*regexp.Regexp{
		"FactorSid": regexp.MustCompile(`^YF[0-9a-fA-F]{32}$`), "Status": regexp.MustCompile(`^(pending|expired|approved|denied)$`),
		"Order": regexp.MustCompile(`^(asc|desc)$`), "PageSize": intRe(1, 1000), "Page": regexp.MustCompile(`^[0-9]+$`), "PageToken": anyText,
	}, nil},
	{"GET", regexp.MustCompile(`^/v2/Services/` + sidVA + `/Entities/` + identRe + `/Challenges/YC[0-9a-f]{32}$`), nil, nil},
	{"POST", regexp.MustCompile(`^/v2/Services/` + sidVA + `/Entities/` + identRe + `/Challenges/YC[0-9a-f]{32}$`), map[string]*regexp.Regexp{
		"AuthPayload": regexp.MustCompile(`^.+$`), "Metadata": jsonObj,
	}, []string{"AuthPayload"}},
}

// assertForms wraps next with a check of every request against the spec:
// a known operation, Basic auth, the form content type on POST, only
// documented fields, each with a documented value, and every required one.
// Violations fail t; the request is still served.
func assertForms(t *testing.T, endpoints []endpoint, next http.Handler, seen *sync.Map) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(format string, args ...any) {
			t.Errorf("%s %s: %s", r.Method, r.URL.Path, fmt.Sprintf(format, args...))
		}
		if _, _, ok := r.BasicAuth(); !ok {
			fail("no Basic auth")
		}
		var ep *endpoint
		for i := range endpoints {
			if endpoints[i].method == r.Method && endpoints[i].path.MatchString(r.URL.Path) {
				ep = &endpoints[i]
				break
			}
		}
		if ep == nil {
			fail("not an operation of the API this test allows")
			next.ServeHTTP(w, r)
			return
		}
		var form url.Values
		if r.Method == http.MethodPost {
			if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				fail("Content-Type %q", ct)
			}
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			form, _ = url.ParseQuery(string(body))
		} else {
			form = r.URL.Query()
			if r.ContentLength > 0 {
				fail("a body on %s", r.Method)
			}
		}
		for k, vs := range form {
			shape, ok := ep.allowed[k]
			if !ok {
				fail("field %q is not a parameter of this operation", k)
				continue
			}
			for _, v := range vs {
				if !shape.MatchString(v) {
					fail("field %s has a value outside the API's shape", k)
				}
			}
			seen.Store(r.Method+" "+ep.path.String()+" "+k, true)
		}
		for _, k := range ep.required {
			if !form.Has(k) {
				fail("required field %s missing", k)
			}
		}
		next.ServeHTTP(w, r)
	})
}

type twilioFactorHarness struct {
	c     *twilio.Client
	clock *fake.Clock
}

func (h *twilioFactorHarness) Factors() provider.FactorProvider { return h.c }
func (h *twilioFactorHarness) Now() time.Time                   { return h.clock.Now() }
func (h *twilioFactorHarness) Advance(d time.Duration)          { h.clock.Advance(d) }
func (h *twilioFactorHarness) ErrorTarget() any                 { return new(*twilio.APIError) }

var factorStart = time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC)

func newFactorClient(t *testing.T, h http.Handler) *twilio.Client {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := twilio.New(twiliotest.DefaultServiceSID,
		twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL), twilio.WithRetryWait(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestConformance_Factors runs the factors section again (TestConformance
// runs it against the emulator directly), this time through a server that
// asserts every form field against the API's parameter lists.
func TestConformance_Factors(t *testing.T) {
	var seen sync.Map
	providertest.RunFactors(t, func(t *testing.T) providertest.FactorHarness {
		clock := fake.NewClock(factorStart)
		e := twiliotest.MustNew(twiliotest.WithClock(clock.Now))
		return &twilioFactorHarness{c: newFactorClient(t, assertForms(t, factorEndpoints, e, &seen)), clock: clock}
	})
	// The suite's requests used the fields a TOTP flow needs.
	wantSent(t, &seen, "POST", "/Factors$", "FactorType", "Config.Skew", "Config.Alg")
	wantSent(t, &seen, "POST", "/Factors/YF[0-9a-f]{32}$", "AuthPayload")
	wantSent(t, &seen, "POST", "/Challenges$", "AuthPayload")
}

// wantSent fails t unless assertForms saw each of fields sent with
// method to the path that ends in tail: under the entity ("/Factors$"),
// or under the service for "/AccessTokens$".
func wantSent(t *testing.T, seen *sync.Map, method, tail string, fields ...string) {
	t.Helper()
	path := "^/v2/Services/" + sidVA + "/Entities/" + identRe + tail
	if strings.HasPrefix(tail, "/AccessTokens") {
		path = "^/v2/Services/" + sidVA + tail
	}
	for _, k := range fields {
		if _, ok := seen.Load(method + " " + path + " " + k); !ok {
			t.Errorf("no request sent %s to %s", k, path)
		}
	}
}

// recorder is a test server that records one request and answers with a
// canned body.
func recorder(t *testing.T, status int, body string) (*twilio.Client, *http.Request, *url.Values) {
	var got http.Request
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = *r
		b, _ := io.ReadAll(r.Body)
		form, _ = url.ParseQuery(string(b))
		if r.Method != http.MethodPost {
			form = r.URL.Query()
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := twilio.New(twiliotest.DefaultServiceSID, twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL), twilio.WithRetryWait(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return c, &got, &form
}

const ident = "user-0000-0001"

func TestClient_EnrollFactorForm(t *testing.T) {
	t.Parallel()
	body := `{"sid":"YF0123456789abcdef0123456789abcdef","identity":"user-0000-0001","status":"unverified","factor_type":"totp",
		"friendly_name":"Phone","config":{"alg":"sha256","skew":0,"code_length":8,"time_step":60},"metadata":{"os":"ios"},
		"binding":{"secret":"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP","uri":"otpauth://totp/x:Phone?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"},
		"date_created":"2026-03-01T12:00:00Z","date_updated":"2026-03-01T12:00:00Z"}`
	c, r, form := recorder(t, 201, body)
	e, err := c.EnrollFactor(t.Context(), provider.EnrollRequest{
		Identity: ident, Type: provider.FactorTOTP, FriendlyName: "Phone", SkewSet: true,
		TOTP:       provider.TOTPConfig{Digits: 8, Period: time.Minute, Algorithm: provider.AlgSHA256},
		Secret:     "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
		Extensions: []provider.Extension{twilio.FactorParams{Metadata: map[string]string{"os": "ios"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"FactorType": {"totp"}, "FriendlyName": {"Phone"}, "Binding.Secret": {"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"},
		"Config.CodeLength": {"8"}, "Config.TimeStep": {"60"}, "Config.Skew": {"0"}, "Config.Alg": {"sha256"}, "Metadata": {`{"os":"ios"}`},
	}
	if diff := cmp.Diff(want, *form); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}
	if r.Method != "POST" || r.URL.Path != "/v2/Services/"+twiliotest.DefaultServiceSID+"/Entities/"+ident+"/Factors" {
		t.Errorf("request %s %s", r.Method, r.URL.Path)
	}
	if e.Secret != "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" || !strings.HasPrefix(e.URI, "otpauth://") || e.TOTP.Period != time.Minute || e.TOTP.Digits != 8 {
		t.Errorf("enrolment %+v does not carry the answer", e.Factor)
	}
	d, ok := e.Detail.(*twilio.Factor)
	if !ok || d.Metadata["os"] != "ios" {
		t.Errorf("Detail %#v", e.Detail)
	}
	if s := fmt.Sprintf("%+v %#v", e, d); strings.Contains(s, "JBSWY3DP") {
		t.Error("printing the enrolment or its detail reveals the secret")
	}
}

func TestClient_ChallengeForm(t *testing.T) {
	t.Parallel()
	body := `{"sid":"YC0123456789abcdef0123456789abcdef","identity":"user-0000-0001","factor_sid":"YF0123456789abcdef0123456789abcdef",
		"status":"approved","responded_reason":"none","date_created":"2026-03-01T12:00:00Z","date_updated":"2026-03-01T12:00:00Z",
		"date_responded":"2026-03-01T12:00:00Z","expiration_date":"2026-03-01T12:05:00Z","details":null,"hidden_details":{"ip":"192.0.2.1"},
		"metadata":null,"factor_type":"totp","links":{"notifications":"x"}}`
	c, _, form := recorder(t, 201, body)
	exp := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	ch, err := c.ChallengeFactor(t.Context(), provider.ChallengeRequest{
		Identity: ident, FactorID: "YF0123456789abcdef0123456789abcdef", Code: "123456", ExpiresAt: exp,
		Extensions: []provider.Extension{&twilio.ChallengeParams{HiddenDetails: map[string]string{"ip": "192.0.2.1"},
			Details: &twilio.ChallengeDetails{Message: "Log in?", Fields: []twilio.ChallengeField{{Label: "IP", Value: "192.0.2.1"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"FactorSid": {"YF0123456789abcdef0123456789abcdef"}, "AuthPayload": {"123456"}, "ExpirationDate": {"2026-03-01T12:30:00Z"},
		"HiddenDetails": {`{"ip":"192.0.2.1"}`}, "Details.Message": {"Log in?"}, "Details.Fields": {`{"label":"IP","value":"192.0.2.1"}`},
	}
	if diff := cmp.Diff(want, *form); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}
	if !ch.Approved() || ch.RespondedAt.IsZero() || ch.ExpiresAt.IsZero() || ch.Detail.(*twilio.Challenge).HiddenDetails["ip"] != "192.0.2.1" {
		t.Errorf("challenge %+v", ch)
	}
}

// Twilio before 2021-10-27 answered a wrong code with 403 errors; the
// client turns them into the same outcome as today's answers.
func TestClient_OldWrongCodeErrorsAreOutcomes(t *testing.T) {
	t.Parallel()
	c, _, _ := recorder(t, 403, `{"code":60311,"message":"Factor verification failed","status":403}`)
	f, err := c.ConfirmFactor(t.Context(), provider.ConfirmRequest{Identity: ident, FactorID: "YF0123456789abcdef0123456789abcdef", Code: "123456"})
	if err != nil || f.Status != provider.FactorUnverified {
		t.Errorf("60311: %v, %v; want unverified, no error", f, err)
	}
	c, _, _ = recorder(t, 403, `{"code":60324,"message":"Challenge verification failed","status":403}`)
	ch, err := c.ChallengeFactor(t.Context(), provider.ChallengeRequest{Identity: ident, FactorID: "YF0123456789abcdef0123456789abcdef", Code: "123456"})
	if err != nil || ch.Approved() {
		t.Errorf("60324: %v, %v; want not approved, no error", ch, err)
	}
}

func TestClient_FactorErrorsMapped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status, code int
		want         error
	}{
		{429, 60310, provider.ErrTooManyChecks},
		{403, 60318, provider.ErrInvalidRequest},
		{403, 60323, provider.ErrNotFound},
		{404, 60391, provider.ErrNotFound},
		{400, 60306, provider.ErrInvalidRequest},
		{400, 60369, provider.ErrInvalidRequest},
		{404, 20404, provider.ErrNotFound},
		{500, 20500, provider.ErrOutcomeUnknown},
	} {
		c, _, _ := recorder(t, tc.status, fmt.Sprintf(`{"code":%d,"message":"code 654321","status":%d}`, tc.code, tc.status))
		_, err := c.ChallengeFactor(t.Context(), provider.ChallengeRequest{Identity: ident, FactorID: "YF0123456789abcdef0123456789abcdef", Code: "654321"})
		if !errors.Is(err, tc.want) {
			t.Errorf("%d/%d: %v, want %v", tc.status, tc.code, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "654321") {
			t.Errorf("%d/%d: the error quotes the code: %v", tc.status, tc.code, err)
		}
	}
}

// A challenge's creation is not repeated after a failure that may have
// reached Twilio (like a check), but is when it provably did not.
func TestClient_ChallengeCreateRetries(t *testing.T) {
	t.Parallel()
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	c, _ := twilio.New(twiliotest.DefaultServiceSID, twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL), twilio.WithRetryWait(0, 0), twilio.WithRetries(3))
	_, err := c.ChallengeFactor(t.Context(), provider.ChallengeRequest{Identity: ident, FactorID: "YF0123456789abcdef0123456789abcdef", Code: "123456"})
	if !errors.Is(err, provider.ErrOutcomeUnknown) || n != 1 {
		t.Errorf("502 on create challenge: %v after %d attempts; want ErrOutcomeUnknown after 1", err, n)
	}
	n = 0
	_, err = c.FetchFactor(t.Context(), ident, "YF0123456789abcdef0123456789abcdef")
	if n != 4 || !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("502 on fetch factor: %v after %d attempts; want retries", err, n)
	}
}

func TestClient_FactorInputRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	c, r, _ := recorder(t, 200, `{}`)
	ctx := t.Context()
	for name, call := range map[string]func() error{
		"identity": func() error {
			_, err := c.FetchFactor(ctx, "a/b/../c", "YF0123456789abcdef0123456789abcdef")
			return err
		},
		"empty factor SID": func() error { _, err := c.FetchFactor(ctx, ident, ""); return err },
		"code": func() error {
			_, err := c.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: ident, FactorID: "YF0123456789abcdef0123456789abcdef", Code: "12ab"})
			return err
		},
		"config": func() error {
			_, err := c.EnrollFactor(ctx, provider.EnrollRequest{Identity: ident, Type: provider.FactorTOTP, FriendlyName: "x", TOTP: provider.TOTPConfig{Skew: 5}})
			return err
		},
		"push": func() error {
			_, err := c.EnrollFactor(ctx, provider.EnrollRequest{Identity: ident, Type: provider.FactorPush, FriendlyName: "x"})
			if !errors.Is(err, provider.ErrUnsupported) {
				return errors.New("push is not ErrUnsupported")
			}
			return provider.ErrInvalidRequest
		},
		"empty challenge SID": func() error { _, err := c.FetchChallenge(ctx, ident, ""); return err },
		"list status": func() error {
			_, err := c.ListChallenges(ctx, ident, provider.ChallengeQuery{Status: "weird"})
			return err
		},
	} {
		if err := call(); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("%s: %v, want ErrInvalidRequest", name, err)
		}
	}
	// IDs are opaque to callers: one that is not the shape of Twilio's was
	// never issued, so it is not found, and not sent either.
	for name, call := range map[string]func() error{
		"factor SID": func() error { _, err := c.FetchFactor(ctx, ident, "YF../x"); return err },
		"challenge SID": func() error {
			_, err := c.FetchChallenge(ctx, ident, "VE0123456789abcdef0123456789abcdef")
			return err
		},
		"challenge of a foreign factor ID": func() error {
			_, err := c.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: ident, FactorID: "0123456789abcdef0123456789abcdef", Code: "123456"})
			return err
		},
		"delete a foreign factor ID": func() error { return c.DeleteFactor(ctx, ident, "f-1") },
	} {
		if err := call(); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	if r.Method != "" {
		t.Errorf("a refused call was sent: %s %s", r.Method, r.URL.Path)
	}
}

// Entities, paging and the calls outside provider.FactorProvider, through
// the emulator.
func TestClient_EntitiesAndPaging(t *testing.T) {
	t.Parallel()
	clock := fake.NewClock(factorStart)
	e := twiliotest.MustNew(twiliotest.WithClock(clock.Now))
	var seen sync.Map
	c := newFactorClient(t, assertForms(t, factorEndpoints, e, &seen))
	ctx := t.Context()
	for i := range 7 {
		if _, err := c.CreateEntity(ctx, fmt.Sprintf("user-0000-%04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	all, err := c.ListEntities(ctx, twilio.ListOptions{PageSize: 3})
	if err != nil || len(all) != 7 {
		t.Fatalf("ListEntities over pages of 3: %d, %v", len(all), err)
	}
	some, err := c.ListEntities(ctx, twilio.ListOptions{PageSize: 2, Limit: 5})
	if err != nil || len(some) != 5 {
		t.Fatalf("ListEntities limit 5: %d, %v", len(some), err)
	}
	en, err := c.FetchEntity(ctx, "user-0000-0003")
	if err != nil || en.Identity != "user-0000-0003" || !strings.HasPrefix(en.SID, "YE") || en.Links["factors"] == "" {
		t.Fatalf("FetchEntity: %v %v", en, err)
	}
	for i := range 4 {
		if _, err := c.EnrollFactor(ctx, provider.EnrollRequest{Identity: "user-0000-0003", Type: provider.FactorTOTP, FriendlyName: fmt.Sprint("f", i)}); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := c.ListFactors(ctx, "user-0000-0003")
	if err != nil || len(fs) != 4 {
		t.Fatalf("ListFactors: %d %v", len(fs), err)
	}
	up, err := c.UpdateFactor(ctx, "user-0000-0003", fs[0].ID, twilio.FactorUpdate{FriendlyName: "Renamed"})
	if err != nil || up.FriendlyName != "Renamed" {
		t.Fatalf("UpdateFactor rename: %v %v", up, err)
	}
	if err := c.DeleteIdentity(ctx, "user-0000-0003"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FetchEntity(ctx, "user-0000-0003"); !errors.Is(err, provider.ErrNotFound) {
		t.Fatalf("FetchEntity after delete: %v", err)
	}
}

// The emulator driven through plain HTTP, with the form fields and paths
// the official SDKs send (twilio-go's CreateNewFactorParams: FactorType,
// FriendlyName, Config.*; UpdateFactorParams: AuthPayload;
// CreateChallengeParams: FactorSid, AuthPayload).
func TestEmulator_FactorsLikeTheSDKs(t *testing.T) {
	t.Parallel()
	clock := fake.NewClock(factorStart)
	srv := twiliotest.NewServer(twiliotest.WithClock(clock.Now))
	t.Cleanup(srv.Close)
	base := srv.URL + "/v2/Services/" + twiliotest.DefaultServiceSID + "/Entities/" + ident
	do := func(method, u string, f url.Values) (int, map[string]any) {
		t.Helper()
		var body io.Reader
		if f != nil {
			body = strings.NewReader(f.Encode())
		}
		req, _ := http.NewRequestWithContext(context.Background(), method, u, body)
		req.SetBasicAuth(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken)
		if f != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	st, nf := do("POST", base+"/Factors", url.Values{"FactorType": {"totp"}, "FriendlyName": {"Phone"}, "Config.CodeLength": {"6"}, "Config.TimeStep": {"30"}, "Config.Skew": {"1"}, "Config.Alg": {"sha1"}})
	if st != 201 {
		t.Fatalf("create factor: %d %v", st, nf)
	}
	binding, _ := nf["binding"].(map[string]any)
	secret, _ := binding["secret"].(string)
	if secret == "" || nf["status"] != "unverified" || !strings.HasPrefix(binding["uri"].(string), "otpauth://totp/") {
		t.Fatalf("create factor answer: status %v, binding present %v", nf["status"], secret != "")
	}
	for _, k := range []string{"sid", "account_sid", "service_sid", "entity_sid", "identity", "date_created", "date_updated", "friendly_name", "status", "factor_type", "config", "metadata", "url"} {
		if _, ok := nf[k]; !ok {
			t.Errorf("new factor lacks %q", k)
		}
	}
	sid := nf["sid"].(string)
	code := func(offset int64) string {
		v := twiliotestCode(t, secret, clock.Now(), offset)
		return v
	}
	st, f := do("POST", base+"/Factors/"+sid, url.Values{"AuthPayload": {"000000"}})
	if st != 200 || f["status"] != "unverified" {
		t.Fatalf("verify factor with a wrong code: %d %v", st, f["status"])
	}
	st, f = do("POST", base+"/Factors/"+sid, url.Values{"AuthPayload": {code(0)}})
	if st != 200 || f["status"] != "verified" {
		t.Fatalf("verify factor: %d %v", st, f)
	}
	if _, ok := f["binding"]; ok {
		t.Error("the factor update returns the binding")
	}
	clock.Advance(30 * time.Second)
	st, ch := do("POST", base+"/Challenges", url.Values{"FactorSid": {sid}, "AuthPayload": {code(0)}})
	if st != 201 || ch["status"] != "approved" || ch["factor_sid"] != sid || ch["date_responded"] == nil {
		t.Fatalf("create challenge: %d %v", st, ch)
	}
	st, ch = do("POST", base+"/Challenges", url.Values{"FactorSid": {sid}, "AuthPayload": {code(0)}})
	if st != 201 || ch["status"] != "pending" {
		t.Fatalf("replayed code: %d %v", st, ch["status"])
	}
	st, ch2 := do("POST", base+"/Challenges/"+ch["sid"].(string), url.Values{"AuthPayload": {code(1)}})
	if st != 200 || ch2["status"] != "approved" {
		t.Fatalf("update challenge with the next step's code: %d %v", st, ch2)
	}
	st, list := do("GET", base+"/Challenges?FactorSid="+sid+"&Status=approved&PageSize=1", nil)
	meta, _ := list["meta"].(map[string]any)
	if st != 200 || len(list["challenges"].([]any)) != 1 || meta["key"] != "challenges" || meta["next_page_url"] == nil {
		t.Fatalf("list challenges: %d %v", st, list)
	}
	st, list = do("GET", base+"/Factors", nil)
	if st != 200 || len(list["factors"].([]any)) != 1 {
		t.Fatalf("list factors: %d %v", st, list)
	}
	if fs := list["factors"].([]any); fs[0].(map[string]any)["binding"] != nil {
		t.Error("list returns the binding")
	}
	st, e := do("GET", base+"/Factors/YF00000000000000000000000000000000", nil)
	if st != 404 || e["code"] != float64(20404) {
		t.Errorf("unknown factor: %d %v", st, e)
	}
	st, e = do("POST", base+"/Factors", url.Values{"FactorType": {"sms"}, "FriendlyName": {"x"}})
	if st != 400 || e["code"] != float64(60369) {
		t.Errorf("factor type sms: %d %v", st, e)
	}
	st, e = do("POST", base+"/Factors", url.Values{"FactorType": {"totp"}, "FriendlyName": {"x"}, "Config.Skew": {"3"}})
	if st != 400 || e["code"] != float64(60306) {
		t.Errorf("skew 3: %d %v", st, e)
	}
	st, ch3 := do("POST", base+"/Challenges", url.Values{"FactorSid": {sid}, "AuthPayload": {"000000"}})
	if st != 201 || ch3["status"] != "pending" {
		t.Fatalf("challenge with a wrong code: %d %v", st, ch3)
	}
	clock.Advance(5 * time.Minute) // the challenge's default expiry
	st, e = do("POST", base+"/Challenges/"+ch3["sid"].(string), url.Values{"AuthPayload": {code(0)}})
	if st != 403 || e["code"] != float64(60323) {
		t.Errorf("update of an expired challenge: %d %v, want 403/60323", st, e)
	}
	for range 5 {
		do("POST", base+"/Challenges", url.Values{"FactorSid": {sid}, "AuthPayload": {"000000"}})
	}
	req, _ := http.NewRequest("POST", base+"/Challenges", strings.NewReader(url.Values{"FactorSid": {sid}, "AuthPayload": {code(0)}}.Encode()))
	req.SetBasicAuth(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var lim map[string]any
	json.NewDecoder(resp.Body).Decode(&lim)
	resp.Body.Close()
	if resp.StatusCode != 429 || lim["code"] != float64(60310) || resp.Header.Get("Retry-After") == "" {
		t.Errorf("after 5 wrong codes: %d %v Retry-After %q", resp.StatusCode, lim, resp.Header.Get("Retry-After"))
	}
	if st, _ := do("DELETE", base, nil); st != 204 {
		t.Errorf("delete entity: %d", st)
	}
}

// twiliotestCode computes a TOTP code the way an authenticator app does,
// independently of the emulator: through oathtool when installed (RFC
// 6238's reference tool), else through the conformance suite's own
// implementation by way of a factor it can see.
func twiliotestCode(t *testing.T, secret string, at time.Time, offset int64) string {
	t.Helper()
	return oathtoolOrFallback(t, secret, at.Add(time.Duration(offset)*30*time.Second))
}

func oathtoolOrFallback(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	if path, err := exec.LookPath("oathtool"); err == nil {
		out, err := exec.Command(path, "--totp", "-b", "-N", at.UTC().Format("2006-01-02 15:04:05 UTC"), secret).Output()
		if err != nil {
			t.Fatalf("oathtool: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	if os.Getenv("OATHTOOL_REQUIRED") == "1" {
		t.Fatal("oathtool not found and OATHTOOL_REQUIRED=1")
	}
	return hotpSHA1(t, secret, at)
}

// hotpSHA1 is RFC 6238 with SHA-1, 6 digits, 30 s, for when oathtool is
// not installed.
func hotpSHA1(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha1.New, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0xf
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:])&0x7fffffff)%1000000)
}

// A code from oathtool is accepted by the emulator exactly when Twilio
// accepts it: the current step and one either side (skew 1), not two.
func TestEmulator_OathtoolInterop(t *testing.T) {
	t.Parallel()
	path, err := exec.LookPath("oathtool")
	if err != nil {
		if os.Getenv("OATHTOOL_REQUIRED") == "1" {
			t.Fatal("oathtool not found and OATHTOOL_REQUIRED=1")
		}
		t.Skip("oathtool not installed (apt-get install oathtool); set OATHTOOL_REQUIRED=1 to fail instead")
	}
	clock := fake.NewClock(factorStart)
	c := newFactorClient(t, twiliotest.MustNew(twiliotest.WithClock(clock.Now)))
	ctx := t.Context()
	for _, tc := range []struct {
		cfg    provider.TOTPConfig
		args   []string
		offset int64
		ok     bool
	}{
		{provider.TOTPConfig{}, []string{"--totp"}, 0, true},
		{provider.TOTPConfig{}, []string{"--totp"}, -1, true},
		{provider.TOTPConfig{}, []string{"--totp"}, 1, true},
		{provider.TOTPConfig{}, []string{"--totp"}, -2, false},
		{provider.TOTPConfig{}, []string{"--totp"}, 2, false},
		{provider.TOTPConfig{Digits: 8, Period: time.Minute, Algorithm: provider.AlgSHA256}, []string{"--totp=sha256", "-d", "8", "-s", "60s"}, 0, true},
		{provider.TOTPConfig{Digits: 7, Period: 20 * time.Second, Algorithm: provider.AlgSHA512, Skew: 2}, []string{"--totp=sha512", "-d", "7", "-s", "20s"}, -2, true},
	} {
		e, err := c.EnrollFactor(ctx, provider.EnrollRequest{Identity: ident, Type: provider.FactorTOTP, FriendlyName: "oathtool", TOTP: tc.cfg})
		if err != nil {
			t.Fatal(err)
		}
		at := clock.Now().Add(time.Duration(tc.offset) * e.TOTP.Period)
		args := append(append([]string{}, tc.args...), "-b", "-N", at.UTC().Format("2006-01-02 15:04:05 UTC"), e.Secret)
		out, err := exec.Command(path, args...).Output()
		if err != nil {
			t.Fatalf("oathtool %v: %v", tc.args, err)
		}
		f, err := c.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: ident, FactorID: e.ID, Code: strings.TrimSpace(string(out))})
		if err != nil || f.Verified() != tc.ok {
			t.Errorf("%v offset %d: verified %v (%v), want %v", tc.args, tc.offset, f.Verified(), err, tc.ok)
		}
	}
}
