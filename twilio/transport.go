package twilio

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// maxBody is the most of a response body the client reads.
const maxBody = 1 << 20

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
