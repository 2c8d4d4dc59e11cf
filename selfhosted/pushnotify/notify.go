package pushnotify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/verifykit/verifykit/internal/httpopt"
	"github.com/verifykit/verifykit/internal/httpretry"
	"github.com/verifykit/verifykit/internal/redact"
	"github.com/verifykit/verifykit/provider"
)

// PayloadType is the value of the payload's type key, which the app checks
// before it treats a push as a challenge.
const PayloadType = "verify_push_challenge"

// Notifier delivers push challenges: it is provider.PushNotifier, which a
// provider that notifies devices takes as an option. Implementations are
// safe for concurrent use; the notifiers of this package return nil when
// the service accepted the notification, an [*Error] otherwise (or the
// context's error, when it ended before anything was sent).
type Notifier = provider.PushNotifier

// Notification is a push challenge to deliver to a device
// (provider.PushNotification). Its device token is a secret: no print
// verb shows it.
type Notification = provider.PushNotification

// NotifierFunc is a Notifier made of a function.
type NotifierFunc func(ctx context.Context, n Notification) error

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, n Notification) error { return f(ctx, n) }

// None is the Notifier of platform "none": it sends nothing, and the app
// polls for pending challenges.
var None Notifier = NotifierFunc(func(context.Context, Notification) error { return nil })

// Platforms is a Notifier that hands each notification to the notifier of
// its platform. A notification for platform "none" is not sent; one for a
// platform with no notifier fails with [ErrRejected] (and
// provider.ErrUnsupported).
type Platforms struct {
	// APN delivers to platform "apn", such as an [*APNs].
	APN Notifier
	// FCM delivers to platform "fcm", such as an [*FCM].
	FCM Notifier
}

// Notify hands n to the notifier of n.Platform.
func (p Platforms) Notify(ctx context.Context, n Notification) error {
	var to Notifier
	switch n.Platform {
	case provider.PlatformNone:
		return nil
	case provider.PlatformAPN:
		to = p.APN
	case provider.PlatformFCM:
		to = p.FCM
	}
	if to == nil {
		return &Error{Notifier: string(n.Platform), Kind: ErrRejected, Message: "no notifier for this platform", pk: provider.ErrUnsupported}
	}
	return to.Notify(ctx, n)
}

// The sentinels an [*Error] matches, one per decision (see the package
// documentation).
var (
	// ErrUnregistered means the device token is no longer (or never was)
	// valid: stop sending to it until the device registers a new one.
	ErrUnregistered = errors.New("device token unregistered or invalid")
	// ErrRetryable means the notification may be sent again later.
	ErrRetryable = errors.New("temporary failure, try again later")
	// ErrCredentials means the notifier's credentials were refused.
	ErrCredentials = errors.New("credentials refused")
	// ErrRejected means the service refused the notification for a reason
	// other than the token or the credentials.
	ErrRejected = errors.New("notification rejected")
)

// Error is a failed delivery. It matches its Kind, the provider sentinel
// of the same meaning and its transport error with errors.Is, and never
// contains a device token, a key, an access token or a JWT.
type Error struct {
	// Notifier is "fcm" or "apns" (or the platform, for [Platforms]).
	Notifier string
	// Kind is ErrUnregistered, ErrRetryable, ErrCredentials or
	// ErrRejected.
	Kind error
	// Status is the HTTP status of the answer, 0 when none came.
	Status int
	// Reason is the service's own error code, such as "UNREGISTERED"
	// (FCM), "BadDeviceToken" (APNs) or "invalid_grant" (Google's token
	// endpoint).
	Reason string
	// Message is the service's text, redacted and cut.
	Message string
	// Wait is how long the service asked to wait (Retry-After), 0 when it
	// did not say.
	Wait time.Duration
	// Err is the transport error, its text redacted, or nil.
	Err error

	pk error // the provider sentinel
}

// Error describes the failure.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("pushnotify: " + e.Notifier + ": " + e.Kind.Error())
	if e.Status != 0 || e.Reason != "" {
		b.WriteString(" (")
		if e.Status != 0 {
			b.WriteString("status " + strconv.Itoa(e.Status))
			if e.Reason != "" {
				b.WriteString(", ")
			}
		}
		b.WriteString(e.Reason + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Wait > 0 {
		b.WriteString(" (retry after " + e.Wait.String() + ")")
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the kind, the provider sentinel and the transport error.
func (e *Error) Unwrap() []error {
	errs := []error{e.Kind}
	if e.pk != nil {
		errs = append(errs, e.pk)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// RetryAfter returns Wait, so that provider.RetryAfter finds it.
func (e *Error) RetryAfter() time.Duration { return e.Wait }

// Option configures a notifier.
type Option func(*config) error

type config struct {
	endpoint string
	hc       *http.Client
	now      func() time.Time
}

// WithEndpoint replaces the service's base URL (https://fcm.googleapis.com
// for FCM, https://api.push.apple.com for APNs), for tests, proxies and
// APNs's development environment (https://api.sandbox.push.apple.com). It
// must be https, or, for FCM only, http on a loopback host.
func WithEndpoint(raw string) Option {
	return func(c *config) error {
		u, err := httpopt.ParseBaseURL("pushnotify", raw)
		if err != nil {
			return err
		}
		c.endpoint = u.String()
		return nil
	}
}

// WithHTTPClient sends through a copy of hc instead of a client with a
// 10 s timeout and a transport of its own (a clone of
// http.DefaultTransport, which speaks HTTP/2 over TLS). APNs needs a
// client that speaks HTTP/2. Redirects are never followed.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error { return httpopt.SetHTTPClient("pushnotify", hc, &c.hc) }
}

// WithClock sets the clock that dates the JWTs and decides when a cached
// token must be renewed; the default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) error { return httpopt.SetClock("pushnotify", now, &c.now) }
}

func newConfig(endpoint string, opts []Option) (*config, error) {
	c := &config{endpoint: endpoint, now: time.Now}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("pushnotify: nil option")
		}
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	c.hc = httpopt.Client(c.hc, httpopt.DefaultTimeout)
	return c, nil
}

// post sends body to url with header, and returns the answer with at
// most 64 KiB of its body (closed); a failed round trip is an [*Error].
func (c *config) post(ctx context.Context, notifier, url string, header http.Header, body []byte) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, &Error{Notifier: notifier, Kind: ErrRejected, Message: "cannot build the request", pk: provider.ErrInvalidRequest}
	}
	req.Header = header
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, transportError(notifier, err)
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp, answer, nil
}

// withToken sends with the cached token, and once more with a new one
// when the failure says the token was stale.
func withToken(ctx context.Context, token func(context.Context, bool) (string, error), send func(string) error, stale func(*Error) bool) error {
	for try := 0; ; try++ {
		tok, err := token(ctx, try > 0)
		if err != nil {
			return err
		}
		err = send(tok)
		var e *Error
		if try == 0 && errors.As(err, &e) && stale(e) {
			continue
		}
		return err
	}
}

// tokenLock is held while a notifier reads or renews its cached token,
// so that one renewal serves every send waiting for it.
type tokenLock chan struct{}

func (l tokenLock) lock(ctx context.Context) error {
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l tokenLock) unlock() { <-l }

// transportError types a failed round trip: a connection that was never
// made is retryable and certainly not delivered; any other failure is
// retryable but may have been delivered. It keeps the kind of failure and
// the context's error, never the text, which holds the URL (and an APNs
// URL holds the device token).
func transportError(notifier string, err error) *Error {
	class := httpretry.ErrorClass(err)
	pk := provider.ErrOutcomeUnknown
	if class == "dial error" || class == "DNS error" {
		pk = provider.ErrUnavailable
	}
	cause := errors.New(class)
	for _, c := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, c) {
			cause = fmt.Errorf("%s: %w", class, c)
		}
	}
	return &Error{Notifier: notifier, Kind: ErrRetryable, Err: cause, pk: pk}
}

// statusError types an answer that refused the notification. kind is what
// the service's reason said, nil when it said nothing the caller can use.
func statusError(notifier string, status int, h http.Header, now time.Time, reason, msg string, kind error, secrets []string) *Error {
	e := &Error{Notifier: notifier, Status: status, Reason: redact.Sanitize(reason, 60, secrets...), Message: redact.Sanitize(msg, 200, secrets...), Kind: kind}
	switch {
	case status == http.StatusTooManyRequests:
		e.Kind, e.pk = ErrRetryable, provider.ErrRateLimited
	case status == http.StatusServiceUnavailable:
		e.Kind, e.pk = ErrRetryable, provider.ErrUnavailable
	case status >= 500:
		e.Kind, e.pk = ErrRetryable, provider.ErrOutcomeUnknown // it may have been sent
	case kind == ErrUnregistered:
		e.pk = provider.ErrUndeliverable
	case kind == ErrCredentials || kind == nil && (status == http.StatusUnauthorized || status == http.StatusForbidden):
		e.Kind, e.pk = ErrCredentials, provider.ErrUnauthorized
	default:
		e.Kind, e.pk = ErrRejected, provider.ErrInvalidRequest
	}
	if e.Kind == ErrRetryable {
		e.Wait, _ = httpretry.RetryAfter(&http.Response{Header: h}, now)
	}
	return e
}
