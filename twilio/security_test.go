package twilio_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

// leakToken is a secret long enough to tell partial leaks apart from noise.
const leakToken = "f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8"

// credentialEncodings returns the credentials (the raw token and the Basic
// value of user:token) in the encodings a body can carry them in.
func credentialEncodings(user, token string) map[string]string {
	basic := user + ":" + token
	header := "Basic " + base64.StdEncoding.EncodeToString([]byte(basic))
	percentAll := func(s string) string {
		var b strings.Builder
		for i := range len(s) {
			fmt.Fprintf(&b, "%%%02X", s[i])
		}
		return b.String()
	}
	jsonUnicode := func(s string) string {
		var b strings.Builder
		for i := range len(s) {
			fmt.Fprintf(&b, `\u%04x`, s[i])
		}
		return b.String()
	}
	jsonQuoted, _ := json.Marshal(header)
	return map[string]string{
		"raw token":                 token,
		"Authorization header":      header,
		"base64 std":                base64.StdEncoding.EncodeToString([]byte(basic)),
		"base64 raw std":            base64.RawStdEncoding.EncodeToString([]byte(basic)),
		"base64 url":                base64.URLEncoding.EncodeToString([]byte(basic)),
		"base64 raw url":            base64.RawURLEncoding.EncodeToString([]byte(basic)),
		"base64 of the token alone": base64.StdEncoding.EncodeToString([]byte(token)),
		"base64 at offset 1":        base64.StdEncoding.EncodeToString([]byte("x" + token + "y")),
		"base64 at offset 2":        base64.StdEncoding.EncodeToString([]byte("xy" + token)),
		"query-escaped header":      url.QueryEscape(header),
		"path-escaped header":       url.PathEscape(header),
		"percent-encoded token":     percentAll(token),
		"percent-encoded header":    percentAll(header),
		"JSON-quoted header":        string(jsonQuoted),
		`JSON with \/`:              strings.ReplaceAll(header, "/", `\/`),
		`JSON \u escapes`:           jsonUnicode(header),
		"hex token":                 hex.EncodeToString([]byte(token)),
		"HTML entities":             strings.NewReplacer("+", "&#43;", "/", "&#x2F;", "=", "&#61;").Replace(header),
	}
}

// fragments returns every 8-byte piece of s, so a partial leak shows.
func fragments(s string) []string {
	var out []string
	for i := 0; i+8 <= len(s); i++ {
		out = append(out, s[i:i+8])
	}
	return out
}

// TestErrorsRedactCredentialsInEveryEncoding makes a server quote the
// request's credentials back in its error message, in every encoding a body
// can carry, at every position around the cut of long messages, and checks
// that no piece of the token or of its Basic encoding reaches the error.
func TestErrorsRedactCredentialsInEveryEncoding(t *testing.T) {
	t.Parallel()
	basic := accountSID + ":" + leakToken
	var always []string // the token, and its part of each Basic encoding
	always = append(always, fragments(leakToken)...)
	always = append(always, fragments(base64.StdEncoding.EncodeToString([]byte(basic))[48:])...)
	always = append(always, fragments(base64.URLEncoding.EncodeToString([]byte(basic))[48:])...)
	for name, enc := range credentialEncodings(accountSID, leakToken) {
		forbidden := append(fragments(enc), always...)
		for _, pad := range []int{0, 10, 400, 480, 500, 505, 511, 512, 600, 3000} {
			msg := strings.Repeat("a ", pad/2) + strings.Repeat("a", pad%2) + enc + " trailing text"
			base := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				j, _ := json.Marshal(map[string]any{"code": 60200, "message": msg, "more_info": msg, "status": 400})
				reply(w, 400, j)
			}))
			c, err := twilio.New(serviceSID, twilio.AuthToken(accountSID, leakToken), twilio.WithBaseURL(base), twilio.WithRetries(0))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Start(context.Background(), provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
			var ae *twilio.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("Start = %v, want an APIError", err)
			}
			out := fmt.Sprintf("%v %+v %#v %s %s", err, err, err, ae.Message, ae.MoreInfo)
			for _, f := range forbidden {
				if strings.Contains(out, f) {
					t.Errorf("%s after %d bytes: %q leaks in %s", name, pad, f, ae.Message)
					break
				}
			}
			if len(ae.Message) > 512 || len(ae.MoreInfo) > 512 {
				t.Errorf("%s after %d bytes: message of %d bytes, more info of %d", name, pad, len(ae.Message), len(ae.MoreInfo))
			}
		}
	}
}

// TestMaskingKeepsIDs checks that masking phone numbers in a message from
// Twilio leaves service, verification and other SIDs, and UUIDs, whole.
func TestMaskingKeepsIDs(t *testing.T) {
	t.Parallel()
	const (
		va   = "VA0123456789abcdef0123456789ABCDEF"
		ve   = "VE9876543210fedcba9876543210fedcba"
		uuid = "12345678-1234-5678-9abc-123456789012"
	)
	msg := "Verification " + ve + " of service " + va + " (request " + uuid + ") to +14155552671 or alice@example.com failed"
	base := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j, _ := json.Marshal(map[string]any{"code": 20404, "message": msg, "status": 404})
		reply(w, 404, j)
	}))
	c, err := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken), twilio.WithBaseURL(base))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Fetch(context.Background(), veSID)
	want := "twilio: fetch: 404 20404: Verification " + ve + " of service " + va + " (request " + uuid + ") to +14*******71 or a****@example.com failed"
	if err == nil || err.Error() != want {
		t.Errorf("error\n%v\nwant\n%s", err, want)
	}
}

// holder is an application's struct that keeps the credentials and the
// client in unexported fields, as configuration structs do.
type holder struct {
	creds  twilio.Credentials
	client twilio.Client
	ptr    *twilio.Client
	list   []any
}

// TestFormattingNeverShowsSecrets formats, with every verb, the client
// dereferenced, the credentials, and structs that hold them in unexported
// fields, and looks for the token and its Basic encoding.
func TestFormattingNeverShowsSecrets(t *testing.T) {
	t.Parallel()
	for _, creds := range []twilio.Credentials{twilio.AuthToken(accountSID, leakToken), twilio.APIKey("SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", leakToken)} {
		c, err := twilio.New(serviceSID, creds)
		if err != nil {
			t.Fatal(err)
		}
		basic := base64.StdEncoding.EncodeToString([]byte(creds.Username() + ":" + leakToken))
		forbidden := append(fragments(leakToken), fragments(basic[48:])...)
		h := holder{creds: creds, client: *c, ptr: c, list: []any{creds, *c}}
		if h.creds != creds {
			t.Error("credentials are not comparable with themselves")
		}
		for _, v := range []any{c, *c, creds, &creds, h, &h, []twilio.Credentials{creds}, map[string]twilio.Client{"x": *c}} {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
				out := fmt.Sprintf(verb, v)
				for _, f := range forbidden {
					if strings.Contains(out, f) {
						t.Errorf("%s of %T shows %q: %s", verb, v, f, out)
						break
					}
				}
			}
		}
	}
}

func TestZeroCredentials(t *testing.T) {
	t.Parallel()
	var zero twilio.Credentials
	if _, err := twilio.New(serviceSID, zero); err == nil {
		t.Error("New accepted the zero Credentials")
	}
	if got := fmt.Sprintf("%v %+v %#v %s", zero, zero, zero, zero.Username()); got != ":[redacted] :[redacted] :[redacted] " {
		t.Errorf("zero Credentials format as %q", got)
	}
}
