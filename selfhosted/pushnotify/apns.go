package pushnotify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/verifykit/verifykit/provider"
)

const (
	apnsEndpoint = "https://api.push.apple.com"
	// apnsTokenAge is how long a provider token is reused: Apple refuses
	// one older than an hour and asks that it be renewed at most every
	// twenty minutes.
	apnsTokenAge = 50 * time.Minute
)

// APNs sends push challenges through the Apple Push Notification service
// over HTTP/2 with token authentication: each request carries a provider
// token, an ES256 JWT (kid = the key's ID, iss = the team ID, iat) signed
// with the team's .p8 key, reused for 50 minutes. The request is
// POST /3/device/<token> with headers apns-topic (the app's bundle ID),
// apns-push-type alert, apns-priority 10, apns-expiration and
// apns-collapse-id (the challenge SID, so a re-sent challenge replaces the
// first), and a body whose alert shows the message beside the keys the
// app reads.
//
// Create one with [NewAPNs]; it is safe for concurrent use. Printing it
// shows the key ID, team and topic only.
type APNs struct {
	cfg         *config
	key         *ecdsa.PrivateKey
	keyID, team string
	topic       string
	lock        tokenLock
	jwt         string
	issued      time.Time
}

// NewAPNs returns a notifier that signs with the PKCS #8 PEM key keyP8 (the
// .p8 file Apple's developer site gives) whose 10-character ID is keyID,
// for the team teamID, sending to the app whose bundle ID is topic (or,
// when topic is empty, to each notification's AppID, the app ID the
// device reported when it created its factor). It
// sends to https://api.push.apple.com unless [WithEndpoint] says otherwise
// (such as https://api.sandbox.push.apple.com for development builds).
// Errors never quote the key.
func NewAPNs(keyP8 []byte, keyID, teamID, topic string, opts ...Option) (*APNs, error) {
	block, _ := pem.Decode(keyP8)
	if block == nil {
		return nil, errors.New("pushnotify: apns: the key is not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	ek, ok := k.(*ecdsa.PrivateKey)
	if err != nil || !ok || ek.Curve != elliptic.P256() {
		return nil, errors.New("pushnotify: apns: the key is not a P-256 key in PKCS #8")
	}
	if !appleID(keyID) || !appleID(teamID) {
		return nil, errors.New("pushnotify: apns: the key ID and the team ID are 10 letters or digits each")
	}
	if len(topic) > 255 || !printable(topic) {
		return nil, errors.New("pushnotify: apns: the topic (the app's bundle ID) is invalid")
	}
	cfg, err := newConfig(apnsEndpoint, opts)
	if err != nil {
		return nil, err
	}
	if cfg.endpoint[:5] != "https" {
		return nil, errors.New("pushnotify: apns: the endpoint must be https (APNs speaks HTTP/2 over TLS)")
	}
	return &APNs{cfg: cfg, key: ek, keyID: keyID, team: teamID, topic: topic, lock: make(tokenLock, 1)}, nil
}

func appleID(s string) bool {
	if len(s) != 10 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// String names the notifier by its key ID, team and topic.
func (a *APNs) String() string {
	return "pushnotify.APNs{key:" + a.keyID + " team:" + a.team + " topic:" + a.topic + "}"
}

// GoString is like String.
func (a *APNs) GoString() string { return a.String() }

// Format prints what String does for every verb, so that no verb shows
// the key or a token.
func (a *APNs) Format(s fmt.State, _ rune) { _, _ = s.Write([]byte(a.String())) }

// Notify sends n. When APNs says the provider token has expired it signs
// a new one and tries once more.
func (a *APNs) Notify(ctx context.Context, n Notification) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !deviceToken(n.Token) {
		return &Error{Notifier: "apns", Kind: ErrUnregistered, Message: "the device token is not hexadecimal", pk: provider.ErrUndeliverable}
	}
	topic := a.topic
	if topic == "" {
		topic = n.AppID
	}
	if topic == "" || len(topic) > 255 || !printable(topic) {
		return &Error{Notifier: "apns", Kind: ErrRejected, Message: "no valid topic: the notifier has none and the notification's app ID is empty or invalid", pk: provider.ErrInvalidRequest}
	}
	var payload struct {
		APS struct {
			Alert struct {
				Body string `json:"body"`
			} `json:"alert"`
			Sound string `json:"sound"`
		} `json:"aps"`
		Type         string `json:"type"`
		ChallengeSID string `json:"challenge_sid"`
		FactorSID    string `json:"factor_sid"`
		Message      string `json:"message"`
	}
	payload.APS.Alert.Body, payload.APS.Sound = n.Message, "default"
	payload.Type, payload.ChallengeSID, payload.FactorSID, payload.Message = PayloadType, n.ChallengeID, n.FactorID, n.Message
	body, err := json.Marshal(payload)
	if err != nil {
		return &Error{Notifier: "apns", Kind: ErrRejected, Message: "cannot encode the payload", pk: provider.ErrInvalidRequest}
	}
	return withToken(ctx, a.token, func(tok string) error { return a.send(ctx, n, topic, tok, body) },
		func(e *Error) bool { return e.Reason == "ExpiredProviderToken" })
}

// deviceToken reports whether t is an APNs device token: hexadecimal, of
// at most 200 bytes.
func deviceToken(t string) bool {
	if t == "" || len(t) > 400 || len(t)%2 != 0 {
		return false
	}
	for _, c := range []byte(t) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

func (a *APNs) send(ctx context.Context, n Notification, topic, tok string, body []byte) error {
	secrets := []string{n.Token, tok}
	exp := int64(0) // deliver once, now or never
	if n.TTL > 0 {
		exp = a.cfg.now().Add(n.TTL).Unix()
	}
	h := http.Header{
		"Authorization":   {"bearer " + tok},
		"Content-Type":    {"application/json"},
		"Apns-Topic":      {topic},
		"Apns-Push-Type":  {"alert"},
		"Apns-Priority":   {"10"},
		"Apns-Expiration": {strconv.FormatInt(exp, 10)},
	}
	if n.ChallengeID != "" && len(n.ChallengeID) <= 64 {
		h.Set("Apns-Collapse-Id", n.ChallengeID)
	}
	resp, answer, err := a.cfg.post(ctx, "apns", a.cfg.endpoint+"/3/device/"+n.Token, h, body)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var ae struct {
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal(answer, &ae)
	var kind error
	switch ae.Reason {
	case "Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic", "ExpiredToken":
		kind = ErrUnregistered
	case "ExpiredProviderToken", "InvalidProviderToken", "MissingProviderToken", "BadCertificate", "BadCertificateEnvironment":
		kind = ErrCredentials
	}
	if resp.StatusCode == http.StatusGone {
		kind = ErrUnregistered
	}
	return statusError("apns", resp.StatusCode, resp.Header, a.cfg.now(), ae.Reason, "", kind, secrets)
}

// token returns the provider token, signing a new one when the last is 50
// minutes old or renew is set.
func (a *APNs) token(ctx context.Context, renew bool) (string, error) {
	if err := a.lock.lock(ctx); err != nil {
		return "", err
	}
	defer a.lock.unlock()
	now := a.cfg.now()
	if a.jwt != "" && !renew && now.Sub(a.issued) < apnsTokenAge && !now.Before(a.issued) {
		return a.jwt, nil
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": a.team, "iat": now.Unix()})
	t.Header["kid"] = a.keyID
	s, err := t.SignedString(a.key)
	if err != nil {
		return "", &Error{Notifier: "apns", Kind: ErrCredentials, Message: "cannot sign the provider token", pk: provider.ErrUnauthorized}
	}
	a.jwt, a.issued = s, now
	return s, nil
}
