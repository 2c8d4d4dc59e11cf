package vonage_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

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
		"long brand":       {"12345678901234567", vonage.Application(appID, pem), nil},
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
