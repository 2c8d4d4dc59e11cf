package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

const (
	ykSID      = "YKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	ywSID      = "YWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	ntSID      = "NTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	ycSID      = "YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	yfSID      = "YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	yeSID      = "YEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	pushIdent  = "ff483d1ff591898a9942916050d2ca3f"
	accessJWT  = "eyJhbGciOiJIUzI1NiJ9.e30.c2VjcmV0LWFjY2Vzcy10b2tlbg"
	pushPubKey = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEWcbvpfLIwtWh2cNHMyt/Ti0z1K+vA+lD8bKhWDZVlMW9N3DUPcKNlEK6QGXpqv/zkpP4dV1SGCZFjHtwXpVbdQ=="
	fcmToken   = "fcm-token-0123456789abcdef0123456789abcdef"
)

const ykJSON = `{"sid":"` + ykSID + `","account_sid":"` + accountSID + `","service_sid":"` + serviceSID + `","entity_identity":"` + pushIdent +
	`","factor_type":"push","factor_friendly_name":"John Doe iPhone","token":"` + accessJWT + `","url":"https://verify.twilio.com/v2/Services/` + serviceSID +
	`/AccessTokens/` + ykSID + `","ttl":300,"date_created":"2026-01-02T03:04:05Z"}`

var wantYK = twilio.AccessToken{
	SID: ykSID, AccountSID: accountSID, ServiceSID: serviceSID, EntityIdentity: pushIdent, FactorType: "push",
	FactorFriendlyName: "John Doe iPhone", Token: accessJWT, URL: "https://verify.twilio.com/v2/Services/" + serviceSID + "/AccessTokens/" + ykSID,
	TTL: 300, DateCreated: day1,
}

func TestAccessTokensWire(t *testing.T) {
	path := "/v2/Services/" + serviceSID + "/AccessTokens"
	runWire(t, []wireCase{
		{name: "create", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.IssueAccessToken(ctx, twilio.AccessTokenParams{Identity: pushIdent, FactorFriendlyName: "John Doe iPhone", TTL: 5 * time.Minute})
		}, method: "POST", path: path, form: url.Values{"Identity": {pushIdent}, "FactorType": {"push"}, "FactorFriendlyName": {"John Doe iPhone"}, "Ttl": {"300"}},
			status: 201, answer: ykJSON, want: wantYK},
		{name: "create default ttl", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.IssueAccessToken(ctx, twilio.AccessTokenParams{Identity: pushIdent, FactorType: provider.FactorPush})
		}, method: "POST", path: path, form: url.Values{"Identity": {pushIdent}, "FactorType": {"push"}}, status: 201, answer: ykJSON, want: wantYK},
		{name: "fetch", call: func(ctx context.Context, c *twilio.Client) (any, error) { return c.FetchAccessToken(ctx, ykSID) },
			method: "GET", path: path + "/" + ykSID, status: 200, answer: ykJSON, want: wantYK},
	})
	for _, s := range []string{wantYK.String(), fmt.Sprint(wantYK), fmt.Sprintf("%+v", wantYK), fmt.Sprintf("%#v", wantYK), fmt.Sprintf("%s", []twilio.AccessToken{wantYK})} {
		if strings.Contains(s, "c2VjcmV0") || strings.Contains(s, pushIdent) {
			t.Errorf("%q shows the token or the identity", s)
		}
	}
}

const ywJSON = `{"sid":"` + ywSID + `","service_sid":"` + serviceSID + `","account_sid":"` + accountSID + `","friendly_name":"events",` +
	`"event_types":["factor.deleted","factor.verified"],"status":"enabled","version":"v2","webhook_url":"https://owlbank.example/hook",` +
	`"webhook_method":"POST","date_created":"2026-01-02T03:04:05Z","date_updated":"2026-01-03T03:04:05Z","url":"https://verify.twilio.com/v2/Services/` + serviceSID + `/Webhooks/` + ywSID + `"}`

var wantYW = twilio.Webhook{
	SID: ywSID, ServiceSID: serviceSID, AccountSID: accountSID, FriendlyName: "events", EventTypes: []string{"factor.deleted", "factor.verified"},
	Status: "enabled", Version: "v2", WebhookURL: "https://owlbank.example/hook", WebhookMethod: "POST", DateCreated: day1, DateUpdated: day2,
	URL: "https://verify.twilio.com/v2/Services/" + serviceSID + "/Webhooks/" + ywSID,
}

func TestWebhooksWire(t *testing.T) {
	path := "/v2/Services/" + serviceSID + "/Webhooks"
	runWire(t, []wireCase{
		{name: "create", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.CreateWebhook(ctx, twilio.WebhookParams{FriendlyName: "events", EventTypes: []string{twilio.WebhookFactorDeleted, twilio.WebhookFactorVerified},
				WebhookURL: "https://owlbank.example/hook", Status: "enabled", Version: "v2"})
		}, method: "POST", path: path, form: url.Values{"FriendlyName": {"events"}, "EventTypes": {"factor.deleted", "factor.verified"},
			"WebhookUrl": {"https://owlbank.example/hook"}, "Status": {"enabled"}, "Version": {"v2"}}, status: 201, answer: ywJSON, want: wantYW},
		{name: "fetch", call: func(ctx context.Context, c *twilio.Client) (any, error) { return c.FetchWebhook(ctx, ywSID) },
			method: "GET", path: path + "/" + ywSID, status: 200, answer: ywJSON, want: wantYW},
		{name: "update", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.UpdateWebhook(ctx, ywSID, twilio.WebhookParams{Status: "disabled", EventTypes: []string{twilio.WebhookAllEvents}})
		}, method: "POST", path: path + "/" + ywSID, form: url.Values{"Status": {"disabled"}, "EventTypes": {"*"}}, status: 200, answer: ywJSON, want: wantYW},
		{name: "delete", call: func(ctx context.Context, c *twilio.Client) (any, error) { return nil, c.DeleteWebhook(ctx, ywSID) },
			method: "DELETE", path: path + "/" + ywSID, status: 204},
		{name: "list", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.ListWebhooks(ctx, twilio.ListOptions{PageSize: 5})
		}, method: "GET", path: path, query: "PageSize=5", status: 200, answer: `{"webhooks":[` + ywJSON + `],"meta":{"next_page_url":null}}`, want: []twilio.Webhook{wantYW}},
	})
}

func TestNotificationsWire(t *testing.T) {
	path := "/v2/Services/" + serviceSID + "/Entities/" + pushIdent + "/Challenges/" + ycSID + "/Notifications"
	nt := `{"sid":"` + ntSID + `","account_sid":"` + accountSID + `","service_sid":"` + serviceSID + `","entity_sid":"` + yeSID + `","identity":"` + pushIdent +
		`","challenge_sid":"` + ycSID + `","priority":"high","ttl":0,"date_created":"2026-01-02T03:04:05Z"}`
	want := twilio.Notification{SID: ntSID, AccountSID: accountSID, ServiceSID: serviceSID, EntitySID: yeSID, Identity: pushIdent,
		ChallengeSID: ycSID, Priority: "high", DateCreated: day1}
	runWire(t, []wireCase{
		{name: "ttl 0", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.CreateNotification(ctx, pushIdent, ycSID, twilio.NotificationParams{TTLSet: true})
		}, method: "POST", path: path, form: url.Values{"Ttl": {"0"}}, status: 201, answer: nt, want: want},
		{name: "ttl 150", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.CreateNotification(ctx, pushIdent, ycSID, twilio.NotificationParams{TTL: 150 * time.Second})
		}, method: "POST", path: path, form: url.Values{"Ttl": {"150"}}, status: 201, answer: nt, want: want},
		{name: "default", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.CreateNotification(ctx, pushIdent, ycSID, twilio.NotificationParams{})
		}, method: "POST", path: path, status: 201, answer: nt, want: want},
	})
}

const newPushFactorJSON = `{"sid":"` + yfSID + `","account_sid":"` + accountSID + `","service_sid":"` + serviceSID + `","entity_sid":"` + yeSID +
	`","identity":"` + pushIdent + `","binding":{"public_key":"` + pushPubKey + `","alg":"ES256"},"date_created":"2026-01-02T03:04:05Z",` +
	`"date_updated":"2026-01-02T03:04:05Z","friendly_name":"John's phone","status":"unverified","factor_type":"push",` +
	`"config":{"sdk_version":"2.2.2","app_id":"com.example.app","notification_platform":"fcm","notification_token":"` + fcmToken + `"},` +
	`"metadata":{"os":"Android"},"url":"https://verify.twilio.com/v2/x"}`

func TestPushFactorWire(t *testing.T) {
	path := "/v2/Services/" + serviceSID + "/Entities/" + pushIdent + "/Factors"
	wantNF := twilio.NewFactor{
		Factor: twilio.Factor{SID: yfSID, AccountSID: accountSID, ServiceSID: serviceSID, EntitySID: yeSID, Identity: pushIdent,
			DateCreated: day1, DateUpdated: day1, FriendlyName: "John's phone", Status: "unverified", FactorType: "push",
			Config:   twilio.FactorConfig{SdkVersion: "2.2.2", AppID: "com.example.app", NotificationPlatform: "fcm", NotificationToken: fcmToken},
			Metadata: map[string]string{"os": "Android"}, URL: "https://verify.twilio.com/v2/x"},
		Binding: twilio.FactorBinding{PublicKey: pushPubKey, Alg: "ES256"},
	}
	runWire(t, []wireCase{
		{name: "create push", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.CreateNewFactor(ctx, pushIdent, twilio.NewFactorParams{FriendlyName: "John's phone", FactorType: provider.FactorPush,
				PublicKey: pushPubKey, AppID: "com.example.app", NotificationPlatform: "fcm", NotificationToken: fcmToken, SdkVersion: "2.2.2",
				Metadata: map[string]string{"os": "Android"}})
		}, method: "POST", path: path, form: url.Values{"FriendlyName": {"John's phone"}, "FactorType": {"push"}, "Binding.PublicKey": {pushPubKey},
			"Binding.Alg": {"ES256"}, "Config.AppId": {"com.example.app"}, "Config.NotificationPlatform": {"fcm"}, "Config.NotificationToken": {fcmToken},
			"Config.SdkVersion": {"2.2.2"}, "Metadata": {`{"os":"Android"}`}}, status: 201, answer: newPushFactorJSON, want: wantNF},
		{name: "create push polling", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.CreateNewFactor(ctx, pushIdent, twilio.NewFactorParams{FriendlyName: "John's phone", FactorType: provider.FactorPush,
				PublicKey: pushPubKey, Alg: "ES256", NotificationPlatform: "none"})
		}, method: "POST", path: path, form: url.Values{"FriendlyName": {"John's phone"}, "FactorType": {"push"}, "Binding.PublicKey": {pushPubKey},
			"Binding.Alg": {"ES256"}, "Config.NotificationPlatform": {"none"}}, status: 201, answer: newPushFactorJSON, want: wantNF},
		{name: "update push", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			f, err := c.UpdateFactor(ctx, pushIdent, yfSID, twilio.FactorUpdate{NotificationPlatform: "apn", NotificationToken: fcmToken, SdkVersion: "2.2.3", FriendlyName: "new"})
			want := provider.PushFactorConfig{Platform: "fcm", AppID: "com.example.app", NotificationToken: fcmToken, SDKVersion: "2.2.2", Metadata: map[string]string{"os": "Android"}}
			if err == nil && (f.Push == nil || !reflect.DeepEqual(*f.Push, want)) {
				t.Errorf("Factor.Push = %+v, want %+v", f.Push, want)
			}
			return f.Detail.(*twilio.Factor).Config, err
		}, method: "POST", path: path + "/" + yfSID, form: url.Values{"FriendlyName": {"new"}, "Config.NotificationPlatform": {"apn"},
			"Config.NotificationToken": {fcmToken}, "Config.SdkVersion": {"2.2.3"}}, status: 200, answer: strings.Replace(newPushFactorJSON, `"binding":{"public_key":"`+pushPubKey+`","alg":"ES256"},`, "", 1),
			want: wantNF.Config},
	})
}

func TestChallengesWire(t *testing.T) {
	path := "/v2/Services/" + serviceSID + "/Entities/" + pushIdent + "/Challenges"
	yc := `{"sid":"` + ycSID + `","account_sid":"` + accountSID + `","service_sid":"` + serviceSID + `","entity_sid":"` + yeSID + `","identity":"` + pushIdent +
		`","factor_sid":"` + yfSID + `","date_created":"2026-01-02T03:04:05Z","date_updated":"2026-01-02T03:04:05Z","date_responded":null,` +
		`"expiration_date":"2026-01-03T03:04:05Z","status":"pending","responded_reason":"none","details":{"message":"Log in?","date":"2026-01-02T03:04:05Z",` +
		`"fields":[{"label":"Action","value":"login"}]},"hidden_details":{"ip":"192.0.2.1"},"metadata":null,"factor_type":"push","url":"u","links":{"notifications":"n"}}`
	want := provider.Challenge{ID: ycSID, Identity: pushIdent, FactorID: yfSID, Status: provider.ChallengePending, CreatedAt: day1, UpdatedAt: day1, ExpiresAt: day2,
		Push: &provider.PushDetails{Message: "Log in?", Fields: []provider.PushField{{Label: "Action", Value: "login"}}, Hidden: map[string]string{"ip": "192.0.2.1"}},
		Detail: &twilio.Challenge{SID: ycSID, AccountSID: accountSID, ServiceSID: serviceSID, EntitySID: yeSID, Identity: pushIdent, FactorSID: yfSID,
			DateCreated: day1, DateUpdated: day1, ExpirationDate: day2, Status: "pending", RespondedReason: "none",
			Details:       &twilio.ChallengeDetails{Message: "Log in?", Date: "2026-01-02T03:04:05Z", Fields: []twilio.ChallengeField{{Label: "Action", Value: "login"}}},
			HiddenDetails: map[string]string{"ip": "192.0.2.1"}, FactorType: "push", URL: "u", Links: map[string]string{"notifications": "n"}}}
	runWire(t, []wireCase{
		{name: "create push", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: pushIdent, FactorID: yfSID, ExpiresAt: day2,
				Extensions: []provider.Extension{twilio.ChallengeParams{Details: &twilio.ChallengeDetails{Message: "Log in?",
					Fields: []twilio.ChallengeField{{Label: "Action", Value: "login"}, {Label: "From", Value: "Paris"}}}, HiddenDetails: map[string]string{"ip": "192.0.2.1"}}}})
		}, method: "POST", path: path, form: url.Values{"FactorSid": {yfSID}, "ExpirationDate": {"2026-01-03T03:04:05Z"}, "Details.Message": {"Log in?"},
			"Details.Fields": {`{"label":"Action","value":"login"}`, `{"label":"From","value":"Paris"}`}, "HiddenDetails": {`{"ip":"192.0.2.1"}`}},
			status: 201, answer: yc, want: want},
		{name: "list filtered", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return collect(c.Challenges(ctx, pushIdent, twilio.ChallengeListOptions{FactorSID: yfSID, Status: provider.ChallengePending, Order: "desc", PageSize: 7}))
		}, method: "GET", path: path, query: "FactorSid=" + yfSID + "&Order=desc&PageSize=7&Status=pending", status: 200,
			answer: `{"challenges":[` + yc + `],"meta":{"next_page_url":null}}`, want: []provider.Challenge{want}},
		{name: "update", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return c.UpdateChallenge(ctx, pushIdent, ycSID, "a.b.c", map[string]string{"os": "Android"})
		}, method: "POST", path: path + "/" + ycSID, form: url.Values{"AuthPayload": {"a.b.c"}, "Metadata": {`{"os":"Android"}`}}, status: 200, answer: yc, want: want},
	})
}

// TestPushAPIInputRefused: malformed input is refused before anything is
// sent.
func TestPushAPIInputRefused(t *testing.T) {
	mux, c := setup(t)
	mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) { t.Error("a request was sent") })
	ctx := context.Background()
	push := twilio.NewFactorParams{FriendlyName: "phone", FactorType: provider.FactorPush, PublicKey: pushPubKey, NotificationPlatform: "none"}
	with := func(f func(*twilio.NewFactorParams)) twilio.NewFactorParams { p := push; f(&p); return p }
	for name, err := range map[string]error{
		"token bad identity": func() error {
			_, err := c.IssueAccessToken(ctx, twilio.AccessTokenParams{Identity: "a@b"})
			return err
		}(),
		"token totp": func() error {
			_, err := c.IssueAccessToken(ctx, twilio.AccessTokenParams{Identity: pushIdent, FactorType: provider.FactorTOTP})
			return err
		}(),
		"token ttl": func() error {
			_, err := c.IssueAccessToken(ctx, twilio.AccessTokenParams{Identity: pushIdent, TTL: 301 * time.Second})
			return err
		}(),
		"token sid": func() error { _, err := c.FetchAccessToken(ctx, "YK1"); return err }(),
		"webhook missing": func() error {
			_, err := c.CreateWebhook(ctx, twilio.WebhookParams{FriendlyName: "x", EventTypes: []string{"*"}})
			return err
		}(),
		"webhook event": func() error {
			_, err := c.UpdateWebhook(ctx, ywSID, twilio.WebhookParams{EventTypes: []string{"factor.bogus"}})
			return err
		}(),
		"webhook url": func() error {
			_, err := c.UpdateWebhook(ctx, ywSID, twilio.WebhookParams{WebhookURL: "ftp://x/"})
			return err
		}(),
		"webhook status":  func() error { _, err := c.UpdateWebhook(ctx, ywSID, twilio.WebhookParams{Status: "on"}); return err }(),
		"webhook version": func() error { _, err := c.UpdateWebhook(ctx, ywSID, twilio.WebhookParams{Version: "v3"}); return err }(),
		"webhook sid":     c.DeleteWebhook(ctx, "YW0"),
		"notification ttl": func() error {
			_, err := c.CreateNotification(ctx, pushIdent, ycSID, twilio.NotificationParams{TTL: 301 * time.Second})
			return err
		}(),
		"push no key": func() error {
			_, err := c.CreateNewFactor(ctx, pushIdent, with(func(p *twilio.NewFactorParams) { p.PublicKey = "" }))
			return err
		}(),
		"push bad key": func() error {
			_, err := c.CreateNewFactor(ctx, pushIdent, with(func(p *twilio.NewFactorParams) { p.PublicKey = "%%%" }))
			return err
		}(),
		"push alg": func() error {
			_, err := c.CreateNewFactor(ctx, pushIdent, with(func(p *twilio.NewFactorParams) { p.Alg = "RS256" }))
			return err
		}(),
		"push no platform": func() error {
			_, err := c.CreateNewFactor(ctx, pushIdent, with(func(p *twilio.NewFactorParams) { p.NotificationPlatform = "" }))
			return err
		}(),
		"push fcm no token": func() error {
			_, err := c.CreateNewFactor(ctx, pushIdent, with(func(p *twilio.NewFactorParams) { p.NotificationPlatform = "fcm" }))
			return err
		}(),
		"push short token": func() error {
			_, err := c.CreateNewFactor(ctx, pushIdent, with(func(p *twilio.NewFactorParams) { p.NotificationPlatform, p.NotificationToken = "apn", "short" }))
			return err
		}(),
		"push app id": func() error {
			_, err := c.CreateNewFactor(ctx, pushIdent, with(func(p *twilio.NewFactorParams) { p.AppID = strings.Repeat("a", 101) }))
			return err
		}(),
		"push secret": func() error {
			_, err := c.CreateNewFactor(ctx, pushIdent, with(func(p *twilio.NewFactorParams) { p.Secret = "JBSWY3DPEHPK3PXP" }))
			return err
		}(),
		"totp pub key": func() error {
			_, err := c.CreateNewFactor(ctx, pushIdent, with(func(p *twilio.NewFactorParams) { p.FactorType = provider.FactorTOTP }))
			return err
		}(),
		"no type": func() error {
			_, err := c.CreateNewFactor(ctx, pushIdent, with(func(p *twilio.NewFactorParams) { p.FactorType = "" }))
			return err
		}(),
		"update platform": func() error {
			_, err := c.UpdateFactor(ctx, pushIdent, yfSID, twilio.FactorUpdate{NotificationPlatform: "sms"})
			return err
		}(),
	} {
		if !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("%s: %v, want ErrInvalidRequest", name, err)
		}
	}
}

// TestPushAPIAnswerAboutAnotherResource: a success answer about another
// resource, or without the token asked for, is not taken.
func TestPushAPIAnswerAboutAnotherResource(t *testing.T) {
	for name, tc := range map[string]struct {
		answer string
		call   func(context.Context, *twilio.Client) error
	}{
		"token other identity": {strings.ReplaceAll(ykJSON, pushIdent, "someone-else-123"), func(ctx context.Context, c *twilio.Client) error {
			_, err := c.IssueAccessToken(ctx, twilio.AccessTokenParams{Identity: pushIdent})
			return err
		}},
		"token without token": {strings.Replace(ykJSON, accessJWT, "", 1), func(ctx context.Context, c *twilio.Client) error {
			_, err := c.IssueAccessToken(ctx, twilio.AccessTokenParams{Identity: pushIdent})
			return err
		}},
		"token other sid": {strings.ReplaceAll(ykJSON, ykSID, "YKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), func(ctx context.Context, c *twilio.Client) error {
			_, err := c.FetchAccessToken(ctx, ykSID)
			return err
		}},
		"webhook other sid": {strings.ReplaceAll(ywJSON, ywSID, "YWbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), func(ctx context.Context, c *twilio.Client) error {
			_, err := c.FetchWebhook(ctx, ywSID)
			return err
		}},
		"webhook other service": {strings.ReplaceAll(ywJSON, serviceSID, "VAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), func(ctx context.Context, c *twilio.Client) error {
			_, err := c.CreateWebhook(ctx, twilio.WebhookParams{FriendlyName: "x", EventTypes: []string{"*"}, WebhookURL: "https://x.example/"})
			return err
		}},
		"notification other challenge": {`{"sid":"` + ntSID + `","challenge_sid":"YCbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}`, func(ctx context.Context, c *twilio.Client) error {
			_, err := c.CreateNotification(ctx, pushIdent, ycSID, twilio.NotificationParams{})
			return err
		}},
		"factor other identity": {strings.ReplaceAll(newPushFactorJSON, pushIdent, "someone-else-123"), func(ctx context.Context, c *twilio.Client) error {
			_, err := c.CreateNewFactor(ctx, pushIdent, twilio.NewFactorParams{FriendlyName: "p", FactorType: provider.FactorPush, PublicKey: pushPubKey, NotificationPlatform: "none"})
			return err
		}},
	} {
		t.Run(name, func(t *testing.T) {
			mux, c := setup(t)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, []byte(tc.answer)) })
			err := tc.call(context.Background(), c)
			if !errors.Is(err, provider.ErrOutcomeUnknown) && !errors.Is(err, provider.ErrUnavailable) {
				t.Errorf("err = %v, want a malformed-answer error", err)
			}
			if err != nil && strings.Contains(err.Error(), "c2VjcmV0") {
				t.Errorf("error shows the token: %v", err)
			}
		})
	}
}

// collect reads seq into a slice, stopping at the first error.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// TestPushContractWire: the provider contract's push calls send what the
// typed calls do: a TTL in seconds, Ttl=0 for "now or never" and none for
// the default, an expiry from the client's clock.
func TestPushContractWire(t *testing.T) {
	nt := `{"sid":"` + ntSID + `","challenge_sid":"` + ycSID + `"}`
	notifyPath := "/v2/Services/" + serviceSID + "/Entities/" + pushIdent + "/Challenges/" + ycSID + "/Notifications"
	runWire(t, []wireCase{
		{name: "access token", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			tk, err := c.CreateAccessToken(ctx, provider.AccessTokenRequest{Identity: pushIdent, FactorFriendlyName: "John Doe iPhone", TTL: 5 * time.Minute})
			return []any{tk.ID, tk.Token, tk.ExpiresAt.Sub(tk.CreatedAt)}, err
		}, method: "POST", path: "/v2/Services/" + serviceSID + "/AccessTokens",
			form:   url.Values{"Identity": {pushIdent}, "FactorType": {"push"}, "FactorFriendlyName": {"John Doe iPhone"}, "Ttl": {"300"}},
			status: 201, answer: ykJSON, want: []any{ykSID, accessJWT, 5 * time.Minute}},
		{name: "notify now", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return nil, c.NotifyChallenge(ctx, pushIdent, ycSID, 0)
		}, method: "POST", path: notifyPath, form: url.Values{"Ttl": {"0"}}, status: 201, answer: nt},
		{name: "notify default", call: func(ctx context.Context, c *twilio.Client) (any, error) {
			return nil, c.NotifyChallenge(ctx, pushIdent, ycSID, -1)
		}, method: "POST", path: notifyPath, status: 201, answer: nt},
	})
	mux, c := setup(t, twilio.WithClock(func() time.Time { return day1 }))
	var got request
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		got = record(t, r)
		reply(w, 201, []byte(`{"sid":"`+ycSID+`","factor_sid":"`+yfSID+`","status":"pending","factor_type":"push"}`))
	})
	if _, err := c.CreatePushChallenge(context.Background(), provider.PushChallengeRequest{Identity: pushIdent, FactorID: yfSID,
		Details: provider.PushDetails{Message: "Log in?", Hidden: map[string]string{"ip": "192.0.2.1"}}, ExpiresIn: time.Hour}); err != nil {
		t.Fatal(err)
	}
	want := url.Values{"FactorSid": {yfSID}, "Details.Message": {"Log in?"}, "HiddenDetails": {`{"ip":"192.0.2.1"}`}, "ExpirationDate": {"2026-01-02T04:04:05Z"}}
	if diff := cmp.Diff(want, got.Form); diff != "" {
		t.Errorf("push challenge form (-want +got):\n%s", diff)
	}
}
