// Package pushsig is the cryptography of the push-factor device protocol,
// both directions, in one place: what a device signs and what a server
// checks. It follows what Twilio's official Verify Android and iOS SDKs
// send, so that a server built on it accepts those SDKs and a device built
// on it is accepted by Twilio:
//
//   - keys are ECDSA P-256; a device's public key travels as the standard
//     base64 of its PKIX SubjectPublicKeyInfo DER ([EncodePublicKey],
//     [ParsePublicKey]);
//   - a new factor is verified with the standard base64 of a DER
//     (ASN.1) ECDSA-SHA256 signature over the bytes of the factor's ID
//     ([SignFactor], [VerifyFactor]);
//   - every later device request carries an ES256 JWT with header
//     {"cty":"twilio-pba;v=1","kid":<credential ID>,"typ":"JWT","alg":"ES256"}
//     and payload {"sub":<account>,"exp":now+600,"nbf":now}
//     ([SignRequest], [VerifyRequest]);
//   - a challenge is answered with an ES256 JWT with header
//     {"typ":"JWT","alg":"ES256"} whose payload holds the challenge's
//     signature fields, with their values exactly as the challenge's JSON
//     gave them, plus "status": "approved" or "denied"
//     ([SignChallengeResponse], [NewChallenge] and [Challenge.Verify]).
//
// JWT signatures are the raw 64-byte r||s form (RFC 7518 §3.4) and JWT
// parts are base64url without padding. No error of this package contains
// a key, a token or a signature.
package pushsig

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The errors of this package. Every error returned wraps exactly one of
// them, so that a server can answer each decision differently (an HTTP
// layer answers ErrTime with 401 and a Date header so the device can
// correct its clock).
var (
	// ErrMalformed: the input is not of the protocol's shape (not base64,
	// not a JWT, a wrong header, a key that is not P-256, a payload
	// missing a field).
	ErrMalformed = errors.New("pushsig: malformed input")
	// ErrSignature: well formed, but the signature does not verify with
	// the key.
	ErrSignature = errors.New("pushsig: signature does not verify")
	// ErrTime: a request JWT whose signature verifies, used before its
	// nbf or at or after its exp. A *TimeError carries the times.
	ErrTime = errors.New("pushsig: token used outside its validity window")
	// ErrMismatch: a challenge response whose signature verifies but
	// whose signed fields differ from the challenge's.
	ErrMismatch = errors.New("pushsig: signed fields differ from the challenge")
)

// The protocol's constants.
const (
	// Alg is the only binding algorithm: ECDSA P-256 with SHA-256.
	Alg = "ES256"
	// RequestContentType is the cty header of a request JWT.
	RequestContentType = "twilio-pba;v=1"
	// RequestLifetime is how long a request JWT made by SignRequest is
	// valid, as the official SDKs make them.
	RequestLifetime = 10 * time.Minute
	// MaxRequestLifetime is the longest exp-nbf VerifyRequest accepts.
	MaxRequestLifetime = time.Hour
	// StatusApproved and StatusDenied are a challenge response's answers.
	StatusApproved = "approved"
	StatusDenied   = "denied"
)

// Input size limits, checked before any decoding so that hostile input
// costs little. They are well above what the protocol produces (Twilio
// caps an AuthPayload at 5456 characters).
const (
	maxPublicKeyLen = 512
	maxFactorSigLen = 256
	maxTokenLen     = 8192
)

// DefaultSignatureFields are the challenge fields a server built on this
// package asks the device to sign (the Twilio-Verify-Signature-Fields
// header). They bind the answer to one challenge ("sid") of one factor
// and to what the user was shown.
var DefaultSignatureFields = []string{"sid", "factor_sid", "date_created", "expiration_date", "details", "hidden_details"}

// TimeError is the error of a request JWT used outside its window. It
// matches ErrTime with errors.Is.
type TimeError struct {
	// NotBefore and Expires are the token's nbf and exp; Now is the time
	// it was checked.
	NotBefore, Expires, Now time.Time
}

// Error describes the window; times are not secrets.
func (e *TimeError) Error() string {
	return fmt.Sprintf("pushsig: token valid from %s until %s, checked at %s",
		e.NotBefore.UTC().Format(time.RFC3339), e.Expires.UTC().Format(time.RFC3339), e.Now.UTC().Format(time.RFC3339))
}

// Is reports whether target is ErrTime.
func (e *TimeError) Is(target error) bool { return target == ErrTime }

func malformed(what string) error { return fmt.Errorf("%w: %s", ErrMalformed, what) }

// GenerateKey makes a new P-256 key, as a device does at enrolment.
func GenerateKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// EncodePublicKey returns the standard base64 of pub's PKIX
// SubjectPublicKeyInfo DER: a factor's Binding.PublicKey. pub must be a
// P-256 key.
func EncodePublicKey(pub *ecdsa.PublicKey) (string, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return "", malformed("public key is not P-256")
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", malformed("public key cannot be encoded")
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// ParsePublicKey parses a factor's Binding.PublicKey: the standard base64
// of a PKIX SubjectPublicKeyInfo DER of a P-256 key. Anything else, such
// as another curve, an RSA key or a point off the curve, is ErrMalformed.
func ParsePublicKey(s string) (*ecdsa.PublicKey, error) {
	if len(s) == 0 || len(s) > maxPublicKeyLen {
		return nil, malformed("public key length")
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, malformed("public key is not standard base64")
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, malformed("public key is not PKIX DER")
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, malformed("public key is not ECDSA P-256")
	}
	return pub, nil
}

// SignFactor returns the AuthPayload that verifies a new push factor: the
// standard base64 of the DER ECDSA-SHA256 signature over factorID's bytes.
func SignFactor(key *ecdsa.PrivateKey, factorID string) (string, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return "", malformed("private key is not P-256")
	}
	h := sha256.Sum256([]byte(factorID))
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		return "", fmt.Errorf("pushsig: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// VerifyFactor checks a factor-verification AuthPayload made by
// SignFactor. It returns nil, ErrMalformed (not base64, not a DER
// signature) or ErrSignature.
func VerifyFactor(pub *ecdsa.PublicKey, factorID, payload string) error {
	if pub == nil {
		return malformed("no public key")
	}
	if len(payload) == 0 || len(payload) > maxFactorSigLen {
		return malformed("signature length")
	}
	sig, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return malformed("signature is not standard base64")
	}
	if _, _, ok := parseDERSignature(sig); !ok {
		return malformed("signature is not DER")
	}
	h := sha256.Sum256([]byte(factorID))
	if !ecdsa.VerifyASN1(pub, h[:], sig) {
		return ErrSignature
	}
	return nil
}

// parseDERSignature checks that sig is exactly one DER SEQUENCE of two
// positive INTEGERs of at most 33 bytes (P-256), and returns them.
func parseDERSignature(sig []byte) (r, s []byte, ok bool) {
	// SEQUENCE, short-form length (a P-256 signature is at most 72 bytes).
	if len(sig) < 8 || sig[0] != 0x30 || int(sig[1]) != len(sig)-2 {
		return nil, nil, false
	}
	rest := sig[2:]
	readInt := func() ([]byte, bool) {
		if len(rest) < 3 || rest[0] != 0x02 {
			return nil, false
		}
		n := int(rest[1])
		if n == 0 || n > 33 || len(rest) < 2+n {
			return nil, false
		}
		v := rest[2 : 2+n]
		// Minimal and positive: no needless leading zero, no sign bit.
		if v[0]&0x80 != 0 || (n > 1 && v[0] == 0 && v[1]&0x80 == 0) {
			return nil, false
		}
		rest = rest[2+n:]
		return v, true
	}
	if r, ok = readInt(); !ok {
		return nil, nil, false
	}
	if s, ok = readInt(); !ok || len(rest) != 0 {
		return nil, nil, false
	}
	return r, s, true
}

// RequestClaims are what a request JWT says.
type RequestClaims struct {
	// KeyID is the header's kid: the factor's credential ID.
	KeyID string
	// Subject is the payload's sub: the account the device talks to.
	Subject string
	// NotBefore and Expires are the payload's nbf and exp.
	NotBefore, Expires time.Time
}

// String describes the claims (none of them is secret).
func (c RequestClaims) String() string {
	return fmt.Sprintf("RequestClaims{KeyID:%s Subject:%s NotBefore:%s Expires:%s}", c.KeyID, c.Subject,
		c.NotBefore.UTC().Format(time.RFC3339), c.Expires.UTC().Format(time.RFC3339))
}

type requestHeader struct {
	Cty string `json:"cty"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
	Alg string `json:"alg"`
}

type requestPayload struct {
	Sub string          `json:"sub"`
	Exp json.RawMessage `json:"exp"`
	Nbf json.RawMessage `json:"nbf"`
}

// unixSeconds reads a NumericDate (RFC 7519 §2): seconds, possibly with
// a fraction, which is dropped.
func unixSeconds(raw json.RawMessage) (int64, bool) {
	n := string(raw)
	if i, err := strconv.ParseInt(n, 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil || f < 0 || f > 1<<40 {
		return 0, false
	}
	return int64(f), true
}

// SignRequest makes the JWT a device sends, as HTTP Basic auth with user
// "token", on every call after creating its factor: kid is the factor's
// credential ID, sub the account, valid from now for RequestLifetime.
func SignRequest(key *ecdsa.PrivateKey, kid, sub string, now time.Time) (string, error) {
	h, err := json.Marshal(requestHeader{Cty: RequestContentType, Kid: kid, Typ: "JWT", Alg: Alg})
	if err != nil {
		return "", fmt.Errorf("pushsig: header: %w", err)
	}
	p, err := json.Marshal(requestPayload{Sub: sub,
		Exp: json.RawMessage(strconv.FormatInt(now.Add(RequestLifetime).Unix(), 10)),
		Nbf: json.RawMessage(strconv.FormatInt(now.Unix(), 10))})
	if err != nil {
		return "", fmt.Errorf("pushsig: payload: %w", err)
	}
	return signJWT(key, h, p)
}

// KeyID returns the kid of a request JWT, whose header must be the
// protocol's, so that a server can find the key to verify it with
// (VerifyRequest). Nothing else is checked: it must not be trusted
// before.
func KeyID(token string) (string, error) {
	h, _, _ := strings.Cut(token, ".")
	if len(token) > maxTokenLen {
		return "", malformed("token length")
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", malformed("token header encoding")
	}
	return requestKeyID(b)
}

func requestKeyID(header []byte) (string, error) {
	h, ok := members(header, make(object, 0, 8))
	if !ok {
		return "", malformed("request header")
	}
	alg, ok1 := h.text("alg")
	typ, ok2 := h.text("typ")
	cty, ok3 := h.text("cty")
	kid, ok4 := h.text("kid")
	if !ok1 || !ok2 || !ok3 || !ok4 || alg != Alg || typ != "JWT" || cty != RequestContentType || kid == "" {
		return "", malformed("request header fields")
	}
	return kid, nil
}

func parseRequestParts(parts jwtParts) (RequestClaims, error) {
	kid, err := requestKeyID(parts.header)
	if err != nil {
		return RequestClaims{}, err
	}
	p, ok := members(parts.payload, make(object, 0, 8))
	if !ok {
		return RequestClaims{}, malformed("request payload")
	}
	sub, ok1 := p.text("sub")
	nbf, ok2 := unixSeconds(p.get("nbf"))
	exp, ok3 := unixSeconds(p.get("exp"))
	if !ok1 || !ok2 || !ok3 || sub == "" || nbf <= 0 || exp <= nbf || exp-nbf > int64(MaxRequestLifetime/time.Second) {
		return RequestClaims{}, malformed("request payload fields")
	}
	return RequestClaims{KeyID: kid, Subject: sub, NotBefore: time.Unix(nbf, 0), Expires: time.Unix(exp, 0)}, nil
}

// VerifyRequest checks a request JWT with the key of the factor its kid
// names, at time now (the server's clock), allowing leeway either side.
// It checks, in order, the shape (ErrMalformed), the signature
// (ErrSignature) and the window nbf-leeway <= now < exp+leeway (a
// *TimeError, matching ErrTime). The caller compares the claims' KeyID
// and Subject with what it expects.
func VerifyRequest(token string, pub *ecdsa.PublicKey, now time.Time, leeway time.Duration) (RequestClaims, error) {
	if pub == nil {
		return RequestClaims{}, malformed("no public key")
	}
	parts, err := splitJWT(token)
	if err != nil {
		return RequestClaims{}, err
	}
	c, err := parseRequestParts(parts)
	if err != nil {
		return RequestClaims{}, err
	}
	if err := parts.verify(pub); err != nil {
		return RequestClaims{}, err
	}
	if now.Before(c.NotBefore.Add(-leeway)) || !now.Before(c.Expires.Add(leeway)) {
		return c, &TimeError{NotBefore: c.NotBefore, Expires: c.Expires, Now: now}
	}
	return c, nil
}

// SignChallengeResponse makes the AuthPayload that answers a push
// challenge: a JWT over the challenge's signature fields, with their
// values exactly as challengeJSON (the challenge as the device fetched it)
// has them, plus "status": status, which must be StatusApproved or
// StatusDenied. Every field must be present in challengeJSON.
func SignChallengeResponse(key *ecdsa.PrivateKey, challengeJSON []byte, fields []string, status string) (string, error) {
	if status != StatusApproved && status != StatusDenied {
		return "", malformed("status is not approved or denied")
	}
	if len(fields) == 0 {
		return "", malformed("no signature fields")
	}
	var ch map[string]json.RawMessage
	if err := json.Unmarshal(challengeJSON, &ch); err != nil {
		return "", malformed("challenge is not a JSON object")
	}
	payload := make(map[string]json.RawMessage, len(fields)+1)
	for _, f := range fields {
		v, ok := ch[f]
		if !ok {
			return "", malformed("challenge lacks a signature field")
		}
		payload[f] = v
	}
	payload["status"] = json.RawMessage(`"` + status + `"`)
	p, err := json.Marshal(payload)
	if err != nil {
		return "", malformed("challenge values")
	}
	return signJWT(key, []byte(`{"typ":"JWT","alg":"ES256"}`), p)
}

// Challenge is a stored challenge's signature fields, decoded once by
// NewChallenge, to check answers against with Verify. It is immutable
// and safe for concurrent use.
type Challenge struct {
	fields []string
	want   []json.RawMessage // fields[i]'s value, nil when absent
}

// NewChallenge decodes the challenge's JSON, as the server sent it, for
// the signature fields the server named, which must include "sid". It
// returns ErrMalformed when they do not or challengeJSON is not a JSON
// object.
func NewChallenge(challengeJSON []byte, fields []string) (*Challenge, error) {
	if !slices.Contains(fields, "sid") {
		return nil, malformed(`signature fields lack "sid"`)
	}
	all, ok := members(challengeJSON, make(object, 0, 8))
	if !ok {
		return nil, malformed("stored challenge is not a JSON object")
	}
	want := make([]json.RawMessage, len(fields))
	for i, f := range fields {
		want[i] = all.get(f)
	}
	return &Challenge{fields: slices.Clone(fields), want: want}, nil
}

// ChallengeOf is NewChallenge for a server that has the JSON value of
// each signature field at hand, values[i] being fields[i]'s: it does not
// encode the challenge only to decode it again.
func ChallengeOf(fields []string, values ...json.RawMessage) (*Challenge, error) {
	if !slices.Contains(fields, "sid") || len(values) != len(fields) {
		return nil, malformed(`signature fields lack "sid" or a value`)
	}
	return &Challenge{fields: slices.Clone(fields), want: values}, nil
}

// Verify checks a challenge response made by SignChallengeResponse (or
// an official SDK) with pub against c. It returns the signed status
// (approved or denied) or ErrMalformed, ErrSignature or ErrMismatch (a
// field's value differs from the challenge's, compared as JSON values, so
// the re-encoding a device may do does not matter).
func (c *Challenge) Verify(token string, pub *ecdsa.PublicKey) (string, error) {
	if pub == nil {
		return "", malformed("no public key")
	}
	if c == nil || c.want == nil {
		return "", malformed("no challenge")
	}
	status, got, err := verifyResponse(token, pub, c.fields, make(object, 0, 8))
	if err != nil {
		return "", err
	}
	if !sameFields(c.fields, c.want, got) {
		return "", ErrMismatch
	}
	return status, nil
}

// verifyResponse checks a challenge response's shape (exactly fields,
// plus status) and signature, and returns its status and fields.
func verifyResponse(token string, pub *ecdsa.PublicKey, fields []string, buf object) (string, object, error) {
	parts, err := splitJWT(token)
	if err != nil {
		return "", nil, err
	}
	h, ok := members(parts.header, make(object, 0, 8))
	alg, ok1 := h.text("alg")
	typ, ok2 := h.text("typ")
	if !ok || !ok1 || !ok2 || alg != Alg || (typ != "" && typ != "JWT") {
		return "", nil, malformed("response header")
	}
	got, ok := members(parts.payload, buf)
	if !ok {
		return "", nil, malformed("response payload")
	}
	status, ok := got.text("status")
	if !ok || (status != StatusApproved && status != StatusDenied) {
		return "", nil, malformed("response status")
	}
	for _, m := range got {
		if string(m.key) != "status" && !slices.Contains(fields, string(m.key)) {
			return "", nil, malformed("response payload has a field not asked for")
		}
	}
	for _, f := range fields {
		if f != "status" && got.get(f) == nil {
			return "", nil, malformed("response payload lacks a signature field")
		}
	}
	if err := parts.verify(pub); err != nil {
		return "", nil, err
	}
	return status, got, nil
}

// sameFields reports whether got has want's value of every field but
// "status" (the answer replaces the challenge's own status).
func sameFields(fields []string, want []json.RawMessage, got object) bool {
	for i, f := range fields {
		if f != "status" && (want[i] == nil || !sameJSON(want[i], got.get(f))) {
			return false
		}
	}
	return true
}

// sameJSON reports whether a and b encode the same JSON value.
func sameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	va, okA := decodeValue(a)
	vb, okB := decodeValue(b)
	return okA && okB && equalValues(va, vb)
}

// equalValues compares decoded JSON values; numbers compare by exact
// decimal value, so 1.50 equals 1.5.
func equalValues(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, va := range a {
			vb, ok := b[k]
			if !ok || !equalValues(va, vb) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equalValues(a[i], b[i]) {
				return false
			}
		}
		return true
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		if a == b {
			return true
		}
		if !smallExponent(a) || !smallExponent(b) {
			return false
		}
		ra, okA := new(big.Rat).SetString(string(a))
		rb, okB := new(big.Rat).SetString(string(b))
		return okA && okB && ra.Cmp(rb) == 0
	default: // string, bool, nil
		return a == b
	}
}

func decodeValue(b []byte) (any, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, false
	}
	return v, true
}

// smallExponent reports whether n's decimal exponent is small enough to
// compare exactly at little cost.
func smallExponent(n json.Number) bool {
	i := strings.IndexAny(string(n), "eE")
	if i < 0 {
		return true
	}
	e, err := strconv.Atoi(string(n[i+1:]))
	return err == nil && e > -400 && e < 400
}

// object is a JSON object's members in order: keys decoded, values
// as a json.RawMessage holds them.
type object []member

type member struct{ key, val []byte }

// maxFast bounds the members that members splits itself (its duplicate
// check is quadratic), maxDepth the nesting it follows.
const maxFast, maxDepth = 16, 64

// members decodes b as json.Unmarshal decodes a JSON object into a
// map[string]json.RawMessage, with the same keys and values, and reports
// false where that fails or gives a nil map (null).
func members(b []byte, buf object) (object, bool) {
	if o, ok := split(b, buf); ok {
		return o, true
	}
	return slowMembers(b)
}

// split is members, in one pass, for valid objects of at most maxFast
// members with plain keys (printable ASCII, no escape, no duplicate); it
// reports false for anything else, invalid JSON included.
func split(b []byte, buf object) (object, bool) {
	out := buf[:0]
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return nil, false
	}
	end, ok := walk(b, i, 0, func(key, val []byte) bool {
		if len(out) == maxFast || !plain(key) || out.get(string(key)) != nil {
			return false
		}
		out = append(out, member{key, val})
		return true
	})
	return out, ok && skipSpace(b, end) == len(b)
}

// slowMembers is members by way of a map.
func slowMembers(b []byte) (object, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil || m == nil {
		return nil, false
	}
	out := make(object, 0, len(m))
	for k, v := range m {
		out = append(out, member{[]byte(k), v})
	}
	return out, true
}

// plain reports whether b is printable ASCII without a quote or a
// backslash: a JSON string's content that decodes to itself.
func plain(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// value returns the end of the valid JSON value at b[i], or false.
func value(b []byte, i, depth int) (int, bool) {
	if i == len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return str(b, i)
	case '{', '[':
		return walk(b, i, depth, nil)
	}
	j := i // a number or a literal, up to what may follow it
	for j < len(b) && strings.IndexByte(" \t\n\r,]}", b[j]) < 0 {
		j++
	}
	return j, j > i && json.Valid(b[i:j])
}

// walk returns the end of the valid JSON object or array at b[i], or
// false; at depth 0, fn gets each member of the object and returns
// false to give up.
func walk(b []byte, i, depth int, fn func(key, val []byte) bool) (int, bool) {
	obj, shut := b[i] == '{', b[i]+2 // '}' or ']'
	if depth == maxDepth {
		return 0, false
	}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == shut {
		return i + 1, true
	}
	for {
		var key []byte
		if obj {
			e, ok := str(b, i)
			if !ok {
				return 0, false
			}
			key, i = b[i+1:e-1], skipSpace(b, e)
			if i == len(b) || b[i] != ':' {
				return 0, false
			}
			i = skipSpace(b, i+1)
		}
		e, ok := value(b, i, depth+1)
		if !ok || fn != nil && !fn(key, b[i:e:e]) {
			return 0, false
		}
		if i = skipSpace(b, e); i < len(b) && b[i] == shut {
			return i + 1, true
		}
		if i == len(b) || b[i] != ',' {
			return 0, false
		}
		i = skipSpace(b, i+1)
	}
}

// str returns the end of the valid JSON string at b[i], or false.
// encoding/json checks the escapes, if any.
func str(b []byte, i int) (int, bool) {
	if i == len(b) || b[i] != '"' {
		return 0, false
	}
	esc := false
	for j := i + 1; j < len(b); j++ {
		switch {
		case b[j] == '"':
			return j + 1, !esc || json.Valid(b[i:j+1])
		case b[j] < 0x20:
			return 0, false
		case b[j] == '\\':
			esc = true
			j++
		}
	}
	return 0, false
}

// get returns the value of key, or nil.
func (o object) get(key string) json.RawMessage {
	for _, m := range o {
		if string(m.key) == key {
			return m.val
		}
	}
	return nil
}

var known = [...]string{Alg, "JWT", RequestContentType, StatusApproved, StatusDenied}

// text decodes the value of key as json.Unmarshal decodes it into a
// string: "" when absent or null; false when not a string.
func (o object) text(key string) (string, bool) {
	v := o.get(key)
	if len(v) >= 2 && v[0] == '"' && plain(v[1:len(v)-1]) {
		for _, k := range known { // the protocol's words, without allocating
			if string(v[1:len(v)-1]) == k {
				return k, true
			}
		}
		return string(v[1 : len(v)-1]), true
	}
	var s string
	return s, v == nil || json.Unmarshal(v, &s) == nil
}

type jwtParts struct {
	signingInput    string
	header, payload []byte
	signature       []byte
	scratch         []byte // room for the signing input, or the DER signature
}

// splitJWT splits a compact JWS into its decoded parts.
func splitJWT(token string) (jwtParts, error) {
	if len(token) == 0 || len(token) > maxTokenLen {
		return jwtParts{}, malformed("token length")
	}
	h, rest, ok1 := strings.Cut(token, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s, ".") {
		return jwtParts{}, malformed("token is not three parts")
	}
	// One buffer for the three parts and the scratch.
	enc := base64.RawURLEncoding
	buf := make([]byte, enc.DecodedLen(len(h))+enc.DecodedLen(len(p))+enc.DecodedLen(len(s))+len(token))
	var parts jwtParts
	var err error
	if parts.header, buf, err = decodeB64(buf, h); err != nil {
		return jwtParts{}, malformed("token header encoding")
	}
	if parts.payload, buf, err = decodeB64(buf, p); err != nil {
		return jwtParts{}, malformed("token payload encoding")
	}
	if parts.signature, parts.scratch, err = decodeB64(buf, s); err != nil || len(parts.signature) != 64 {
		return jwtParts{}, malformed("token signature encoding")
	}
	parts.signingInput = token[:len(h)+1+len(p)]
	return parts, nil
}

// decodeB64 decodes the base64url part into the front of buf and returns
// it (capped, so that appending to it cannot overwrite) and the rest.
func decodeB64(buf []byte, part string) (got, rest []byte, err error) {
	n, err := base64.RawURLEncoding.Decode(buf, []byte(part))
	if err != nil {
		return nil, nil, err
	}
	return buf[:n:n], buf[n:], nil
}

// verify checks the raw r||s ES256 signature over the signing input.
func (p jwtParts) verify(pub *ecdsa.PublicKey) error {
	h := sha256.Sum256(append(p.scratch[:0], p.signingInput...))
	if !ecdsa.VerifyASN1(pub, h[:], rawToDER(p.scratch[:0], p.signature)) {
		return ErrSignature
	}
	return nil
}

// rawToDER appends the DER form of a raw 64-byte r||s signature to dst.
func rawToDER(dst, raw []byte) []byte {
	r, s := trimZeros(raw[:32]), trimZeros(raw[32:])
	rn, sn := derIntLen(r), derIntLen(s)
	dst = append(dst, 0x30, byte(4+rn+sn))
	dst = appendDERInt(dst, r, rn)
	return appendDERInt(dst, s, sn)
}

// trimZeros drops the leading zero bytes of the big-endian b, keeping at
// least one byte.
func trimZeros(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// derIntLen is the length of the minimal positive DER integer content of
// b (trimmed): one more when its high bit is set. A zero value gives one
// zero byte (which ECDSA then refuses).
func derIntLen(b []byte) int {
	if b[0]&0x80 != 0 {
		return len(b) + 1
	}
	return len(b)
}

// appendDERInt appends the DER INTEGER of b, whose content is n bytes long.
func appendDERInt(dst, b []byte, n int) []byte {
	dst = append(dst, 0x02, byte(n))
	if n > len(b) {
		dst = append(dst, 0)
	}
	return append(dst, b...)
}

// signJWT signs header.payload with ES256, raw r||s.
func signJWT(key *ecdsa.PrivateKey, header, payload []byte) (string, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return "", malformed("private key is not P-256")
	}
	in := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	h := sha256.Sum256([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, key, h[:])
	if err != nil {
		return "", fmt.Errorf("pushsig: sign: %w", err)
	}
	var sig [64]byte
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return in + "." + base64.RawURLEncoding.EncodeToString(sig[:]), nil
}
