package vonage

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verifykit/verifykit/internal/httpretry"
	"github.com/verifykit/verifykit/internal/redact"
	"github.com/verifykit/verifykit/provider"
)

// APIError is an error answer from the Vonage API: an HTTP status of 400
// or more, with the RFC 7807 problem details when the body had them, or a
// redirect, which is never followed. It matches the provider sentinels
// with errors.Is, by the fragment of Type first (Vonage's type URIs vary
// in host and path) and by Status second, as vonage/CONTRACT.md ("How the
// client classifies an error answer") lists: for example not-found is
// ErrNotFound, gone ErrTooManyChecks, a 409 to a start ErrConflict, a 503
// with Vonage's problem document ErrUnavailable, and other 5xx
// ErrOutcomeUnknown (Vonage may have acted). A wrong code is not an
// APIError: Check answers it with status pending.
type APIError struct {
	// Op is the operation: "start", "check", "cancel" or "next workflow".
	Op string
	// Status is the HTTP status code.
	Status int
	// Type is the problem type URI, such as
	// https://developer.vonage.com/api-errors#not-found.
	Type string
	// Title and Detail are Vonage's texts, with phone numbers and e-mail
	// addresses masked and anything the request carried redacted.
	Title, Detail string
	// Instance is Vonage's trace ID of the failed request.
	Instance string
	// RequestID is the pending request's ID in a conflict answer to a
	// start, "" otherwise.
	RequestID string
	// Wait is the Retry-After the response carried, zero if none.
	Wait time.Duration

	// unprocessed says a 503 is an answer the POSTRetryPolicy takes to
	// mean "not processed" (by default, Vonage's own problem document),
	// or that the call was a read, which changes nothing.
	unprocessed bool
	// hint says which credentials to check, for an answer that refuses
	// them; it never holds a secret.
	hint string
}

// Error returns "vonage: OP: STATUS KIND: TITLE: DETAIL", followed for an
// error matching provider.ErrUnauthorized by which credentials to check
// (the names of the environment variables NewFromEnv reads, never a
// value).
func (e *APIError) Error() string {
	s := "vonage: " + e.Op + ": " + strconv.Itoa(e.Status)
	if k := e.Kind(); k != "" {
		s += " " + k
	}
	if e.Title != "" {
		s += ": " + e.Title
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.hint != "" {
		s += " (" + e.hint + ")"
	}
	return s
}

// credentialsHint says which credentials to check after Vonage refused
// them: the kind the client holds and the environment variables
// NewFromEnv reads them from.
func credentialsHint(c Credentials) string {
	if c.appID != "" {
		return "check the application ID and private key: " + EnvApplicationID + ", " + EnvPrivateKey + " or " + EnvPrivateKeyPath
	}
	return "check the API key and secret: " + EnvAPIKey + ", " + EnvAPISecret
}

// GoString is like Error, so %#v shows nothing more.
func (e *APIError) GoString() string { return e.Error() }

// Kind returns the fragment of Type, lower-cased, such as "not-found", or
// "" when Type has none.
func (e *APIError) Kind() string {
	_, frag, ok := strings.Cut(e.Type, "#")
	if !ok {
		return ""
	}
	return strings.ToLower(frag)
}

// RetryAfter returns the wait the response asked for, so
// provider.RetryAfter reports it.
func (e *APIError) RetryAfter() time.Duration { return e.Wait }

// PendingID returns RequestID, so provider.PendingID reports the pending
// request of a conflict.
func (e *APIError) PendingID() string { return e.RequestID }

// Is reports whether target is the sentinel e matches; see the type's
// documentation.
func (e *APIError) Is(target error) bool {
	s := e.sentinel()
	return s != nil && s == target
}

func (e *APIError) conflict() error {
	if strings.Contains(e.Op, "template") {
		// A template or fragment of that name (or channel and locale)
		// exists, or a template still has fragments.
		return provider.ErrConflict
	}
	switch e.Op {
	case opStart:
		return provider.ErrConflict
	case opNext:
		// Verify API 1.0.1 answers a next_workflow with 409 for two
		// reasons: no step is left ("There are no more events left to
		// trigger."), or a replication delay ("… cannot be performed at
		// this time … Please try again later"), which is transient.
		d := strings.ToLower(e.Detail)
		if strings.Contains(d, "try again later") || strings.Contains(d, "replication delay") {
			return provider.ErrUnavailable
		}
		return provider.ErrTooManySends
	}
	return provider.ErrInvalidRequest
}

func (e *APIError) sentinel() error {
	switch e.Kind() {
	case "conflict", "concurrent":
		return e.conflict()
	case "no-events":
		return provider.ErrTooManySends
	case "no-code":
		return provider.ErrInvalidRequest
	case "not-found":
		return provider.ErrNotFound
	case "gone", "expired":
		return provider.ErrTooManyChecks
	case "unauthorized", "forbidden", "jwt-expired", "jwt-revoked", "invalid-jwt",
		"invalid-api-key", "unprovisioned", "account-suspended":
		return provider.ErrUnauthorized
	case "low-balance":
		return provider.ErrUnavailable
	case "precondition-failed":
		if e.Status < 500 {
			return provider.ErrUnsupported
		}
	case "throttled", "rate-limit", "rate-limited":
		return provider.ErrRateLimited
	case "invalid-params", "invalid-parameters", "bad-request", "invalid-json", "invalid-code":
		if e.Status < 500 {
			return provider.ErrInvalidRequest
		}
	}
	switch s := e.Status; {
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return provider.ErrUnauthorized
	case s == http.StatusPaymentRequired:
		return provider.ErrUnavailable
	case s == http.StatusNotFound:
		return provider.ErrNotFound
	case s == http.StatusConflict:
		return e.conflict()
	case s == http.StatusPreconditionFailed:
		// Silent authentication cannot serve this number (its network is
		// not supported): nothing was sent, and another channel or
		// provider may.
		return provider.ErrUnsupported
	case s == http.StatusGone:
		return provider.ErrTooManyChecks
	case s == http.StatusTooManyRequests:
		return provider.ErrRateLimited
	case (s >= 500 || s >= 300 && s < 400) && e.unprocessed:
		// A 503 the POSTRetryPolicy takes to mean "not processed", or a
		// read (the templates' GETs), which changed nothing.
		return provider.ErrUnavailable
	case s >= 500:
		return provider.ErrOutcomeUnknown
	case s >= 400:
		return provider.ErrInvalidRequest
	case s >= 300 && e.Op == opCancel:
		// A redirect is never followed (the Verify API does not
		// redirect); what answered it did not cancel anything.
		return provider.ErrUnavailable
	case s >= 300:
		// Whatever redirected a POST may have passed it on first.
		return provider.ErrOutcomeUnknown
	}
	return nil
}

// RequestError is a failure without an error answer from Vonage: the input
// was refused before sending (provider.ErrInvalidRequest or
// provider.ErrUnsupported), the request could not be sent or the
// connection failed, the context ended, or the response could not be read.
// It matches provider.ErrUnavailable when the request provably did not
// reach Vonage, and provider.ErrOutcomeUnknown when it may have been
// processed. Through Unwrap it also matches the underlying error, such as
// context.Canceled.
type RequestError struct {
	// Op is the operation, as in APIError.
	Op string
	// Sent reports whether the request may have reached Vonage.
	Sent bool
	// Err is the underlying error.
	Err error

	kind error
}

// Error returns "vonage: OP: KIND: ERR".
func (e *RequestError) Error() string {
	s := "vonage: " + e.Op + ": "
	if e.kind != nil {
		s += e.kind.Error() + ": "
	}
	return s + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *RequestError) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel e matches.
func (e *RequestError) Is(target error) bool { return e.kind != nil && e.kind == target }

// requestError classifies a failure without a usable response.
func requestError(ctx context.Context, op string, sent bool, err error) *RequestError {
	return &RequestError{Op: op, Sent: sent, Err: err, kind: httpretry.FailureKind(ctx, sent, err)}
}

// refused is the error for input refused before anything is sent.
func refused(op string, kind error, msg string) error {
	return &RequestError{Op: op, Err: errors.New(msg), kind: kind}
}

// maxText is the most of each of Vonage's texts an APIError keeps.
const maxText = 512

// problem is an RFC 7807 body as Vonage sends it.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Detail    string `json:"detail"`
	Instance  string `json:"instance"`
	RequestID string `json:"request_id"`
}

// decodeProblem builds the APIError of a response body. A body that is not
// a problem document leaves the texts empty but still classifies by status.
func decodeProblem(op string, status int, data []byte, secrets []string) *APIError {
	e := &APIError{Op: op, Status: status}
	var p problem
	if json.Unmarshal(data, &p) != nil {
		e.Title = "non-JSON error body (" + http.StatusText(status) + ")"
		return e
	}
	r := redact.New(secrets...)
	e.Type = r.Sanitize(p.Type, maxText)
	e.Title = r.Sanitize(p.Title, maxText)
	e.Detail = r.Sanitize(p.Detail, maxText)
	e.Instance = r.Sanitize(p.Instance, maxText)
	if validID(p.RequestID) {
		e.RequestID = p.RequestID
	}
	return e
}

// vonageProblem reports whether an error answer is Vonage's own: a JSON
// (or problem+json) body with a problem type URI on a Vonage host
// (developer.vonage.com, developer.nexmo.com and their subdomains). A
// proxy's or load balancer's answer (an HTML page, an empty body, its own
// JSON) is not, and may come after it forwarded the request.
func vonageProblem(h http.Header, data []byte) bool {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mt != "application/problem+json" && mt != "application/json" {
		return false
	}
	var p problem
	if json.Unmarshal(data, &p) != nil {
		return false
	}
	u, err := url.Parse(p.Type)
	if err != nil || u.Scheme != "https" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, d := range []string{"vonage.com", "nexmo.com"} {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}
