package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/provider"
)

// SignatureHeader is the header that carries Twilio's request signature.
const SignatureHeader = "X-Twilio-Signature"

// Signature computes the X-Twilio-Signature of a request Twilio makes to
// rawURL (the full URL, as Twilio called it) with the POST parameters
// params (nil for a GET, or for a JSON body, whose hash is in the URL's
// bodySHA256 parameter): base64 of HMAC-SHA1, keyed with the Auth Token,
// over the URL followed by every parameter's name and value, names in
// sorted order and, for a repeated name, its distinct values in sorted
// order, as twilio-python's RequestValidator computes it. It is for tests
// and emulators; ValidateSignature checks one.
func Signature(authToken, rawURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	_, _ = mac.Write(appendSigned([]byte(rawURL), params))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// appendSigned appends to b what follows the URL in the signed string:
// name+value of every parameter, names sorted, each name's distinct values
// sorted.
func appendSigned(b []byte, params url.Values) []byte {
	if len(params) == 0 {
		return b
	}
	var small [32]string
	names := small[:0]
	for k := range params {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		vals := params[k]
		if len(vals) > 1 && !slices.IsSorted(vals) || hasAdjacentDup(vals) {
			vals = slices.Compact(slices.Sorted(slices.Values(vals)))
		}
		for _, v := range vals {
			b = append(b, k...)
			b = append(b, v...)
		}
	}
	return b
}

// hasAdjacentDup reports whether two neighbours of vals are equal.
func hasAdjacentDup(vals []string) bool {
	for i := 1; i < len(vals); i++ {
		if vals[i] == vals[i-1] {
			return true
		}
	}
	return false
}

// signedLen is the length appendSigned adds at most (repeated values
// counted each time).
func signedLen(params url.Values) int {
	n := 0
	for k, vs := range params {
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	return n
}

// urlVariants returns rawURL without any port and with the scheme's
// default port (or its own), the two spellings Twilio's official
// validators try, since Twilio signs with either. It works on the string,
// so the rest of the URL stays byte for byte as received.
func urlVariants(rawURL string) (without, with string, ok bool) {
	prefix, port, tail, ok := urlParts(rawURL)
	if !ok {
		return "", "", false
	}
	return prefix + tail, prefix + ":" + port + tail, true
}

// urlParts splits rawURL, without allocating, into what precedes the
// port (scheme://userinfo@host), the port (its own, or the scheme's
// default) and what follows it: urlVariants joins them.
func urlParts(rawURL string) (prefix, port, tail string, ok bool) {
	i := strings.Index(rawURL, "://")
	if i <= 0 {
		return "", "", "", false
	}
	scheme, rest := rawURL[:i], rawURL[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	tail = rest[end:]
	hostStart := 0
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		hostStart = at + 1
	}
	hostEnd := len(authority)
	if c := strings.LastIndexByte(authority, ':'); c >= hostStart && !strings.Contains(authority[c:], "]") {
		hostEnd, port = c, authority[c+1:]
	}
	if hostEnd == hostStart {
		return "", "", "", false
	}
	if port == "" {
		port = "80"
		if strings.EqualFold(scheme, "https") {
			port = "443"
		}
	}
	return rawURL[:i+3+hostEnd], port, tail, true
}

// ValidateSignature reports whether signature (the X-Twilio-Signature
// header) is authToken's signature of a request to rawURL with the POST
// parameters params. The URL is tried without its port and with the
// default port (or its own), as the official validators do; both are
// computed and compared in constant time, so the duration does not tell
// which matched. For a JSON body use ValidateBodySignature.
func ValidateSignature(authToken, rawURL string, params url.Values, signature string) bool {
	if authToken == "" || signature == "" || len(signature) > 64 {
		return false
	}
	var dec [48]byte // DecodedLen(64)
	n, err := base64.StdEncoding.Decode(dec[:], []byte(signature))
	if err != nil || n != sha1.Size {
		return false
	}
	got := dec[:sha1.Size]
	prefix, port, tail, ok := urlParts(rawURL)
	if !ok {
		return false
	}
	// HMAC-SHA1 by hand (RFC 2104), so that the two spellings cost one
	// buffer and no hash objects: inner = SHA1(key^ipad || URL || params),
	// MAC = SHA1(key^opad || inner). The buffer first holds the URL with
	// its port, then, moved down over ":port", without it.
	var key [sha1.BlockSize]byte
	if len(authToken) > sha1.BlockSize {
		k := sha1.Sum([]byte(authToken))
		copy(key[:], k[:])
	} else {
		copy(key[:], authToken)
	}
	b := make([]byte, sha1.BlockSize, sha1.BlockSize+len(prefix)+1+len(port)+len(tail)+signedLen(params))
	for i, k := range key {
		b[i] = k ^ 0x36
	}
	b = append(b, prefix...)
	at := len(b)
	b = append(b, ':')
	b = append(b, port...)
	b = append(b, tail...)
	b = appendSigned(b, params)
	var outer [sha1.BlockSize + sha1.Size]byte
	for i, k := range key {
		outer[i] = k ^ 0x5c
	}
	sum := func(b []byte) int {
		inner := sha1.Sum(b)
		copy(outer[sha1.BlockSize:], inner[:])
		mac := sha1.Sum(outer[:])
		return subtle.ConstantTimeCompare(mac[:], got)
	}
	match := sum(b)
	b = b[:at+copy(b[at:], b[at+1+len(port):])] // the spelling without the port
	match |= sum(b)
	return match == 1
}

// ValidateBodySignature reports whether signature is authToken's signature
// of a request to rawURL with a non-form body (JSON): rawURL must carry the
// bodySHA256 query parameter, the body's SHA-256 in lowercase hex, which
// must match body; the signature covers the URL only. A missing
// bodySHA256 is refused.
func ValidateBodySignature(authToken, rawURL string, body []byte, signature string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	want := u.Query().Get("bodySHA256")
	if want == "" {
		return false
	}
	sum := sha256.Sum256(body)
	hashOK := subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(want))
	sigOK := ValidateSignature(authToken, rawURL, nil, signature)
	return hashOK == 1 && sigOK
}

// maxWebhookBody bounds a webhook body by default.
const maxWebhookBody = 64 << 10

// WebhookOption configures a webhook handler.
type WebhookOption func(*webhookConfig) error

type webhookConfig struct {
	publicURL func(*http.Request) string
	maxBody   int64
	tokens    []string
}

// WithWebhookURL sets how the handler learns the URL Twilio called, which
// the signature covers: behind a proxy or load balancer the request's own
// URL differs. fn gets the request and returns the full URL, query
// included. By default the URL is rebuilt from the request: https when it
// came over TLS, else http, its Host header and its request URI.
func WithWebhookURL(fn func(r *http.Request) string) WebhookOption {
	return func(c *webhookConfig) error {
		if fn == nil {
			return errors.New("twilio: WithWebhookURL(nil)")
		}
		c.publicURL = fn
		return nil
	}
}

// WithWebhookMaxBody bounds the body read (64 KiB by default); a longer
// one is refused with 403 like a bad signature.
func WithWebhookMaxBody(n int64) WebhookOption {
	return func(c *webhookConfig) error {
		if n < 1<<10 || n > 16<<20 {
			return errors.New("twilio: WithWebhookMaxBody: want 1 KiB to 16 MiB")
		}
		c.maxBody = n
		return nil
	}
}

// WithWebhookPreviousToken also accepts signatures made with token, an
// Auth Token being rotated out.
func WithWebhookPreviousToken(token string) WebhookOption {
	return func(c *webhookConfig) error {
		if token == "" {
			return errors.New("twilio: WithWebhookPreviousToken(\"\")")
		}
		c.tokens = append(c.tokens, token)
		return nil
	}
}

// NewWebhookHandler returns a net/http handler for Twilio's signed
// requests: Verify webhooks (factor and challenge events, form bodies) and
// Event Streams deliveries of Verify events (JSON, signed with the
// bodySHA256 URL parameter). It checks X-Twilio-Signature with
// ValidateSignature or ValidateBodySignature and answers a missing or bad
// signature (or a body over the limit) with 403 and an empty body, without
// calling onEvent. A signed request is decoded into one or more
// provider.LifecycleEvent (the same type as verify.LifecycleEvent) and
// handed to onEvent in order; an error from onEvent answers 500, so Twilio
// delivers again (de-duplicate on the event's ID). A signed body that is
// not an event answers 400. Success is 204.
//
// The handler needs the exact URL Twilio called; see WithWebhookURL. See
// docs/events.md.
func NewWebhookHandler(authToken string, onEvent func(ctx context.Context, e provider.LifecycleEvent) error, opts ...WebhookOption) (http.Handler, error) {
	if authToken == "" {
		return nil, errors.New("twilio: NewWebhookHandler: no Auth Token")
	}
	if onEvent == nil {
		return nil, errors.New("twilio: NewWebhookHandler: no event function")
	}
	c := &webhookConfig{publicURL: requestURL, maxBody: maxWebhookBody, tokens: []string{authToken}}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return &webhookHandler{cfg: c, onEvent: onEvent}, nil
}

type webhookHandler struct {
	cfg     *webhookConfig
	onEvent func(context.Context, provider.LifecycleEvent) error
}

// requestURL rebuilds the URL the request was made to.
func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sig := r.Header.Get(SignatureHeader)
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, h.cfg.maxBody+1))
		if err != nil || int64(len(b)) > h.cfg.maxBody {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		body = b
	}
	events, ok, err := h.verify(r, body, sig)
	if !ok {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	for _, e := range events {
		if err := h.onEvent(r.Context(), e); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// verify checks the signature (ok) and decodes the events.
func (h *webhookHandler) verify(r *http.Request, body []byte, sig string) (events []provider.LifecycleEvent, ok bool, err error) {
	if sig == "" || (r.Method != http.MethodPost && r.Method != http.MethodGet) {
		return nil, false, nil
	}
	rawURL := h.cfg.publicURL(r)
	return verifyWebhook(h.cfg.tokens, rawURL, r.Header.Get("Content-Type"), body, sig)
}

// verifyWebhook is the handler's check and decoding, apart from HTTP: a
// request to rawURL with the body's content type, body and signature.
func verifyWebhook(tokens []string, rawURL, contentType string, body []byte, sig string) (events []provider.LifecycleEvent, ok bool, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, false, nil
	}
	if u.Query().Has("bodySHA256") {
		for _, t := range tokens {
			if ValidateBodySignature(t, rawURL, body, sig) {
				ok = true
			}
		}
		if !ok {
			return nil, false, nil
		}
		events, err = decodeEventStream(body)
		return events, true, err
	}
	var form url.Values
	if len(body) > 0 {
		mt, _, _ := mime.ParseMediaType(contentType)
		if mt != "application/x-www-form-urlencoded" {
			return nil, false, nil // a body the signature cannot cover
		}
		form, err = url.ParseQuery(string(body))
		if err != nil {
			return nil, false, nil
		}
	}
	for _, t := range tokens {
		if ValidateSignature(t, rawURL, form, sig) {
			ok = true
		}
	}
	if !ok {
		return nil, false, nil
	}
	if len(form) == 0 {
		form = u.Query() // a GET webhook
	}
	e, err := decodeWebhookForm(form)
	if err != nil {
		return nil, true, err
	}
	return []provider.LifecycleEvent{e}, true, nil
}

// errNotEvent is the error of a signed body that is not an event.
var errNotEvent = errors.New("twilio: the signed request is not a Verify event")

// webhookKinds maps Verify webhook event types to the neutral kinds.
var webhookKinds = map[string]provider.LifecycleKind{
	"factor.created":     provider.EventFactorCreated,
	"factor.verified":    provider.EventFactorVerified,
	"factor.deleted":     provider.EventFactorDeleted,
	"challenge.approved": provider.EventChallengeApproved,
	"challenge.denied":   provider.EventChallengeDenied,
}

// decodeWebhookForm decodes a Verify webhook's form (uuid, type,
// entity_identity, factor_sid, factor_type, challenge_sid, status and a
// date). Fields it does not know are ignored; challenge details and
// metadata are not copied (they are the application's own data).
func decodeWebhookForm(f url.Values) (provider.LifecycleEvent, error) {
	typ := f.Get("type")
	if typ == "" {
		return provider.LifecycleEvent{}, errNotEvent
	}
	kind, ok := webhookKinds[typ]
	if !ok {
		kind = provider.EventUnknown
	}
	e := provider.LifecycleEvent{
		Kind: kind, ID: f.Get("uuid"), Provider: "twilio", Identity: f.Get("entity_identity"),
		FactorID: f.Get("factor_sid"), FactorType: provider.FactorType(f.Get("factor_type")),
		ChallengeID: f.Get("challenge_sid"), Status: f.Get("status"),
	}
	if kind == provider.EventUnknown {
		e.Status = typ
	}
	for _, k := range []string{"date_created", "created_date", "date_updated"} {
		if t, err := time.Parse(time.RFC3339, f.Get(k)); err == nil {
			e.Time = t
			break
		}
	}
	return e, nil
}

// streamEvent is one CloudEvent of an Event Streams delivery.
type streamEvent struct {
	ID   string                     `json:"id"`
	Type string                     `json:"type"`
	Time string                     `json:"time"`
	Data map[string]json.RawMessage `json:"data"`
}

// streamPrefix is the Event Streams type prefix of Verify verification
// events.
const streamPrefix = "com.twilio.accountsecurity.verify.verification."

var streamKinds = map[string]provider.LifecycleKind{
	"approved": provider.EventVerificationApproved,
	"canceled": provider.EventVerificationCanceled,
	"expired":  provider.EventVerificationExpired,
}

// decodeEventStream decodes an Event Streams delivery: a JSON array of
// CloudEvents (or one). The data's field names are taken leniently
// (verification_sid or sid, to, channel, status).
func decodeEventStream(body []byte) ([]provider.LifecycleEvent, error) {
	var list []streamEvent
	if err := json.Unmarshal(body, &list); err != nil {
		var one streamEvent
		if err := json.Unmarshal(body, &one); err != nil {
			return nil, errNotEvent
		}
		list = []streamEvent{one}
	}
	if len(list) == 0 {
		return nil, errNotEvent
	}
	out := make([]provider.LifecycleEvent, 0, len(list))
	for _, se := range list {
		if se.Type == "" {
			return nil, errNotEvent
		}
		str := func(keys ...string) string {
			for _, k := range keys {
				var s string
				if json.Unmarshal(se.Data[k], &s) == nil && s != "" {
					return s
				}
			}
			return ""
		}
		e := provider.LifecycleEvent{Kind: provider.EventUnknown, ID: se.ID, Provider: "twilio", Status: se.Type}
		if word, ok := strings.CutPrefix(se.Type, streamPrefix); ok {
			if k, ok := streamKinds[word]; ok {
				e.Kind = k
			}
			e.Status = word
		}
		e.VerificationID = str("verification_sid", "sid")
		e.Channel = provider.Channel(str("channel"))
		e.Target = mask.Target(str("to"))
		if t, err := time.Parse(time.RFC3339, se.Time); err == nil {
			e.Time = t
		}
		out = append(out, e)
	}
	return out, nil
}

// String keeps the handler's Auth Token out of %v.
func (h *webhookHandler) String() string { return "twilio.WebhookHandler" }

// Format prints what String does for every verb.
func (h *webhookHandler) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, h.String()) }
