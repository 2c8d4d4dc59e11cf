package twilio_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// TestPasskeysWire: the four Passkeys operations post JSON bodies with
// the spec's names, and decode the answers.
func TestPasskeysWire(t *testing.T) {
	const yf, yc, ye = "YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "YEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	factor := `{"sid":"` + yf + `","account_sid":"` + accountSID + `","service_sid":"` + serviceSID + `","entity_sid":"` + ye + `","identity":"user-0001","binding":null,"date_created":"2026-01-02T03:04:05Z","date_updated":"2026-01-03T03:04:05Z","friendly_name":"laptop","status":"unverified","factor_type":"passkeys","config":{"relying_party":{"id":"example.com","name":"Example","origins":["https://example.com"]},"authenticator_attachment":"platform","discoverable_credentials":"preferred","user_verification":"preferred"},"options":{"publicKey":{"rp":{"id":"example.com","name":"Example"},"user":{"id":"WUVh","name":"laptop","displayName":"laptop"},"challenge":"Y2hhbGxlbmdl","pubKeyCredParams":{"type":"public-key","alg":-7},"timeout":600000,"excludeCredentials":[],"authenticatorSelection":{"authenticatorAttachment":"platform","requireResidentKey":false,"residentKey":"preferred","userVerification":"preferred"},"attestation":"none"}},"metadata":null,"url":"https://verify.twilio.com/v2/x"}`
	challenge := `{"sid":"` + yc + `","account_sid":"` + accountSID + `","service_sid":"` + serviceSID + `","entity_sid":"","identity":"","factor_sid":"","factor_type":"passkeys","status":"pending","date_created":"2026-01-02T03:04:05Z","date_updated":"2026-01-02T03:04:05Z","date_responded":null,"details":null,"expiration_date":null,"hidden_details":null,"links":null,"metadata":null,"responded_reason":"none","url":"https://verify.twilio.com/v2/y","options":{"publicKey":{"challenge":"bm9uY2U","rpId":"example.com","allowCredentials":[{"type":"public-key","id":"cred"}]}}}`
	type seen struct {
		Path, ContentType string
		Body              map[string]any
	}
	cases := []struct {
		name   string
		call   func(context.Context, *twilio.Client) (any, error)
		path   string
		body   string
		status int
		answer string
	}{
		{"create factor", func(ctx context.Context, c *twilio.Client) (any, error) {
			f, err := c.CreatePasskeyFactor(ctx, twilio.PasskeyFactorParams{FriendlyName: "laptop", Identity: "user-0001", Config: &twilio.PasskeyConfig{
				RelyingParty: &twilio.PasskeyRelyingParty{ID: "example.com", Name: "Example", Origins: []string{"https://example.com"}}, UserVerification: "required"}})
			return []any{f.SID, f.Status, f.Options.PublicKey.Challenge, f.Options.PublicKey.RP.ID, f.Config.RelyingParty.Origins, f.DateCreated}, err
		}, "Factors", `{"friendly_name":"laptop","identity":"user-0001","config":{"relying_party":{"id":"example.com","name":"Example","origins":["https://example.com"]},"user_verification":"required"}}`,
			201, factor},
		{"verify factor", func(ctx context.Context, c *twilio.Client) (any, error) {
			var a twilio.PasskeyAttestation
			a.ID, a.RawID, a.AuthenticatorAttachment, a.Type = "Y3JlZA", "637265640a", "platform", "public-key"
			a.Response.AttestationObject, a.Response.ClientDataJSON, a.Response.Transports = "o2Nm", "eyJ0", []string{"internal"}
			f, err := c.VerifyPasskeyFactor(ctx, a)
			return []any{f.SID, f.Status, f.Options.PublicKey.Challenge, f.Options.PublicKey.RP.ID, f.Config.RelyingParty.Origins, f.DateCreated}, err
		}, "VerifyFactor", `{"id":"Y3JlZA","rawId":"637265640a","authenticatorAttachment":"platform","type":"public-key","response":{"attestationObject":"o2Nm","clientDataJSON":"eyJ0","transports":["internal"]}}`,
			200, factor},
		{"create challenge", func(ctx context.Context, c *twilio.Client) (any, error) {
			ch, err := c.CreatePasskeyChallenge(ctx, "user-0001", yf)
			return []any{ch.SID, ch.Status, ch.Options.PublicKey.Challenge, ch.Options.PublicKey.AllowCredentials[0].ID, ch.DateResponded == nil}, err
		}, "Challenges", `{"identity":"user-0001","factor_sid":"` + yf + `"}`, 201, challenge},
		{"approve challenge", func(ctx context.Context, c *twilio.Client) (any, error) {
			var a twilio.PasskeyAssertion
			a.ID, a.RawID, a.AuthenticatorAttachment = "Y3JlZA", "637265640a", "cross-platform"
			a.Response.AuthenticatorData, a.Response.ClientDataJSON, a.Response.Signature, a.Response.UserHandle = "o3mm", "eyJ0", "MEYC", "WUVh"
			ch, err := c.ApprovePasskeyChallenge(ctx, a)
			return []any{ch.SID, ch.Status, ch.Options.PublicKey.Challenge, ch.Options.PublicKey.AllowCredentials[0].ID, ch.DateResponded == nil}, err
		}, "ApproveChallenge", `{"id":"Y3JlZA","rawId":"637265640a","authenticatorAttachment":"cross-platform","response":{"authenticatorData":"o3mm","clientDataJSON":"eyJ0","signature":"MEYC","userHandle":"WUVh"}}`,
			200, challenge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mux, c := setup(t)
			var got seen
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got = seen{Path: r.URL.Path, ContentType: r.Header.Get("Content-Type")}
				if err := json.Unmarshal(b, &got.Body); err != nil {
					t.Errorf("body %q is not JSON", b)
				}
				reply(w, tc.status, []byte(tc.answer))
			})
			if _, err := tc.call(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			want := seen{Path: "/v2/Services/" + serviceSID + "/Passkeys/" + tc.path, ContentType: "application/json"}
			json.Unmarshal([]byte(tc.body), &want.Body)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

// browser simulates a WebAuthn client and authenticator for the
// emulator's simulated ceremony.
type browser struct{ origin string }

func (b browser) clientData(typ, challenge string) string {
	raw, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": b.origin, "crossOrigin": false})
	return base64.RawURLEncoding.EncodeToString(raw)
}

func (b browser) create(challenge, credID string) twilio.PasskeyAttestation {
	var a twilio.PasskeyAttestation
	a.ID, a.RawID, a.AuthenticatorAttachment, a.Type = credID, credID, "platform", "public-key"
	a.Response.AttestationObject = base64.RawURLEncoding.EncodeToString([]byte("simulated attestation"))
	a.Response.ClientDataJSON = b.clientData("webauthn.create", challenge)
	return a
}

func (b browser) get(challenge, credID, userHandle string) twilio.PasskeyAssertion {
	var a twilio.PasskeyAssertion
	a.ID, a.RawID, a.AuthenticatorAttachment, a.Type = credID, credID, "platform", "public-key"
	a.Response.AuthenticatorData = base64.RawURLEncoding.EncodeToString([]byte("simulated authenticator data"))
	a.Response.Signature = base64.RawURLEncoding.EncodeToString([]byte("simulated signature"))
	a.Response.ClientDataJSON = b.clientData("webauthn.get", challenge)
	a.Response.UserHandle = userHandle
	return a
}

// TestEmulatorPasskeys runs the passkey ceremonies against the emulator:
// registration, an identified and a discoverable authentication, and the
// refusals of a wrong origin, a replayed challenge, an unknown credential
// and an expired challenge.
func TestEmulatorPasskeys(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	c := emulatorClient(t, srv)
	ctx := context.Background()
	const id = "user-0001"
	b := browser{origin: "https://example.com"}
	f, err := c.CreatePasskeyFactor(ctx, twilio.PasskeyFactorParams{FriendlyName: "laptop", Identity: id, Config: &twilio.PasskeyConfig{
		RelyingParty: &twilio.PasskeyRelyingParty{ID: "example.com", Name: "Example", Origins: []string{b.origin}}}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != "unverified" || f.FactorType != "passkeys" || f.Options == nil || f.Options.PublicKey.Challenge == "" || f.Options.PublicKey.RP.ID != "example.com" {
		t.Fatalf("created: %+v", f)
	}
	userHandle := f.Options.PublicKey.User.ID
	if h, _ := base64.RawURLEncoding.DecodeString(userHandle); string(h) != f.EntitySID {
		t.Errorf("user.id %q is not the entity SID %s in base64url", userHandle, f.EntitySID)
	}
	if _, err := c.VerifyPasskeyFactor(ctx, browser{origin: "https://evil.example"}.create(f.Options.PublicKey.Challenge, "cred-1")); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("another origin: %v, want ErrInvalidRequest", err)
	}
	v, err := c.VerifyPasskeyFactor(ctx, b.create(f.Options.PublicKey.Challenge, "cred-1"))
	if err != nil || v.Status != "verified" || v.SID != f.SID {
		t.Fatalf("verify: %+v, %v", v, err)
	}
	if _, err := c.VerifyPasskeyFactor(ctx, b.create(f.Options.PublicKey.Challenge, "cred-1")); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("replayed registration: %v, want ErrNotFound", err)
	}
	listed, err := c.ListFactors(ctx, id)
	if err != nil || len(listed) != 1 || listed[0].Type != "passkeys" || !listed[0].Verified() {
		t.Errorf("the passkey is not among the identity's factors: %v, %v", listed, err)
	}

	ch, err := c.CreatePasskeyChallenge(ctx, id, "")
	if err != nil || ch.Status != "pending" || len(ch.Options.PublicKey.AllowCredentials) != 1 || ch.Options.PublicKey.AllowCredentials[0].ID != "cred-1" {
		t.Fatalf("challenge: %+v, %v", ch, err)
	}
	if _, err := c.ApprovePasskeyChallenge(ctx, b.get(ch.Options.PublicKey.Challenge, "cred-2", "")); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("unknown credential: %v, want ErrInvalidRequest", err)
	}
	ok, err := c.ApprovePasskeyChallenge(ctx, b.get(ch.Options.PublicKey.Challenge, "cred-1", userHandle))
	if err != nil || ok.Status != "approved" || ok.SID != ch.SID || ok.FactorSID != f.SID || ok.DateResponded == nil {
		t.Fatalf("approve: %+v, %v", ok, err)
	}
	if _, err := c.ApprovePasskeyChallenge(ctx, b.get(ch.Options.PublicKey.Challenge, "cred-1", userHandle)); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("replayed assertion: %v, want ErrNotFound", err)
	}
	fetched, err := c.FetchChallenge(ctx, id, ch.SID)
	if err != nil || fetched.Status != provider.ChallengeApproved {
		t.Errorf("the approved challenge through the Challenges endpoint: %v, %v", fetched, err)
	}

	disc, err := c.CreatePasskeyChallenge(ctx, "", "")
	if err != nil || disc.Identity != "" || disc.EntitySID != "" {
		t.Fatalf("discoverable challenge: %+v, %v", disc, err)
	}
	ok, err = c.ApprovePasskeyChallenge(ctx, b.get(disc.Options.PublicKey.Challenge, "cred-1", userHandle))
	if err != nil || ok.Identity != id || ok.FactorSID != f.SID || ok.Status != "approved" {
		t.Fatalf("discoverable approve: %+v, %v", ok, err)
	}

	late, err := c.CreatePasskeyChallenge(ctx, id, f.SID)
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(11 * time.Minute)
	if _, err := c.ApprovePasskeyChallenge(ctx, b.get(late.Options.PublicKey.Challenge, "cred-1", "")); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("expired challenge: %v, want ErrNotFound", err)
	}
	if _, err := c.UpdateChallenge(ctx, id, late.SID, "123456", nil); !errors.Is(err, provider.ErrInvalidRequest) && !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("a TOTP code for a passkey challenge: %v", err)
	}
}
