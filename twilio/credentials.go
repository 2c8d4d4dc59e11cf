package twilio

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/verifykit/verifykit/internal/redact"
	"github.com/verifykit/verifykit/internal/wire"
)

// Credentials authenticate requests to Twilio with HTTP Basic auth: an
// Account SID and Auth Token, or an API Key SID and secret. Create them with
// AuthToken or APIKey. No formatting shows the secret: String, GoString and
// Format redact it, and where fmt cannot call those methods (a Credentials
// in an unexported field of another struct, or a verb fmt rejects) it finds
// only a function, which it prints as an address.
type Credentials struct {
	s *sealed // a pointer, so Credentials stay comparable
}

// sealed holds the secret where fmt cannot see it: in a function.
type sealed func() *secret

// secret returns what c holds; c must not be the zero value.
func (c Credentials) secret() *secret { return (*c.s)() }

// secret is what Credentials hold: the credentials and what is derived
// from them.
type secret struct {
	username, password string
	// authorization is the Authorization header's value, built once;
	// requests share the slice and never modify it.
	authorization []string
	// redact removes the credentials from text a server sends back.
	redact *redact.Redactor
}

func newCredentials(username, password string) Credentials {
	s := &secret{
		username:      username,
		password:      password,
		authorization: []string{"Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password))},
	}
	s.redact = redact.NewBasic(username, password)
	f := sealed(func() *secret { return s })
	return Credentials{&f}
}

// AuthToken returns credentials for an Account SID (AC…) and its Auth
// Token.
func AuthToken(accountSID, authToken string) Credentials {
	return newCredentials(accountSID, authToken)
}

// APIKey returns credentials for an API Key SID (SK…) and its secret. The
// Verify API's paths carry no Account SID, so none is needed.
func APIKey(keySID, secret string) Credentials {
	return newCredentials(keySID, secret)
}

// Username returns the Account SID or API Key SID, or "" for the zero
// Credentials.
func (c Credentials) Username() string {
	if c.s == nil {
		return ""
	}
	return c.secret().username
}

// String returns the username and a redacted secret.
func (c Credentials) String() string { return c.Username() + ":[redacted]" }

// GoString is like String.
func (c Credentials) GoString() string { return c.String() }

// Format writes String for every verb, so no verb shows the secret.
func (c Credentials) Format(f fmt.State, verb rune) { io.WriteString(f, c.String()) }

func (c Credentials) validate() error {
	if c.s == nil {
		return errors.New("twilio: credentials: zero value; use AuthToken or APIKey")
	}
	s := c.secret()
	if !wire.ValidSID(s.username, "AC") && !wire.ValidSID(s.username, "SK") {
		return errors.New("twilio: credentials: username must be an Account SID (AC + 32 hex digits) or an API Key SID (SK + 32 hex digits)")
	}
	if s.password == "" {
		return errors.New("twilio: credentials: empty auth token or API secret")
	}
	if strings.ContainsAny(s.password, "\r\n\x00") {
		return errors.New("twilio: credentials: the auth token or API secret contains a control character")
	}
	return nil
}
