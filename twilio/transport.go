package twilio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/verifykit/verifykit/internal/httpretry"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// maxBody is the most of a response body the client reads.
const maxBody = 1 << 20

// call is one API operation.
type call struct {
	op     string
	method string
	path   string // below the base URL, starting with /v2/
	// url, when set, is the whole URL instead of the base URL and path,
	// without a query: the hot paths build theirs once, in New.
	url  string
	form url.Values // body of a POST, query of a GET
	// body, when not nil, is the encoded body of a POST instead of form;
	// json says it is JSON (else a form).
	body []byte
	json bool
	ok   []int // the success statuses
	// secret and secrets are values sent in the request (codes) that must
	// not come back in an error, should Twilio quote them.
	secret  string
	secrets []string
	// wantSID and wantTo are what a verification or service answer must
	// be about (empty: any); see checkAnswer and checkService.
	wantSID, wantTo string
	// check, when set, runs after a success body is decoded and says why
	// it is not a well-formed answer to this request, for answers that
	// are neither a Verification nor a Service.
	check func() error
}

// The success statuses of the calls.
var (
	okCreated = []int{http.StatusCreated, http.StatusOK}
	okChecked = []int{http.StatusOK, http.StatusCreated}
	okOK      = []int{http.StatusOK}
	okDeleted = []int{http.StatusNoContent, http.StatusOK}
)

var (
	formContentType = []string{"application/x-www-form-urlencoded"}
	jsonContentType = []string{"application/json"}
)

// bodies recycles the buffers response bodies are read into: a body is
// decoded (which copies what it keeps) before do returns.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// do performs c, with retries where safe, and decodes a success body into
// out (when out is not nil).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	if err := ctx.Err(); err != nil {
		return &RequestError{Op: cl.op, Err: err} // nothing was sent
	}
	target := cl.url
	if target == "" {
		u := *c.base
		u.Path += cl.path // escaped by String
		target = u.String()
	}
	body := cl.body
	if cl.method == http.MethodPost && body == nil {
		body = []byte(cl.form.Encode())
	} else if len(cl.form) > 0 {
		target += "?" + cl.form.Encode()
	}
	st := &attempt{op: cl.op, method: cl.method, client: c, parent: ctx, building: true}
	st.buf = bodies.Get().(*bytes.Buffer)
	defer st.release()
	var raw any // no body: a GET
	if cl.method == http.MethodPost {
		st.reqBody = body
		raw = retryablehttp.ReaderFunc(st.bodyReader)
	}
	req, err := retryablehttp.NewRequestWithContext(st.attemptContext(), cl.method, target, raw)
	if err != nil {
		return &RequestError{Op: cl.op, Err: err, kind: provider.ErrInvalidRequest}
	}
	st.req = req
	for k, v := range c.headers {
		req.Header[k] = v
	}
	req.Header["Authorization"] = c.creds.secret().authorization
	if cl.method == http.MethodPost {
		req.Header["Content-Type"] = formContentType
		if cl.json {
			req.Header["Content-Type"] = jsonContentType
		}
	}
	req.SetResponseHandler(readBody)
	st.rc = retryablehttp.Client{
		HTTPClient:     c.http,
		RetryMax:       c.retryMax,
		RetryWaitMin:   c.waitMin,
		RetryWaitMax:   c.waitMax,
		CheckRetry:     checkRetry,
		Backoff:        noBackoff, // checkRetry installs st.backoff when it retries
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
		RequestLogHook: beforeAttempt,
	}
	st.building = false
	resp, err := st.rc.Do(req)
	var readErr error
	switch {
	case err != nil && resp == nil:
		return requestError(ctx, cl.op, cl.method, st.MaybeSent(err), err)
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
	if readErr == nil {
		// A success status with a body that is not an answer to this
		// request (an empty object, null, another resource) says nothing
		// definite.
		var err error
		switch v := out.(type) {
		case *Verification:
			err = c.checkAnswer(v, cl.wantSID, cl.wantTo)
		case *Service:
			err = checkService(v, cl.wantSID)
		}
		if err == nil && cl.check != nil {
			err = cl.check()
		}
		if err != nil {
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
		e.unprocessed = c.postRetry.Unprocessed(resp.StatusCode, twilioCode(data) == twiliocode.ServiceUnavailable)
	}
	if d, ok := httpretry.RetryAfter(resp, c.now()); ok {
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
		secrets := append([]string{cl.secret}, cl.secrets...)
		e.Code, e.Message, e.MoreInfo = body.Code, c.creds.secret().redact.Sanitize(body.Message, maxMessage, secrets...), c.creds.secret().redact.Sanitize(body.MoreInfo, maxMessage, secrets...)
	}
	if errors.Is(e, provider.ErrUnauthorized) {
		e.hint = credentialsHint(c.creds.Username(), e.Status == http.StatusForbidden && e.Code != twiliocode.Authenticate)
	}
	return e
}

// credentialsHint says which credentials to check after Twilio refused
// them: the kind the client holds (an API key's SID begins SK) and the
// environment variables NewFromEnv reads them from. forbidden is set when
// Twilio authenticated them but refused the resource.
func credentialsHint(username string, forbidden bool) string {
	kind, vars := "the account SID and auth token", EnvAccountSID+", "+EnvAuthToken
	if strings.HasPrefix(username, "SK") {
		kind, vars = "the API key SID and secret", EnvAPIKey+", "+EnvAPISecret
	}
	if forbidden {
		return "check that the service " + EnvServiceSID + " belongs to the account of " + vars
	}
	return "check " + kind + ": " + vars
}

func statusIn(s int, ok []int) bool {
	for _, o := range ok {
		if s == o {
			return true
		}
	}
	return false
}
