package vonage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/verifykit/verifykit/internal/httpretry"
	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// The operations, as named in errors and retry events.
const (
	opStart    = "start"
	opCheck    = "check"
	opCheckSNA = "check sna"
	opCancel   = "cancel"
	opNext     = "next workflow"
)

// ChannelRCS is Vonage's RCS (Rich Communication Services) step: the code
// goes out as an RCS message to a phone number, from the sender in From,
// which Vonage requires.
const ChannelRCS provider.Channel = "rcs"

// Vonage's channel names.
const (
	chSMS        = "sms"
	chVoice      = "voice"
	chEmail      = "email"
	chWhatsApp   = "whatsapp"
	chRCS        = "rcs"
	chSilentAuth = "silent_auth"
)

// vonageChannel maps a neutral channel to Vonage's name.
func vonageChannel(ch provider.Channel) (string, bool) {
	switch ch {
	case provider.ChannelSMS:
		return chSMS, true
	case provider.ChannelCall:
		return chVoice, true
	case provider.ChannelEmail:
		return chEmail, true
	case provider.ChannelWhatsApp:
		return chWhatsApp, true
	case provider.ChannelSNA:
		return chSilentAuth, true
	case ChannelRCS:
		return chRCS, true
	case provider.ChannelAuto:
		return "", true
	}
	return "", false
}

// Response is what Vonage answered a start or a check with.
// provider.Verification.Detail holds one for every verification the client
// returns.
type Response struct {
	// RequestID is Vonage's request_id, the verification's ID.
	RequestID string `json:"request_id"`
	// CheckURL is the silent authentication URL the handset must open
	// over its mobile data, for a workflow whose first step is sna.
	CheckURL string `json:"check_url,omitempty"`
	// Status is the check's status as Vonage reported it ("completed"),
	// empty for a start.
	Status string `json:"status,omitempty"`
}

// Step is one step of a workflow, for StartParams.Workflow.
type Step struct {
	// Channel is the step's channel: sms, call, whatsapp, email, sna or
	// ChannelRCS.
	Channel provider.Channel
	// To is the step's target in normalised form (E.164 with '+', or an
	// e-mail address); empty means the start request's To.
	To string
	// From is the sender: an SMS sender ID or number, a WhatsApp Business
	// number, an e-mail address. Empty means the account's default, except
	// for whatsapp, which needs one (Vonage has no default): a WhatsApp
	// step without From (here or in StartParams.From) is refused with
	// provider.ErrInvalidRequest before sending.
	From string
	// AppHash is the Android SMS Retriever hash (11 characters), sms only.
	AppHash string
	// EntityID and ContentID are India's DLT registration, sms only.
	EntityID, ContentID string
	// RedirectURL is where the handset is sent after silent
	// authentication, sna only.
	RedirectURL string
	// Sandbox runs silent authentication in Vonage's sandbox, sna only.
	Sandbox bool
}

// StartParams are Vonage-only parameters of a start. Pass a StartParams (or
// a *StartParams) in provider.StartRequest.Extensions (or
// verify.StartOptions.Extensions). Zero fields are not sent.
type StartParams struct {
	// Workflow replaces the one-step workflow built from the request's
	// Channel and To: its steps (at most 3, as Vonage allows) are tried
	// in order, each after the previous one's channel timeout or on
	// NextWorkflow. An sna step must come first.
	Workflow []Step
	// From, AppHash, EntityID, ContentID, RedirectURL and Sandbox apply
	// to every step of the channels they fit that does not set its own.
	From, AppHash, EntityID, ContentID, RedirectURL string
	Sandbox                                         bool
	// CodeLength is the generated code's length, 4 to 10.
	CodeLength int
	// ChannelTimeout is the wait between steps, 15s to 15m in whole
	// seconds; zero sends none, and Vonage waits 180 seconds.
	ChannelTimeout time.Duration
	// FraudCheck, when not nil, switches Vonage's network block on or
	// off.
	FraudCheck *bool
	// TemplateID selects a custom SMS or voice template (a UUID).
	TemplateID string
}

// ExtensionFor returns "vonage".
func (StartParams) ExtensionFor() string { return Name }

// startBody is the JSON of POST /v2/verify.
type startBody struct {
	Brand          string     `json:"brand"`
	Workflow       []stepBody `json:"workflow"`
	Locale         string     `json:"locale,omitempty"`
	ChannelTimeout int        `json:"channel_timeout,omitempty"`
	ClientRef      string     `json:"client_ref,omitempty"`
	CodeLength     int        `json:"code_length,omitempty"`
	Code           string     `json:"code,omitempty"`
	FraudCheck     *bool      `json:"fraud_check,omitempty"`
	TemplateID     string     `json:"template_id,omitempty"`
}

type stepBody struct {
	Channel     string `json:"channel"`
	To          string `json:"to"`
	From        string `json:"from,omitempty"`
	AppHash     string `json:"app_hash,omitempty"`
	EntityID    string `json:"entity_id,omitempty"`
	ContentID   string `json:"content_id,omitempty"`
	RedirectURL string `json:"redirect_url,omitempty"`
	Sandbox     bool   `json:"sandbox,omitempty"`
}

// Start starts a verification with POST /v2/verify. Vonage has no re-send
// on a repeated start: while a verification to the same number is pending,
// Start fails with provider.ErrConflict, and provider.PendingID (or
// APIError.RequestID) gives the pending one's ID. Vonage reports no
// timestamps, so CreatedAt and ExpiresAt are zero; a request lives for its
// workflow's steps times the channel timeout.
//
// API: https://developer.vonage.com/en/api/verify.v2#newRequest
func (c *Client) Start(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
	body, err := c.startBody(req)
	if err != nil {
		return provider.Verification{}, err
	}
	data, err := json.Marshal(body)
	if err != nil {
		return provider.Verification{}, refused(opStart, provider.ErrInvalidRequest, "cannot encode the request")
	}
	var r Response
	if err := c.do(ctx, opStart, http.MethodPost, "/v2/verify", data, []string{req.CustomCode}, &r); err != nil {
		return provider.Verification{}, err
	}
	if !validID(r.RequestID) {
		// Vonage accepted the start, so a code may be on its way, but
		// without an ID nothing can check it.
		return provider.Verification{}, requestError(ctx, opStart, true, errors.New("the answer has no valid request_id"))
	}
	ch := req.Channel
	if ch == provider.ChannelAuto {
		ch = neutral(body.Workflow[0].Channel)
	}
	return provider.Verification{
		ID:        r.RequestID,
		To:        req.To,
		Channel:   ch,
		Status:    provider.StatusPending,
		RawStatus: string(provider.StatusPending),
		SNAURL:    r.CheckURL,
		Detail:    &r,
	}, nil
}

// neutral maps a Vonage channel name back to the neutral one.
func neutral(name string) provider.Channel {
	switch name {
	case chVoice:
		return provider.ChannelCall
	case chSilentAuth:
		return provider.ChannelSNA
	}
	return provider.Channel(name)
}

func (c *Client) startBody(req provider.StartRequest) (*startBody, error) {
	invalid := func(msg string) error { return refused(opStart, provider.ErrInvalidRequest, msg) }
	if _, ok := vonageChannel(req.Channel); !ok {
		return nil, invalid("unknown channel")
	}
	if err := checkTarget(req.To, req.Channel); err != nil {
		return nil, invalid(err.Error())
	}
	b := &startBody{Brand: c.brand, CodeLength: c.codeLength, ChannelTimeout: int(c.channelTimeout / time.Second)}
	if req.FriendlyName != "" {
		if err := checkBrand(req.FriendlyName); err != nil {
			return nil, invalid("friendly name: " + err.Error())
		}
		b.Brand = req.FriendlyName
	}
	if req.Locale != "" {
		l, ok := locale(req.Locale)
		if !ok {
			return nil, invalid("locale " + fmt.Sprintf("%q", req.Locale) + " is not one Vonage offers")
		}
		b.Locale = l
	}
	if req.Reference != "" {
		if !validClientRef(req.Reference) {
			return nil, invalid("reference must be 1 to 40 letters and digits (Vonage's client_ref)")
		}
		b.ClientRef = req.Reference
	}
	if req.CustomCode != "" {
		if !wire.ValidCode(req.CustomCode) {
			return nil, invalid("custom code must be 4 to 10 letters or digits")
		}
		b.Code = req.CustomCode
	}
	var p StartParams
	for _, ext := range req.Extensions {
		switch e := ext.(type) {
		case StartParams:
			p = e
		case *StartParams:
			if e != nil {
				p = *e
			}
		}
	}
	steps := p.Workflow
	switch {
	case len(steps) > 0:
		if len(steps) > maxSteps {
			return nil, invalid("more than 3 workflow steps")
		}
	case req.Channel == provider.ChannelAuto && provider.IsEmail(req.To):
		steps = []Step{{Channel: provider.ChannelEmail}}
	case req.Channel == provider.ChannelAuto:
		for _, ch := range c.auto {
			steps = append(steps, Step{Channel: ch})
		}
	default:
		steps = []Step{{Channel: req.Channel}}
	}
	b.Workflow = make([]stepBody, len(steps))
	for i, s := range steps {
		name, ok := vonageChannel(s.Channel)
		if !ok || name == "" {
			return nil, invalid(fmt.Sprintf("workflow step %d: unknown channel", i+1))
		}
		to := s.To
		if to == "" {
			to = req.To
		}
		if err := checkTarget(to, s.Channel); err != nil {
			return nil, invalid(fmt.Sprintf("workflow step %d: %v", i+1, err))
		}
		sb := stepBody{Channel: name, To: strings.TrimPrefix(to, "+"), From: s.From, AppHash: s.AppHash,
			EntityID: s.EntityID, ContentID: s.ContentID, RedirectURL: s.RedirectURL, Sandbox: s.Sandbox}
		switch name {
		case chSMS:
			sb.From = first(sb.From, p.From)
			sb.AppHash = first(sb.AppHash, p.AppHash)
			sb.EntityID = first(sb.EntityID, p.EntityID)
			sb.ContentID = first(sb.ContentID, p.ContentID)
		case chWhatsApp, chEmail, chRCS:
			sb.From = first(sb.From, p.From)
		case chSilentAuth:
			if i != 0 {
				return nil, invalid("an sna step must come first in the workflow")
			}
			if _, jwt := c.auth.(*jwtSigner); !jwt {
				return nil, refused(opStart, provider.ErrUnsupported, "silent authentication needs Application (JWT) credentials")
			}
			sb.RedirectURL = first(sb.RedirectURL, p.RedirectURL)
			sb.Sandbox = sb.Sandbox || p.Sandbox
		}
		if name != chSMS && (s.AppHash != "" || s.EntityID != "" || s.ContentID != "") {
			return nil, invalid(fmt.Sprintf("workflow step %d: app hash and DLT IDs are for sms only", i+1))
		}
		if name != chSilentAuth && (s.RedirectURL != "" || s.Sandbox) {
			return nil, invalid(fmt.Sprintf("workflow step %d: redirect URL and sandbox are for sna only", i+1))
		}
		if sb.AppHash != "" && len(sb.AppHash) != 11 {
			return nil, invalid("app hash must be 11 characters")
		}
		if len(sb.From) > maxFrom(name) || strings.ContainsAny(sb.From, "\r\n\x00") {
			return nil, invalid(fmt.Sprintf("workflow step %d: from is not a sender (at most %d characters on %s)", i+1, maxFrom(name), name))
		}
		if (name == chWhatsApp || name == chRCS) && sb.From == "" {
			// Vonage requires the sender on these channels; it has no
			// account default.
			return nil, invalid(fmt.Sprintf("workflow step %d: %s needs From (the sender)", i+1, name))
		}
		b.Workflow[i] = sb
	}
	if p.CodeLength != 0 {
		if p.CodeLength < 4 || p.CodeLength > 10 {
			return nil, invalid("code length must be 4 to 10")
		}
		b.CodeLength = p.CodeLength
	}
	if p.ChannelTimeout != 0 {
		if err := checkChannelTimeout(p.ChannelTimeout); err != nil {
			return nil, invalid(err.Error())
		}
		b.ChannelTimeout = int(p.ChannelTimeout / time.Second)
	}
	b.FraudCheck = p.FraudCheck
	if p.TemplateID != "" {
		if !wire.IsUUID(p.TemplateID) {
			return nil, invalid("template ID must be a UUID")
		}
		b.TemplateID = p.TemplateID
	}
	return b, nil
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// checkTarget validates To for a channel with provider.ChannelFits; rcs
// needs a phone number.
func checkTarget(to string, ch provider.Channel) error {
	fits := provider.ChannelFits(ch, to)
	if ch == ChannelRCS {
		fits = provider.IsPhone(to)
	}
	switch {
	case fits:
		return nil
	case ch == provider.ChannelEmail:
		return errors.New("channel email needs an e-mail address")
	case ch == provider.ChannelAuto:
		return errors.New("the target must be an E.164 phone number or an e-mail address")
	}
	return errors.New("the target must be an E.164 phone number")
}

// maxFrom is the longest from Vonage takes on a channel (Verify API
// 1.0.1: 15 on sms and rcs, 50 on whatsapp; an e-mail address on email).
func maxFrom(channel string) int {
	switch channel {
	case chSMS, chRCS:
		return 15
	case chWhatsApp:
		return 50
	}
	return 254
}

// maxSteps is the most workflow steps Vonage takes (SPEC 1.0.1: maxItems
// 3).
const maxSteps = 3

// validClientRef reports whether s can be Vonage's client_ref: 1 to 40
// ASCII letters and digits (SPEC 1.0.1: pattern ^[a-zA-Z0-9]*$,
// maxLength 40).
func validClientRef(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// checkBrand checks a brand: 1 to 18 characters (SPEC 1.0.1's maxLength),
// without the characters Vonage refuses.
func checkBrand(s string) error {
	if s == "" || len([]rune(s)) > 18 {
		return errors.New("must be 1 to 18 characters")
	}
	if strings.ContainsAny(s, `\/{}:$`+"\r\n\x00") {
		return errors.New(`must not contain \ / { } : $ or control characters`)
	}
	return nil
}

func checkChannelTimeout(d time.Duration) error {
	if d != 0 && (d < 15*time.Second || d > 15*time.Minute || d%time.Second != 0) {
		return fmt.Errorf("channel timeout %v is not 15s to 15m in whole seconds", d)
	}
	return nil
}

// locales are the locales Vonage offers, by lower-cased tag; a bare
// language maps to its first region here.
var locales = map[string]string{
	"en-us": "en-us", "en-gb": "en-gb", "es-es": "es-es", "es-mx": "es-mx", "es-us": "es-us",
	"it-it": "it-it", "fr-fr": "fr-fr", "de-de": "de-de", "ru-ru": "ru-ru", "hi-in": "hi-in",
	"pt-br": "pt-br", "pt-pt": "pt-pt", "id-id": "id-id",
	"en": "en-us", "es": "es-es", "it": "it-it", "fr": "fr-fr", "de": "de-de", "ru": "ru-ru",
	"hi": "hi-in", "pt": "pt-br", "id": "id-id",
}

func locale(s string) (string, bool) {
	l, ok := locales[strings.ReplaceAll(strings.ToLower(s), "_", "-")]
	return l, ok
}

// Check verifies a code with POST /v2/verify/{request_id}. Vonage checks
// by request ID only: a request with To and no ID fails with
// provider.ErrUnsupported. A wrong code (Vonage's 400) gives status
// pending and a nil error; after too many wrong codes Vonage ends the
// request and Check fails with provider.ErrTooManyChecks.
//
// API: https://developer.vonage.com/en/api/verify.v2#checkCode
func (c *Client) Check(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	if !wire.ValidCode(req.Code) {
		return provider.Verification{}, refused(opCheck, provider.ErrInvalidRequest, "code must be 4 to 10 letters or digits")
	}
	return c.check(ctx, opCheck, req)
}

// CheckSNA checks a silent authentication step (a workflow that starts
// with sna), with POST /v2/verify/{request_id} and the code the handset
// got back from the check_url (provider.Verification.SNAURL) in req.Code:
// Vonage redirects the handset to the step's redirect_url with the code
// in the fragment, or answers it in JSON without one; pushdevice.OpenSNA
// returns it as SNAResult.Token. It implements provider.SNAChecker, keyed
// like Check by req.ID only.
//
// A check without the code gives provider.ErrInvalidRequest before
// sending: Vonage has no codeless check, so the device must pass the code
// on. A code Vonage refuses is an *provider.SNAError matching
// ErrInvalidRequest, not a pending wrong code: a silent-auth step takes
// one attempt. Vonage falls back to the workflow's next step (an sms step
// after the sna one, say) by itself, or on NextWorkflow.
func (c *Client) CheckSNA(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	if req.Code == "" || len(req.Code) > 64 || !alnum(req.Code) {
		return provider.Verification{}, refused(opCheckSNA, provider.ErrInvalidRequest, "the silent-auth code from the check_url must be 1 to 64 letters or digits")
	}
	v, err := c.check(ctx, opCheckSNA, req)
	if err == nil && !v.Approved() {
		return provider.Verification{}, &provider.SNAError{Op: "vonage: " + opCheckSNA, Kind: provider.ErrInvalidRequest, Description: "the silent-auth code was refused"}
	}
	return v, err
}

// alnum reports whether s holds only ASCII letters and digits.
func alnum(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// check is Check and CheckSNA, once the code is known to need no escaping.
func (c *Client) check(ctx context.Context, op string, req provider.CheckRequest) (provider.Verification, error) {
	switch {
	case req.ID == "" && req.To != "":
		return provider.Verification{}, refused(op, provider.ErrUnsupported, "Vonage checks by request ID only")
	case !validID(req.ID):
		return provider.Verification{}, refused(op, provider.ErrInvalidRequest, "request ID must be 1 to 64 letters, digits, '-' or '_'")
	case !canonicalID(req.ID):
		return provider.Verification{}, refused(op, provider.ErrNotFound, errRespelledID)
	}
	data := make([]byte, 0, 32)
	data = append(data, `{"code":"`...)
	data = append(data, req.Code...) // letters and digits only: no escaping needed
	data = append(data, `"}`...)
	var r Response
	err := c.do(ctx, op, http.MethodPost, "/v2/verify/"+req.ID, data, []string{req.Code}, &r)
	out := provider.Verification{ID: req.ID, To: req.To, Detail: &r}
	var ae *APIError
	switch {
	case err == nil && (r.Status != "completed" && r.Status != "complete" || r.RequestID != "" && r.RequestID != req.ID):
		// A success status whose body is not an approval of this request
		// (empty, null, another request, another status: a proxy's or a
		// broken answer) says nothing definite; the code may have been
		// taken.
		return provider.Verification{}, requestError(ctx, op, true, errors.New("the 200 answer is not a completed check of this request"))
	case err == nil:
		r.RequestID = first(r.RequestID, req.ID)
		out.Status, out.RawStatus = provider.StatusApproved, r.Status
		return out, nil
	case errors.As(err, &ae) && ae.Status == http.StatusBadRequest && (ae.Kind() == "" || ae.Kind() == "bad-request" || ae.Kind() == "invalid-code"):
		// Vonage answers a wrong code with 400 "Invalid Code"; the
		// request stays pending.
		r.RequestID = req.ID
		out.Status, out.RawStatus = provider.StatusPending, "invalid_code"
		return out, nil
	}
	return provider.Verification{}, err
}

// Cancel ends a pending verification with DELETE /v2/verify/{request_id}
// and returns it with status canceled. A request that is not pending gives
// provider.ErrNotFound.
//
// API: https://developer.vonage.com/en/api/verify.v2#cancelRequest
func (c *Client) Cancel(ctx context.Context, id string) (provider.Verification, error) {
	if !validID(id) {
		return provider.Verification{}, refused(opCancel, provider.ErrInvalidRequest, "request ID must be 1 to 64 letters, digits, '-' or '_'")
	}
	if !canonicalID(id) {
		return provider.Verification{}, refused(opCancel, provider.ErrNotFound, errRespelledID)
	}
	if err := c.do(ctx, opCancel, http.MethodDelete, "/v2/verify/"+id, nil, nil, nil); err != nil {
		return provider.Verification{}, err
	}
	return provider.Verification{ID: id, Status: provider.StatusCanceled, RawStatus: "cancelled", Detail: &Response{RequestID: id}}, nil
}

// NextWorkflow moves a pending verification to the next step of its
// workflow at once, instead of after the channel timeout, with POST
// /v2/verify/{request_id}/next_workflow: the code goes out over the next
// channel. With no step left it fails with provider.ErrTooManySends.
//
// API: https://developer.vonage.com/en/api/verify.v2#nextWorkflow
func (c *Client) NextWorkflow(ctx context.Context, id string) error {
	if !validID(id) {
		return refused(opNext, provider.ErrInvalidRequest, "request ID must be 1 to 64 letters, digits, '-' or '_'")
	}
	if !canonicalID(id) {
		return refused(opNext, provider.ErrNotFound, errRespelledID)
	}
	return c.do(ctx, opNext, http.MethodPost, "/v2/verify/"+id+"/next_workflow", nil, nil, nil)
}

var jsonContentType = []string{"application/json"}

// do performs one call, with retries where safe, and decodes a success
// body into out (when out is not nil and the body is not empty).
func (c *Client) do(ctx context.Context, op, method, path string, body []byte, secrets []string, out any) error {
	if err := ctx.Err(); err != nil {
		return &RequestError{Op: op, Err: err} // nothing was sent
	}
	auth, err := c.auth.header()
	if err != nil {
		return &RequestError{Op: op, Err: err, kind: provider.ErrUnauthorized}
	}
	st := &attempt{op: op, client: c, idempotent: method == http.MethodGet}
	req, err := retryablehttp.NewRequestWithContext(st.trace(ctx), method, c.base.String()+path, body)
	if err != nil {
		return &RequestError{Op: op, Err: errors.New("cannot build the request"), kind: provider.ErrInvalidRequest}
	}
	req.Header["Authorization"] = []string{auth}
	req.Header["User-Agent"] = []string{c.userAgent}
	req.Header["Accept"] = jsonContentType
	if body != nil {
		req.Header["Content-Type"] = jsonContentType
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
		return requestError(ctx, op, st.MaybeSent(err), err)
	case err != nil:
		readErr = err
	case !st.read:
		readErr = st.readBody(resp)
	}
	resp.Body.Close()
	data := st.body
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		secrets = append(secrets, c.auth.secrets()...)
		var e *APIError
		if readErr != nil {
			e = &APIError{Op: op, Status: resp.StatusCode, Title: "unreadable error body"}
		} else {
			e = decodeProblem(op, resp.StatusCode, data, secrets)
		}
		switch {
		case method == http.MethodGet:
			e.unprocessed = true // a read changed nothing, whoever answered
		case resp.StatusCode == http.StatusServiceUnavailable:
			e.unprocessed = c.postRetry.Unprocessed(resp.StatusCode, readErr == nil && vonageProblem(resp.Header, data))
		}
		if d, ok := httpretry.RetryAfter(resp, c.now()); ok {
			e.Wait = d
		}
		if errors.Is(e, provider.ErrUnauthorized) {
			e.hint = credentialsHint(c.creds)
		}
		return e
	}
	if readErr == nil && out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			readErr = fmt.Errorf("decoding the %d answer: %w", resp.StatusCode, err)
		}
	}
	if readErr != nil {
		// Vonage answered with success, so the call took effect; the
		// answer is unreadable, so what it said is unknown.
		return requestError(ctx, op, true, readErr)
	}
	return nil
}

// canonicalID reports whether the request ID s is spelled as Vonage issues
// request IDs: a UUID is written in lower case. An ID has that one
// spelling: Vonage may find a request by its UUID in any case, so another
// spelling would reach the same request past anything a caller keys by ID
// (verify's check budgets), and is refused as unknown, without a request.
// Other shapes are not Vonage's and are left to its answer.
func canonicalID(s string) bool {
	return !wire.IsUUID(s) || !strings.ContainsFunc(s, func(r rune) bool { return 'A' <= r && r <= 'F' })
}

// errRespelledID is the refusal of an ID that is not canonicalID.
const errRespelledID = "no request has this ID (Vonage writes request IDs in lower case)"

// validID reports whether s can be a request ID: 1 to 64 ASCII letters,
// digits, '-' or '_' (Vonage's are UUIDs).
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
