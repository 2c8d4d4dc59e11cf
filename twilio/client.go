package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/verifykit/verifykit/internal/httpopt"
	"github.com/verifykit/verifykit/internal/wire"
)

// Name is the provider name the client reports through provider.Namer, and
// the name Twilio extensions are addressed to.
const Name = "twilio"

// version is sent in the User-Agent header.
const version = "0.1.0-dev"

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
	timeout   time.Duration // bounds each attempt
	retryMax  int
	waitMin   time.Duration
	waitMax   time.Duration
	logger    *slog.Logger
	retryHook func(context.Context, RetryEvent)
	now       func() time.Time
	postRetry POSTRetryPolicy
	// verificationsURL and checkURL are the URLs of Start and Check,
	// built once (the service SID is checked: nothing to escape).
	verificationsURL, checkURL string
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
		timeout:  httpopt.DefaultTimeout,
		retryMax: httpopt.DefaultRetries,
		waitMin:  httpopt.DefaultWaitMin,
		waitMax:  httpopt.DefaultWaitMax,
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
	hc := httpopt.Client(cfg.httpClient, cfg.timeout)
	// Each attempt's context carries the timeout instead (see
	// attempt.attemptContext): the same bound, without http.Client's
	// per-request fork and timer body. hc is the client's own copy.
	hc.Timeout = 0
	// Never follow a redirect, whatever the caller's client would do: it
	// could take the credentials and a code elsewhere, and have its answer
	// taken for Twilio's. Twilio's API does not redirect; a 3xx answer is
	// an APIError matching ErrRedirect.
	hc.CheckRedirect = httpopt.NoRedirects
	ua := httpopt.UserAgent(version, cfg.uaSuffix)
	c := &Client{
		serviceSID: serviceSID,
		creds:      creds,
		base:       u,
		http:       hc,
		userAgent:  ua,
		headers: http.Header{
			"User-Agent": {ua},
			"Accept":     {"application/json"},
		},
		timeout:   cfg.timeout,
		retryMax:  cfg.retryMax,
		waitMin:   cfg.waitMin,
		waitMax:   cfg.waitMax,
		logger:    cfg.logger,
		retryHook: cfg.retryHook,
		now:       cfg.now,
		postRetry: cfg.postRetry,
	}
	c.verificationsURL = u.String() + "/v2/Services/" + serviceSID + "/Verifications"
	c.checkURL = u.String() + "/v2/Services/" + serviceSID + "/VerificationCheck"
	return c, nil
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
