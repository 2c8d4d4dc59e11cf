package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// Name is the provider name the client reports through provider.Namer, and
// the name Twilio extensions are addressed to.
const Name = "twilio"

// DefaultBaseURL is Twilio Verify's API host.
const DefaultBaseURL = "https://verify.twilio.com"

// version is sent in the User-Agent header.
const version = "0.1.0-dev"

// maxBody is the most of a response body the client reads.
const maxBody = 1 << 20

// Client is a Twilio Verify v2 client for one Verify Service. It
// implements provider.Provider, provider.Canceler and provider.Fetcher, so
// verify.New can use it, and also offers Twilio-only operations (Approve,
// the Services calls). It is safe for concurrent use.
type Client struct {
	serviceSID string
	creds      Credentials
	base       *url.URL
	http       *http.Client
	userAgent  string
	// headers are the fixed request headers but Authorization (which the
	// credentials hold, out of reach of fmt), built once: User-Agent and
	// Accept. Requests share the slices and never modify them.
	headers   http.Header
	retryMax  int
	waitMin   time.Duration
	waitMax   time.Duration
	logger    *slog.Logger
	retryHook func(RetryEvent)
	now       func() time.Time
	postRetry POSTRetryPolicy
}

// Option configures a Client. Options validate their arguments; New returns
// the first error.
type Option func(*config) error

type config struct {
	httpClient *http.Client
	baseURL    string
	edge       string
	region     string
	timeout    time.Duration
	retryMax   int
	waitMin    time.Duration
	waitMax    time.Duration
	uaSuffix   string
	logger     *slog.Logger
	retryHook  func(RetryEvent)
	now        func() time.Time
	postRetry  POSTRetryPolicy
}

// WithHTTPClient makes the client send requests through a copy of hc (its
// Transport and Jar; hc itself is never modified). The default is a client
// with its own http.Transport. A Timeout set on hc is replaced by
// WithTimeout's, and its CheckRedirect by one that follows no redirect:
// the client never follows one, whatever hc would do.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("twilio: WithHTTPClient: nil client")
		}
		cp := *hc
		c.httpClient = &cp
		return nil
	}
}

// WithBaseURL sends requests to baseURL instead of https://verify.twilio.com,
// for example to the twiliotest emulator. It must be an https URL, or an
// http URL whose host is a loopback address (localhost, 127.0.0.0/8, ::1),
// with no query or fragment. It overrides WithEdge and WithRegion.
func WithBaseURL(baseURL string) Option {
	return func(c *config) error {
		if _, err := parseBaseURL(baseURL); err != nil {
			return err
		}
		c.baseURL = baseURL
		return nil
	}
}

// WithEdge sends requests through a Twilio edge location, such as "dublin"
// or "sydney". With no region set, the region is "us1", as Twilio's SDKs do.
func WithEdge(edge string) Option {
	return func(c *config) error {
		if !validLabel(edge) {
			return fmt.Errorf("twilio: WithEdge: %q is not a host name label", edge)
		}
		c.edge = edge
		return nil
	}
}

// WithRegion sends requests to a Twilio region, such as "ie1" or "au1":
// the host becomes verify.{edge}.{region}.twilio.com, or
// verify.{region}.twilio.com without an edge. Credentials are per region.
func WithRegion(region string) Option {
	return func(c *config) error {
		if !validLabel(region) {
			return fmt.Errorf("twilio: WithRegion: %q is not a host name label", region)
		}
		c.region = region
		return nil
	}
}

// WithTimeout bounds each HTTP attempt (connection, request and reading the
// response). The default is 10 seconds. A POST that times out after being
// sent gives provider.ErrOutcomeUnknown. The context bounds the whole call,
// retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("twilio: WithTimeout: %v is not positive", d)
		}
		c.timeout = d
		return nil
	}
}

// WithRetries sets how many times a request that is safe to repeat is
// retried (see the package documentation, section Retries). The default is
// 3; 0 disables retries.
func WithRetries(n int) Option {
	return func(c *config) error {
		if n < 0 || n > 20 {
			return fmt.Errorf("twilio: WithRetries: %d is outside 0 to 20", n)
		}
		c.retryMax = n
		return nil
	}
}

// POSTRetryPolicy says which answers to a POST (Start, Check, Cancel,
// Approve, the service changes) are taken to mean that Twilio did not
// process it, so that the POST is repeated. It is the premise every retry
// of a sent POST rests on: an answer that says "not processed" must not
// come from something that forwarded the request first, such as a proxy or
// load balancer that answers 503 after its upstream failed mid-request.
// A POST that is not repeated after such an answer gives
// provider.ErrOutcomeUnknown.
type POSTRetryPolicy int

// The POSTRetryPolicy values.
const (
	// POSTRetryTwilio, the default, repeats a POST only after an answer
	// that is Twilio's own and says it was not processed: 429 with code
	// 20429, or 503 with code 20503 in Twilio's JSON error body. A 503
	// without it (an HTML page, an empty body: a proxy's answer) is not
	// repeated, and gives provider.ErrOutcomeUnknown.
	POSTRetryTwilio POSTRetryPolicy = iota
	// POSTRetryOff never repeats a POST that may have reached the server,
	// whatever the answer: the no-repeat promise holds unconditionally. A
	// 503 gives provider.ErrOutcomeUnknown; a 429 with 20429 gives
	// provider.ErrRateLimited at once.
	POSTRetryOff
	// POSTRetryAny503 repeats a POST after any 503, and after 429 with
	// 20429, trusting every 503 on the way to mean "not processed". Use it
	// only when nothing between the client and Twilio can answer 503 after
	// forwarding the request.
	POSTRetryAny503
)

// WithPOSTRetry sets the policy for repeating a POST after a 503 or a 429
// (see POSTRetryPolicy); the default is POSTRetryTwilio. It does not
// change GET and DELETE, which are idempotent and always retried, nor a
// POST that provably never reached the server, which is always retried.
func WithPOSTRetry(p POSTRetryPolicy) Option {
	return func(c *config) error {
		if p < POSTRetryTwilio || p > POSTRetryAny503 {
			return fmt.Errorf("twilio: WithPOSTRetry: unknown policy %d", int(p))
		}
		c.postRetry = p
		return nil
	}
}

// WithRetryWait sets the bounds of the exponential backoff between retries;
// each wait is jittered between half and all of min·2ⁿ, capped at max. A
// Retry-After header from Twilio takes precedence. The defaults are 250ms
// and 10s.
func WithRetryWait(min, max time.Duration) Option {
	return func(c *config) error {
		if min < 0 || max < min {
			return fmt.Errorf("twilio: WithRetryWait: %v to %v is not a range", min, max)
		}
		c.waitMin, c.waitMax = min, max
		return nil
	}
}

// WithUserAgent appends suffix, such as "myapp/1.2", to the User-Agent
// header, which is otherwise "verifykit/VERSION (GOOS GOARCH) go/VERSION".
func WithUserAgent(suffix string) Option {
	return func(c *config) error {
		if strings.ContainsAny(suffix, "\r\n\x00") || len(suffix) > 256 {
			return errors.New("twilio: WithUserAgent: suffix must be one line of at most 256 bytes")
		}
		c.uaSuffix = suffix
		return nil
	}
}

// WithLogger logs one Debug record per HTTP attempt (method, path, status,
// duration, attempt) and one Info record per retry to l. Records never
// contain form values, credentials or codes. By default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("twilio: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithRetryHook makes the client call fn before each retry, on the calling
// goroutine. fn must be safe for concurrent use.
func WithRetryHook(fn func(RetryEvent)) Option {
	return func(c *config) error {
		if fn == nil {
			return errors.New("twilio: WithRetryHook: nil function")
		}
		c.retryHook = fn
		return nil
	}
}

// RetryEvent describes a retry, for WithRetryHook.
type RetryEvent struct {
	// Op is the operation, such as "start".
	Op string
	// Attempt is the number of the attempt about to be made: 2 for the
	// first retry.
	Attempt int
	// Wait is how long the client waited before it.
	Wait time.Duration
	// Reason says why the previous attempt is retried, such as
	// "status 503" or "dial error".
	Reason string
}

// New returns a client for the Verify Service serviceSID (VA…) that
// authenticates with creds.
func New(serviceSID string, creds Credentials, opts ...Option) (*Client, error) {
	if !wire.ValidSID(serviceSID, "VA") {
		return nil, errors.New("twilio: service SID must be VA followed by 32 hex digits")
	}
	if err := creds.validate(); err != nil {
		return nil, err
	}
	cfg := config{
		timeout:  10 * time.Second,
		retryMax: 3,
		waitMin:  250 * time.Millisecond,
		waitMax:  10 * time.Second,
		now:      time.Now,
	}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("twilio: nil option")
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	base := cfg.baseURL
	if base == "" {
		base = regionalURL(cfg.edge, cfg.region)
	}
	u, err := parseBaseURL(base)
	if err != nil {
		return nil, err
	}
	hc := cfg.httpClient
	if hc == nil {
		hc = &http.Client{Transport: newTransport()}
	}
	hc.Timeout = cfg.timeout
	// Never follow a redirect, whatever the caller's client would do: it
	// could take the credentials and a code elsewhere, and have its answer
	// taken for Twilio's. Twilio's API does not redirect; a 3xx answer is
	// an APIError matching ErrRedirect.
	hc.CheckRedirect = noRedirects
	ua := "verifykit/" + version + " (" + runtime.GOOS + " " + runtime.GOARCH + ") go/" + runtime.Version()
	if cfg.uaSuffix != "" {
		ua += " " + cfg.uaSuffix
	}
	return &Client{
		serviceSID: serviceSID,
		creds:      creds,
		base:       u,
		http:       hc,
		userAgent:  ua,
		headers: http.Header{
			"User-Agent": {ua},
			"Accept":     {"application/json"},
		},
		retryMax:  cfg.retryMax,
		waitMin:   cfg.waitMin,
		waitMax:   cfg.waitMax,
		logger:    cfg.logger,
		retryHook: cfg.retryHook,
		now:       cfg.now,
		postRetry: cfg.postRetry,
	}, nil
}

// noRedirects is every client's CheckRedirect: a redirect is answered with
// the redirect response itself.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// newTransport returns the default transport: http.DefaultTransport's
// settings, in a transport of the client's own.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return t
}

// The environment variables NewFromEnv reads.
const (
	EnvAccountSID = "TWILIO_ACCOUNT_SID"
	EnvAuthToken  = "TWILIO_AUTH_TOKEN"
	EnvAPIKey     = "TWILIO_API_KEY"
	EnvAPISecret  = "TWILIO_API_SECRET"
	EnvServiceSID = "TWILIO_VERIFY_SERVICE_SID"
	EnvBaseURL    = "TWILIO_VERIFY_BASE_URL"
)

// NewFromEnv returns a client configured from the conventional environment
// variables: TWILIO_VERIFY_SERVICE_SID, and either TWILIO_API_KEY and
// TWILIO_API_SECRET or TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (API keys
// win when both are set). TWILIO_VERIFY_BASE_URL, when set, is passed to
// WithBaseURL, for example to use the emulator. opts apply after those, so
// they take precedence. Errors name missing variables, never values.
func NewFromEnv(opts ...Option) (*Client, error) {
	return NewFromEnvFunc(os.Getenv, opts...)
}

// NewFromEnvFunc is like NewFromEnv, but reads the variables through
// getenv, so a program can take them from elsewhere and a test can supply
// them.
func NewFromEnvFunc(getenv func(string) string, opts ...Option) (*Client, error) {
	var creds Credentials
	var missing []string
	switch {
	case getenv(EnvAPIKey) != "" || getenv(EnvAPISecret) != "":
		creds = APIKey(getenv(EnvAPIKey), getenv(EnvAPISecret))
		for _, k := range []string{EnvAPIKey, EnvAPISecret} {
			if getenv(k) == "" {
				missing = append(missing, k)
			}
		}
	default:
		creds = AuthToken(getenv(EnvAccountSID), getenv(EnvAuthToken))
		for _, k := range []string{EnvAccountSID, EnvAuthToken} {
			if getenv(k) == "" {
				missing = append(missing, k)
			}
		}
	}
	service := getenv(EnvServiceSID)
	if service == "" {
		missing = append(missing, EnvServiceSID)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("twilio: environment: %s not set", strings.Join(missing, ", "))
	}
	if b := getenv(EnvBaseURL); b != "" {
		opts = append([]Option{WithBaseURL(b)}, opts...)
	}
	return New(service, creds, opts...)
}

// Name returns "twilio".
func (c *Client) Name() string { return Name }

// String describes the client without its credentials' secret.
func (c *Client) String() string {
	return "twilio.Client{Service:" + c.serviceSID + " Credentials:" + c.creds.String() + " BaseURL:" + c.base.String() + "}"
}

// GoString is like String.
func (c *Client) GoString() string { return c.String() }

// Format writes String for every verb, so no verb shows a field.
func (c *Client) Format(f fmt.State, verb rune) { io.WriteString(f, c.String()) }

// ServiceSID returns the SID of the Verify Service the client uses.
func (c *Client) ServiceSID() string { return c.serviceSID }

// parseBaseURL checks a base URL: https, or http to a loopback host.
func parseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("twilio: base URL must be an absolute http(s) URL with a host and no user, query or fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("twilio: base URL: plain http is allowed only to a loopback host, not %q", u.Hostname())
		}
	default:
		return nil, fmt.Errorf("twilio: base URL: scheme must be https (or http to a loopback host), not %q", u.Scheme)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// regionalURL returns the Verify host for an edge and a region.
func regionalURL(edge, region string) string {
	if edge != "" && region == "" {
		region = "us1"
	}
	host := "verify"
	if edge != "" {
		host += "." + edge
	}
	if region != "" {
		host += "." + region
	}
	return "https://" + host + ".twilio.com"
}

func validLabel(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return s[0] != '-' && s[len(s)-1] != '-'
}

// call is one API operation.
type call struct {
	op     string
	method string
	path   string     // below the base URL, starting with /v2/
	form   url.Values // body of a POST, query of a GET
	ok     []int      // the success statuses
	// secrets are values sent in the request (codes) that must not come
	// back in an error, should Twilio quote them.
	secrets []string
	// check, when set, runs after a success body is decoded and says why
	// it is not a well-formed answer to this request.
	check func() error
}

var formContentType = []string{"application/x-www-form-urlencoded"}

// do performs c, with retries where safe, and decodes a success body into
// out (when out is not nil).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	if err := ctx.Err(); err != nil {
		return &RequestError{Op: cl.op, Err: err} // nothing was sent
	}
	target := *c.base
	target.Path += cl.path
	var body []byte
	if cl.method == http.MethodPost {
		body = []byte(cl.form.Encode())
	} else if len(cl.form) > 0 {
		target.RawQuery = cl.form.Encode()
	}
	st := &attempt{op: cl.op, method: cl.method, client: c}
	req, err := retryablehttp.NewRequestWithContext(st.trace(ctx), cl.method, target.String(), body)
	if err != nil {
		return &RequestError{Op: cl.op, Err: err, kind: provider.ErrInvalidRequest}
	}
	for k, v := range c.headers {
		req.Header[k] = v
	}
	req.Header["Authorization"] = c.creds.secret().authorization
	if cl.method == http.MethodPost {
		req.Header["Content-Type"] = formContentType
	}
	req.SetResponseHandler(st.readBody)
	rc := &retryablehttp.Client{
		HTTPClient:     c.http,
		RetryMax:       c.retryMax,
		RetryWaitMin:   c.waitMin,
		RetryWaitMax:   c.waitMax,
		CheckRetry:     st.checkRetry,
		Backoff:        st.backoff,
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
		RequestLogHook: st.beforeAttempt,
	}
	resp, err := rc.Do(req)
	var readErr error
	switch {
	case err != nil && resp == nil:
		return requestError(ctx, cl.op, cl.method, st.maybeSent(err), err)
	case err != nil:
		// The response came, but its body could not be read.
		readErr = err
	case !st.read:
		// Retries ran out on a retryable status, so retryablehttp did not
		// call readBody.
		readErr = st.readBody(resp)
	}
	resp.Body.Close()
	data := st.body
	if !statusIn(resp.StatusCode, cl.ok) {
		return c.apiError(cl, resp, data, readErr)
	}
	if readErr == nil && out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			readErr = fmt.Errorf("decoding the %d response: %w", resp.StatusCode, err)
		}
	}
	if readErr == nil && cl.check != nil {
		// A success status with a body that is not an answer to this
		// request (an empty object, null, another resource) says nothing
		// definite.
		if err := cl.check(); err != nil {
			readErr = fmt.Errorf("malformed %d response: %w", resp.StatusCode, err)
		}
	}
	if readErr != nil {
		// Twilio answered with success, so a POST took effect; the answer
		// is unreadable, so its outcome (approved or not) is unknown.
		return requestError(ctx, cl.op, cl.method, true, readErr)
	}
	return nil
}

// apiError builds the error for an unsuccessful status.
func (c *Client) apiError(cl call, resp *http.Response, data []byte, readErr error) error {
	e := &APIError{Op: cl.op, Status: resp.StatusCode, method: cl.method}
	if cl.method == http.MethodPost && resp.StatusCode == http.StatusServiceUnavailable {
		e.unprocessed = c.postRetry == POSTRetryAny503 || c.postRetry == POSTRetryTwilio && twilioCode(data) == twiliocode.ServiceUnavailable
	}
	if d, ok := retryAfter(resp, c.now()); ok {
		e.Wait = d
	}
	var body struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
	}
	switch {
	case resp.StatusCode < 400:
		e.Message = "redirect not followed"
	case readErr != nil:
		e.Message = "unreadable error body"
	case json.Unmarshal(data, &body) != nil:
		e.Message = "non-JSON error body (" + http.StatusText(resp.StatusCode) + ")"
	default:
		// A server (or a proxy) that quotes the request back must not make
		// the credentials or a code show up in an error.
		e.Code, e.Message, e.MoreInfo = body.Code, c.creds.secret().redact.sanitize(body.Message, cl.secrets), c.creds.secret().redact.sanitize(body.MoreInfo, cl.secrets)
	}
	return e
}

func statusIn(s int, ok []int) bool {
	for _, o := range ok {
		if s == o {
			return true
		}
	}
	return false
}
