package vonage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// TestSecretsNeverPrinted formats credentials and clients with every verb
// and checks that no key material or secret shows.
func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	pem := vonagetest.DefaultPrivateKeyPEM()
	app := vonage.Application(appID, pem)
	basic := vonage.APIKey("abcd1234", "s3cr3tS3cr3t")
	c := jwtClient(t, "http://127.0.0.1:1")
	body := strings.Split(string(pem), "\n")[1] // a line of the key
	for _, v := range []any{app, &app, basic, c} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			s := fmt.Sprintf(verb, v)
			for _, secret := range []string{body, "s3cr3tS3cr3t", fmt.Sprintf("%x", "s3cr3tS3cr3t"), "PRIVATE KEY"} {
				if strings.Contains(s, secret) {
					t.Errorf("Sprintf(%s, %T) shows a secret: %s", verb, v, s)
				}
			}
		}
	}
}

// TestErrorsCarryNoSecret has a server quote the request back (the token,
// the secret, the code, the number) and checks what the error shows.
func TestErrorsCarryNoSecret(t *testing.T) {
	t.Parallel()
	var token string
	srv, _ := counting(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		_, pass, _ := r.BasicAuth()
		answer(422, `{"type":"https://developer.vonage.com/api-errors#invalid-params","title":"Bad `+pass+`","detail":"token `+token+` code 98765432 for +447700900001 and bob@example.com, request `+reqID+`"}`)(w)
	})
	for _, c := range []*vonage.Client{
		jwtClient(t, srv.URL),
		must(vonage.New("Acme", vonage.APIKey("abcd1234", "s3cr3tS3cr3t"), vonage.WithBaseURL(srv.URL))),
	} {
		_, err := c.Check(context.Background(), provider.CheckRequest{ID: reqID, Code: "98765432"})
		for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			for _, secret := range []string{token, "s3cr3tS3cr3t", "98765432", "447700900001", "bob@example.com"} {
				if secret != "" && strings.Contains(s, secret) {
					t.Errorf("error shows %q: %s", secret, s)
				}
			}
			if !strings.Contains(s, reqID) {
				t.Errorf("error lost the request ID: %s", s)
			}
		}
	}
}

func must(c *vonage.Client, err error) *vonage.Client {
	if err != nil {
		panic(err)
	}
	return c
}

// TestNewValidates checks the constructor's and options' refusals.
func TestNewValidates(t *testing.T) {
	t.Parallel()
	pem := vonagetest.DefaultPrivateKeyPEM()
	for name, tc := range map[string]struct {
		brand string
		creds vonage.Credentials
		opts  []vonage.Option
	}{
		"empty brand":      {"", vonage.Application(appID, pem), nil},
		"long brand":       {"1234567890123456789", vonage.Application(appID, pem), nil},
		"bad app ID":       {"Acme", vonage.Application("app", pem), nil},
		"not a key":        {"Acme", vonage.Application(appID, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")), nil},
		"no credentials":   {"Acme", vonage.Credentials{}, nil},
		"half basic":       {"Acme", vonage.APIKey("k", ""), nil},
		"http to a host":   {"Acme", vonage.APIKey("k", "s"), []vonage.Option{vonage.WithBaseURL("http://api.nexmo.com")}},
		"timeout":          {"Acme", vonage.APIKey("k", "s"), []vonage.Option{vonage.WithTimeout(0)}},
		"channel timeout":  {"Acme", vonage.APIKey("k", "s"), []vonage.Option{vonage.WithChannelTimeout(901e9)}},
		"auto with email":  {"Acme", vonage.APIKey("k", "s"), []vonage.Option{vonage.WithAutoWorkflow(provider.ChannelEmail)}},
		"auto sna second":  {"Acme", vonage.APIKey("k", "s"), []vonage.Option{vonage.WithAutoWorkflow(provider.ChannelSMS, provider.ChannelSNA)}},
		"nil option":       {"Acme", vonage.APIKey("k", "s"), []vonage.Option{nil}},
		"code length":      {"Acme", vonage.APIKey("k", "s"), []vonage.Option{vonage.WithCodeLength(3)}},
		"jwt ttl too long": {"Acme", vonage.Application(appID, pem), []vonage.Option{vonage.WithJWTTTL(25 * 3600e9)}},
	} {
		_, err := vonage.New(tc.brand, tc.creds, tc.opts...)
		if err == nil {
			t.Errorf("%s: New succeeded", name)
			continue
		}
		if strings.Contains(err.Error(), "AAAA") {
			t.Errorf("%s: error quotes the key: %v", name, err)
		}
	}
}

// TestNewFromEnv checks the environment variables.
func TestNewFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		vonage.EnvApplicationID: appID, vonage.EnvPrivateKey: string(vonagetest.DefaultPrivateKeyPEM()),
		vonage.EnvBrand: "Acme", vonage.EnvBaseURL: "http://127.0.0.1:9",
	}
	c, err := vonage.NewFromEnvFunc(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.String(), appID) || !strings.Contains(c.String(), "127.0.0.1:9") {
		t.Errorf("client = %v", c)
	}
	_, err = vonage.NewFromEnvFunc(func(k string) string { return map[string]string{vonage.EnvAPIKey: "k"}[k] })
	if err == nil || !strings.Contains(err.Error(), vonage.EnvAPISecret) || !strings.Contains(err.Error(), vonage.EnvBrand) {
		t.Errorf("missing variables: %v", err)
	}
}

// TestErrorTextMaskedBeforeTheCut is the regression test for a detail
// cut at 512 bytes before masking: the cut split a phone number (so its
// first digits, too short to look like a number, stayed unmasked) and a
// UTF-8 character. Masking comes first, and the cut falls on a character
// boundary.
func TestErrorTextMaskedBeforeTheCut(t *testing.T) {
	t.Parallel()
	for _, pad := range []int{497, 498, 499, 500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 510, 511} {
		detail := strings.Repeat("a", pad) + "+447700900001 é ü"
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			j, _ := json.Marshal(map[string]string{"type": "https://developer.vonage.com/api-errors#invalid-params", "title": "Invalid", "detail": detail})
			answer(422, string(j))(w)
		}))
		c := jwtClient(t, srv.URL)
		_, err := c.Start(context.Background(), provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
		srv.Close()
		var ae *vonage.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("Start = %v", err)
		}
		tail := ae.Detail[pad:]
		if strings.Contains(tail, "770") {
			t.Errorf("pad %d: the number's digits survive the cut: %q", pad, tail)
		}
		if !utf8.ValidString(ae.Detail) || len(ae.Detail) > 512 {
			t.Errorf("pad %d: %d bytes, valid UTF-8 %v: %q", pad, len(ae.Detail), utf8.ValidString(ae.Detail), tail)
		}
	}
}
