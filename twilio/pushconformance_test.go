package twilio_test

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/verifykit/verifykit/provider/providertest"
	"github.com/verifykit/verifykit/twilio/internal/specserver"
)

// pushEndpoints is the spec's parameter list of each operation a push
// flow uses (Twilio's OpenAPI spec for Verify v2: CreateAccessToken,
// CreateNewFactor, UpdateFactor, CreateChallenge, UpdateChallenge,
// CreateNotification, and the fetches, lists and deletes), for the
// application's client and for the device's calls alike.
var pushEndpoints = func() []endpoint {
	re := regexp.MustCompile
	svc := `^/v2/Services/` + sidVA
	ent := svc + `/Entities/` + identRe
	factor := ent + `/Factors/YF[0-9a-f]{32}$`
	challenge := ent + `/Challenges/YC[0-9a-f]{32}`
	b64 := re(`^[A-Za-z0-9+/]+=*$`)
	jwt := re(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)
	platform := re(`^(apn|fcm|none)$`)
	token := re(`^.{32,255}$`)
	page := map[string]*regexp.Regexp{"PageSize": intRe(1, 1000), "Page": re(`^[0-9]+$`), "PageToken": anyText}
	return []endpoint{
		{"POST", re(svc + `/AccessTokens$`), map[string]*regexp.Regexp{
			"Identity": re(`^` + identRe + `$`), "FactorType": re(`^push$`), "FactorFriendlyName": re(`^.{1,64}$`), "Ttl": intRe(60, 300),
		}, []string{"Identity", "FactorType"}},
		{"POST", re(ent + `/Factors$`), map[string]*regexp.Regexp{
			"FriendlyName": re(`^.{1,64}$`), "FactorType": re(`^push$`), "Binding.Alg": re(`^ES256$`), "Binding.PublicKey": b64,
			"Config.AppId": re(`^.{1,100}$`), "Config.NotificationPlatform": platform, "Config.NotificationToken": token,
			"Config.SdkVersion": re(`^.{1,64}$`), "Metadata": jsonObj,
		}, []string{"FriendlyName", "FactorType", "Binding.Alg", "Binding.PublicKey"}},
		{"GET", re(ent + `/Factors$`), page, nil},
		{"GET", re(factor), nil, nil},
		{"DELETE", re(factor), nil, nil},
		{"POST", re(factor), map[string]*regexp.Regexp{
			"AuthPayload": b64, "FriendlyName": re(`^.{1,64}$`), "Config.NotificationPlatform": platform,
			"Config.NotificationToken": token, "Config.SdkVersion": re(`^.{1,64}$`),
		}, nil},
		{"POST", re(ent + `/Challenges$`), map[string]*regexp.Regexp{
			"FactorSid": re(`^YF[0-9a-fA-F]{32}$`), "ExpirationDate": re(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`),
			"Details.Message": re(`^.{1,256}$`), "Details.Fields": jsonObj, "HiddenDetails": jsonObj,
		}, []string{"FactorSid", "Details.Message"}},
		{"GET", re(ent + `/Challenges$`), map[string]*regexp.Regexp{
			"FactorSid": re(`^YF[0-9a-fA-F]{32}$`), "Status": re(`^(pending|expired|approved|denied)$`),
			"Order": re(`^(asc|desc)$`), "PageSize": intRe(1, 1000), "Page": re(`^[0-9]+$`), "PageToken": anyText,
		}, nil},
		{"GET", re(challenge + `$`), nil, nil},
		{"POST", re(challenge + `$`), map[string]*regexp.Regexp{"AuthPayload": jwt, "Metadata": jsonObj}, []string{"AuthPayload"}},
		{"POST", re(challenge + `/Notifications$`), map[string]*regexp.Regexp{"Ttl": intRe(0, 300)}, nil},
	}
}()

// TestConformance_Push runs the push section again (TestConformance runs
// it against the emulator directly), this time through a server that
// asserts every request of the client and of the device against the
// API's parameter lists, and against Twilio's OpenAPI specification
// itself (specserver.Guard).
func TestConformance_Push(t *testing.T) {
	t.Parallel()
	var seen sync.Map
	for _, r := range providertest.PushRules() {
		t.Run("Push/"+r.Name, func(t *testing.T) {
			var spec *specserver.Server
			wrap := func(next http.Handler) http.Handler {
				spec = specserver.Guard(next)
				return assertForms(t, pushEndpoints, spec, &seen)
			}
			if r.Name == "SecretsNeverPrinted" {
				wrap = nil // it sends malformed requests on purpose
			}
			providertest.RunPushRuleOn(t, r, emulatorHarness(t, wrap))
			if spec != nil {
				for _, p := range spec.Problems() {
					t.Errorf("against the spec: %s", p)
				}
			}
		})
	}
	// The suite's requests used the fields a push flow needs.
	wantSent(t, &seen, "POST", "/AccessTokens$", "FactorType")
	wantSent(t, &seen, "POST", "/Factors$", "Binding.PublicKey", "Config.NotificationPlatform")
	wantSent(t, &seen, "POST", "/Factors/YF[0-9a-f]{32}$", "AuthPayload", "Config.NotificationToken")
	wantSent(t, &seen, "POST", "/Challenges$", "Details.Fields", "HiddenDetails")
	wantSent(t, &seen, "POST", "/Challenges/YC[0-9a-f]{32}$", "AuthPayload")
}

// TestConformance_Spec runs the whole conformance suite (verifications,
// TOTP and push factors, silent network auth) through Twilio's OpenAPI
// specification in front of the emulator (specserver.Guard): every
// request the client and the device send must be one the spec allows.
// Push/SecretsNeverPrinted sends malformed requests on purpose.
func TestConformance_Spec(t *testing.T) {
	t.Parallel()
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		var spec *specserver.Server
		h := emulatorHarness(t, func(next http.Handler) http.Handler {
			spec = specserver.Guard(next)
			return spec
		})
		if strings.HasSuffix(t.Name(), "/Push/SecretsNeverPrinted") {
			return h
		}
		t.Cleanup(func() {
			for _, p := range spec.Problems() {
				t.Errorf("against the spec: %s", p)
			}
		})
		return h
	})
}
