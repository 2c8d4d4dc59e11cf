package pushnotify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/verifykit/verifykit/internal/redact"
	"github.com/verifykit/verifykit/provider"
)

// Platform is a device's notification platform, as a push factor records
// it (Twilio's Config.NotificationPlatform).
type Platform string

// The platforms.
const (
	PlatformAPN  Platform = "apn"  // Apple Push Notification service
	PlatformFCM  Platform = "fcm"  // Firebase Cloud Messaging
	PlatformNone Platform = "none" // nothing is sent; the app polls for challenges
)

// PayloadType is the value of the payload's type key, which the app checks
// before it treats a push as a challenge.
const PayloadType = "verify_push_challenge"

// Notification is a push challenge to deliver to a device. Its String and
// Format methods never show the device token.
type Notification struct {
	// Platform is the device's notification platform.
	Platform Platform
	// Token is the device's push token (an FCM registration token or an
	// APNs device token in hex). It identifies the device to anyone who
	// can send to it, so it is treated as a secret.
	Token string
	// ChallengeSID and FactorSID name the challenge and the factor; the
	// app fetches the challenge with them.
	ChallengeSID, FactorSID string
	// Message is the challenge's message, shown on the phone.
	Message string
	// Expires is when the challenge expires: the service drops the
	// notification if it cannot deliver it by then. Zero means the
	// service's default (FCM) or one attempt only (APNs).
	Expires time.Time
}

// String describes n without its token.
func (n Notification) String() string {
	return "Notification{Platform:" + string(n.Platform) + " Challenge:" + n.ChallengeSID + " Factor:" + n.FactorSID + " Token:[redacted]}"
}

// GoString is like String.
func (n Notification) GoString() string { return n.String() }

// Format prints what String does for every verb.
func (n Notification) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(n.String())) }

// data is the payload's keys, as Twilio's Verify SDKs read them.
func (n Notification) data() map[string]string {
	return map[string]string{
		"type":          PayloadType,
		"challenge_sid": n.ChallengeSID,
		"factor_sid":    n.FactorSID,
		"message":       n.Message,
	}
}

// Notifier delivers push challenges. Implementations are safe for
// concurrent use; Notify returns nil when the service accepted the
// notification, an [*Error] otherwise (or the context's error, when it
// ended before anything was sent).
type Notifier interface {
	// Notify delivers n.
	Notify(ctx context.Context, n Notification) error
}

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
	case PlatformNone:
		return nil
	case PlatformAPN:
		to = p.APN
	case PlatformFCM:
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
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return errors.New("pushnotify: invalid endpoint URL")
		}
		if u.Scheme != "https" && (u.Scheme != "http" || !isLoopback(u.Hostname())) {
			return errors.New("pushnotify: the endpoint must be https (http only on a loopback host)")
		}
		c.endpoint = strings.TrimRight(u.String(), "/")
		return nil
	}
}

// WithHTTPClient sends through a copy of hc instead of a client with a
// 10 s timeout and a transport of its own (a clone of
// http.DefaultTransport, which speaks HTTP/2 over TLS). APNs needs a
// client that speaks HTTP/2.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("pushnotify: nil HTTP client")
		}
		cp := *hc
		c.hc = &cp
		return nil
	}
}

// WithClock sets the clock that dates the JWTs and decides when a cached
// token must be renewed; the default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("pushnotify: nil clock")
		}
		c.now = now
		return nil
	}
}

func newConfig(endpoint string, opts []Option) (*config, error) {
	c := &config{
		endpoint: endpoint,
		hc:       &http.Client{Timeout: 10 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()},
		now:      time.Now,
	}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("pushnotify: nil option")
		}
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// transportError types a failed round trip: a connection that was never
// made is retryable and certainly not delivered; any other failure is
// retryable but may have been delivered.
func transportError(notifier string, err error, secrets []string) *Error {
	pk := provider.ErrOutcomeUnknown
	if dialFailed(err) {
		pk = provider.ErrUnavailable
	}
	re := &redactedError{text: redact.Sanitize(err.Error(), 300, secrets...)}
	// Only the context's error is kept: the rest of the chain (a
	// *url.Error) would print the URL, which holds an APNs device token.
	for _, c := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, c) {
			re.err = c
		}
	}
	return &Error{Notifier: notifier, Kind: ErrRetryable, Err: re, pk: pk}
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
		e.Wait = retryAfter(h, now)
	}
	return e
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}

type redactedError struct {
	text string
	err  error // context.Canceled, context.DeadlineExceeded or nil
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// dialFailed reports whether err shows that the request never reached the
// service: the connection could not be made.
func dialFailed(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED)
}
