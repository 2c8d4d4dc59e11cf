package vonage_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider/providertest"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// wireStep is a workflow step as CONTRACT.md documents it; decoding with
// DisallowUnknownFields refuses any other field.
type wireStep struct {
	Channel     string `json:"channel"`
	To          string `json:"to"`
	From        string `json:"from"`
	RedirectURL string `json:"redirect_url"`
	Sandbox     *bool  `json:"sandbox"`
	AppHash     string `json:"app_hash"`
	EntityID    string `json:"entity_id"`
	ContentID   string `json:"content_id"`
}

// wireStart is the body of POST /v2/verify.
type wireStart struct {
	Brand          *string    `json:"brand"`
	Workflow       []wireStep `json:"workflow"`
	Locale         *string    `json:"locale"`
	ChannelTimeout *int       `json:"channel_timeout"`
	ClientRef      *string    `json:"client_ref"`
	CodeLength     *int       `json:"code_length"`
	Code           *string    `json:"code"`
	FraudCheck     *bool      `json:"fraud_check"`
	TemplateID     *string    `json:"template_id"`
}

var (
	// Request IDs are UUIDs, but the client also sends other IDs of
	// letters, digits and hyphens (Vonage answers 404), so the path allows
	// what validID allows: nothing that could leave the path segment.
	wirePath      = regexp.MustCompile(`^/v2/verify(/[A-Za-z0-9_-]{1,64}(/next_workflow)?)?$`)
	wireCode      = regexp.MustCompile(`^[a-zA-Z0-9]{4,10}$`)
	wireClientRef = regexp.MustCompile(`^[a-zA-Z0-9]{1,40}$`)
	wirePhone     = regexp.MustCompile(`^[1-9][0-9]{6,14}$`)
	wireLocale    = []string{"en-us", "en-gb", "es-es", "es-mx", "es-us", "it-it", "fr-fr", "de-de", "ru-ru", "hi-in", "pt-br", "pt-pt", "id-id"}
	wireChans     = []string{"sms", "voice", "email", "whatsapp", "rcs", "silent_auth"}
)

// strictWire checks one request against CONTRACT.md: method and path,
// headers (an RS256 application JWT with its claims, Accept, Content-Type,
// User-Agent) and, field by field, the JSON body, reading the JWT's times
// against now. It returns every violation.
func strictWire(t *testing.T, r *http.Request, body []byte, now func() time.Time) []string {
	var bad []string
	fail := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	m := wirePath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return []string{"path " + r.URL.Path}
	}
	if r.URL.RawQuery != "" {
		fail("query %q", r.URL.RawQuery)
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	claims := jwt.MapClaims{}
	if !ok {
		fail("Authorization is not a bearer token")
	} else if _, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return publicKey(t), nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(now)); err != nil {
		fail("token does not verify: %v", err)
	} else if jti, _ := claims["jti"].(string); claims["application_id"] != appID || len(jti) != 36 {
		fail("claims %v", claims)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		fail("Accept %q", got)
	}
	if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "verifykit/") {
		fail("User-Agent %q", ua)
	}
	wantBody := r.Method == http.MethodPost && m[2] == ""
	if ct := r.Header.Get("Content-Type"); wantBody != (ct == "application/json") || !wantBody && ct != "" {
		fail("Content-Type %q with body %v", ct, wantBody)
	}
	if !wantBody && len(body) != 0 {
		fail("%s %s has a body: %s", r.Method, r.URL.Path, body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	switch {
	case r.Method == http.MethodDelete && m[1] != "" && m[2] == "":
	case r.Method == http.MethodPost && m[2] != "":
	case r.Method == http.MethodPost && m[1] != "":
		var c struct {
			Code *string `json:"code"`
		}
		if err := dec.Decode(&c); err != nil || c.Code == nil {
			fail("check body %s: %v", body, err)
		} else if !wireCode.MatchString(*c.Code) {
			// The suite sends malformed codes on purpose; the client must
			// refuse them before sending.
			fail("check code %q is not 4 to 10 letters and digits", *c.Code)
		}
	case r.Method == http.MethodPost:
		var s wireStart
		if err := dec.Decode(&s); err != nil {
			fail("start body %s: %v", body, err)
			break
		}
		if s.Brand == nil || len([]rune(*s.Brand)) < 1 || len([]rune(*s.Brand)) > 18 {
			fail("brand %v", s.Brand)
		}
		if s.Locale != nil && !slices.Contains(wireLocale, *s.Locale) {
			fail("locale %q", *s.Locale)
		}
		if s.ChannelTimeout != nil && (*s.ChannelTimeout < 15 || *s.ChannelTimeout > 900) {
			fail("channel_timeout %d", *s.ChannelTimeout)
		}
		if s.ClientRef != nil && !wireClientRef.MatchString(*s.ClientRef) {
			fail("client_ref %q", *s.ClientRef)
		}
		if s.CodeLength != nil && (*s.CodeLength < 4 || *s.CodeLength > 10) {
			fail("code_length %d", *s.CodeLength)
		}
		if s.Code != nil && !wireCode.MatchString(*s.Code) {
			fail("code %q", *s.Code)
		}
		if len(s.Workflow) == 0 || len(s.Workflow) > 3 {
			fail("workflow of %d steps", len(s.Workflow))
		}
		for i, st := range s.Workflow {
			switch {
			case !slices.Contains(wireChans, st.Channel):
				fail("step %d channel %q", i, st.Channel)
			case st.Channel == "email":
				if !strings.Contains(st.To, "@") {
					fail("step %d email to %q", i, st.To)
				}
			case !wirePhone.MatchString(st.To):
				fail("step %d to %q: want E.164 digits without +", i, st.To)
			}
			if (st.Channel == "whatsapp" || st.Channel == "rcs") && st.From == "" {
				fail("step %d whatsapp without from", i)
			}
			if st.Channel == "silent_auth" && i != 0 {
				fail("silent_auth is step %d, must be the first", i)
			}
		}
	default:
		fail("method %s on %s", r.Method, r.URL.Path)
	}
	return bad
}

// newStrictHarness puts strictWire in front of the emulator: every request
// the conformance suite makes through the client is checked field by field
// before the emulator answers it.
func newStrictHarness(t *testing.T) providertest.Harness {
	// One clock for the emulator and the client, as in newEmulatorHarness.
	clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	emu := vonagetest.NewServer(vonagetest.WithClock(clock.Now))
	t.Cleanup(emu.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading the body: %v", err)
		}
		for _, b := range strictWire(t, r, body, clock.Now) {
			t.Errorf("%s %s: %s", r.Method, r.URL.Path, b)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &providertest.HarnessFuncs{
		Subject:         jwtClient(t, srv.URL, vonage.WithClock(clock.Now)),
		LastCodeFunc:    emu.LastCode,
		AdvanceFunc:     clock.Advance,
		ErrorTargetFunc: func() any { return new(*vonage.APIError) },
		Declared:        vonageLimits,
	}
}

// TestConformanceStrictWire runs the conformance suite through a server
// that asserts every header and JSON field of every request against
// CONTRACT.md, then lets the emulator answer.
func TestConformanceStrictWire(t *testing.T) {
	t.Parallel()
	providertest.Run(t, newStrictHarness)
}
