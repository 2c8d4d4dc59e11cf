package twilio_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/twilio"
)

// FuzzDecodeMoreAPIAnswers feeds arbitrary success bodies to the readers
// of messaging configurations, templates, forms and passkeys: the client
// must never panic, and whatever it returns without an error must be
// about the resource asked for.
func FuzzDecodeMoreAPIAnswers(f *testing.F) {
	f.Add([]byte(mcJSON))
	f.Add([]byte(`{"messaging_configurations":[` + mcJSON + `],"templates":[` + hjJSON + `],"meta":{}}`))
	f.Add([]byte(`{"form_type":"form-push","forms":{"a":1},"form_meta":null}`))
	f.Add([]byte(`{"sid":"YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","service_sid":"` + serviceSID + `","identity":"user-0001","options":{"publicKey":{"challenge":1}}}`))
	f.Add([]byte(`{"sid":"YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","service_sid":"` + serviceSID + `","options":{"publicKey":{"allowCredentials":[{}]}},"date_responded":"x"}`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
		c, err := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken), twilio.WithBaseURL("http://127.0.0.1:1"),
			twilio.WithHTTPClient(&http.Client{Transport: handlerTransport{h}}), twilio.WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if m, err := c.FetchMessagingConfiguration(ctx, "CA"); err == nil && (m.Country != "CA" || !strings.HasPrefix(m.MessagingServiceSID, "MG")) {
			t.Fatalf("FetchMessagingConfiguration returned %+v", m)
		}
		if ms, err := c.ListMessagingConfigurations(ctx, twilio.ListOptions{Limit: 5}); err == nil {
			for _, m := range ms {
				if m.ServiceSID != serviceSID {
					t.Fatalf("ListMessagingConfigurations returned %+v", m)
				}
			}
		}
		if ts, err := c.ListTemplates(ctx, "", twilio.ListOptions{Limit: 5}); err == nil {
			for _, tp := range ts {
				if !strings.HasPrefix(tp.SID, "HJ") {
					t.Fatalf("ListTemplates returned %+v", tp)
				}
			}
		}
		if fm, err := c.FetchForm(ctx, twilio.FormTypePush); err == nil && fm.FormType != twilio.FormTypePush {
			t.Fatalf("FetchForm returned %+v", fm)
		}
		if pf, err := c.CreatePasskeyFactor(ctx, twilio.PasskeyFactorParams{FriendlyName: "x", Identity: "user-0001"}); err == nil && (!strings.HasPrefix(pf.SID, "YF") || pf.Identity != "user-0001") {
			t.Fatalf("CreatePasskeyFactor returned %+v", pf)
		}
		if pc, err := c.CreatePasskeyChallenge(ctx, "", ""); err == nil && !strings.HasPrefix(pc.SID, "YC") {
			t.Fatalf("CreatePasskeyChallenge returned %+v", pc)
		}
	})
}
