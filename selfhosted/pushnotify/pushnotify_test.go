package pushnotify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted/pushnotify"
)

func challenge(p provider.NotificationPlatform, token string, ttl time.Duration) pushnotify.Notification {
	return pushnotify.Notification{
		Platform: p, Token: token, Identity: "u-0123456789abcdef", AppID: "com.example.bank",
		ChallengeID: "YC0123456789abcdef0123456789abcdef", FactorID: "YF0123456789abcdef0123456789abcdef",
		Message: "Approve the login from Lisbon?", TTL: ttl,
	}
}

const fcmToken = "fcm-registration-token:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"

func newFCM(t *testing.T) (*pushnotify.FCM, *fcmServer, *clock) {
	t.Helper()
	c := newClock()
	s := newFCMServer(t, c)
	f, err := pushnotify.NewFCM(serviceAccountJSON(t, s.srv.URL+"/token"), pushnotify.WithEndpoint(s.srv.URL), pushnotify.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	return f, s, c
}

func TestFCM_WireFormat(t *testing.T) {
	f, s, c := newFCM(t)
	ctx := context.Background()
	if err := f.Notify(ctx, challenge(provider.PlatformFCM, fcmToken, 5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"message": map[string]any{
		"token": fcmToken,
		"data": map[string]any{
			"type": "verify_push_challenge", "challenge_sid": "YC0123456789abcdef0123456789abcdef",
			"factor_sid": "YF0123456789abcdef0123456789abcdef", "message": "Approve the login from Lisbon?",
		},
		"android": map[string]any{"priority": "HIGH", "ttl": "300s"},
	}}
	if d := cmp.Diff([]map[string]any{want}, s.sends); d != "" {
		t.Fatalf("sent (-want +got):\n%s", d)
	}

	// The access token (valid 3599 s) is reused until five minutes before
	// it expires, then renewed.
	for _, step := range []struct {
		advance    time.Duration
		wantTokens int
	}{{0, 1}, {54 * time.Minute, 1}, {time.Minute, 2}, {time.Minute, 2}} {
		c.Advance(step.advance)
		if err := f.Notify(ctx, challenge(provider.PlatformFCM, fcmToken, 0)); err != nil {
			t.Fatal(err)
		}
		if tokens, _ := s.counts(); tokens != step.wantTokens {
			t.Fatalf("after %v more: %d token requests, want %d", step.advance, tokens, step.wantTokens)
		}
	}
	if got := s.sends[1]["message"].(map[string]any)["android"]; !cmp.Equal(got, map[string]any{"priority": "HIGH", "ttl": "0s"}) {
		t.Errorf("TTL 0: android = %v, want high priority and ttl 0s (now or never)", got)
	}
}

func TestFCM_ConcurrentNotifiesShareOneToken(t *testing.T) {
	f, s, _ := newFCM(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.Notify(context.Background(), challenge(provider.PlatformFCM, fcmToken, time.Minute)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if tokens, posts := s.counts(); tokens != 1 || posts != 8 {
		t.Fatalf("%d token requests and %d sends, want 1 and 8", tokens, posts)
	}
}

// errCase is a refusal and what it must be typed as.
type errCase struct {
	name   string
	status int
	header http.Header
	body   string
	kind   error         // pushnotify sentinel
	pkind  error         // provider sentinel
	reason string        // Error.Reason
	wait   time.Duration // Error.Wait
}

func checkErr(t *testing.T, err error, tc errCase) {
	t.Helper()
	var e *pushnotify.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *pushnotify.Error", err, err)
	}
	for _, k := range []error{pushnotify.ErrUnregistered, pushnotify.ErrRetryable, pushnotify.ErrCredentials, pushnotify.ErrRejected} {
		if errors.Is(err, k) != (k == tc.kind) {
			t.Errorf("errors.Is(err, %v) = %v; err = %v", k, !(k == tc.kind), err)
		}
	}
	for _, k := range []error{provider.ErrUndeliverable, provider.ErrRateLimited, provider.ErrUnavailable, provider.ErrOutcomeUnknown, provider.ErrUnauthorized, provider.ErrInvalidRequest} {
		if errors.Is(err, k) != (k == tc.pkind) {
			t.Errorf("errors.Is(err, provider %v) = %v; err = %v", k, !(k == tc.pkind), err)
		}
	}
	if e.Reason != tc.reason || e.Status != tc.status || e.Wait != tc.wait {
		t.Errorf("Reason, Status, Wait = %q, %d, %v; want %q, %d, %v", e.Reason, e.Status, e.Wait, tc.reason, tc.status, tc.wait)
	}
	if w, _ := provider.RetryAfter(err); w != tc.wait {
		t.Errorf("provider.RetryAfter = %v, want %v", w, tc.wait)
	}
}

func fcmError(code int, status, detail string) string {
	d := ""
	if detail != "" {
		d = `,"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"` + detail + `"}]`
	}
	return fmt.Sprintf(`{"error":{"code":%d,"message":"refused for %s","status":"%s"%s}}`, code, fcmToken, status, d)
}

func TestFCM_Errors(t *testing.T) {
	retry := http.Header{"Retry-After": {"30"}}
	for _, tc := range []errCase{
		{name: "unregistered", status: 404, body: fcmError(404, "NOT_FOUND", "UNREGISTERED"), kind: pushnotify.ErrUnregistered, pkind: provider.ErrUndeliverable, reason: "UNREGISTERED"},
		{name: "invalid token", status: 400, body: fcmError(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"), kind: pushnotify.ErrUnregistered, pkind: provider.ErrUndeliverable, reason: "INVALID_ARGUMENT"},
		{name: "token field violation", status: 400, body: `{"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token"}]}]}}`, kind: pushnotify.ErrUnregistered, pkind: provider.ErrUndeliverable, reason: "INVALID_ARGUMENT"},
		{name: "payload field violation", status: 400, body: `{"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.data[0].value"}]}]}}`, kind: pushnotify.ErrRejected, pkind: provider.ErrInvalidRequest, reason: "INVALID_ARGUMENT"},
		{name: "sender mismatch", status: 403, body: fcmError(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"), kind: pushnotify.ErrUnregistered, pkind: provider.ErrUndeliverable, reason: "SENDER_ID_MISMATCH"},
		{name: "quota", status: 429, header: retry, body: fcmError(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"), kind: pushnotify.ErrRetryable, pkind: provider.ErrRateLimited, reason: "QUOTA_EXCEEDED", wait: 30 * time.Second},
		{name: "unavailable", status: 503, header: http.Header{"Retry-After": {"Sun, 01 Mar 2026 12:01:00 GMT"}}, body: fcmError(503, "UNAVAILABLE", "UNAVAILABLE"), kind: pushnotify.ErrRetryable, pkind: provider.ErrUnavailable, reason: "UNAVAILABLE", wait: time.Minute},
		{name: "internal", status: 500, body: fcmError(500, "INTERNAL", "INTERNAL"), kind: pushnotify.ErrRetryable, pkind: provider.ErrOutcomeUnknown, reason: "INTERNAL"},
		{name: "third-party auth", status: 401, body: fcmError(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR"), kind: pushnotify.ErrCredentials, pkind: provider.ErrUnauthorized, reason: "THIRD_PARTY_AUTH_ERROR"},
		{name: "permission denied", status: 403, body: fcmError(403, "PERMISSION_DENIED", ""), kind: pushnotify.ErrCredentials, pkind: provider.ErrUnauthorized, reason: "PERMISSION_DENIED"},
		{name: "not json", status: 502, body: "<html>bad gateway</html>", kind: pushnotify.ErrRetryable, pkind: provider.ErrOutcomeUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, s, _ := newFCM(t)
			s.reply = func(int) (int, http.Header, string) { return tc.status, tc.header, tc.body }
			err := f.Notify(context.Background(), challenge(provider.PlatformFCM, fcmToken, time.Minute))
			checkErr(t, err, tc)
			if tokens, posts := s.counts(); tokens != 1 || posts != 1 {
				t.Errorf("%d token requests and %d sends, want one of each (no retry)", tokens, posts)
			}
			noSecrets(t, err, fcmToken, "ya29.access-1-secret")
		})
	}
}

func TestFCM_RenewsRevokedAccessTokenOnce(t *testing.T) {
	f, s, _ := newFCM(t)
	s.reply = func(n int) (int, http.Header, string) {
		if n == 1 {
			return 401, nil, fcmError(401, "UNAUTHENTICATED", "")
		}
		return 200, nil, ""
	}
	if err := f.Notify(context.Background(), challenge(provider.PlatformFCM, fcmToken, time.Minute)); err != nil {
		t.Fatal(err)
	}
	if tokens, posts := s.counts(); tokens != 2 || posts != 2 {
		t.Fatalf("%d token requests and %d sends, want 2 and 2", tokens, posts)
	}

	s.reply = func(int) (int, http.Header, string) { return 401, nil, fcmError(401, "UNAUTHENTICATED", "") }
	err := f.Notify(context.Background(), challenge(provider.PlatformFCM, fcmToken, time.Minute))
	checkErr(t, err, errCase{status: 401, kind: pushnotify.ErrCredentials, pkind: provider.ErrUnauthorized, reason: "UNAUTHENTICATED"})
	if tokens, posts := s.counts(); tokens != 3 || posts != 4 {
		t.Fatalf("%d token requests and %d sends, want 3 and 4 (one renewal, then give up)", tokens, posts)
	}
}

func TestFCM_TokenEndpointErrors(t *testing.T) {
	for _, tc := range []struct {
		errCase
		answer string
	}{
		{errCase{name: "invalid grant", status: 400, kind: pushnotify.ErrCredentials, pkind: provider.ErrUnauthorized, reason: "invalid_grant"}, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`},
		{errCase{name: "unavailable", status: 503, kind: pushnotify.ErrRetryable, pkind: provider.ErrUnavailable, reason: ""}, `busy`},
		{errCase{name: "server error", status: 500, kind: pushnotify.ErrRetryable, pkind: provider.ErrUnavailable, reason: "internal_failure"}, `{"error":"internal_failure"}`},
		{errCase{name: "no token", status: 200, kind: pushnotify.ErrRejected, pkind: provider.ErrInvalidRequest}, `{"token_type":"Bearer","expires_in":3600}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, s, _ := newFCM(t)
			s.tokenRe = func(int) (int, string) { return tc.status, tc.answer }
			err := f.Notify(context.Background(), challenge(provider.PlatformFCM, fcmToken, time.Minute))
			checkErr(t, err, tc.errCase)
			if _, posts := s.counts(); posts != 0 {
				t.Errorf("%d sends without an access token", posts)
			}
		})
	}
}

func TestFCM_Refusals(t *testing.T) {
	f, s, _ := newFCM(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Notify(ctx, challenge(provider.PlatformFCM, fcmToken, 0)); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v", err)
	}
	err := f.Notify(context.Background(), challenge(provider.PlatformFCM, "", 0))
	if !errors.Is(err, pushnotify.ErrUnregistered) || !errors.Is(err, provider.ErrUndeliverable) {
		t.Errorf("empty token: err = %v", err)
	}
	if tokens, posts := s.counts(); tokens+posts != 0 {
		t.Errorf("%d requests for refused notifications", tokens+posts)
	}
}

func TestNewFCM_Invalid(t *testing.T) {
	good := map[string]string{}
	_ = json.Unmarshal(serviceAccountJSON(t, "https://oauth2.googleapis.com/token"), &good)
	for _, tc := range []struct {
		name string
		edit func(m map[string]string)
		opt  pushnotify.Option
	}{
		{name: "not a service account", edit: func(m map[string]string) { m["type"] = "authorized_user" }},
		{name: "no project", edit: func(m map[string]string) { delete(m, "project_id") }},
		{name: "project with a slash", edit: func(m map[string]string) { m["project_id"] = "a/b" }},
		{name: "no email", edit: func(m map[string]string) { delete(m, "client_email") }},
		{name: "key not PEM", edit: func(m map[string]string) { m["private_key"] = "secret-material" }},
		{name: "plain http token URI", edit: func(m map[string]string) { m["token_uri"] = "http://oauth.example.com/token" }},
		{name: "plain http endpoint", opt: pushnotify.WithEndpoint("http://fcm.example.com")},
		{name: "nil client", opt: pushnotify.WithHTTPClient(nil)},
		{name: "nil clock", opt: pushnotify.WithClock(nil)},
		{name: "nil option"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range good {
				m[k] = v
			}
			if tc.edit != nil {
				tc.edit(m)
			}
			b, _ := json.Marshal(m)
			_, err := pushnotify.NewFCM(b, tc.opt)
			if err == nil {
				t.Fatal("NewFCM accepted it")
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "secret-material") {
				t.Errorf("error quotes the key: %v", err)
			}
		})
	}
	if _, err := pushnotify.NewFCM([]byte(`{"private_key":"-----BEGIN PRIVATE KEY-----`)); err == nil || strings.Contains(err.Error(), "BEGIN") {
		t.Errorf("broken JSON: err = %v", err)
	}
}

func newAPNs(t *testing.T) (*pushnotify.APNs, *apnsServer, *clock) {
	t.Helper()
	c := newClock()
	key, pub := apnsKey(t)
	s := newAPNsServer(t, c, pub)
	a, err := pushnotify.NewAPNs(key, apnsKeyID, apnsTeam, apnsTopic,
		pushnotify.WithEndpoint(s.srv.URL), pushnotify.WithHTTPClient(s.srv.Client()), pushnotify.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	return a, s, c
}

func TestAPNs_WireFormat(t *testing.T) {
	a, s, c := newAPNs(t)
	ctx := context.Background()
	exp := c.Now().Add(5 * time.Minute)
	if err := a.Notify(ctx, challenge(provider.PlatformAPN, devToken, 5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	h := s.headers[0]
	gotHeaders := map[string]string{}
	for _, k := range []string{"Apns-Topic", "Apns-Push-Type", "Apns-Priority", "Apns-Expiration", "Apns-Collapse-Id", "Content-Type"} {
		gotHeaders[k] = h.Get(k)
	}
	wantHeaders := map[string]string{
		"Apns-Topic": apnsTopic, "Apns-Push-Type": "alert", "Apns-Priority": "10",
		"Apns-Expiration": fmt.Sprint(exp.Unix()), "Apns-Collapse-Id": "YC0123456789abcdef0123456789abcdef",
		"Content-Type": "application/json",
	}
	if d := cmp.Diff(wantHeaders, gotHeaders); d != "" {
		t.Errorf("headers (-want +got):\n%s", d)
	}
	wantBody := map[string]any{
		"aps":  map[string]any{"alert": map[string]any{"body": "Approve the login from Lisbon?"}, "sound": "default"},
		"type": "verify_push_challenge", "challenge_sid": "YC0123456789abcdef0123456789abcdef",
		"factor_sid": "YF0123456789abcdef0123456789abcdef", "message": "Approve the login from Lisbon?",
	}
	if d := cmp.Diff(wantBody, s.bodies[0]); d != "" {
		t.Errorf("body (-want +got):\n%s", d)
	}

	// The provider token is reused for less than an hour (50 minutes),
	// then signed afresh.
	c.Advance(49 * time.Minute)
	if err := a.Notify(ctx, challenge(provider.PlatformAPN, devToken, 0)); err != nil {
		t.Fatal(err)
	}
	if s.jwts[1] != s.jwts[0] {
		t.Error("a 49-minute-old provider token was not reused")
	}
	if got := s.headers[1].Get("Apns-Expiration"); got != "0" {
		t.Errorf("no expiry: apns-expiration = %q, want 0", got)
	}
	c.Advance(time.Minute)
	if err := a.Notify(ctx, challenge(provider.PlatformAPN, devToken, 0)); err != nil {
		t.Fatal(err)
	}
	if s.jwts[2] == s.jwts[1] {
		t.Error("a 50-minute-old provider token was reused")
	}
}

func TestAPNs_TopicFromAppID(t *testing.T) {
	c := newClock()
	key, pub := apnsKey(t)
	s := newAPNsServer(t, c, pub)
	a, err := pushnotify.NewAPNs(key, apnsKeyID, apnsTeam, "",
		pushnotify.WithEndpoint(s.srv.URL), pushnotify.WithHTTPClient(s.srv.Client()), pushnotify.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	n := challenge(provider.PlatformAPN, devToken, time.Minute)
	n.AppID = "com.example.other"
	if err := a.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if got := s.headers[0].Get("Apns-Topic"); got != "com.example.other" {
		t.Errorf("apns-topic = %q, want the notification's app ID", got)
	}
	n.AppID = ""
	if err := a.Notify(context.Background(), n); !errors.Is(err, pushnotify.ErrRejected) || s.posts != 1 {
		t.Errorf("no topic anywhere: err = %v after %d requests, want ErrRejected and no request", err, s.posts)
	}
}

func TestAPNs_Errors(t *testing.T) {
	reason := func(r string) string { return `{"reason":"` + r + `"}` }
	for _, tc := range []errCase{
		{name: "unregistered", status: 410, body: `{"reason":"Unregistered","timestamp":1772366400000}`, kind: pushnotify.ErrUnregistered, pkind: provider.ErrUndeliverable, reason: "Unregistered"},
		{name: "bad device token", status: 400, body: reason("BadDeviceToken"), kind: pushnotify.ErrUnregistered, pkind: provider.ErrUndeliverable, reason: "BadDeviceToken"},
		{name: "token not for topic", status: 400, body: reason("DeviceTokenNotForTopic"), kind: pushnotify.ErrUnregistered, pkind: provider.ErrUndeliverable, reason: "DeviceTokenNotForTopic"},
		{name: "bad topic", status: 400, body: reason("BadTopic"), kind: pushnotify.ErrRejected, pkind: provider.ErrInvalidRequest, reason: "BadTopic"},
		{name: "payload too large", status: 413, body: reason("PayloadTooLarge"), kind: pushnotify.ErrRejected, pkind: provider.ErrInvalidRequest, reason: "PayloadTooLarge"},
		{name: "invalid provider token", status: 403, body: reason("InvalidProviderToken"), kind: pushnotify.ErrCredentials, pkind: provider.ErrUnauthorized, reason: "InvalidProviderToken"},
		{name: "too many requests", status: 429, header: http.Header{"Retry-After": {"120"}}, body: reason("TooManyRequests"), kind: pushnotify.ErrRetryable, pkind: provider.ErrRateLimited, reason: "TooManyRequests", wait: 2 * time.Minute},
		{name: "internal", status: 500, body: reason("InternalServerError"), kind: pushnotify.ErrRetryable, pkind: provider.ErrOutcomeUnknown, reason: "InternalServerError"},
		{name: "unavailable", status: 503, body: reason("ServiceUnavailable"), kind: pushnotify.ErrRetryable, pkind: provider.ErrUnavailable, reason: "ServiceUnavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, s, _ := newAPNs(t)
			s.reply = func(int) (int, http.Header, string) { return tc.status, tc.header, tc.body }
			err := a.Notify(context.Background(), challenge(provider.PlatformAPN, devToken, time.Minute))
			checkErr(t, err, tc)
			if s.posts != 1 {
				t.Errorf("%d requests, want 1 (no retry)", s.posts)
			}
			noSecrets(t, err, devToken, s.jwts[0])
		})
	}
}

func TestAPNs_RenewsExpiredProviderTokenOnce(t *testing.T) {
	a, s, _ := newAPNs(t)
	expired := func(int) (int, http.Header, string) { return 403, nil, `{"reason":"ExpiredProviderToken"}` }
	s.reply = func(n int) (int, http.Header, string) {
		if n == 1 {
			return expired(n)
		}
		return 200, nil, ""
	}
	if err := a.Notify(context.Background(), challenge(provider.PlatformAPN, devToken, time.Minute)); err != nil {
		t.Fatal(err)
	}
	if len(s.jwts) != 2 || s.jwts[0] == s.jwts[1] {
		t.Fatalf("%d requests; want 2, the second with a new provider token", len(s.jwts))
	}
	// Signed in the same second, the new token is still a new signature
	// (ECDSA is randomised), and a second expiry is not retried again.
	s.reply = expired
	err := a.Notify(context.Background(), challenge(provider.PlatformAPN, devToken, time.Minute))
	checkErr(t, err, errCase{status: 403, kind: pushnotify.ErrCredentials, pkind: provider.ErrUnauthorized, reason: "ExpiredProviderToken"})
	if len(s.jwts) != 4 {
		t.Fatalf("%d requests, want 4", len(s.jwts))
	}
}

func TestAPNs_Refusals(t *testing.T) {
	a, s, _ := newAPNs(t)
	for _, tok := range []string{"", "not-hex", devToken + "/../x", devToken[:63]} {
		err := a.Notify(context.Background(), challenge(provider.PlatformAPN, tok, 0))
		if !errors.Is(err, pushnotify.ErrUnregistered) || !errors.Is(err, provider.ErrUndeliverable) {
			t.Errorf("token %q: err = %v", tok, err)
		}
		if tok != "" && strings.Contains(err.Error(), tok) {
			t.Errorf("error quotes the token: %v", err)
		}
	}
	if s.posts != 0 {
		t.Errorf("%d requests for malformed tokens", s.posts)
	}
}

func TestAPNs_TransportErrorHidesToken(t *testing.T) {
	a, s, _ := newAPNs(t)
	s.srv.Close() // the URL of the failed request holds the device token
	err := a.Notify(context.Background(), challenge(provider.PlatformAPN, devToken, 0))
	if !errors.Is(err, pushnotify.ErrRetryable) || !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("err = %v, want retryable and unavailable", err)
	}
	noSecrets(t, err, devToken)
	var ue interface{ Timeout() bool } // *url.Error, which would print the URL
	if errors.As(err, &ue) {
		t.Errorf("the error chain reaches %T, which prints the URL", ue)
	}
}

func TestNewAPNs_Invalid(t *testing.T) {
	key, _ := apnsKey(t)
	rsaPEM := serviceAccountJSON(t, "https://oauth2.googleapis.com/token") // holds an RSA key
	var sa map[string]string
	_ = json.Unmarshal(rsaPEM, &sa)
	for _, tc := range []struct {
		name               string
		key                []byte
		keyID, team, topic string
		opt                pushnotify.Option
	}{
		{name: "not PEM", key: []byte("secret-material"), keyID: apnsKeyID, team: apnsTeam, topic: apnsTopic},
		{name: "RSA key", key: []byte(sa["private_key"]), keyID: apnsKeyID, team: apnsTeam, topic: apnsTopic},
		{name: "short key ID", key: key, keyID: "ABC", team: apnsTeam, topic: apnsTopic},
		{name: "bad team", key: key, keyID: apnsKeyID, team: "DEF123GHI/", topic: apnsTopic},
		{name: "bad topic", key: key, keyID: apnsKeyID, team: apnsTeam, topic: "com.example bank"},
		{name: "plain http", key: key, keyID: apnsKeyID, team: apnsTeam, topic: apnsTopic, opt: pushnotify.WithEndpoint("http://127.0.0.1:1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []pushnotify.Option{}
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			_, err := pushnotify.NewAPNs(tc.key, tc.keyID, tc.team, tc.topic, opts...)
			if err == nil {
				t.Fatal("NewAPNs accepted it")
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "secret-material") {
				t.Errorf("error quotes the key: %v", err)
			}
		})
	}
}

func TestPlatforms(t *testing.T) {
	var got []provider.NotificationPlatform
	rec := pushnotify.NotifierFunc(func(_ context.Context, n pushnotify.Notification) error {
		got = append(got, n.Platform)
		return nil
	})
	p := pushnotify.Platforms{APN: rec, FCM: rec}
	ctx := context.Background()
	for _, pl := range []provider.NotificationPlatform{provider.PlatformAPN, provider.PlatformFCM, provider.PlatformNone} {
		if err := p.Notify(ctx, challenge(pl, "t", 0)); err != nil {
			t.Fatalf("%s: %v", pl, err)
		}
	}
	if d := cmp.Diff([]provider.NotificationPlatform{"apn", "fcm"}, got); d != "" {
		t.Errorf("delivered (-want +got):\n%s", d)
	}
	for _, pl := range []provider.NotificationPlatform{"apn", "web"} {
		err := pushnotify.Platforms{FCM: rec}.Notify(ctx, challenge(pl, "t", 0))
		if !errors.Is(err, pushnotify.ErrRejected) || !errors.Is(err, provider.ErrUnsupported) {
			t.Errorf("%s without a notifier: err = %v", pl, err)
		}
	}
	if err := pushnotify.None.Notify(ctx, challenge(provider.PlatformNone, "", 0)); err != nil {
		t.Errorf("None: %v", err)
	}
}

func TestFormatHidesSecrets(t *testing.T) {
	f, _, _ := newFCM(t)
	a, _, _ := newAPNs(t)
	n := challenge(provider.PlatformAPN, devToken, 0)
	for _, v := range []any{f, a, n, &n} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			s := fmt.Sprintf(verb, v)
			for _, secret := range []string{devToken, "PRIVATE KEY", "ya29."} {
				if strings.Contains(s, secret) {
					t.Errorf("%s of %T shows %q: %s", verb, v, secret, s)
				}
			}
			if strings.Contains(s, "0x") || len(s) > 300 {
				t.Errorf("%s of %T prints its internals: %s", verb, v, s)
			}
		}
	}
	if got := fmt.Sprint(f); got != "pushnotify.FCM{project:demo-project-1}" {
		t.Errorf("FCM prints %q", got)
	}
}

// noSecrets fails if err's text or any print of it shows one of secrets.
func noSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		s := fmt.Sprintf(verb, err)
		for _, sec := range secrets {
			if sec != "" && strings.Contains(s, sec) {
				t.Errorf("%s of the error shows a secret: %s", verb, s)
			}
		}
	}
}
