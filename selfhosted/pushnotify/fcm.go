package pushnotify

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/verifykit/verifykit/provider"
)

// FCMScope is the OAuth scope the access token is asked for.
const FCMScope = "https://www.googleapis.com/auth/firebase.messaging"

const (
	fcmEndpoint     = "https://fcm.googleapis.com"
	googleTokenURL  = "https://oauth2.googleapis.com/token"
	jwtBearerGrant  = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	assertionMaxAge = time.Hour
)

// FCM sends push challenges through Firebase Cloud Messaging's HTTP v1 API
// (POST /v1/projects/{project}/messages:send), authorised as a Google
// service account: it signs a JWT assertion with the account's private
// key (RS256), exchanges it at the account's token endpoint for an access
// token, and keeps that token until five minutes before it expires.
//
// Create one with [NewFCM]; it is safe for concurrent use. Printing it
// shows the project only.
type FCM struct {
	cfg      *config
	project  string
	email    string
	keyID    string
	key      *rsa.PrivateKey
	tokenURL string
	lock     tokenLock

	access  string // the cached access token
	renewAt time.Time
}

// serviceAccount is the part of a service account's JSON key file FCM
// uses.
type serviceAccount struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// NewFCM returns a notifier for the service account whose JSON key file
// (as the Google Cloud console downloads it) is credentialsJSON. It sends
// to the account's project_id and gets access tokens from its token_uri
// (https://oauth2.googleapis.com/token when absent), which must be https
// or http on a loopback host. Errors never quote the file.
func NewFCM(credentialsJSON []byte, opts ...Option) (*FCM, error) {
	var sa serviceAccount
	if err := json.Unmarshal(credentialsJSON, &sa); err != nil {
		return nil, errors.New("pushnotify: fcm: the credentials are not a service account's JSON key")
	}
	switch {
	case sa.Type != "service_account":
		return nil, errors.New(`pushnotify: fcm: the credentials' type is not "service_account"`)
	case sa.ProjectID == "" || strings.ContainsAny(sa.ProjectID, "/?#%: "):
		return nil, errors.New("pushnotify: fcm: the credentials have no valid project_id")
	case sa.ClientEmail == "":
		return nil, errors.New("pushnotify: fcm: the credentials have no client_email")
	}
	key, err := parseRSAKey(sa.PrivateKey)
	if err != nil {
		return nil, err
	}
	if sa.TokenURI == "" {
		sa.TokenURI = googleTokenURL
	}
	if err := WithEndpoint(sa.TokenURI)(&config{}); err != nil {
		return nil, errors.New("pushnotify: fcm: the credentials' token_uri must be https (http only on a loopback host)")
	}
	cfg, err := newConfig(fcmEndpoint, opts)
	if err != nil {
		return nil, err
	}
	return &FCM{cfg: cfg, project: sa.ProjectID, email: sa.ClientEmail, keyID: sa.PrivateKeyID, key: key,
		tokenURL: sa.TokenURI, lock: make(tokenLock, 1)}, nil
}

func parseRSAKey(p string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, errors.New("pushnotify: fcm: the credentials' private_key is not PEM")
	}
	var k any
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if err != nil || !ok {
		return nil, errors.New("pushnotify: fcm: the credentials' private_key is not an RSA key")
	}
	return rk, nil
}

// String names the notifier and its project.
func (f *FCM) String() string { return "pushnotify.FCM{project:" + f.project + "}" }

// GoString is like String.
func (f *FCM) GoString() string { return f.String() }

// Format prints what String does for every verb, so that no verb shows
// the key or a token.
func (f *FCM) Format(s fmt.State, _ rune) { _, _ = s.Write([]byte(f.String())) }

// Notify sends n as a data message with high priority and n.TTL as its
// time to live. When FCM says the access token is no longer valid it
// gets a new one and tries once more.
func (f *FCM) Notify(ctx context.Context, n Notification) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if n.Token == "" || len(n.Token) > 4096 {
		return &Error{Notifier: "fcm", Kind: ErrUnregistered, Message: "empty or oversized device token", pk: provider.ErrUndeliverable}
	}
	body, err := f.message(n)
	if err != nil {
		return err
	}
	// A 401 means the access token was revoked or expired early, unless
	// it is about the APNs credentials uploaded to Firebase.
	return withToken(ctx, f.token, func(access string) error { return f.send(ctx, n, access, body) },
		func(e *Error) bool {
			return e.Status == http.StatusUnauthorized && e.Reason != "THIRD_PARTY_AUTH_ERROR"
		})
}

func (f *FCM) message(n Notification) ([]byte, error) {
	type android struct {
		Priority string `json:"priority"`
		TTL      string `json:"ttl"`
	}
	var msg struct {
		Message struct {
			Token   string            `json:"token"`
			Data    map[string]string `json:"data"`
			Android android           `json:"android"`
		} `json:"message"`
	}
	msg.Message.Token = n.Token
	msg.Message.Data = n.Data()
	msg.Message.Android.Priority = "HIGH"
	msg.Message.Android.TTL = strconv.FormatInt(int64(max(n.TTL, 0)/time.Second), 10) + "s"
	return json.Marshal(msg)
}

func (f *FCM) send(ctx context.Context, n Notification, access string, body []byte) error {
	secrets := []string{n.Token, access}
	resp, answer, err := f.cfg.post(ctx, "fcm", f.cfg.endpoint+"/v1/projects/"+f.project+"/messages:send",
		http.Header{"Authorization": {"Bearer " + access}, "Content-Type": {"application/json; charset=utf-8"}}, body)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var fe struct {
		Error struct {
			Message string `json:"message"`
			Status  string `json:"status"`
			Details []struct {
				Type       string `json:"@type"`
				ErrorCode  string `json:"errorCode"`
				Violations []struct {
					Field string `json:"field"`
				} `json:"fieldViolations"`
			} `json:"details"`
		} `json:"error"`
	}
	_ = json.Unmarshal(answer, &fe)
	reason := fe.Error.Status
	tokenField, fcmDetail := false, false
	for _, d := range fe.Error.Details {
		if strings.HasSuffix(d.Type, "google.firebase.fcm.v1.FcmError") && d.ErrorCode != "" {
			reason, fcmDetail = d.ErrorCode, true
		}
		for _, v := range d.Violations {
			tokenField = tokenField || v.Field == "message.token"
		}
	}
	var kind error
	switch reason {
	case "UNREGISTERED", "SENDER_ID_MISMATCH":
		kind = ErrUnregistered
	case "INVALID_ARGUMENT":
		// FCM says INVALID_ARGUMENT for a malformed token and for a bad
		// payload; the payload is ours and well formed, but only an
		// FcmError detail or a violation of message.token names the token.
		if tokenField || fcmDetail {
			kind = ErrUnregistered
		}
	case "THIRD_PARTY_AUTH_ERROR", "UNAUTHENTICATED", "PERMISSION_DENIED":
		kind = ErrCredentials
	}
	return statusError("fcm", resp.StatusCode, resp.Header, f.cfg.now(), reason, fe.Error.Message, kind, secrets)
}

// token returns the cached access token, or a new one when it is due for
// renewal or renew is set.
func (f *FCM) token(ctx context.Context, renew bool) (string, error) {
	if err := f.lock.lock(ctx); err != nil {
		return "", err
	}
	defer f.lock.unlock()
	now := f.cfg.now()
	if f.access != "" && !renew && now.Before(f.renewAt) {
		return f.access, nil
	}
	f.access = ""
	claims := jwt.MapClaims{
		"iss":   f.email,
		"scope": FCMScope,
		"aud":   f.tokenURL,
		"iat":   now.Unix(),
		"exp":   now.Add(assertionMaxAge).Unix(),
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	if f.keyID != "" {
		t.Header["kid"] = f.keyID
	}
	assertion, err := t.SignedString(f.key)
	if err != nil {
		return "", &Error{Notifier: "fcm", Kind: ErrCredentials, Message: "cannot sign the assertion", pk: provider.ErrUnauthorized}
	}
	secrets := []string{assertion}
	form := url.Values{"grant_type": {jwtBearerGrant}, "assertion": {assertion}}
	resp, answer, err := f.cfg.post(ctx, "fcm", f.tokenURL, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(form.Encode()))
	if err != nil {
		err.(*Error).pk = provider.ErrUnavailable // no notification was sent
		return "", err
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		TokenType   string `json:"token_type"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(answer, &tr)
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" || !strings.EqualFold(tr.TokenType, "bearer") || tr.ExpiresIn <= 0 {
		secrets = append(secrets, tr.AccessToken)
		var kind error
		if tr.Error == "invalid_grant" || tr.Error == "invalid_client" || tr.Error == "unauthorized_client" {
			kind = ErrCredentials
		}
		if resp.StatusCode == http.StatusOK {
			tr.Description = "the token endpoint's answer has no bearer token"
		}
		e := statusError("fcm", resp.StatusCode, resp.Header, now, tr.Error, "token endpoint: "+tr.Description, kind, secrets)
		if e.Kind == ErrRetryable {
			e.pk = provider.ErrUnavailable // no notification was sent
		}
		return "", e
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	f.access, f.renewAt = tr.AccessToken, now.Add(life-min(5*time.Minute, life/2))
	return f.access, nil
}
