package pushdevice

// The device's part of silent network auth: OpenSNA opens the URL a
// verification's Start returned (provider.Verification's SNAURL) the way
// the vendors' phone SDKs do, a plain GET that follows redirects, and
// recognises success in the final answer. Tests and examples use it
// against the fake and the emulators; on a real phone the request must go
// over mobile data, which only the phone can arrange (a program on a
// computer reaches a live vendor's URL over the wrong network, and the
// vendor reports an error such as Twilio's 60510).
//
// Success is recognised in the forms the vendors answer with:
//
//   - a form-encoded body carrying ErrorCode=0 (Twilio's carriers:
//     "ErrorCode=0&ErrorDescription=Success&Carrier=…"), with the SNA
//     client token, when the start asked for one, in SnaClientToken;
//   - a redirect whose URL carries code (and request_id) in its fragment
//     or query (Vonage's silent auth with a redirect_url): OpenSNA stops
//     there, as the phone would hand the URL to the application;
//   - a JSON object with a code (Vonage's silent auth without a
//     redirect_url).
//
// What the device must pass on to the application's backend is
// SNAResult.Token, the token argument of verify.Client.CheckSNA.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// SNAUserAgent is the User-Agent of every request, the same on each redirect
// (a carrier may refuse a change, as Twilio's 60517 reports).
const SNAUserAgent = "verifykit-pushdevice/1"

// snaMaxBody bounds what is read of an answer.
const snaMaxBody = 64 << 10

// snaMaxRedirects bounds the redirects followed, as net/http's default does.
const snaMaxRedirects = 10

// ErrSNAFailed is matched (with errors.Is) by the *SNAError of a visit whose
// answer did not report success.
var ErrSNAFailed = errors.New("pushdevice: silent network auth did not succeed")

// SNAError is a visit whose answer did not report success. It is the
// device's view only: the backend's check (verify.Client.CheckSNA) says
// what it means and whether to fall back to another channel.
type SNAError struct {
	// Status is the HTTP status of the final answer.
	Status int
	// Code and Description are the answer's ErrorCode and
	// ErrorDescription, when it had them.
	Code, Description string
}

// Error returns "pushdevice: silent network auth did not succeed: HTTP
// STATUS[, error CODE[: DESCRIPTION]]".
func (e *SNAError) Error() string {
	s := ErrSNAFailed.Error() + ": HTTP " + strconv.Itoa(e.Status)
	if e.Code != "" {
		s += ", error " + e.Code
		if e.Description != "" {
			s += ": " + e.Description
		}
	}
	return s
}

// Is reports whether target is ErrSNAFailed.
func (e *SNAError) Is(target error) bool { return target == ErrSNAFailed }

// SNAResult is what a successful visit returned.
type SNAResult struct {
	// Token is what the device passes on to the application's backend for
	// the check: Vonage's silent-auth code, Twilio's SNA client token, or
	// empty when the vendor hands out none. It is a secret.
	Token string
	// Carrier is the carrier the answer named, when it named one.
	Carrier string
}

// String describes the result without the token.
func (r SNAResult) String() string {
	s := "SNAResult{Carrier:" + r.Carrier
	if r.Token != "" {
		s += " Token:[redacted]"
	}
	return s + "}"
}

// GoString is like String.
func (r SNAResult) GoString() string { return r.String() }

// Format prints what String does for every verb, so none prints the token.
func (r SNAResult) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(r.String())) }

// OpenSNA opens rawURL as a phone does: GET, redirects followed (at most 10),
// with client (nil means http.DefaultClient; its CheckRedirect is kept
// and called too). It returns the SNAResult of a successful answer, an
// *SNAError (matching ErrSNAFailed) for an answer that is not one, and the
// transport's error when there was no answer.
func OpenSNA(ctx context.Context, client *http.Client, rawURL string) (SNAResult, error) {
	if client == nil {
		client = http.DefaultClient
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return SNAResult{}, errors.New("pushdevice: not an http or https URL")
	}
	c := *client
	var handoff *url.URL // a redirect that carries the code
	next := client.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if snaCodeIn(req.URL) != "" {
			handoff = req.URL
			return http.ErrUseLastResponse
		}
		if len(via) >= snaMaxRedirects {
			return errors.New("pushdevice: too many redirects")
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return SNAResult{}, err
	}
	req.Header.Set("User-Agent", SNAUserAgent)
	resp, err := c.Do(req)
	if err != nil {
		// The URL is a credential: the error names its host only.
		var ue *url.Error
		if errors.As(err, &ue) {
			return SNAResult{}, &url.Error{Op: ue.Op, URL: u.Scheme + "://" + u.Host + "/…", Err: ue.Err}
		}
		return SNAResult{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, snaMaxBody))
	if err != nil {
		return SNAResult{}, err
	}
	if handoff != nil {
		return SNAResult{Token: snaCodeIn(handoff)}, nil
	}
	return parseSNA(resp.StatusCode, body)
}

// codeIn returns the code a redirect URL carries in its fragment or its
// query, or "".
func snaCodeIn(u *url.URL) string {
	for _, raw := range []string{u.Fragment, u.RawQuery} {
		if raw == "" {
			continue
		}
		if q, err := url.ParseQuery(raw); err == nil && q.Get("code") != "" {
			return q.Get("code")
		}
	}
	return ""
}

// parse reads the final answer.
func parseSNA(status int, body []byte) (SNAResult, error) {
	text := strings.TrimSpace(string(body))
	if strings.Contains(text, "ErrorCode=") {
		q, err := url.ParseQuery(text)
		if err == nil && q.Has("ErrorCode") {
			if q.Get("ErrorCode") == "0" && status < 300 {
				return SNAResult{Token: q.Get("SnaClientToken"), Carrier: q.Get("Carrier")}, nil
			}
			return SNAResult{}, &SNAError{Status: status, Code: q.Get("ErrorCode"), Description: q.Get("ErrorDescription")}
		}
	}
	var v struct {
		Code string `json:"code"`
	}
	if status < 300 && strings.HasPrefix(text, "{") && json.Unmarshal([]byte(text), &v) == nil && v.Code != "" {
		return SNAResult{Token: v.Code}, nil
	}
	return SNAResult{}, &SNAError{Status: status}
}

// OpenSNA is the package's OpenSNA, on the phone that also holds the push
// factor: silent network auth needs no key or factor, only the phone's
// mobile data.
func (d *Device) OpenSNA(ctx context.Context, client *http.Client, rawURL string) (SNAResult, error) {
	return OpenSNA(ctx, client, rawURL)
}
