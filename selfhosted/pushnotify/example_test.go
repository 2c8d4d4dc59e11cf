package pushnotify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted/pushnotify"
)

// This example sends a push challenge to an iPhone through a local
// stand-in for APNs, then shows how a refusal is told apart. In
// production, keyP8 is the .p8 file from Apple's developer site and the
// endpoint option is left out.
func ExampleAPNs() {
	// A stand-in for APNs: HTTP/2 over TLS, answering 410 to one token.
	apns := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var payload map[string]any
		_ = json.NewDecoder(r.Body).Decode(&payload)
		fmt.Println(r.Proto, r.URL.Path[:10], r.Header.Get("Apns-Push-Type"), payload["type"], payload["message"])
		if r.URL.Path == "/3/device/"+"00ff" {
			w.WriteHeader(http.StatusGone)
			_, _ = w.Write([]byte(`{"reason":"Unregistered"}`))
		}
	}))
	apns.EnableHTTP2 = true
	apns.StartTLS()
	defer apns.Close()

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyP8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})

	n, err := pushnotify.NewAPNs(keyP8, "ABC123DEFG", "DEF123GHIJ", "com.example.bank",
		pushnotify.WithEndpoint(apns.URL), pushnotify.WithHTTPClient(apns.Client()))
	if err != nil {
		fmt.Println(err)
		return
	}
	ch := pushnotify.Notification{
		Platform: provider.PlatformAPN, Token: "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad",
		ChallengeID: "YC00000000000000000000000000000001", FactorID: "YF00000000000000000000000000000001",
		Message: "Log in to Example Bank?", TTL: 5 * time.Minute,
	}
	fmt.Println(n.Notify(context.Background(), ch))

	ch.Token = "00ff"
	err = n.Notify(context.Background(), ch)
	fmt.Println(errors.Is(err, pushnotify.ErrUnregistered), err)
	// Output:
	// HTTP/2.0 /3/device/ alert verify_push_challenge Log in to Example Bank?
	// <nil>
	// HTTP/2.0 /3/device/ alert verify_push_challenge Log in to Example Bank?
	// true pushnotify: apns: device token unregistered or invalid (status 410, Unregistered)
}

// Platforms sends each challenge the way its device registered: here
// through a stand-in, and not at all for a device that polls.
func ExamplePlatforms() {
	sent := pushnotify.NotifierFunc(func(_ context.Context, n pushnotify.Notification) error {
		fmt.Println("sent to", n.Platform, "for", n.ChallengeID)
		return nil
	})
	p := pushnotify.Platforms{FCM: sent}
	for _, pl := range []provider.NotificationPlatform{provider.PlatformFCM, provider.PlatformNone, provider.PlatformAPN} {
		err := p.Notify(context.Background(), pushnotify.Notification{Platform: pl, Token: "t", ChallengeID: "YC01"})
		fmt.Println(pl, err)
	}
	// Output:
	// sent to fcm for YC01
	// fcm <nil>
	// none <nil>
	// apn pushnotify: apn: notification rejected: no notifier for this platform
}
