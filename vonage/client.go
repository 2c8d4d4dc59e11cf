package vonage

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/verifykit/verifykit/internal/httpopt"
	"github.com/verifykit/verifykit/internal/httpretry"
	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// Name is the provider name the client reports through provider.Namer, and
// the name Vonage extensions are addressed to.
const Name = "vonage"

// DefaultBaseURL is Vonage's API host.
const DefaultBaseURL = "https://api.nexmo.com"

// version is sent in the User-Agent header.
const version = "0.1.0-dev"

// maxBody is the most of a response body the client reads.
const maxBody = 1 << 20

// Credentials authenticate requests to Vonage: a Vonage Application's ID
// and private key (a JWT bearer token signed RS256, Vonage's recommended
// form), or an account's API key and secret (HTTP Basic). Create them with
// Application or APIKey. Their String method never shows a secret.
type Credentials struct {
	appID string
	pem   []byte

	apiKey, apiSecret string
}

// Application returns credentials for a Vonage Application: its ID (a
// UUID) and its private key in PEM form (PKCS #8 or PKCS #1, as the Vonage
// dashboard downloads it). The client signs a JWT with it; the key never
// leaves the process.
func Application(applicationID string, privateKeyPEM []byte) Credentials {
	return Credentials{appID: applicationID, pem: append([]byte(nil), privateKeyPEM...)}
}

// APIKey returns credentials for an account's API key and secret, sent with
// HTTP Basic auth. Silent authentication needs Application credentials.
//
// Vonage sends no status callbacks for requests authenticated this way
// ("basic authentication does not support webhooks"), and Verify has no
// status look-up: with APIKey credentials an application never learns
// that a request expired, failed or was approved over a codeless channel.
// Use Application credentials wherever those outcomes matter.
func APIKey(key, secret string) Credentials {
	return Credentials{apiKey: key, apiSecret: secret}
}

// ApplicationID returns the application ID, or "" for API key credentials.
func (c Credentials) ApplicationID() string { return c.appID }

// String names the credentials without their secret.
func (c Credentials) String() string {
	if c.appID != "" || c.pem != nil {
		return "application:" + c.appID + " key:[redacted]"
	}
	return "api_key:" + c.apiKey + " secret:[redacted]"
}

// GoString is like String.
func (c Credentials) GoString() string { return c.String() }

// Format makes every verb print String, so that no formatting of a
// Credentials (%v, %+v, %#v, %s, %x, %q) shows the key or the secret.
func (c Credentials) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// signer turns the credentials into an Authorization header source.
func (c Credentials) signer(ttl time.Duration, now func() time.Time) (authorizer, error) {
	switch {
	case c.appID != "" || c.pem != nil:
		if !wire.IsUUID(c.appID) {
			return nil, errors.New("vonage: credentials: the application ID must be a UUID")
		}
		key, err := jwt.ParseRSAPrivateKeyFromPEM(c.pem)
		if err != nil {
			// The parser's text can quote the input: never show it.
			return nil, errors.New("vonage: credentials: the private key is not an RSA private key in PEM form")
		}
		if key.N.BitLen() < 2048 {
			return nil, errors.New("vonage: credentials: the private key is shorter than 2048 bits")
		}
		return &jwtSigner{appID: c.appID, key: key, ttl: ttl, now: now}, nil
	case c.apiKey != "" || c.apiSecret != "":
		if c.apiKey == "" || c.apiSecret == "" {
			return nil, errors.New("vonage: credentials: need both an API key and an API secret")
		}
		if strings.ContainsAny(c.apiKey, ":\r\n\x00") || strings.ContainsAny(c.apiSecret, "\r\n\x00") {
			return nil, errors.New("vonage: credentials: the API key or secret contains a forbidden character")
		}
		return basicAuth("Basic " + base64.StdEncoding.EncodeToString([]byte(c.apiKey+":"+c.apiSecret))), nil
	}
	return nil, errors.New("vonage: credentials: none given (use Application or APIKey)")
}

// authorizer gives the Authorization header of the next request.
type authorizer interface {
	header() (string, error)
	// secret is what must never show in an error: the API secret, or
	// the current token.
	secrets() []string
}

type basicAuth string

func (b basicAuth) header() (string, error) { return string(b), nil }
func (b basicAuth) secrets() []string {
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(string(b), "Basic "))
	_, secret, _ := strings.Cut(string(raw), ":")
	return []string{secret, string(b)}
}

// jwtSigner signs application JWTs and reuses each until shortly before it
// expires: RS256 signing costs about a millisecond, far more than a
// request to a nearby server.
type jwtSigner struct {
	appID string
	key   *rsa.PrivateKey
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	token string
	exp   time.Time
}

func (s *jwtSigner) header() (string, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	// Reuse a token while more than a quarter of its life (at most a
	// minute) is left, so a token never reaches Vonage about to expire.
	margin := min(s.ttl/4, time.Minute)
	if s.token != "" && now.Add(margin).Before(s.exp) {
		return "Bearer " + s.token, nil
	}
	tok, exp, err := signJWT(s.appID, s.key, now, s.ttl)
	if err != nil {
		return "", err
	}
	s.token, s.exp = tok, exp
	return "Bearer " + tok, nil
}

func (s *jwtSigner) secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return []string{s.token}
}

// signJWT returns an application token: header typ JWT, alg RS256; claims
// application_id, iat, jti (a random UUID) and exp.
func signJWT(appID string, key *rsa.PrivateKey, now time.Time, ttl time.Duration) (string, time.Time, error) {
	exp := now.Add(ttl).Truncate(time.Second)
	claims := jwt.MapClaims{
		"application_id": appID,
		"iat":            now.Unix(),
		"jti":            wire.NewUUID(),
		"exp":            exp.Unix(),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	s, err := tok.SignedString(key)
	if err != nil {
		return "", time.Time{}, errors.New("vonage: signing the JWT failed")
	}
	return s, exp, nil
}

// Client is a Vonage Verify v2 client. It implements provider.Provider,
// provider.Canceler, provider.Namer and provider.CapabilityReporter, so
// verify.New can use it, and offers NextWorkflow besides. It does not
// implement provider.Fetcher: Vonage has no status look-up. It is safe for
// concurrent use.
type Client struct {
	brand     string
	creds     Credentials
	auth      authorizer
	base      *url.URL
	http      *http.Client
	userAgent string
	retryMax  int
	waitMin   time.Duration
	waitMax   time.Duration
	logger    *slog.Logger
	retryHook func(context.Context, RetryEvent)
	now       func() time.Time

	channelTimeout time.Duration
	codeLength     int
	auto           []provider.Channel
	postRetry      POSTRetryPolicy
}

// Option configures a Client. Options validate their arguments; New returns
// the first error.
type Option func(*config) error

type config struct {
	httpClient     *http.Client
	baseURL        string
	timeout        time.Duration
	retryMax       int
	waitMin        time.Duration
	waitMax        time.Duration
	uaSuffix       string
	logger         *slog.Logger
	retryHook      func(context.Context, RetryEvent)
	now            func() time.Time
	jwtTTL         time.Duration
	channelTimeout time.Duration
	codeLength     int
	auto           []provider.Channel
	postRetry      POSTRetryPolicy
}

// WithHTTPClient makes the client send requests through a copy of hc (its
// Transport and Jar; hc itself is never modified). Redirects are never
// followed, whatever hc's CheckRedirect says. The
// default is a client with its own http.Transport. A Timeout set on hc is
// replaced by WithTimeout's.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error { return httpopt.SetHTTPClient("vonage", hc, &c.httpClient) }
}

// WithBaseURL sends requests to baseURL instead of https://api.nexmo.com,
// for example to the vonagetest emulator or a regional host such as
// https://api-eu.vonage.com. It must be an https URL, or an http URL whose
// host is a loopback address, with no query or fragment.
func WithBaseURL(baseURL string) Option {
	return func(c *config) error { return httpopt.SetBaseURL("vonage", baseURL, &c.baseURL) }
}

// WithTimeout bounds each HTTP attempt. The default is 10 seconds. A
// request that times out after being sent gives provider.ErrOutcomeUnknown.
// The context bounds the whole call, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error { return httpopt.SetTimeout("vonage", d, &c.timeout) }
}

// WithRetries sets how many times a request that provably was not
// processed is retried (see the package documentation, section Retries).
// The default is 3; 0 disables retries.
func WithRetries(n int) Option {
	return func(c *config) error { return httpopt.SetRetries("vonage", n, &c.retryMax) }
}

// WithRetryWait sets the bounds of the exponential backoff between retries;
// each wait is jittered between half and all of min·2ⁿ, capped at max. A
// Retry-After header takes precedence. The defaults are 250ms and 10s.
func WithRetryWait(min, max time.Duration) Option {
	return func(c *config) error { return httpopt.SetRetryWait("vonage", min, max, &c.waitMin, &c.waitMax) }
}

// WithUserAgent appends suffix, such as "myapp/1.2", to the User-Agent
// header, which is otherwise "verifykit/VERSION (GOOS GOARCH) go/VERSION".
func WithUserAgent(suffix string) Option {
	return func(c *config) error { return httpopt.SetUserAgent("vonage", suffix, &c.uaSuffix) }
}

// WithLogger logs one Debug record per HTTP attempt (method, path, status,
// duration, attempt) and one Info record per retry to l. Records never
// contain bodies, credentials, tokens or codes. By default nothing is
// logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { return httpopt.SetLogger("vonage", l, &c.logger) }
}

// WithRetryHook makes the client call fn before each retry, on the calling
// goroutine. fn must be safe for concurrent use.
func WithRetryHook(fn func(ctx context.Context, e RetryEvent)) Option {
	return func(c *config) error { return httpopt.SetRetryHook("vonage", fn, &c.retryHook) }
}

// WithClock makes the client read time from now instead of time.Now: for
// the JWTs' iat and exp, Retry-After dates and ExpiresAt estimates.
func WithClock(now func() time.Time) Option {
	return func(c *config) error { return httpopt.SetClock("vonage", now, &c.now) }
}

// WithJWTTTL sets the lifetime of the JWTs the client signs with
// Application credentials, from 1 minute to 24 hours. The default is 15
// minutes, the official SDKs' default. A token is reused until shortly
// before it expires.
func WithJWTTTL(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Minute || d > 24*time.Hour {
			return fmt.Errorf("vonage: WithJWTTTL: %v is outside 1m to 24h", d)
		}
		c.jwtTTL = d
		return nil
	}
}

// WithChannelTimeout sets the default wait between the steps of a workflow
// (Vonage's channel_timeout), from 15 seconds to 15 minutes in whole
// seconds. Zero, the default, sends none: Vonage then waits 180 seconds
// (Verify API 1.0.1's default).
// StartParams.ChannelTimeout overrides it per start.
func WithChannelTimeout(d time.Duration) Option {
	return func(c *config) error {
		if err := checkChannelTimeout(d); err != nil {
			return fmt.Errorf("vonage: WithChannelTimeout: %w", err)
		}
		c.channelTimeout = d
		return nil
	}
}

// WithCodeLength sets the default length of the codes Vonage generates,
// from 4 to 10. Zero, the default, sends none: Vonage then uses 4.
// StartParams.CodeLength overrides it per start.
func WithCodeLength(n int) Option {
	return func(c *config) error {
		if n != 0 && (n < 4 || n > 10) {
			return fmt.Errorf("vonage: WithCodeLength: %d is outside 4 to 10", n)
		}
		c.codeLength = n
		return nil
	}
}

// WithAutoWorkflow sets the workflow a start over provider.ChannelAuto to a
// phone number uses: the channels in order, each tried after the previous
// one's channel timeout. The default is sms, then call. Channels must be
// phone channels (sms, call, whatsapp, rcs, sna), sna only first; at most
// 3, as Vonage allows. A start over
// auto to an e-mail address always uses email alone.
func WithAutoWorkflow(channels ...provider.Channel) Option {
	return func(c *config) error {
		if len(channels) == 0 || len(channels) > maxSteps {
			return errors.New("vonage: WithAutoWorkflow: need 1 to 3 channels")
		}
		for i, ch := range channels {
			name, ok := vonageChannel(ch)
			if !ok || ch == provider.ChannelEmail || ch == provider.ChannelAuto {
				return fmt.Errorf("vonage: WithAutoWorkflow: %q is not a phone channel", ch)
			}
			if name == chSilentAuth && i != 0 {
				return errors.New("vonage: WithAutoWorkflow: sna must come first")
			}
		}
		c.auto = append([]provider.Channel(nil), channels...)
		return nil
	}
}

// New returns a client that starts verifications under brand (the name in
// the message, 1 to 18 characters; StartRequest.FriendlyName overrides it
// per start) and authenticates with creds.
func New(brand string, creds Credentials, opts ...Option) (*Client, error) {
	if err := checkBrand(brand); err != nil {
		return nil, fmt.Errorf("vonage: brand: %w", err)
	}
	cfg := config{
		timeout:  httpopt.DefaultTimeout,
		retryMax: httpopt.DefaultRetries,
		waitMin:  httpopt.DefaultWaitMin,
		waitMax:  httpopt.DefaultWaitMax,
		now:      time.Now,
		jwtTTL:   15 * time.Minute,
		auto:     []provider.Channel{provider.ChannelSMS, provider.ChannelCall},
	}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("vonage: nil option")
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	auth, err := creds.signer(cfg.jwtTTL, cfg.now)
	if err != nil {
		return nil, err
	}
	if _, err := auth.header(); err != nil { // sign once now: a bad key fails here
		return nil, err
	}
	base := cfg.baseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := parseBaseURL(base)
	if err != nil {
		return nil, err
	}
	// Never follow a redirect, whatever the caller's client would do: it
	// could carry the credentials and a code elsewhere, and the Verify API
	// does not redirect.
	hc := httpopt.Client(cfg.httpClient, cfg.timeout)
	ua := httpopt.UserAgent(version, cfg.uaSuffix)
	return &Client{
		brand:          brand,
		creds:          creds,
		auth:           auth,
		base:           u,
		http:           hc,
		userAgent:      ua,
		retryMax:       cfg.retryMax,
		waitMin:        cfg.waitMin,
		waitMax:        cfg.waitMax,
		logger:         cfg.logger,
		retryHook:      cfg.retryHook,
		now:            cfg.now,
		channelTimeout: cfg.channelTimeout,
		codeLength:     cfg.codeLength,
		auto:           cfg.auto,
		postRetry:      cfg.postRetry,
	}, nil
}

// The environment variables NewFromEnv reads.
const (
	EnvApplicationID  = "VONAGE_APPLICATION_ID"
	EnvPrivateKey     = "VONAGE_PRIVATE_KEY"      // the PEM itself
	EnvPrivateKeyPath = "VONAGE_PRIVATE_KEY_PATH" // or a file holding it
	EnvAPIKey         = "VONAGE_API_KEY"
	EnvAPISecret      = "VONAGE_API_SECRET"
	EnvBrand          = "VONAGE_BRAND"
	EnvBaseURL        = "VONAGE_BASE_URL"
)

// NewFromEnv returns a client configured from environment variables:
// VONAGE_BRAND, and either VONAGE_APPLICATION_ID with VONAGE_PRIVATE_KEY
// (the PEM) or VONAGE_PRIVATE_KEY_PATH (a file), or VONAGE_API_KEY and
// VONAGE_API_SECRET (an application wins when both are set).
// VONAGE_BASE_URL, when set, is passed to WithBaseURL. opts apply after
// those. Errors name missing variables, never values.
func NewFromEnv(opts ...Option) (*Client, error) {
	return NewFromEnvFunc(os.Getenv, opts...)
}

// NewFromEnvFunc is like NewFromEnv, but reads the variables through getenv.
func NewFromEnvFunc(getenv func(string) string, opts ...Option) (*Client, error) {
	var creds Credentials
	var missing []string
	need := func(k string) string {
		v := getenv(k)
		if v == "" {
			missing = append(missing, k)
		}
		return v
	}
	switch {
	case getenv(EnvApplicationID) != "":
		var pem []byte
		switch {
		case getenv(EnvPrivateKey) != "":
			pem = []byte(getenv(EnvPrivateKey))
		case getenv(EnvPrivateKeyPath) != "":
			b, err := os.ReadFile(getenv(EnvPrivateKeyPath))
			if err != nil {
				return nil, fmt.Errorf("vonage: environment: reading %s: %w", EnvPrivateKeyPath, errors.Unwrap(err))
			}
			pem = b
		default:
			missing = append(missing, EnvPrivateKey+" or "+EnvPrivateKeyPath)
		}
		creds = Application(getenv(EnvApplicationID), pem)
	default:
		creds = APIKey(need(EnvAPIKey), need(EnvAPISecret))
	}
	brand := need(EnvBrand)
	if len(missing) > 0 {
		return nil, fmt.Errorf("vonage: environment: %s not set", strings.Join(missing, ", "))
	}
	if b := getenv(EnvBaseURL); b != "" {
		opts = append([]Option{WithBaseURL(b)}, opts...)
	}
	return New(brand, creds, opts...)
}

// Name returns "vonage".
func (c *Client) Name() string { return Name }

// Capabilities reports what Vonage does differently from Twilio: checks by
// request ID only, a second start to a pending number is a conflict, and
// the channels it accepts.
func (c *Client) Capabilities() provider.Capabilities {
	return provider.Capabilities{
		CheckByTo:     false,
		ResendOnStart: false,
		Channels: []provider.Channel{
			provider.ChannelSMS, provider.ChannelCall, provider.ChannelWhatsApp,
			provider.ChannelEmail, provider.ChannelSNA, provider.ChannelAuto,
			ChannelRCS,
		},
	}
}

// String describes the client without its credentials' secrets.
func (c *Client) String() string {
	return "vonage.Client{Brand:" + c.brand + " Credentials:" + c.creds.String() + " BaseURL:" + c.base.String() + "}"
}

// GoString is like String.
func (c *Client) GoString() string { return c.String() }

// Format makes every verb print String, so no formatting of a Client shows
// a secret.
func (c *Client) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// parseBaseURL checks a base URL: https, or http to a loopback host.
func parseBaseURL(s string) (*url.URL, error) { return httpopt.ParseBaseURL("vonage", s) }

// POSTRetryPolicy says which answers to a call that changes state (every
// Vonage call: Start, Check, NextWorkflow, and Cancel's DELETE, which
// Vonage answers with 404 the second time) are taken to mean that Vonage
// did not process it, so that the call is repeated. It is the same type
// as twilio.POSTRetryPolicy: one policy for both hosted providers.
type POSTRetryPolicy = httpretry.POSTPolicy

// The POSTRetryPolicy values.
const (
	// POSTRetryVonage, the default, repeats a call only after Vonage's own
	// answer that it did not process it: 429 or 503 with an RFC 7807
	// problem document (Content-Type application/problem+json or JSON
	// with a type or title). A 503 without one (an HTML page, an empty
	// body: a proxy's or load balancer's answer, which may come after it
	// forwarded the request) is not repeated and gives
	// provider.ErrOutcomeUnknown.
	POSTRetryVonage = httpretry.POSTVendor
	// POSTRetryOff never repeats a call that may have reached the server,
	// whatever the answer. A 503 gives provider.ErrOutcomeUnknown; a 429
	// gives provider.ErrRateLimited at once.
	POSTRetryOff = httpretry.POSTOff
	// POSTRetryAny503 repeats a call after any 503, and after Vonage's
	// own 429, trusting every 503 on the way to mean "not processed". Use
	// it only when nothing between the client and Vonage can answer 503
	// after forwarding the request.
	POSTRetryAny503 = httpretry.POSTAny503
)

// WithPOSTRetry sets the policy for repeating a call after a 503 or a 429
// (see POSTRetryPolicy); the default is POSTRetryVonage. A call that
// provably never reached the server is always retried.
func WithPOSTRetry(p POSTRetryPolicy) Option {
	return func(c *config) error {
		if !p.Valid() {
			return fmt.Errorf("vonage: WithPOSTRetry: unknown policy %d", int(p))
		}
		c.postRetry = p
		return nil
	}
}
