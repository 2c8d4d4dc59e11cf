package twilio

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/verifykit/verifykit/internal/httpopt"
	"github.com/verifykit/verifykit/internal/httpretry"
)

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
	retryHook  func(context.Context, RetryEvent)
	now        func() time.Time
	postRetry  POSTRetryPolicy
}

// WithHTTPClient makes the client send requests through a copy of hc (its
// Transport and Jar; hc itself is never modified). The default is a client
// with its own http.Transport. A Timeout set on hc is replaced by
// WithTimeout's, and its CheckRedirect by one that follows no redirect:
// the client never follows one, whatever hc would do.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error { return httpopt.SetHTTPClient("twilio", hc, &c.httpClient) }
}

// WithBaseURL sends requests to baseURL instead of https://verify.twilio.com,
// for example to the twiliotest emulator. It must be an https URL, or an
// http URL whose host is a loopback address (localhost, 127.0.0.0/8, ::1),
// with no query or fragment. It overrides WithEdge and WithRegion.
func WithBaseURL(baseURL string) Option {
	return func(c *config) error { return httpopt.SetBaseURL("twilio", baseURL, &c.baseURL) }
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
	return func(c *config) error { return httpopt.SetTimeout("twilio", d, &c.timeout) }
}

// WithRetries sets how many times a request that is safe to repeat is
// retried (see the package documentation, section Retries). The default is
// 3; 0 disables retries.
func WithRetries(n int) Option {
	return func(c *config) error { return httpopt.SetRetries("twilio", n, &c.retryMax) }
}

// POSTRetryPolicy says which answers to a POST (Start, Check, Cancel,
// Approve, the service changes) are taken to mean that Twilio did not
// process it, so that the POST is repeated. It is the premise every retry
// of a sent POST rests on: an answer that says "not processed" must not
// come from something that forwarded the request first, such as a proxy or
// load balancer that answers 503 after its upstream failed mid-request.
// A POST that is not repeated after such an answer gives
// provider.ErrOutcomeUnknown.
//
// It is the same type as vonage.POSTRetryPolicy: one policy for both hosted
// providers.
type POSTRetryPolicy = httpretry.POSTPolicy

// The POSTRetryPolicy values.
const (
	// POSTRetryTwilio, the default, repeats a POST only after an answer
	// that is Twilio's own and says it was not processed: 429 with code
	// 20429, or 503 with code 20503 in Twilio's JSON error body. A 503
	// without it (an HTML page, an empty body: a proxy's answer) is not
	// repeated, and gives provider.ErrOutcomeUnknown.
	POSTRetryTwilio = httpretry.POSTVendor
	// POSTRetryOff never repeats a POST that may have reached the server,
	// whatever the answer: the no-repeat promise holds unconditionally. A
	// 503 gives provider.ErrOutcomeUnknown; a 429 with 20429 gives
	// provider.ErrRateLimited at once.
	POSTRetryOff = httpretry.POSTOff
	// POSTRetryAny503 repeats a POST after any 503, and after 429 with
	// 20429, trusting every 503 on the way to mean "not processed". Use it
	// only when nothing between the client and Twilio can answer 503 after
	// forwarding the request.
	POSTRetryAny503 = httpretry.POSTAny503
)

// WithPOSTRetry sets the policy for repeating a POST after a 503 or a 429
// (see POSTRetryPolicy); the default is POSTRetryTwilio. It does not
// change GET and DELETE, which are idempotent and always retried, nor a
// POST that provably never reached the server, which is always retried.
func WithPOSTRetry(p POSTRetryPolicy) Option {
	return func(c *config) error {
		if !p.Valid() {
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
	return func(c *config) error { return httpopt.SetRetryWait("twilio", min, max, &c.waitMin, &c.waitMax) }
}

// WithUserAgent appends suffix, such as "myapp/1.2", to the User-Agent
// header, which is otherwise "verifykit/VERSION (GOOS GOARCH) go/VERSION".
func WithUserAgent(suffix string) Option {
	return func(c *config) error { return httpopt.SetUserAgent("twilio", suffix, &c.uaSuffix) }
}

// WithLogger logs one Debug record per HTTP attempt (method, path, status,
// duration, attempt) and one Info record per retry to l. Records never
// contain form values, credentials or codes. By default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { return httpopt.SetLogger("twilio", l, &c.logger) }
}

// WithRetryHook makes the client call fn before each retry, on the calling
// goroutine. fn must be safe for concurrent use.
func WithRetryHook(fn func(ctx context.Context, e RetryEvent)) Option {
	return func(c *config) error { return httpopt.SetRetryHook("twilio", fn, &c.retryHook) }
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
