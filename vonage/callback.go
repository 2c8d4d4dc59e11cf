package vonage

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// The callback types.
const (
	CallbackEvent   = "event"   // one workflow step's outcome
	CallbackSummary = "summary" // the request's final outcome and every step
)

// Callback is a Verify v2 status callback, as Vonage posts it to the
// status webhook configured on the Vonage Application: an "event" for one
// step (a silent-auth or WhatsApp-interactive result, or a completed
// step), or a "summary" when the request is finished. Vonage has no status
// look-up, so callbacks are how an application learns that a request
// expired or failed.
type Callback struct {
	// Type is CallbackEvent or CallbackSummary.
	Type string `json:"type"`
	// RequestID is the request's ID, as Start returned it.
	RequestID string `json:"request_id"`
	// Status is Vonage's word: for an event completed, failed,
	// user_rejected, rejected, expired or action_pending; for a summary
	// completed, failed or expired.
	Status string `json:"status"`
	// Channel is the step's channel (Vonage's name: sms, voice, email,
	// whatsapp, rcs, silent_auth), events only.
	Channel string `json:"channel,omitempty"`
	// ClientRef is the start's client_ref (its Reference), when it had
	// one.
	ClientRef string `json:"client_ref,omitempty"`
	// TriggeredAt, SubmittedAt and FinalizedAt are Vonage's timestamps as
	// sent (ISO 8601); ParseTimestamp parses them.
	TriggeredAt string `json:"triggered_at,omitempty"`
	SubmittedAt string `json:"submitted_at,omitempty"`
	FinalizedAt string `json:"finalized_at,omitempty"`
	// ChannelTimeout is the request's wait between steps, in seconds,
	// summaries only.
	ChannelTimeout int `json:"channel_timeout,omitempty"`
	// Workflow is every step with its outcome (unused, completed, failed,
	// expired, user_rejected), summaries only.
	Workflow []CallbackStep `json:"workflow,omitempty"`
	// Action, on a silent-auth event whose status is action_pending,
	// holds the check_url the handset must open.
	Action *CallbackAction `json:"action,omitempty"`
}

// CallbackStep is one workflow step in a summary callback.
type CallbackStep struct {
	// Channel is the step's channel, Vonage's name (sms, voice, …).
	Channel string `json:"channel"`
	// InitiatedAt is when the step began, ISO 8601 as sent (see
	// ParseTimestamp).
	InitiatedAt string `json:"initiated_at"`
	// Status is the step's outcome: unused, completed, failed, expired or
	// user_rejected.
	Status string `json:"status"`
}

// CallbackAction is what a silent-auth event asks the application to do.
type CallbackAction struct {
	// Type is Vonage's action type, as sent.
	Type string `json:"type"`
	// CheckURL is the URL the handset must open over its mobile data
	// connection.
	CheckURL string `json:"check_url"`
}

// ParseTimestamp parses one of a callback's timestamps; the zero time
// when it is empty or not ISO 8601.
func ParseTimestamp(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// ProviderStatus maps the callback's status to the neutral vocabulary:
// completed → approved, failed → failed, expired → expired,
// user_rejected, rejected and blocked → denied, action_pending → pending;
// any other word passes through.
func (c Callback) ProviderStatus() provider.Status {
	switch c.Status {
	case "completed":
		return provider.StatusApproved
	case "failed":
		return provider.StatusFailed
	case "expired":
		return provider.StatusExpired
	case "user_rejected", "rejected", "blocked":
		return provider.StatusDenied
	case "action_pending":
		return provider.StatusPending
	}
	return provider.Status(c.Status)
}

// ErrBadCallback is the error of a callback that cannot be trusted or
// read: unsigned, signed with another secret, expired, altered, too large
// or not a Verify callback.
var ErrBadCallback = errors.New("vonage: bad callback")

// maxCallback bounds a callback body.
const maxCallback = 64 << 10

// DecodeCallback decodes a callback body without checking any signature;
// use ParseCallback for a request from the network.
func DecodeCallback(body []byte) (Callback, error) {
	var c Callback
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&c); err != nil || dec.More() {
		return Callback{}, ErrBadCallback
	}
	if c.Type != CallbackEvent && c.Type != CallbackSummary || !validID(c.RequestID) || c.Status == "" {
		return Callback{}, ErrBadCallback
	}
	return c, nil
}

// The freshness rules of ParseCallback.
const (
	// DefaultCallbackMaxAge is how old (from its iat) a callback's token
	// may be, unless WithCallbackMaxAge says otherwise: Vonage signs each
	// callback when it sends it.
	DefaultCallbackMaxAge = 5 * time.Minute
	// CallbackClockSkew is how far a token's iat may be ahead of the
	// receiver's clock, and how long after its exp it is still accepted.
	CallbackClockSkew = time.Minute
)

// ParseCallback reads a callback request and checks its signature: Vonage
// signs webhooks with a JWT in the Authorization header (HS256, keyed with
// the account's signature secret). The token must be bound to the body
// and fresh, or the callback is refused:
//
//   - its payload_hash claim must be the SHA-256 (hex) of the body, so a
//     token cannot vouch for another body;
//   - its iat claim must be present, at most DefaultCallbackMaxAge old (or
//     WithCallbackMaxAge's) and at most CallbackClockSkew ahead of the
//     clock, so an old token (Vonage's carry no exp by default) cannot be
//     replayed;
//   - an exp claim, when present, must not have passed (CallbackClockSkew
//     allowed).
//
// Every failure is ErrBadCallback; answer it with 401 and Vonage retries.
// The body is read up to 64 KiB. The receiver's clock must be right to
// within CallbackClockSkew.
func ParseCallback(r *http.Request, signatureSecret []byte, opts ...CallbackOption) (Callback, error) {
	if len(signatureSecret) == 0 {
		return Callback{}, errors.New("vonage: ParseCallback: empty signature secret")
	}
	cfg := callbackConfig{now: time.Now, maxAge: DefaultCallbackMaxAge}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return Callback{}, ErrBadCallback
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCallback+1))
	if err != nil || len(body) > maxCallback {
		return Callback{}, ErrBadCallback
	}
	var claims struct {
		jwt.RegisteredClaims
		PayloadHash *string `json:"payload_hash"`
	}
	_, err = jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return signatureSecret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(cfg.now), jwt.WithLeeway(CallbackClockSkew),
		jwt.WithIssuedAt())
	if err != nil {
		return Callback{}, ErrBadCallback
	}
	// Freshness: iat is required, not older than maxAge.
	if claims.IssuedAt == nil || cfg.now().Sub(claims.IssuedAt.Time) > cfg.maxAge {
		return Callback{}, ErrBadCallback
	}
	// Binding: payload_hash is required and must be the body's.
	if claims.PayloadHash == nil {
		return Callback{}, ErrBadCallback
	}
	sum := sha256.Sum256(body)
	got := hex.EncodeToString(sum[:])
	if !hmac.Equal([]byte(strings.ToLower(*claims.PayloadHash)), []byte(got)) {
		return Callback{}, ErrBadCallback
	}
	return DecodeCallback(body)
}

// SignCallback returns the Authorization header value Vonage would send
// with body: an HS256 JWT keyed with signatureSecret, with iat, exp (5
// minutes later), jti and payload_hash. The vonagetest emulator signs its
// callbacks with it; tests can too.
func SignCallback(body, signatureSecret []byte, now time.Time) (string, error) {
	sum := sha256.Sum256(body)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iat":          now.Unix(),
		"exp":          now.Add(5 * time.Minute).Unix(),
		"jti":          wire.NewUUID(),
		"payload_hash": hex.EncodeToString(sum[:]),
	})
	s, err := tok.SignedString(signatureSecret)
	if err != nil {
		return "", errors.New("vonage: signing the callback failed")
	}
	return "Bearer " + s, nil
}

// CallbackOption configures ParseCallback.
type CallbackOption func(*callbackConfig)

type callbackConfig struct {
	now    func() time.Time
	maxAge time.Duration
}

// WithCallbackClock makes ParseCallback read the time from now instead of
// time.Now, for tests with a moved clock.
func WithCallbackClock(now func() time.Time) CallbackOption {
	return func(c *callbackConfig) { c.now = now }
}

// WithCallbackMaxAge sets how old (from its iat) a callback's token may
// be; the default is DefaultCallbackMaxAge. A longer age widens the window
// in which a captured callback can be replayed; d of zero or less keeps
// the default.
func WithCallbackMaxAge(d time.Duration) CallbackOption {
	return func(c *callbackConfig) {
		if d > 0 {
			c.maxAge = d
		}
	}
}
