package provider

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestPushValidate(t *testing.T) {
	good := DeviceFactorRequest{FriendlyName: "Pixel", PublicKey: "k", Alg: "ES256", Platform: PlatformFCM,
		NotificationToken: strings.Repeat("t", 32), AppID: "com.example"}
	big := map[string]string{}
	for i := range 60 {
		big[fmt.Sprintf("key%02d", i)] = "valuevalue"
	}
	tests := []struct {
		name string
		err  error
	}{
		{"device ok", good.Validate()},
		{"device none", DeviceFactorRequest{PublicKey: "k", Alg: "ES256", Platform: PlatformNone, AppID: "a"}.Validate()},
		{"details ok", PushDetails{Message: "m", Fields: []PushField{{Label: "l", Value: "v"}}, Hidden: map[string]string{"ip": "1"}}.Validate()},
		{"update ok", DeviceFactorUpdate{Platform: PlatformAPN, NotificationToken: strings.Repeat("t", 255), SDKVersion: "1"}.Validate()},
		{"update none", DeviceFactorUpdate{Platform: PlatformNone}.Validate()},
		{"token ok", AccessTokenRequest{Identity: "user-0001", TTL: 5 * time.Minute}.Validate()},
	}
	for _, tt := range tests {
		if tt.err != nil {
			t.Errorf("%s: %v", tt.name, tt.err)
		}
	}
	bad := []struct {
		name string
		err  error
	}{
		{"device alg", func() error { r := good; r.Alg = "ES384"; return r.Validate() }()},
		{"device apn short token", func() error { r := good; r.Platform = PlatformAPN; r.NotificationToken = "x"; return r.Validate() }()},
		{"device long token", func() error { r := good; r.NotificationToken = strings.Repeat("t", 256); return r.Validate() }()},
		{"update short token", DeviceFactorUpdate{Platform: PlatformFCM, NotificationToken: strings.Repeat("t", 31)}.Validate()},
		{"update token with none", DeviceFactorUpdate{Platform: PlatformNone, NotificationToken: strings.Repeat("t", 32)}.Validate()},
		{"update no platform", DeviceFactorUpdate{NotificationToken: strings.Repeat("t", 32)}.Validate()},
		{"update long name", DeviceFactorUpdate{Platform: PlatformNone, FriendlyName: strings.Repeat("n", 65)}.Validate()},
		{"device platform", func() error { r := good; r.Platform = "sms"; return r.Validate() }()},
		{"device metadata", func() error { r := good; r.Metadata = big; return r.Validate() }()},
		{"device app id", func() error { r := good; r.AppID = strings.Repeat("a", 101); return r.Validate() }()},
		{"details no message", PushDetails{}.Validate()},
		{"details 21 fields", PushDetails{Message: "m", Fields: make([]PushField, 21)}.Validate()},
		{"details empty label", PushDetails{Message: "m", Fields: []PushField{{Value: "v"}}}.Validate()},
		{"details long value", PushDetails{Message: "m", Fields: []PushField{{Label: "l", Value: strings.Repeat("v", 129)}}}.Validate()},
		{"details hidden", PushDetails{Message: "m", Hidden: big}.Validate()},
		{"details bad UTF-8", PushDetails{Message: "\xff"}.Validate()},
		{"token identity", AccessTokenRequest{Identity: "x"}.Validate()},
		{"token ttl", AccessTokenRequest{Identity: "user-0001", TTL: time.Second}.Validate()},
	}
	for _, tt := range bad {
		if tt.err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

func TestPushPrinting(t *testing.T) {
	tok := AccessToken{ID: "YK1", Identity: "user-0001", Token: "sekrit-token"}
	n := PushNotification{Identity: "user-0001", Token: "sekrit-device-token", Message: "m"}
	cfg := &PushFactorConfig{Platform: PlatformFCM, NotificationToken: "sekrit-fcm-token"}
	req := DeviceFactorRequest{NotificationToken: "sekrit-apns-token"}
	upd := DeviceFactorUpdate{Platform: PlatformAPN, NotificationToken: "sekrit-rotated-token"}
	f := Factor{ID: "YF1", Push: cfg}
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v %#v %q", tok, tok, tok), fmt.Sprint(n), fmt.Sprintf("%+v %#v", n, n),
		fmt.Sprint(cfg, *cfg), fmt.Sprintf("%+v %#v %+v %#v", cfg, *cfg, *cfg, f), fmt.Sprintf("%v %+v %#v", req, req, req),
		fmt.Sprintf("%v %+v %#v %s", upd, upd, upd, upd)} {
		if strings.Contains(s, "sekrit") {
			t.Errorf("printed a secret: %s", s)
		}
	}
	if d := n.Data(); d["type"] != "verify_push_challenge" || d["message"] != "m" || len(d) != 4 {
		t.Errorf("Data() = %v", d)
	}
}

type clockErr struct{ t time.Time }

func (e clockErr) Error() string         { return "clock" }
func (e clockErr) ServerTime() time.Time { return e.t }

func TestServerTime(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got, ok := ServerTime(fmt.Errorf("wrapped: %w", clockErr{at})); !ok || !got.Equal(at) {
		t.Errorf("ServerTime = %v, %v", got, ok)
	}
	if _, ok := ServerTime(clockErr{}); ok {
		t.Errorf("zero time reported")
	}
	if _, ok := ServerTime(errors.New("x")); ok {
		t.Errorf("plain error reported")
	}
}
