package twilio_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/internal/specserver"
)

// The SIDs of the spec's examples, so that answers are about what was
// asked.
const (
	specIdentity = "ff483d1ff591898a9942916050d2ca3f"
	specYF       = "YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	specYC       = "YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	specVE       = "VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	specVL       = "VLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	specRK       = "RKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	specBL       = "BLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	specYK       = "YKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	specYW       = "YWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	specMG       = "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	specHJ       = "HJaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	specPhone    = "+14159373912"
)

func yes() *bool { b := true; return &b }

// specCalls drives every operation of the specification through the
// client, each with as many of its parameters as the client sends. A key
// is the operationId the call must reach.
var specCalls = map[string]func(context.Context, *twilio.Client) error{
	"CreateService": func(ctx context.Context, c *twilio.Client) error {
		skew := 1
		_, err := c.CreateService(ctx, twilio.ServiceParams{FriendlyName: "Acme", CodeLength: 6, LookupEnabled: yes(), SkipSMSToLandlines: yes(),
			DTMFInputRequired: yes(), PSD2Enabled: yes(), DoNotShareWarningEnabled: yes(), CustomCodeEnabled: yes(), VerifyEventSubscriptionEnabled: yes(),
			TTSName: "Acme", DefaultTemplateSID: specHJ, PushIncludeDate: yes(), PushAPNCredentialSID: "CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			PushFCMCredentialSID: "CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", TOTPIssuer: "Acme", TOTPTimeStep: 30, TOTPCodeLength: 6, TOTPSkew: &skew,
			WhatsAppMsgServiceSID: specMG, WhatsAppFrom: "+14155550100"})
		return err
	},
	"ListService": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.ListServices(ctx, twilio.ListOptions{PageSize: 20})
		return err
	},
	"FetchService": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.FetchService(ctx, c.ServiceSID())
		return err
	},
	"UpdateService": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.UpdateService(ctx, c.ServiceSID(), twilio.ServiceParams{FriendlyName: "Acme", CodeLength: 8})
		return err
	},
	"DeleteService": func(ctx context.Context, c *twilio.Client) error { return c.DeleteService(ctx, c.ServiceSID()) },
	"CreateVerification": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.Start(ctx, provider.StartRequest{To: specPhone, Channel: provider.ChannelSMS, Locale: "en", FriendlyName: "Acme", CustomCode: "123456",
			Extensions: []provider.Extension{twilio.StartParams{AppHash: "abcdefghijk", TemplateSID: specHJ, TemplateCustomSubstitutions: map[string]string{"a": "b"},
				RateLimits: map[string]string{"user_id": "u1"}, Tags: map[string]string{"flow": "signup"}, Amount: "1", Payee: "Acme", RiskCheck: twilio.RiskCheckDisable}}})
		return err
	},
	"FetchVerification":  func(ctx context.Context, c *twilio.Client) error { _, err := c.Fetch(ctx, specVE); return err },
	"UpdateVerification": func(ctx context.Context, c *twilio.Client) error { _, err := c.Cancel(ctx, specVE); return err },
	"CreateVerificationCheck": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.Check(ctx, provider.CheckRequest{To: specPhone, Code: "123456"})
		return err
	},
	"CreateRateLimit": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.CreateRateLimit(ctx, "user_id", "per user")
		return err
	},
	"ListRateLimit": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.ListRateLimits(ctx, twilio.ListOptions{PageSize: 5})
		return err
	},
	"FetchRateLimit": func(ctx context.Context, c *twilio.Client) error { _, err := c.FetchRateLimit(ctx, specRK); return err },
	"UpdateRateLimit": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.UpdateRateLimit(ctx, specRK, "per user")
		return err
	},
	"DeleteRateLimit": func(ctx context.Context, c *twilio.Client) error { return c.DeleteRateLimit(ctx, specRK) },
	"CreateBucket": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.CreateBucket(ctx, specRK, twilio.BucketParams{Max: 5, Interval: 60})
		return err
	},
	"ListBucket": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.ListBuckets(ctx, specRK, twilio.ListOptions{})
		return err
	},
	"FetchBucket": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.FetchBucket(ctx, specRK, specBL)
		return err
	},
	"UpdateBucket": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.UpdateBucket(ctx, specRK, specBL, twilio.BucketParams{Max: 5, Interval: 60})
		return err
	},
	"DeleteBucket": func(ctx context.Context, c *twilio.Client) error { return c.DeleteBucket(ctx, specRK, specBL) },
	"CreateMessagingConfiguration": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.CreateMessagingConfiguration(ctx, "CA", specMG)
		return err
	},
	"ListMessagingConfiguration": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.ListMessagingConfigurations(ctx, twilio.ListOptions{PageSize: 50})
		return err
	},
	"FetchMessagingConfiguration": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.FetchMessagingConfiguration(ctx, "CA")
		return err
	},
	"UpdateMessagingConfiguration": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.UpdateMessagingConfiguration(ctx, "CA", specMG)
		return err
	},
	"DeleteMessagingConfiguration": func(ctx context.Context, c *twilio.Client) error { return c.DeleteMessagingConfiguration(ctx, "CA") },
	"CreateEntity": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.CreateEntity(ctx, specIdentity)
		return err
	},
	"ListEntity": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.ListEntities(ctx, twilio.ListOptions{PageSize: 5})
		return err
	},
	"FetchEntity": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.FetchEntity(ctx, specIdentity)
		return err
	},
	"DeleteEntity": func(ctx context.Context, c *twilio.Client) error { return c.DeleteIdentity(ctx, specIdentity) },
	"CreateNewFactor": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.CreateNewFactor(ctx, specIdentity, twilio.NewFactorParams{FriendlyName: "phone", FactorType: provider.FactorTOTP,
			TOTP: provider.TOTPConfig{Digits: 6, Period: 30 * time.Second, Algorithm: provider.AlgSHA1, Skew: 1}, SkewSet: true, Metadata: map[string]string{"os": "android"}})
		return err
	},
	"ListFactor": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.ListFactors(ctx, specIdentity)
		return err
	},
	"FetchFactor": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.FetchFactor(ctx, specIdentity, specYF)
		return err
	},
	"UpdateFactor": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.UpdateFactor(ctx, specIdentity, specYF, twilio.FactorUpdate{AuthPayload: "123456", FriendlyName: "phone"})
		return err
	},
	"DeleteFactor": func(ctx context.Context, c *twilio.Client) error { return c.DeleteFactor(ctx, specIdentity, specYF) },
	"CreateChallenge": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: specIdentity, FactorID: specYF, Code: "123456"})
		return err
	},
	"ListChallenge": func(ctx context.Context, c *twilio.Client) error {
		_, err := collect(c.Challenges(ctx, specIdentity, twilio.ChallengeListOptions{FactorSID: specYF, Status: provider.ChallengePending, Order: "desc", PageSize: 5}))
		return err
	},
	"FetchChallenge": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.FetchChallenge(ctx, specIdentity, specYC)
		return err
	},
	"UpdateChallenge": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.UpdateChallenge(ctx, specIdentity, specYC, "123456", nil)
		return err
	},
	"CreateNotification": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.CreateNotification(ctx, specIdentity, specYC, twilio.NotificationParams{TTL: 300 * time.Second, TTLSet: true})
		return err
	},
	"CreateAccessToken": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.IssueAccessToken(ctx, twilio.AccessTokenParams{Identity: specIdentity, FactorType: provider.FactorPush, FactorFriendlyName: "phone", TTL: time.Minute})
		return err
	},
	"FetchAccessToken": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.FetchAccessToken(ctx, specYK)
		return err
	},
	"CreateWebhook": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.CreateWebhook(ctx, twilio.WebhookParams{FriendlyName: "events", EventTypes: []string{"factor.created", "challenge.approved"},
			WebhookURL: "https://example.com/hook", Status: "enabled", Version: "v2"})
		return err
	},
	"ListWebhook": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.ListWebhooks(ctx, twilio.ListOptions{})
		return err
	},
	"FetchWebhook": func(ctx context.Context, c *twilio.Client) error { _, err := c.FetchWebhook(ctx, specYW); return err },
	"UpdateWebhook": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.UpdateWebhook(ctx, specYW, twilio.WebhookParams{FriendlyName: "events", Status: "disabled"})
		return err
	},
	"DeleteWebhook": func(ctx context.Context, c *twilio.Client) error { return c.DeleteWebhook(ctx, specYW) },
	"CreateSafelist": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.CreateSafeListNumber(ctx, specPhone)
		return err
	},
	"FetchSafelist": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.FetchSafeListNumber(ctx, specPhone)
		return err
	},
	"DeleteSafelist": func(ctx context.Context, c *twilio.Client) error { return c.DeleteSafeListNumber(ctx, specPhone) },
	"FetchForm": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.FetchForm(ctx, twilio.FormTypePush)
		return err
	},
	"ListVerificationTemplate": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.ListTemplates(ctx, "Base", twilio.ListOptions{PageSize: 10})
		return err
	},
	"ListVerificationAttempt": func(ctx context.Context, c *twilio.Client) error {
		day := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		_, err := c.ListAttempts(ctx, twilio.AttemptFilter{DateCreatedAfter: day, DateCreatedBefore: day.Add(time.Hour), To: specPhone, Country: "US",
			Channel: twilio.AttemptSMS, ServiceSID: "VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", VerificationSID: specVE, Status: twilio.Unconverted}, twilio.ListOptions{PageSize: 10})
		return err
	},
	"FetchVerificationAttempt": func(ctx context.Context, c *twilio.Client) error { _, err := c.FetchAttempt(ctx, specVL); return err },
	"FetchVerificationAttemptsSummary": func(ctx context.Context, c *twilio.Client) error {
		day := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		_, err := c.FetchAttemptsSummary(ctx, twilio.SummaryFilter{DateCreatedAfter: day, DateCreatedBefore: day.Add(time.Hour), Country: "US",
			Channel: twilio.AttemptSMS, ServiceSID: "VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", DestinationPrefix: "+1415"})
		return err
	},
	"CreateNewFactorPasskey": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.CreatePasskeyFactor(ctx, twilio.PasskeyFactorParams{FriendlyName: "laptop", Identity: specIdentity, Config: &twilio.PasskeyConfig{
			RelyingParty:            &twilio.PasskeyRelyingParty{ID: "example.com", Name: "Example", Origins: []string{"https://example.com"}},
			AuthenticatorAttachment: "platform", DiscoverableCredentials: "preferred", UserVerification: "preferred"}})
		return err
	},
	"UpdatePasskeysFactor": func(ctx context.Context, c *twilio.Client) error {
		var a twilio.PasskeyAttestation
		a.ID, a.RawID, a.AuthenticatorAttachment, a.Type = "Y3JlZA", "637265640a", "platform", "public-key"
		a.Response.AttestationObject, a.Response.ClientDataJSON, a.Response.Transports = "o2Nm", "eyJ0", []string{"internal", "hybrid"}
		_, err := c.VerifyPasskeyFactor(ctx, a)
		return err
	},
	"CreateChallengePasskeys": func(ctx context.Context, c *twilio.Client) error {
		_, err := c.CreatePasskeyChallenge(ctx, specIdentity, specYF)
		return err
	},
	"UpdateChallengePasskeys": func(ctx context.Context, c *twilio.Client) error {
		var a twilio.PasskeyAssertion
		a.ID, a.RawID, a.AuthenticatorAttachment, a.Type = "Y3JlZA", "637265640a", "platform", "public-key"
		a.Response.AuthenticatorData, a.Response.ClientDataJSON, a.Response.Signature, a.Response.UserHandle = "o3mm", "eyJ0", "MEYC", "WUVh"
		_, err := c.ApprovePasskeyChallenge(ctx, a)
		return err
	},
}

// TestClientAgainstSpec runs every operation of Twilio's Verify v2
// specification through the client against a server that knows the API
// only from the specification: each request must name an operation of
// the spec and send only its documented parameters, with their types,
// enums and patterns, and the client must read the spec's example answer.
// An operation of the spec without a call here fails the test.
func TestClientAgainstSpec(t *testing.T) {
	srv := specserver.New()
	defer srv.Close()
	c, err := twilio.New("VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", twilio.AuthToken("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "token"),
		twilio.WithBaseURL(srv.URL), twilio.WithRetryWait(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	ops := specserver.Operations()
	if len(ops) != 57 {
		t.Errorf("the spec has %d operations, want 57", len(ops))
	}
	for _, op := range ops {
		call, ok := specCalls[op]
		if !ok {
			t.Errorf("%s: no client method drives it", op)
			continue
		}
		if err := call(context.Background(), c); err != nil {
			t.Errorf("%s: %v", op, err)
		}
	}
	called := srv.Called()
	var extra []string
	for op := range specCalls {
		if called[op] == 0 {
			extra = append(extra, op)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("calls that reached no operation of their name: %v (called: %v)", extra, called)
	}
	for _, p := range srv.Problems() {
		t.Errorf("request: %s", p)
	}
}
