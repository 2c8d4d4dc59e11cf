package pushsig

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

var (
	keyOnce sync.Once
	key1    *ecdsa.PrivateKey
	key2    *ecdsa.PrivateKey
)

// keys returns two fixed-for-the-run P-256 keys.
func keys(t testing.TB) (*ecdsa.PrivateKey, *ecdsa.PrivateKey) {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if key1, err = GenerateKey(); err != nil {
			panic(err)
		}
		if key2, err = GenerateKey(); err != nil {
			panic(err)
		}
	})
	return key1, key2
}

// The fixed X9.62 SubjectPublicKeyInfo prefix the iOS SDK puts before a
// raw 65-byte P-256 point (ECSigner.getPublic).
var iosSPKIHeader = []byte{0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00}

func TestEncodePublicKeyIsWhatTheSDKsSend(t *testing.T) {
	k, _ := keys(t)
	s, err := EncodePublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("not standard base64: %v", err)
	}
	point, err := k.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte{}, iosSPKIHeader...), point...)
	if diff := cmp.Diff(want, der); diff != "" {
		t.Errorf("SPKI DER differs from the iOS SDK's header+point (-want +got):\n%s", diff)
	}
	// An iOS-built key parses to the same key.
	pub, err := ParsePublicKey(base64.StdEncoding.EncodeToString(want))
	if err != nil || !pub.Equal(&k.PublicKey) {
		t.Errorf("ParsePublicKey(iOS form) = %v, %v", pub, err)
	}
}

func TestParsePublicKey(t *testing.T) {
	k, _ := keys(t)
	good, _ := EncodePublicKey(&k.PublicKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKIXPublicKey(edPub)
	point, _ := k.PublicKey.Bytes()
	der, _ := base64.StdEncoding.DecodeString(good)
	offCurve := append([]byte{}, der...)
	offCurve[len(offCurve)-1] ^= 1
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"P-256 SPKI", good, true},
		{"empty", "", false},
		{"not base64", "%%%", false},
		{"url-safe alphabet", "-" + good[1:], false},
		{"P-384", base64.StdEncoding.EncodeToString(p384DER), false},
		{"Ed25519", base64.StdEncoding.EncodeToString(edDER), false},
		{"raw point without SPKI", base64.StdEncoding.EncodeToString(point), false},
		{"point off the curve", base64.StdEncoding.EncodeToString(offCurve), false},
		{"trailing bytes", base64.StdEncoding.EncodeToString(append(append([]byte{}, der...), 0)), false},
		{"too long", strings.Repeat("A", 4096), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, err := ParsePublicKey(tt.in)
			if tt.ok {
				if err != nil || !pub.Equal(&k.PublicKey) {
					t.Fatalf("ParsePublicKey = %v, %v; want the key", pub, err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParsePublicKey err = %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := EncodePublicKey(&p384.PublicKey); !errors.Is(err, ErrMalformed) {
		t.Errorf("EncodePublicKey(P-384) err = %v, want ErrMalformed", err)
	}
}

func TestFactorSignature(t *testing.T) {
	k, other := keys(t)
	const sid = "YF0123456789abcdef0123456789abcdef"
	payload, err := SignFactor(k, sid)
	if err != nil {
		t.Fatal(err)
	}
	// What the server receives is the DER form (ASN.1), standard base64,
	// not JOSE's raw r||s.
	der, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		t.Fatalf("payload not standard base64: %v", err)
	}
	h := sha256.Sum256([]byte(sid))
	if !ecdsa.VerifyASN1(&k.PublicKey, h[:], der) {
		t.Fatal("payload is not a DER ECDSA-SHA256 signature over the factor ID")
	}
	raw := make([]byte, 64)
	r, s, _ := ecdsa.Sign(rand.Reader, k, h[:])
	r.FillBytes(raw[:32])
	s.FillBytes(raw[32:])
	tests := []struct {
		name    string
		pub     *ecdsa.PublicKey
		id, sig string
		want    error
	}{
		{"right key and ID", &k.PublicKey, sid, payload, nil},
		{"another factor's ID", &k.PublicKey, "YF0123456789abcdef0123456789abcdee", payload, ErrSignature},
		{"another key", &other.PublicKey, sid, payload, ErrSignature},
		{"raw r||s instead of DER", &k.PublicKey, sid, base64.StdEncoding.EncodeToString(raw), ErrMalformed},
		{"DER with a trailing byte", &k.PublicKey, sid, base64.StdEncoding.EncodeToString(append(append([]byte{}, der...), 0)), ErrMalformed},
		{"url-safe alphabet", &k.PublicKey, sid, "-" + payload[1:], ErrMalformed},
		{"unpadded", &k.PublicKey, sid, strings.TrimRight(payload, "=") + "A", ErrMalformed},
		{"empty", &k.PublicKey, sid, "", ErrMalformed},
		{"no key", nil, sid, payload, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyFactor(tt.pub, tt.id, tt.sig)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("VerifyFactor = %v, want %v", err, tt.want)
			}
			if err != nil && tt.sig != "" && strings.Contains(err.Error(), tt.sig) {
				t.Fatalf("error %q contains the signature", err)
			}
		})
	}
}

func TestParseDERSignature(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"minimal", []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}, true},
		{"leading zero before a high bit", []byte{0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x02}, true},
		{"needless leading zero", []byte{0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x02}, false},
		{"negative", []byte{0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x02}, false},
		{"wrong length", []byte{0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}, false},
		{"not a sequence", []byte{0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}, false},
		{"one integer", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, false},
		{"three integers", []byte{0x30, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03}, false},
	}
	for _, tt := range tests {
		if _, _, ok := parseDERSignature(tt.in); ok != tt.ok {
			t.Errorf("%s: ok = %v, want %v", tt.name, ok, tt.ok)
		}
	}
}

var t0 = time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)

func decodePart(t *testing.T, s string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("part not base64url without padding: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSignRequestShape(t *testing.T) {
	k, _ := keys(t)
	tok, err := SignRequest(k, "YC-credential", "AC123", t0)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	wantHeader := map[string]any{"cty": "twilio-pba;v=1", "kid": "YC-credential", "typ": "JWT", "alg": "ES256"}
	if diff := cmp.Diff(wantHeader, decodePart(t, parts[0])); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	wantPayload := map[string]any{"sub": "AC123", "nbf": float64(t0.Unix()), "exp": float64(t0.Unix() + 600)}
	if diff := cmp.Diff(wantPayload, decodePart(t, parts[1])); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	if sig, _ := base64.RawURLEncoding.DecodeString(parts[2]); len(sig) != 64 {
		t.Errorf("signature is %d bytes, want raw r||s of 64", len(sig))
	}
}

// craft signs an arbitrary header and payload, for malformed cases.
func craft(t *testing.T, k *ecdsa.PrivateKey, header, payload string) string {
	t.Helper()
	tok, err := signJWT(k, []byte(header), []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVerifyRequest(t *testing.T) {
	k, other := keys(t)
	tok, _ := SignRequest(k, "kid1", "AC123", t0)
	parts := strings.Split(tok, ".")
	otherTok, _ := SignRequest(other, "kid1", "AC123", t0)
	otherParts := strings.Split(otherTok, ".")
	hdr := `{"cty":"twilio-pba;v=1","kid":"kid1","typ":"JWT","alg":"ES256"}`
	pl := `{"sub":"AC123","exp":1796659800,"nbf":1796659200}`
	tests := []struct {
		name   string
		token  string
		now    time.Time
		leeway time.Duration
		want   error
	}{
		{"at nbf", tok, t0, 0, nil},
		{"just before exp", tok, t0.Add(599 * time.Second), 0, nil},
		{"at exp", tok, t0.Add(600 * time.Second), 0, ErrTime},
		{"before nbf", tok, t0.Add(-time.Second), 0, ErrTime},
		{"before nbf within leeway", tok, t0.Add(-time.Second), time.Minute, nil},
		{"after exp within leeway", tok, t0.Add(601 * time.Second), time.Minute, nil},
		{"another key's signature", parts[0] + "." + parts[1] + "." + otherParts[2], t0, 0, ErrSignature},
		{"payload swapped", parts[0] + "." + otherParts[1] + "." + parts[2], t0, 0, nil}, // same claims: same bytes
		{"fractional times", craft(t, k, hdr, `{"sub":"AC123","exp":1796659800.5,"nbf":1796659200.25}`), t0, 0, nil},
		{"alg none", craft(t, k, `{"cty":"twilio-pba;v=1","kid":"kid1","typ":"JWT","alg":"none"}`, pl), t0, 0, ErrMalformed},
		{"alg HS256", craft(t, k, `{"cty":"twilio-pba;v=1","kid":"kid1","typ":"JWT","alg":"HS256"}`, pl), t0, 0, ErrMalformed},
		{"no cty", craft(t, k, `{"kid":"kid1","typ":"JWT","alg":"ES256"}`, pl), t0, 0, ErrMalformed},
		{"no kid", craft(t, k, `{"cty":"twilio-pba;v=1","typ":"JWT","alg":"ES256"}`, pl), t0, 0, ErrMalformed},
		{"no sub", craft(t, k, hdr, `{"exp":1796659800,"nbf":1796659200}`), t0, 0, ErrMalformed},
		{"no nbf", craft(t, k, hdr, `{"sub":"AC123","exp":1796659800}`), t0, 0, ErrMalformed},
		{"exp before nbf", craft(t, k, hdr, `{"sub":"AC123","exp":1796659100,"nbf":1796659200}`), t0, 0, ErrMalformed},
		{"lifetime over an hour", craft(t, k, hdr, `{"sub":"AC123","exp":1796669200,"nbf":1796659200}`), t0, 0, ErrMalformed},
		// Header and claim names are exact (RFC 7515, 7519), unlike
		// encoding/json's field matching.
		{"ALG", craft(t, k, `{"cty":"twilio-pba;v=1","kid":"kid1","typ":"JWT","ALG":"ES256"}`, pl), t0, 0, ErrMalformed},
		{"Sub", craft(t, k, hdr, `{"Sub":"AC123","exp":1796659800,"nbf":1796659200}`), t0, 0, ErrMalformed},
		{"kid escaped", craft(t, k, `{"cty":"twilio-pba;v=1","kid":"kid\u0031","typ":"JWT","alg":"ES256"}`, pl), t0, 0, nil},
		{"kid a number", craft(t, k, `{"cty":"twilio-pba;v=1","kid":1,"typ":"JWT","alg":"ES256"}`, pl), t0, 0, ErrMalformed},
		{"string times", craft(t, k, hdr, `{"sub":"AC123","exp":"1796659800","nbf":"1796659200"}`), t0, 0, ErrMalformed},
		{"padded signature", tok + "=", t0, 0, ErrMalformed},
		{"two parts", parts[0] + "." + parts[1], t0, 0, ErrMalformed},
		{"four parts", tok + ".x", t0, 0, ErrMalformed},
		{"empty", "", t0, 0, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := VerifyRequest(tt.token, &k.PublicKey, tt.now, tt.leeway)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("VerifyRequest = %v", err)
				}
				want := RequestClaims{KeyID: "kid1", Subject: "AC123", NotBefore: t0, Expires: t0.Add(600 * time.Second)}
				if diff := cmp.Diff(want, c); diff != "" {
					t.Errorf("claims (-want +got):\n%s", diff)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyRequest err = %v, want %v", err, tt.want)
			}
			for _, sentinel := range []error{ErrMalformed, ErrSignature, ErrTime, ErrMismatch} {
				if sentinel != tt.want && errors.Is(err, sentinel) {
					t.Errorf("err also matches %v", sentinel)
				}
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) || strings.Contains(err.Error(), parts[2]) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

func TestVerifyRequestTimeError(t *testing.T) {
	k, _ := keys(t)
	tok, _ := SignRequest(k, "kid1", "AC123", t0)
	now := t0.Add(time.Hour)
	_, err := VerifyRequest(tok, &k.PublicKey, now, 0)
	var te *TimeError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a *TimeError", err)
	}
	want := TimeError{NotBefore: t0, Expires: t0.Add(10 * time.Minute), Now: now}
	if diff := cmp.Diff(want, *te, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("TimeError (-want +got):\n%s", diff)
	}
	// A bad signature is reported before the time, so a stale forged
	// token never earns the server's Date.
	_, other := keys(t)
	_, err = VerifyRequest(tok, &other.PublicKey, now, 0)
	if !errors.Is(err, ErrSignature) || errors.Is(err, ErrTime) {
		t.Errorf("forged stale token: err = %v, want ErrSignature only", err)
	}
}

func TestKeyID(t *testing.T) {
	k, _ := keys(t)
	tok, _ := SignRequest(k, "kid1", "AC123", t0)
	hdr := strings.Split(tok, ".")[0]
	for _, tt := range []struct{ token, want string }{
		{tok, "kid1"},
		{hdr + ".e30.AAAA", "kid1"}, // only the header is read
		{hdr, "kid1"},
		{"a.b", ""},
		{"e30." + hdr, ""},
		{craft(t, k, `{"cty":"twilio-pba;v=1","kid":"kid1","typ":"JWT","alg":"none"}`, "{}"), ""},
		{hdr + "." + strings.Repeat("A", maxTokenLen), ""},
	} {
		kid, err := KeyID(tt.token)
		if kid != tt.want || (err == nil) != (tt.want != "") || err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("KeyID(%.40q) = %q, %v; want %q", tt.token, kid, err, tt.want)
		}
	}
}

// An independent ES256 implementation (golang-jwt) accepts our request
// tokens and we accept its: the signature encoding is JOSE's.
func TestRequestInteroperatesWithGolangJWT(t *testing.T) {
	k, _ := keys(t)
	tok, _ := SignRequest(k, "kid1", "AC123", t0)
	p := jwt.NewParser(jwt.WithTimeFunc(func() time.Time { return t0 }), jwt.WithValidMethods([]string{"ES256"}))
	if _, err := p.Parse(tok, func(*jwt.Token) (any, error) { return &k.PublicKey, nil }); err != nil {
		t.Fatalf("golang-jwt refuses our token: %v", err)
	}
	j := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"sub": "AC123", "nbf": t0.Unix(), "exp": t0.Unix() + 600})
	j.Header["cty"] = RequestContentType
	j.Header["kid"] = "kid1"
	theirs, err := j.SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyRequest(theirs, &k.PublicKey, t0, 0); err != nil {
		t.Fatalf("we refuse golang-jwt's token: %v", err)
	}
}

const challengeJSON = `{"sid":"YC11111111111111111111111111111111","factor_sid":"YF22222222222222222222222222222222",` +
	`"date_created":"2026-12-07T16:00:00Z","date_updated":"2026-12-07T16:00:00Z","status":"pending",` +
	`"details":{"message":"Log in from Paris?","fields":[{"label":"IP","value":"192.0.2.1"},{"label":"URL","value":"https://example.com/a"}]},` +
	`"hidden_details":{"ip":"192.0.2.1"},"expiration_date":"2026-12-07T16:05:00Z","amount":1.50}`

func TestChallengeResponse(t *testing.T) {
	k, other := keys(t)
	fields := DefaultSignatureFields
	approve, err := SignChallengeResponse(k, []byte(challengeJSON), fields, StatusApproved)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(approve, ".")
	if diff := cmp.Diff(map[string]any{"typ": "JWT", "alg": "ES256"}, decodePart(t, parts[0])); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	var stored map[string]any
	_ = json.Unmarshal([]byte(challengeJSON), &stored)
	wantPayload := map[string]any{"status": "approved"}
	for _, f := range fields {
		wantPayload[f] = stored[f]
	}
	if diff := cmp.Diff(wantPayload, decodePart(t, parts[1])); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	deny, _ := SignChallengeResponse(k, []byte(challengeJSON), fields, StatusDenied)
	byOther, _ := SignChallengeResponse(other, []byte(challengeJSON), fields, StatusApproved)
	otherChallenge := strings.Replace(challengeJSON, "YC1111", "YC9999", 1)
	forOther, _ := SignChallengeResponse(k, []byte(otherChallenge), fields, StatusApproved)
	changedMessage := strings.Replace(challengeJSON, "Paris", "Tokyo", 1)
	// A device that re-encodes the values (Android's org.json escapes "/"
	// and orders keys its own way) still signs the same JSON values.
	reencoded := `{"typ":"JWT","alg":"ES256"}`
	reencodedPayload := `{"status":"approved","hidden_details":{"ip":"192.0.2.1"},"sid":"YC11111111111111111111111111111111",` +
		`"factor_sid":"YF22222222222222222222222222222222","expiration_date":"2026-12-07T16:05:00Z","date_created":"2026-12-07T16:00:00Z",` +
		`"details":{"fields":[{"value":"192.0.2.1","label":"IP"},{"label":"URL","value":"https:\/\/example.com\/a"}],"message":"Log in from Paris?"}}`
	withExtra := strings.Replace(reencodedPayload, `"status"`, `"amount":1.50,"status"`, 1)
	tests := []struct {
		name       string
		token      string
		stored     string
		fields     []string
		wantStatus string
		want       error
	}{
		{"approved", approve, challengeJSON, fields, StatusApproved, nil},
		{"denied", deny, challengeJSON, fields, StatusDenied, nil},
		{"re-encoded by the device", craft(t, k, reencoded, reencodedPayload), challengeJSON, fields, StatusApproved, nil},
		{"number re-encoded", craft(t, k, reencoded, `{"sid":"YC11111111111111111111111111111111","amount":1.5,"status":"approved"}`), challengeJSON, []string{"sid", "amount"}, StatusApproved, nil},
		{"status among the fields", mustSign(t, k, challengeJSON, []string{"sid", "status"}, StatusApproved), challengeJSON, []string{"sid", "status"}, StatusApproved, nil},
		{"another key", byOther, challengeJSON, fields, "", ErrSignature},
		{"answer for another challenge", forOther, challengeJSON, fields, "", ErrMismatch},
		{"message changed after signing", approve, changedMessage, fields, "", ErrMismatch},
		{"field the server did not ask for", craft(t, k, reencoded, withExtra), challengeJSON, fields, "", ErrMalformed},
		{"field missing", mustSign(t, k, challengeJSON, []string{"sid"}, StatusApproved), challengeJSON, fields, "", ErrMalformed},
		{"fields without sid", mustSign(t, k, challengeJSON, []string{"factor_sid"}, StatusApproved), challengeJSON, []string{"factor_sid"}, "", ErrMalformed},
		{"status pending", craft(t, k, reencoded, `{"sid":"YC11111111111111111111111111111111","status":"pending"}`), challengeJSON, []string{"sid"}, "", ErrMalformed},
		{"no status", craft(t, k, reencoded, `{"sid":"YC11111111111111111111111111111111"}`), challengeJSON, []string{"sid"}, "", ErrMalformed},
		{"alg none", craft(t, k, `{"typ":"JWT","alg":"none"}`, `{"sid":"YC11111111111111111111111111111111","status":"approved"}`), challengeJSON, []string{"sid"}, "", ErrMalformed},
		{"stored challenge not JSON", approve, "nope", fields, "", ErrMalformed},
		{"garbage", "x.y.z", challengeJSON, fields, "", ErrMalformed},
	}
	// Each case, through the challenge decoded once.
	verifiers := map[string]func(token, stored string, fields []string) (string, error){
		"Challenge.Verify": func(token, stored string, fields []string) (string, error) {
			c, err := NewChallenge([]byte(stored), fields)
			if err != nil {
				return "", err
			}
			return c.Verify(token, &k.PublicKey)
		},
		"ChallengeOf": func(token, stored string, fields []string) (string, error) {
			var m map[string]json.RawMessage
			if json.Unmarshal([]byte(stored), &m) != nil {
				return "", ErrMalformed
			}
			values := make([]json.RawMessage, len(fields))
			for i, f := range fields {
				values[i] = m[f]
			}
			c, err := ChallengeOf(fields, values...)
			if err != nil {
				return "", err
			}
			return c.Verify(token, &k.PublicKey)
		},
	}
	if _, err := ChallengeOf([]string{"sid", "factor_sid"}, json.RawMessage(`"YC1"`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("ChallengeOf(a value short) err = %v", err)
	}
	for _, tt := range tests {
		for name, verify := range verifiers {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				status, err := verify(tt.token, tt.stored, tt.fields)
				if tt.want == nil {
					if err != nil || status != tt.wantStatus {
						t.Fatalf("%s = %q, %v; want %q", name, status, err, tt.wantStatus)
					}
					return
				}
				if !errors.Is(err, tt.want) || status != "" {
					t.Fatalf("%s = %q, %v; want %v", name, status, err, tt.want)
				}
				if strings.Contains(err.Error(), tt.token) {
					t.Errorf("error %q contains the token", err)
				}
			})
		}
	}
	if _, err := SignChallengeResponse(k, []byte(challengeJSON), fields, "pending"); !errors.Is(err, ErrMalformed) {
		t.Errorf("SignChallengeResponse(pending) err = %v", err)
	}
	if _, err := SignChallengeResponse(k, []byte(challengeJSON), []string{"sid", "nope"}, StatusApproved); !errors.Is(err, ErrMalformed) {
		t.Errorf("SignChallengeResponse(missing field) err = %v", err)
	}
}

func mustSign(t *testing.T, k *ecdsa.PrivateKey, ch string, fields []string, status string) string {
	t.Helper()
	tok, err := SignChallengeResponse(k, []byte(ch), fields, status)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// BenchmarkChallengeVerify checks an answer against a stored challenge
// decoded once, as the engine does.
func BenchmarkChallengeVerify(b *testing.B) {
	k, _ := keys(b)
	tok, _ := SignChallengeResponse(k, []byte(challengeJSON), DefaultSignatureFields, StatusApproved)
	c, err := NewChallenge([]byte(challengeJSON), DefaultSignatureFields)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Verify(tok, &k.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRequest(b *testing.B) {
	k, _ := keys(b)
	tok, _ := SignRequest(k, "kid1", "AC123", t0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyRequest(tok, &k.PublicKey, t0, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignChallengeResponse(b *testing.B) {
	k, _ := keys(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SignChallengeResponse(k, []byte(challengeJSON), DefaultSignatureFields, StatusApproved); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRawToDER(t *testing.T) {
	for _, tt := range []struct{ name, r, s string }{
		{"small", "01", "02"},
		{"high bit", "80" + strings.Repeat("11", 31), "ff" + strings.Repeat("00", 31)},
		{"leading zeros", "0000" + strings.Repeat("7f", 30), "00" + strings.Repeat("80", 31)},
	} {
		r, _ := new(big.Int).SetString(tt.r, 16)
		s, _ := new(big.Int).SetString(tt.s, 16)
		raw := make([]byte, 64)
		r.FillBytes(raw[:32])
		s.FillBytes(raw[32:])
		want, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, rawToDER(nil, raw)); diff != "" {
			t.Errorf("%s: DER (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestSameJSONNumbers(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"1.50", "1.5", true},
		{"15e-1", "1.5", true},
		{"1.5", "1.6", false},
		{"9007199254740993", "9007199254740992", false},
		{"1e999999999", "1e999999999", true},   // same bytes
		{"1e999999999", "10e999999998", false}, // not worth computing
		{`"1.5"`, "1.5", false},
		{`{"a":[1,2]}`, `{"a":[1.0,2]}`, true},
		{`{"a":[1,2]}`, `{"a":[2,1]}`, false},
		{`{"a":1}`, `{"a":1,"b":1}`, false},
	} {
		if got := sameJSON(json.RawMessage(tt.a), json.RawMessage(tt.b)); got != tt.want {
			t.Errorf("sameJSON(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// BenchmarkECDSAVerifyP256 is the floor of every Verify here: one raw
// P-256 ECDSA-SHA256 verify, for comparing the other figures with on a
// machine whose speed varies.
func BenchmarkECDSAVerifyP256(b *testing.B) {
	k, _ := keys(b)
	h := sha256.Sum256([]byte("YC0123"))
	sig, err := ecdsa.SignASN1(rand.Reader, k, h[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !ecdsa.VerifyASN1(&k.PublicKey, h[:], sig) {
			b.Fatal("verify failed")
		}
	}
}
