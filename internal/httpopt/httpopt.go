// Package httpopt holds the option checks and client set-up the hosted
// providers (twilio, vonage) share: the base URL rule (https, or plain
// http only to a loopback host), the bounds of timeouts, retries, backoff
// and User-Agent suffixes, and the HTTP client a provider sends through.
//
// Every error starts with the provider's name and the option's, as the
// providers' own errors did: "twilio: WithTimeout: 0s is not positive".
package httpopt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"
)

// The defaults both providers start from.
const (
	DefaultTimeout = 10 * time.Second
	DefaultRetries = 3
	DefaultWaitMin = 250 * time.Millisecond
	DefaultWaitMax = 10 * time.Second
)

// ParseBaseURL checks a base URL for vendor ("twilio"): an absolute https
// URL, or http to a loopback host, with no user, query or fragment. The
// path loses its trailing slashes.
func ParseBaseURL(vendor, s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New(vendor + ": base URL must be an absolute http(s) URL with a host and no user, query or fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%s: base URL: plain http is allowed only to a loopback host, not %q", vendor, u.Hostname())
		}
	default:
		return nil, fmt.Errorf("%s: base URL: scheme must be https (or http to a loopback host), not %q", vendor, u.Scheme)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// IsLoopback reports whether host is "localhost" or a loopback IP address.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkTimeout checks WithTimeout's argument: it must be positive.
func checkTimeout(vendor string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s: WithTimeout: %v is not positive", vendor, d)
	}
	return nil
}

// checkRetries checks WithRetries' argument: 0 to 20.
func checkRetries(vendor string, n int) error {
	if n < 0 || n > 20 {
		return fmt.Errorf("%s: WithRetries: %d is outside 0 to 20", vendor, n)
	}
	return nil
}

// checkRetryWait checks WithRetryWait's arguments: 0 ≤ min ≤ max.
func checkRetryWait(vendor string, min, max time.Duration) error {
	if min < 0 || max < min {
		return fmt.Errorf("%s: WithRetryWait: %v to %v is not a range", vendor, min, max)
	}
	return nil
}

// checkUserAgent checks WithUserAgent's suffix: one line of at most 256
// bytes.
func checkUserAgent(vendor, suffix string) error {
	if strings.ContainsAny(suffix, "\r\n\x00") || len(suffix) > 256 {
		return errors.New(vendor + ": WithUserAgent: suffix must be one line of at most 256 bytes")
	}
	return nil
}

// UserAgent returns "verifykit/VERSION (GOOS GOARCH) go/VERSION", followed
// by suffix when it is not empty.
func UserAgent(version, suffix string) string {
	ua := "verifykit/" + version + " (" + runtime.GOOS + " " + runtime.GOARCH + ") go/" + runtime.Version()
	if suffix != "" {
		ua += " " + suffix
	}
	return ua
}

// newTransport returns the default transport: http.DefaultTransport's
// settings, in a transport of the client's own.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return t
}

// NoRedirects is a CheckRedirect that follows no redirect: the 3xx answer
// itself is returned.
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Client returns the client a provider sends through: hc (the option's
// copy of the caller's client; nil for one with a newTransport), with
// timeout bounding each attempt and NoRedirects as its CheckRedirect,
// whatever the caller's client would do: a redirect could carry the
// credentials and a code elsewhere and have its answer taken for the
// vendor's, and no Verify API redirects.
func Client(hc *http.Client, timeout time.Duration) *http.Client {
	if hc == nil {
		hc = &http.Client{Transport: newTransport()}
	}
	hc.Timeout = timeout
	hc.CheckRedirect = NoRedirects
	return hc
}

// The Set functions below are the bodies of the options both providers
// share: each checks its argument as the Check function of the same name
// does (or that it is not nil), and only then stores it in dst, so an
// exported option is one line: a failed option leaves the config as it
// was.

// SetHTTPClient stores a copy of hc (its Transport and Jar; hc itself is
// never modified) in *dst, for WithHTTPClient; Client later replaces the
// copy's Timeout and CheckRedirect.
func SetHTTPClient(vendor string, hc *http.Client, dst **http.Client) error {
	if hc == nil {
		return errors.New(vendor + ": WithHTTPClient: nil client")
	}
	cp := *hc
	*dst = &cp
	return nil
}

// SetBaseURL stores baseURL in *dst, for WithBaseURL, when ParseBaseURL
// accepts it.
func SetBaseURL(vendor, baseURL string, dst *string) error {
	if _, err := ParseBaseURL(vendor, baseURL); err != nil {
		return err
	}
	*dst = baseURL
	return nil
}

// SetTimeout stores d in *dst, for WithTimeout, when checkTimeout accepts
// it.
func SetTimeout(vendor string, d time.Duration, dst *time.Duration) error {
	if err := checkTimeout(vendor, d); err != nil {
		return err
	}
	*dst = d
	return nil
}

// SetRetries stores n in *dst, for WithRetries, when checkRetries accepts
// it.
func SetRetries(vendor string, n int, dst *int) error {
	if err := checkRetries(vendor, n); err != nil {
		return err
	}
	*dst = n
	return nil
}

// SetRetryWait stores min and max in *dstMin and *dstMax, for
// WithRetryWait, when checkRetryWait accepts them.
func SetRetryWait(vendor string, min, max time.Duration, dstMin, dstMax *time.Duration) error {
	if err := checkRetryWait(vendor, min, max); err != nil {
		return err
	}
	*dstMin, *dstMax = min, max
	return nil
}

// SetUserAgent stores suffix in *dst, for WithUserAgent, when
// checkUserAgent accepts it.
func SetUserAgent(vendor, suffix string, dst *string) error {
	if err := checkUserAgent(vendor, suffix); err != nil {
		return err
	}
	*dst = suffix
	return nil
}

// SetLogger stores l in *dst, for WithLogger, when it is not nil.
func SetLogger(vendor string, l *slog.Logger, dst **slog.Logger) error {
	if l == nil {
		return errors.New(vendor + ": WithLogger: nil logger")
	}
	*dst = l
	return nil
}

// SetRetryHook stores fn in *dst, for WithRetryHook (each provider has a
// RetryEvent of its own), when it is not nil.
func SetRetryHook[E any, F ~func(context.Context, E)](vendor string, fn F, dst *F) error {
	if fn == nil {
		return errors.New(vendor + ": WithRetryHook: nil function")
	}
	*dst = fn
	return nil
}

// SetClock stores now in *dst, for WithClock, when it is not nil.
func SetClock(vendor string, now func() time.Time, dst *func() time.Time) error {
	if now == nil {
		return errors.New(vendor + ": WithClock: nil clock")
	}
	*dst = now
	return nil
}
