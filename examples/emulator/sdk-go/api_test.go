package sdkgo

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	verifyv2 "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// TestTwilioGoMessagingTemplatesForms drives Messaging Configurations,
// Templates and Forms with the official SDK against the emulator, and
// checks that a configuration and a template change what the emulator's
// outbox records.
func TestTwilioGoMessagingTemplatesForms(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	rc, err := NewRestClient(srv.URL, twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken)
	if err != nil {
		t.Fatal(err)
	}
	const svc, mg = twiliotest.DefaultServiceSID, "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	mc, err := rc.VerifyV2.CreateMessagingConfiguration(svc, (&verifyv2.CreateMessagingConfigurationParams{}).SetCountry("all").SetMessagingServiceSid(mg))
	if err != nil || *mc.Country != "all" || *mc.MessagingServiceSid != mg {
		t.Fatalf("CreateMessagingConfiguration: %+v, %v", mc, err)
	}
	if got, err := rc.VerifyV2.FetchMessagingConfiguration(svc, "all"); err != nil || *got.MessagingServiceSid != mg {
		t.Fatalf("FetchMessagingConfiguration: %+v, %v", got, err)
	}
	if list, err := rc.VerifyV2.ListMessagingConfiguration(svc, nil); err != nil || len(list) != 1 {
		t.Fatalf("ListMessagingConfiguration: %d, %v", len(list), err)
	}
	templates, err := rc.VerifyV2.ListVerificationTemplate((&verifyv2.ListVerificationTemplateParams{}).SetFriendlyName("short"))
	if err != nil || len(templates) != 1 {
		t.Fatalf("ListVerificationTemplate: %d, %v", len(templates), err)
	}
	const to = "+14155552671"
	if _, err := rc.VerifyV2.CreateVerification(svc, (&verifyv2.CreateVerificationParams{}).SetTo(to).SetChannel("sms").SetTemplateSid(*templates[0].Sid)); err != nil {
		t.Fatal(err)
	}
	m, _ := srv.LastMessage(to)
	if m.MessagingServiceSID != mg || m.TemplateSID != *templates[0].Sid || !strings.HasPrefix(m.Body, m.Code+" is your ") {
		t.Errorf("outbox: via %q, template %q, body %q", m.MessagingServiceSID, m.TemplateSID, m.Body)
	}
	if _, err := rc.VerifyV2.UpdateMessagingConfiguration(svc, "all", (&verifyv2.UpdateMessagingConfigurationParams{}).SetMessagingServiceSid(mg)); err != nil {
		t.Fatal(err)
	}
	if err := rc.VerifyV2.DeleteMessagingConfiguration(svc, "all"); err != nil {
		t.Fatal(err)
	}
	form, err := rc.VerifyV2.FetchForm("form-push")
	if err != nil || *form.FormType != "form-push" || form.Forms == nil {
		t.Fatalf("FetchForm: %+v, %v", form, err)
	}
}

// TestTwilioGoPasskeys registers a passkey and answers a challenge with
// the official SDK, a simulated browser standing in for WebAuthn.
func TestTwilioGoPasskeys(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	rc, err := NewRestClient(srv.URL, twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken)
	if err != nil {
		t.Fatal(err)
	}
	const svc, identity, origin = twiliotest.DefaultServiceSID, "ff483d1ff591898a9942916050d2ca3f", "https://example.com"
	clientData := func(typ, challenge string) string {
		b, _ := json.Marshal(map[string]string{"type": typ, "challenge": challenge, "origin": origin})
		return base64.RawURLEncoding.EncodeToString(b)
	}
	publicKey := func(options any) map[string]any {
		o, _ := options.(map[string]any)
		pk, _ := o["publicKey"].(map[string]any)
		return pk
	}
	f, err := rc.VerifyV2.CreateNewFactorPasskey(svc, (&verifyv2.CreateNewFactorPasskeyParams{}).SetCreateNewPasskeysFactorRequest(verifyv2.CreateNewPasskeysFactorRequest{
		FriendlyName: "laptop", Identity: identity,
		Config: verifyv2.CreateNewPasskeysFactorRequestConfig{
			RelyingParty:            verifyv2.CreateNewPasskeysFactorRequestConfigRelyingParty{Id: "example.com", Name: "Example", Origins: []string{origin}},
			AuthenticatorAttachment: "platform", DiscoverableCredentials: "preferred", UserVerification: "preferred",
		},
	}))
	if err != nil || f.Options == nil {
		t.Fatalf("CreateNewFactorPasskey: %+v, %v", f, err)
	}
	challenge, _ := publicKey(*f.Options)["challenge"].(string)
	v, err := rc.VerifyV2.UpdatePasskeysFactor(svc, (&verifyv2.UpdatePasskeysFactorParams{}).SetVerifyPasskeysFactorRequest(verifyv2.VerifyPasskeysFactorRequest{
		Id: "cred-1", RawId: "cred-1", AuthenticatorAttachment: "platform", Type: "public-key",
		Response: verifyv2.VerifyPasskeysFactorRequestResponse{
			AttestationObject: base64.RawURLEncoding.EncodeToString([]byte("simulated")), ClientDataJSON: clientData("webauthn.create", challenge),
		},
	}))
	if err != nil || v.Status != "verified" {
		t.Fatalf("UpdatePasskeysFactor: %+v, %v", v, err)
	}
	ch, err := rc.VerifyV2.CreateChallengePasskeys(svc, (&verifyv2.CreateChallengePasskeysParams{}).SetCreatePasskeysChallengeRequest(verifyv2.CreatePasskeysChallengeRequest{Identity: identity}))
	if err != nil || ch.Status != "pending" {
		t.Fatalf("CreateChallengePasskeys: %+v, %v", ch, err)
	}
	challenge, _ = publicKey(ch.Options)["challenge"].(string)
	ok, err := rc.VerifyV2.UpdateChallengePasskeys(svc, (&verifyv2.UpdateChallengePasskeysParams{}).SetApprovePasskeysChallengeRequest(verifyv2.ApprovePasskeysChallengeRequest{
		Id: "cred-1", RawId: "cred-1", AuthenticatorAttachment: "platform", Type: "public-key",
		Response: verifyv2.ApprovePasskeysChallengeRequestResponse{
			AuthenticatorData: base64.RawURLEncoding.EncodeToString([]byte("simulated")), ClientDataJSON: clientData("webauthn.get", challenge),
			Signature: base64.RawURLEncoding.EncodeToString([]byte("simulated")),
		},
	}))
	if err != nil || ok.Status != "approved" || ok.Sid == nil || *ok.Sid != *ch.Sid {
		t.Fatalf("UpdateChallengePasskeys: %+v, %v", ok, err)
	}
}
