package engine

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/internal/pushsig"
	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
)

const pushAccount = "AC00000000000000000000000000000001"

// pushRig is a Factors with push on, its clock, what it delivered and
// reported.
type pushRig struct {
	x      *Factors
	clock  *clock
	mu     sync.Mutex
	notes  []provider.PushNotification
	events []FactorEvent
	fail   error // the notifier's answer
}

func newPushRig(t testing.TB) *pushRig {
	t.Helper()
	r := &pushRig{clock: new(clock)}
	r.clock.t.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	r.x = NewFactors(FactorConfig{
		Now: r.clock.now, MaxWrong: 5, Window: 10 * time.Minute, Issuer: "verifykit",
		Prefixes: [3]string{"YE", "YF", "YC"}, Salt: 7,
		NewSecret: func() []byte { return make([]byte, totp.SecretSize) },
		Store:     testStore(r.clock.now),
		OnEvent: func(_ context.Context, e FactorEvent) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events = append(r.events, e)
		},
		Push: PushConfig{
			Account: pushAccount, TokenPrefix: "YK", CredentialPrefix: "CR", NotificationPrefix: "NT",
			Notify: func(_ context.Context, n provider.PushNotification) error {
				r.mu.Lock()
				defer r.mu.Unlock()
				r.notes = append(r.notes, n)
				return r.fail
			},
		},
	})
	return r
}

// testDevice is a phone, signing with pushsig directly.
type testDevice struct {
	key      *ecdsa.PrivateKey
	identity string
	f        provider.DeviceFactor
}

var (
	devKeyOnce sync.Once
	devKeys    [3]*ecdsa.PrivateKey
)

func devKey(i int) *ecdsa.PrivateKey {
	devKeyOnce.Do(func() {
		for j := range devKeys {
			devKeys[j], _ = pushsig.GenerateKey()
		}
	})
	return devKeys[i]
}

func pushRequest(key *ecdsa.PrivateKey, platform provider.NotificationPlatform) provider.DeviceFactorRequest {
	pub, _ := pushsig.EncodePublicKey(&key.PublicKey)
	req := provider.DeviceFactorRequest{FriendlyName: "Pixel", PublicKey: pub, Alg: "ES256", Platform: platform,
		AppID: "com.example.app", SDKVersion: "1.0.0", Metadata: map[string]string{"os": "Android"}}
	if platform != provider.PlatformNone {
		req.NotificationToken = strings.Repeat("t", 64)
	}
	return req
}

// enrol makes a device with key i for identity and creates its factor.
func (r *pushRig) enrol(t testing.TB, identity string, i int, platform provider.NotificationPlatform) *testDevice {
	t.Helper()
	tok, err := r.x.CreateAccessToken(ctx, provider.AccessTokenRequest{Identity: identity})
	if err != nil {
		t.Fatal(err)
	}
	d := &testDevice{key: devKey(i), identity: identity}
	d.f, err = r.x.CreateDeviceFactor(ctx, tok.Token, pushRequest(d.key, platform))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *testDevice) auth(t testing.TB, now time.Time) string {
	t.Helper()
	s, err := pushsig.SignRequest(d.key, d.f.CredentialID, d.f.AccountID, now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// verifiedDevice enrols and verifies a device.
func (r *pushRig) verifiedDevice(t testing.TB, identity string, i int, platform provider.NotificationPlatform) *testDevice {
	t.Helper()
	d := r.enrol(t, identity, i, platform)
	sig, _ := pushsig.SignFactor(d.key, d.f.ID)
	if _, err := r.x.VerifyDeviceFactor(ctx, d.auth(t, r.clock.now()), identity, d.f.ID, sig); err != nil {
		t.Fatal(err)
	}
	return d
}

// answer fetches the challenge as the device and signs status.
func (r *pushRig) answer(t testing.TB, d *testDevice, id, status string) (provider.Challenge, error) {
	t.Helper()
	auth := d.auth(t, r.clock.now())
	dc, err := r.x.FetchDeviceChallenge(ctx, auth, d.identity, id)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := pushsig.SignChallengeResponse(d.key, dc.JSON, dc.SignatureFields, status)
	if err != nil {
		t.Fatal(err)
	}
	return r.x.AnswerDeviceChallenge(ctx, auth, d.identity, id, payload)
}

var details = provider.PushDetails{Message: "Log in to Example?", Fields: []provider.PushField{{Label: "IP", Value: "192.0.2.1"}},
	Hidden: map[string]string{"session": "s1"}}

func reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func TestPushLifecycle(t *testing.T) {
	r := newPushRig(t)
	const id = "user-00000001"
	tok, err := r.x.CreateAccessToken(ctx, provider.AccessTokenRequest{Identity: id, FactorFriendlyName: "Phone", TTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.ID, "YK") || len(tok.Token) < 40 || !tok.ExpiresAt.Equal(r.clock.now().Add(5*time.Minute)) {
		t.Fatalf("token %v expires %v", tok, tok.ExpiresAt)
	}
	d := &testDevice{key: devKey(0), identity: id}
	req := pushRequest(d.key, provider.PlatformFCM)
	req.FriendlyName = ""
	d.f, err = r.x.CreateDeviceFactor(ctx, tok.Token, req)
	if err != nil {
		t.Fatal(err)
	}
	wantCfg := &provider.PushFactorConfig{Platform: "fcm", AppID: "com.example.app", NotificationToken: strings.Repeat("t", 64),
		SDKVersion: "1.0.0", CredentialID: d.f.CredentialID, Metadata: map[string]string{"os": "Android"}}
	if d.f.Type != provider.FactorPush || d.f.Status != provider.FactorUnverified || d.f.FriendlyName != "Phone" ||
		d.f.AccountID != pushAccount || !strings.HasPrefix(d.f.CredentialID, "CR") {
		t.Fatalf("device factor %+v account %q credential %q", d.f.Factor, d.f.AccountID, d.f.CredentialID)
	}
	if diff := cmp.Diff(wantCfg, d.f.Push); diff != "" {
		t.Errorf("push config (-want +got):\n%s", diff)
	}
	// The token is spent.
	if _, err := r.x.CreateDeviceFactor(ctx, tok.Token, pushRequest(devKey(1), provider.PlatformFCM)); !errors.Is(err, provider.ErrUnauthorized) {
		t.Fatalf("second use of the access token: %v, want ErrUnauthorized", err)
	}
	// An unverified factor takes no challenge.
	if _, err := r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details}); reason(err) != ReasonFactorUnverified {
		t.Fatalf("challenge of an unverified factor: %v", err)
	}
	sig, _ := pushsig.SignFactor(d.key, d.f.ID)
	fa, err := r.x.VerifyDeviceFactor(ctx, d.auth(t, r.clock.now()), id, d.f.ID, sig)
	if err != nil || fa.Status != provider.FactorVerified {
		t.Fatalf("VerifyDeviceFactor = %v, %v", fa, err)
	}
	r.clock.advance(time.Second)
	ch, err := r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details})
	if err != nil || ch.Status != provider.ChallengePending || !ch.ExpiresAt.Equal(r.clock.now().Add(5*time.Minute)) {
		t.Fatalf("CreatePushChallenge = %v, %v", ch, err)
	}
	if diff := cmp.Diff(&details, ch.Push); diff != "" {
		t.Errorf("challenge details (-want +got):\n%s", diff)
	}
	wantNote := []provider.PushNotification{{Identity: id, FactorID: d.f.ID, ChallengeID: ch.ID, Platform: "fcm",
		Token: strings.Repeat("t", 64), AppID: "com.example.app", Message: details.Message, TTL: 5 * time.Minute}}
	if diff := cmp.Diff(wantNote, r.notes); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
	// The device's view: JSON with the signature fields.
	dc, err := r.x.FetchDeviceChallenge(ctx, d.auth(t, r.clock.now()), id, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"sid":"` + ch.ID + `","account_sid":"` + pushAccount + `","identity":"user-00000001","factor_sid":"` + d.f.ID +
		`","date_created":"2026-01-01T00:00:01Z","date_updated":"2026-01-01T00:00:01Z","date_responded":null,` +
		`"expiration_date":"2026-01-01T00:05:01Z","status":"pending","responded_reason":"none",` +
		`"details":{"message":"Log in to Example?","fields":[{"label":"IP","value":"192.0.2.1"}]},` +
		`"hidden_details":{"session":"s1"},"factor_type":"push"}`
	if diff := cmp.Diff(wantJSON, string(dc.JSON)); diff != "" {
		t.Errorf("device JSON (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(pushsig.DefaultSignatureFields, dc.SignatureFields); diff != "" {
		t.Errorf("signature fields (-want +got):\n%s", diff)
	}
	r.clock.advance(time.Second)
	got, err := r.answer(t, d, ch.ID, pushsig.StatusApproved)
	if err != nil || got.Status != provider.ChallengeApproved || !got.RespondedAt.Equal(r.clock.now()) {
		t.Fatalf("approve: %v, %v", got, err)
	}
	if got, _ := r.x.FetchChallenge(ctx, id, ch.ID); got.Status != provider.ChallengeApproved {
		t.Fatalf("backend sees %v", got)
	}
	// Deny another.
	ch2, _ := r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details})
	if got, err := r.answer(t, d, ch2.ID, pushsig.StatusDenied); err != nil || got.Status != provider.ChallengeDenied {
		t.Fatalf("deny: %v, %v", got, err)
	}
	if err := r.x.DeleteDeviceFactor(ctx, d.auth(t, r.clock.now()), id, d.f.ID); err != nil {
		t.Fatal(err)
	}
	// A deleted factor's key no longer authenticates.
	if _, err := r.x.FetchDeviceChallenge(ctx, d.auth(t, r.clock.now()), id, ch2.ID); !errors.Is(err, provider.ErrUnauthorized) {
		t.Fatalf("after delete: %v, want ErrUnauthorized", err)
	}
	var kinds []provider.LifecycleKind
	for _, e := range r.events {
		if le, ok := e.Lifecycle("fake"); ok {
			kinds = append(kinds, le.Kind)
			if le.FactorType != provider.FactorPush || le.Identity != id {
				t.Errorf("lifecycle event %v", le)
			}
		}
	}
	want := []provider.LifecycleKind{provider.EventFactorCreated, provider.EventFactorVerified, provider.EventChallengeApproved,
		provider.EventChallengeDenied, provider.EventFactorDeleted}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("lifecycle events (-want +got):\n%s", diff)
	}
}

func TestAccessTokens(t *testing.T) {
	r := newPushRig(t)
	const id = "user-00000001"
	for _, tt := range []struct {
		name string
		req  provider.AccessTokenRequest
	}{
		{"bad identity", provider.AccessTokenRequest{Identity: "short"}},
		{"ttl under a minute", provider.AccessTokenRequest{Identity: id, TTL: 59 * time.Second}},
		{"ttl over 5 minutes", provider.AccessTokenRequest{Identity: id, TTL: 301 * time.Second}},
		{"long name", provider.AccessTokenRequest{Identity: id, FactorFriendlyName: strings.Repeat("n", 65)}},
	} {
		if _, err := r.x.CreateAccessToken(ctx, tt.req); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("%s: %v, want ErrInvalidRequest", tt.name, err)
		}
	}
	tok, _ := r.x.CreateAccessToken(ctx, provider.AccessTokenRequest{Identity: id})
	r.clock.advance(provider.DefaultAccessTokenTTL)
	if _, err := r.x.CreateDeviceFactor(ctx, tok.Token, pushRequest(devKey(0), provider.PlatformNone)); !errors.Is(err, provider.ErrUnauthorized) {
		t.Errorf("expired token: %v, want ErrUnauthorized", err)
	}
	if _, err := r.x.CreateDeviceFactor(ctx, "nope", pushRequest(devKey(0), provider.PlatformNone)); !errors.Is(err, provider.ErrUnauthorized) {
		t.Errorf("unknown token: %v, want ErrUnauthorized", err)
	}
	// No name anywhere: refused, and the token is not spent.
	tok, _ = r.x.CreateAccessToken(ctx, provider.AccessTokenRequest{Identity: id})
	req := pushRequest(devKey(0), provider.PlatformNone)
	req.FriendlyName = ""
	if _, err := r.x.CreateDeviceFactor(ctx, tok.Token, req); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("no name: %v", err)
	}
	if _, err := r.x.CreateDeviceFactor(ctx, tok.Token, pushRequest(devKey(0), provider.PlatformNone)); err != nil {
		t.Errorf("token after a refused request: %v", err)
	}
	if s := tok.String() + tok.GoString(); strings.Contains(s, tok.Token) {
		t.Errorf("printed token: %s", s)
	}
}

func TestCreateDeviceFactorRefuses(t *testing.T) {
	r := newPushRig(t)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	base := pushRequest(devKey(0), provider.PlatformAPN)
	for _, tt := range []struct {
		name string
		edit func(*provider.DeviceFactorRequest)
	}{
		{"P-384 key", func(r *provider.DeviceFactorRequest) { r.PublicKey = base64.StdEncoding.EncodeToString(der) }},
		{"key not base64", func(r *provider.DeviceFactorRequest) { r.PublicKey = "%%" }},
		{"no key", func(r *provider.DeviceFactorRequest) { r.PublicKey = "" }},
		{"alg RS256", func(r *provider.DeviceFactorRequest) { r.Alg = "RS256" }},
		{"platform gcm", func(r *provider.DeviceFactorRequest) { r.Platform = "gcm" }},
		{"short notification token", func(r *provider.DeviceFactorRequest) { r.NotificationToken = "short" }},
		{"token with platform none", func(r *provider.DeviceFactorRequest) { r.Platform = provider.PlatformNone }},
		{"no app id", func(r *provider.DeviceFactorRequest) { r.AppID = "" }},
		{"large metadata", func(r *provider.DeviceFactorRequest) { r.Metadata = map[string]string{"k": strings.Repeat("v", 1100)} }},
	} {
		tok, _ := r.x.CreateAccessToken(ctx, provider.AccessTokenRequest{Identity: "user-00000001"})
		req := base
		tt.edit(&req)
		if _, err := r.x.CreateDeviceFactor(ctx, tok.Token, req); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("%s: %v, want ErrInvalidRequest", tt.name, err)
		}
	}
}

func TestDeviceAuth(t *testing.T) {
	r := newPushRig(t)
	const id = "user-00000001"
	d := r.enrol(t, id, 0, provider.PlatformNone)
	other := r.enrol(t, "user-00000002", 1, provider.PlatformNone)
	sig, _ := pushsig.SignFactor(d.key, d.f.ID)
	now := r.clock.now()
	forged, _ := pushsig.SignRequest(devKey(2), d.f.CredentialID, pushAccount, now)
	wrongSub, _ := pushsig.SignRequest(d.key, d.f.CredentialID, "AC-other", now)
	stale := d.auth(t, now.Add(-11*time.Minute))
	early := d.auth(t, now.Add(time.Minute))
	parts := strings.Split(d.auth(t, now), ".")
	for _, tt := range []struct {
		name, auth, identity, reason string
	}{
		{"another key under the factor's kid", forged, id, ReasonDeviceAuth},
		{"another account", wrongSub, id, ReasonDeviceAuth},
		{"another identity's factor", other.auth(t, now), id, ReasonDeviceAuth},
		{"garbage", "a.b.c", id, ReasonDeviceAuth},
		{"the factor's header, an empty payload", parts[0] + ".e30." + parts[2], id, ReasonDeviceAuth},
		{"expired", stale, id, ReasonDeviceClock},
		{"not yet valid", early, id, ReasonDeviceClock},
	} {
		_, err := r.x.VerifyDeviceFactor(ctx, tt.auth, tt.identity, d.f.ID, sig)
		if !errors.Is(err, provider.ErrUnauthorized) || reason(err) != tt.reason {
			t.Errorf("%s: %v, want ErrUnauthorized (%s)", tt.name, err, tt.reason)
		}
		st, ok := provider.ServerTime(err)
		if tt.reason == ReasonDeviceClock && (!ok || !st.Equal(now)) {
			t.Errorf("%s: ServerTime = %v, %v; want %v", tt.name, st, ok, now)
		}
		if tt.reason != ReasonDeviceClock && ok {
			t.Errorf("%s: ServerTime set", tt.name)
		}
		if strings.Contains(err.Error(), tt.auth) || strings.Contains(err.Error(), sig) {
			t.Errorf("%s: error %q contains a secret", tt.name, err)
		}
	}
	// A device's own factor, named under another identity, is refused.
	if _, err := r.x.ListDeviceChallenges(ctx, other.auth(t, now), id, other.f.ID, ""); !errors.Is(err, provider.ErrUnauthorized) {
		t.Errorf("a device's token under another identity: %v, want ErrUnauthorized", err)
	}
	// The other device's JWT cannot act on this factor even under its own identity.
	if _, err := r.x.VerifyDeviceFactor(ctx, other.auth(t, now), "user-00000002", d.f.ID, sig); !errors.Is(err, provider.ErrUnauthorized) {
		t.Errorf("another factor's token: %v", err)
	}
	// None of them verified the factor or counted against it.
	fa, _ := r.x.FetchFactor(ctx, id, d.f.ID)
	if fa.Status != provider.FactorUnverified {
		t.Fatalf("factor %v", fa)
	}
	auth := d.auth(t, now)
	if _, err := r.x.VerifyDeviceFactor(ctx, auth, id, d.f.ID, sig); err != nil {
		t.Fatalf("the right token and signature: %v", err)
	}
	// A token verified once is still refused after its exp.
	r.clock.advance(pushsig.RequestLifetime - time.Second)
	if _, err := r.x.ListDeviceChallenges(ctx, auth, id, d.f.ID, ""); err != nil {
		t.Fatalf("the same token in its window: %v", err)
	}
	r.clock.advance(time.Second)
	if _, err := r.x.ListDeviceChallenges(ctx, auth, id, d.f.ID, ""); reason(err) != ReasonDeviceClock {
		t.Fatalf("the same token at its exp: %v, want %s", err, ReasonDeviceClock)
	}
}

func TestWrongSignaturesLockOut(t *testing.T) {
	r := newPushRig(t)
	const id = "user-00000001"
	d := r.enrol(t, id, 0, provider.PlatformNone)
	bad, _ := pushsig.SignFactor(devKey(1), d.f.ID) // another key
	other, _ := pushsig.SignFactor(d.key, "YF-another")
	good, _ := pushsig.SignFactor(d.key, d.f.ID)
	for i := range 5 {
		payload := bad
		if i%2 == 1 {
			payload = other
		}
		_, err := r.x.VerifyDeviceFactor(ctx, d.auth(t, r.clock.now()), id, d.f.ID, payload)
		if !errors.Is(err, provider.ErrInvalidRequest) || reason(err) != ReasonBadSignature {
			t.Fatalf("wrong signature %d: %v", i, err)
		}
		r.clock.advance(time.Minute)
	}
	_, err := r.x.VerifyDeviceFactor(ctx, d.auth(t, r.clock.now()), id, d.f.ID, good)
	wait, _ := provider.RetryAfter(err)
	var ee *Error
	if !errors.Is(err, provider.ErrTooManyChecks) || !errors.As(err, &ee) || ee.Wait != 5*time.Minute {
		t.Fatalf("right signature after 5 wrong: %v (wait %v), want ErrTooManyChecks for 5 minutes", err, wait)
	}
	// Malformed payloads are refused without counting.
	if _, err := r.x.VerifyDeviceFactor(ctx, d.auth(t, r.clock.now()), id, d.f.ID, "!!"); !errors.Is(err, provider.ErrTooManyChecks) {
		t.Fatalf("locked: %v", err)
	}
	r.clock.advance(5 * time.Minute)
	if fa, err := r.x.VerifyDeviceFactor(ctx, d.auth(t, r.clock.now()), id, d.f.ID, good); err != nil || !fa.Verified() {
		t.Fatalf("after the window: %v, %v", fa, err)
	}
}

func TestAnswerRefusals(t *testing.T) {
	r := newPushRig(t)
	const id = "user-00000001"
	d := r.verifiedDevice(t, id, 0, provider.PlatformNone)
	d2 := r.verifiedDevice(t, id, 1, provider.PlatformNone) // a second phone of the same user
	create := func() provider.Challenge {
		t.Helper()
		ch, err := r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	a, b := create(), create()
	now := r.clock.now()
	auth := d.auth(t, now)
	view := func(id2 string) provider.DeviceChallenge {
		dc, err := r.x.FetchDeviceChallenge(ctx, auth, id, id2)
		if err != nil {
			t.Fatal(err)
		}
		return dc
	}
	va := view(a.ID)
	approveA, _ := pushsig.SignChallengeResponse(d.key, va.JSON, va.SignatureFields, pushsig.StatusApproved)
	byOtherKey, _ := pushsig.SignChallengeResponse(devKey(2), view(b.ID).JSON, pushsig.DefaultSignatureFields, pushsig.StatusApproved)
	tests := []struct {
		name    string
		auth    string
		ch      string
		payload string
		kind    error
		reason  string
	}{
		{"A's answer on B", auth, b.ID, approveA, provider.ErrInvalidRequest, ReasonBadSignature},
		{"another key's answer", auth, b.ID, byOtherKey, provider.ErrInvalidRequest, ReasonBadSignature},
		{"malformed", auth, b.ID, "x.y.z", provider.ErrInvalidRequest, ReasonFactorInvalid},
		{"the other phone answering", d2.auth(t, now), a.ID, approveA, provider.ErrNotFound, ReasonChallengeNotFound},
		{"A approved", auth, a.ID, approveA, nil, ""},
		{"A's answer replayed", auth, a.ID, approveA, provider.ErrInvalidRequest, ReasonChallengeAnswered},
	}
	for _, tt := range tests {
		got, err := r.x.AnswerDeviceChallenge(ctx, tt.auth, id, tt.ch, tt.payload)
		if tt.kind == nil {
			if err != nil || !got.Approved() {
				t.Fatalf("%s: %v, %v", tt.name, got, err)
			}
			continue
		}
		if !errors.Is(err, tt.kind) || reason(err) != tt.reason {
			t.Errorf("%s: %v, want %v (%s)", tt.name, err, tt.kind, tt.reason)
		}
		if strings.Contains(err.Error(), tt.payload) || strings.Contains(err.Error(), tt.auth) {
			t.Errorf("%s: error contains a secret", tt.name)
		}
	}
	if got, _ := r.x.FetchChallenge(ctx, id, b.ID); got.Status != provider.ChallengePending {
		t.Fatalf("B after refusals: %v", got)
	}
	// A's approval ended the window of the two bad signatures; the replay
	// counted one; four more lock the factor.
	for range 4 {
		_, _ = r.x.AnswerDeviceChallenge(ctx, auth, id, b.ID, approveA)
	}
	if _, err := r.answer(t, d, b.ID, pushsig.StatusApproved); !errors.Is(err, provider.ErrTooManyChecks) {
		t.Fatalf("right answer after 5 wrong: %v, want ErrTooManyChecks", err)
	}
	// Expiry: the answer of an expired challenge is ErrNotFound.
	r.clock.advance(10 * time.Minute)
	c := create()
	vc, _ := r.x.FetchDeviceChallenge(ctx, d.auth(t, r.clock.now()), id, c.ID)
	late, _ := pushsig.SignChallengeResponse(d.key, vc.JSON, vc.SignatureFields, pushsig.StatusApproved)
	r.clock.advance(defaultChallengeExpiry)
	if _, err := r.x.AnswerDeviceChallenge(ctx, d.auth(t, r.clock.now()), id, c.ID, late); !errors.Is(err, provider.ErrNotFound) || reason(err) != ReasonChallengeExpired {
		t.Fatalf("answer after expiry: %v", err)
	}
	if got, _ := r.x.FetchChallenge(ctx, id, c.ID); got.Status != provider.ChallengeExpired {
		t.Fatalf("expired challenge: %v", got)
	}
	if dc, _ := r.x.FetchDeviceChallenge(ctx, d.auth(t, r.clock.now()), id, c.ID); dc.SignatureFields != nil {
		t.Errorf("an expired challenge asks for signature fields %v", dc.SignatureFields)
	}
}

func TestPushChallengeRules(t *testing.T) {
	r := newPushRig(t)
	const id = "user-00000001"
	d := r.verifiedDevice(t, id, 0, provider.PlatformAPN)
	now := r.clock.now()
	for _, tt := range []struct {
		name string
		req  provider.PushChallengeRequest
	}{
		{"no message", provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID}},
		{"long message", provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: provider.PushDetails{Message: strings.Repeat("m", 257)}}},
		{"long label", provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: provider.PushDetails{Message: "m", Fields: []provider.PushField{{Label: strings.Repeat("l", 37)}}}}},
		{"expiry past", provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details, ExpiresIn: -time.Second}},
		{"expiry over an hour", provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details, ExpiresIn: time.Hour + time.Second}},
	} {
		if _, err := r.x.CreatePushChallenge(ctx, tt.req); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("%s: %v, want ErrInvalidRequest", tt.name, err)
		}
	}
	ch, err := r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details, ExpiresIn: time.Hour})
	if err != nil || !ch.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("an hour: %v %v", ch, err)
	}
	// TOTP operations refuse a push factor and challenge.
	if _, err := r.x.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: d.f.ID, Code: "123456"}); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("ChallengeFactor(push): %v", err)
	}
	if _, err := r.x.UpdateChallenge(ctx, id, ch.ID, "123456"); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("UpdateChallenge(push): %v", err)
	}
	if _, err := r.x.UpdateFactor(ctx, id, d.f.ID, FactorUpdate{Code: "123456"}); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("UpdateFactor(push, code): %v", err)
	}
	if _, ok := r.x.Code(id, d.f.ID); ok {
		t.Errorf("Code of a push factor")
	}
	if fa, err := r.x.UpdateFactor(ctx, id, d.f.ID, FactorUpdate{FriendlyName: "Old phone"}); err != nil || fa.FriendlyName != "Old phone" || fa.Push == nil {
		t.Errorf("rename: %v %v", fa, err)
	}
	// A TOTP factor takes no push challenge.
	e := verified(t, r.x, id)
	if _, err := r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: e.ID, Details: details}); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("push challenge of a TOTP factor: %v", err)
	}
	// A returned challenge shares nothing with the engine.
	ch.Push.Fields[0].Value = "changed"
	if got, _ := r.x.FetchChallenge(ctx, id, ch.ID); got.Push.Fields[0].Value != "192.0.2.1" {
		t.Errorf("the engine's challenge changed with the caller's copy")
	}
}

func TestNotifyChallenge(t *testing.T) {
	r := newPushRig(t)
	const id = "user-00000001"
	d := r.verifiedDevice(t, id, 0, provider.PlatformAPN)
	r.fail = errors.New("apns down")
	ch, err := r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details})
	if err != nil {
		t.Fatalf("a failed notification failed the challenge: %v", err)
	}
	if err := r.x.NotifyChallenge(ctx, id, ch.ID, 0); err == nil || err != r.fail {
		t.Errorf("NotifyChallenge returned %v, want the notifier's error", err)
	}
	r.fail = nil
	if err := r.x.NotifyChallenge(ctx, id, ch.ID, -1); err != nil {
		t.Errorf("NotifyChallenge: %v", err)
	}
	if n := len(r.notes); n != 3 || r.notes[1].TTL != 0 || r.notes[2].TTL != provider.DefaultNotificationTTL {
		t.Errorf("notifications %v", r.notes)
	}
	var failed int
	for _, e := range r.events {
		if e.Op == OpNotifyChallenge && e.Err != nil {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("%d failed notification events, want 2", failed)
	}
	if err := r.x.NotifyChallenge(ctx, id, ch.ID, 301*time.Second); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("ttl 301 s: %v", err)
	}
	if _, err := r.answer(t, d, ch.ID, pushsig.StatusApproved); err != nil {
		t.Fatal(err)
	}
	if err := r.x.NotifyChallenge(ctx, id, ch.ID, 0); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("notify an answered challenge: %v", err)
	}
	n := r.verifiedDevice(t, "user-00000002", 1, provider.PlatformNone)
	before := len(r.notes)
	ch2, _ := r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: "user-00000002", FactorID: n.f.ID, Details: details})
	if len(r.notes) != before {
		t.Errorf("a factor with platform none was notified")
	}
	if err := r.x.NotifyChallenge(ctx, "user-00000002", ch2.ID, 0); !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("notify with platform none: %v", err)
	}
	// The device of platform none polls.
	l, err := r.x.ListDeviceChallenges(ctx, n.auth(t, r.clock.now()), "user-00000002", n.f.ID, provider.ChallengePending)
	if err != nil || len(l) != 1 || l[0].ID != ch2.ID {
		t.Fatalf("ListDeviceChallenges = %v, %v", l, err)
	}
}

// BenchmarkPushChallengeApprove is a login: the backend creates a
// challenge, the device signs it, the engine checks the answer (one ECDSA
// verify; the request JWT was verified before and is remembered) and
// approves it. The device's signing is outside the timer.
func BenchmarkPushChallengeApprove(b *testing.B) {
	r := newPushRig(b)
	const id = "user-00000001"
	d := r.verifiedDevice(b, id, 0, provider.PlatformNone)
	auth := d.auth(b, r.clock.now())
	b.ReportAllocs()
	for b.Loop() {
		ch, err := r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		dc, _ := r.x.FetchDeviceChallenge(ctx, auth, id, ch.ID)
		payload, _ := pushsig.SignChallengeResponse(d.key, dc.JSON, dc.SignatureFields, pushsig.StatusApproved)
		b.StartTimer()
		if got, err := r.x.AnswerDeviceChallenge(ctx, auth, id, ch.ID, payload); err != nil || !got.Approved() {
			b.Fatal(got, err)
		}
	}
}

// pendingChallenge makes a rig, a verified device of identity id and a
// pending challenge of its factor.
func pendingChallenge(t *testing.T, id string) (*pushRig, *testDevice, provider.Challenge) {
	t.Helper()
	r := newPushRig(t)
	d := r.verifiedDevice(t, id, 0, provider.PlatformNone)
	ch, err := r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details})
	if err != nil {
		t.Fatal(err)
	}
	return r, d, ch
}

// Answers of one challenge racing each other: exactly one applies, the
// others are replays, whatever the interleaving (run with -race).
func TestConcurrentAnswersApplyOnce(t *testing.T) {
	const id = "user-00000001"
	r, d, ch := pendingChallenge(t, id)
	auth := d.auth(t, r.clock.now())
	dc, err := r.x.FetchDeviceChallenge(ctx, auth, id, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	const n = 4 // fewer replays than MaxWrong
	payloads := make([]string, n)
	for i := range payloads {
		status := pushsig.StatusApproved
		if i%2 == 1 {
			status = pushsig.StatusDenied
		}
		payloads[i], _ = pushsig.SignChallengeResponse(d.key, dc.JSON, dc.SignatureFields, status)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = r.x.AnswerDeviceChallenge(ctx, auth, id, ch.ID, payloads[i]) })
	}
	wg.Wait()
	applied := 0
	for i, err := range errs {
		switch {
		case err == nil:
			applied++
		case reason(err) != ReasonChallengeAnswered:
			t.Errorf("answer %d: %v, want nil or %s", i, err, ReasonChallengeAnswered)
		}
	}
	if applied != 1 {
		t.Fatalf("%d answers applied to one challenge, want 1", applied)
	}
}

// An answer's signatures are checked without the engine's lock held; a
// second answer applied meanwhile makes the first a replay.
func TestAnswerVerifiesOutsideTheLock(t *testing.T) {
	const id = "user-00000001"
	r, d, ch := pendingChallenge(t, id)
	auth := d.auth(t, r.clock.now().Add(-time.Second)) // a request JWT not seen before
	dc, err := r.x.FetchDeviceChallenge(ctx, d.auth(t, r.clock.now()), id, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	approve, _ := pushsig.SignChallengeResponse(d.key, dc.JSON, dc.SignatureFields, pushsig.StatusApproved)
	deny, _ := pushsig.SignChallengeResponse(d.key, dc.JSON, dc.SignatureFields, pushsig.StatusDenied)
	calls := 0
	r.x.afterVerify = func() {
		calls++
		if calls > 1 {
			return
		}
		if !r.x.mu.TryLock() {
			t.Error("the lock is held while signatures are verified")
			return
		}
		r.x.mu.Unlock()
		if got, err := r.x.AnswerDeviceChallenge(ctx, auth, id, ch.ID, deny); err != nil || got.Status != provider.ChallengeDenied {
			t.Errorf("the answer in between: %v, %v", got.Status, err)
		}
	}
	_, err = r.x.AnswerDeviceChallenge(ctx, auth, id, ch.ID, approve)
	if reason(err) != ReasonChallengeAnswered {
		t.Fatalf("the answer verified before another applied: %v, want %s", err, ReasonChallengeAnswered)
	}
	if calls != 2 {
		t.Fatalf("afterVerify called %d times, want 2", calls)
	}
	got, _ := r.x.FetchChallenge(ctx, id, ch.ID)
	if got.Status != provider.ChallengeDenied {
		t.Fatalf("status %s, want denied", got.Status)
	}
}

// answerAllocs is the mean heap allocations of answering one challenge,
// request JWT already verified: the allocation budget of the path
// BenchmarkPushChallengeApprove times.
func answerAllocs(t *testing.T) float64 {
	const id, n = "user-00000001", 20
	r := newPushRig(t)
	d := r.verifiedDevice(t, id, 0, provider.PlatformNone)
	auth := d.auth(t, r.clock.now())
	ids, payloads := make([]string, n), make([]string, n)
	for i := range n {
		ch, err := r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details})
		if err != nil {
			t.Fatal(err)
		}
		dc, _ := r.x.FetchDeviceChallenge(ctx, auth, id, ch.ID)
		ids[i] = ch.ID
		payloads[i], _ = pushsig.SignChallengeResponse(d.key, dc.JSON, dc.SignatureFields, pushsig.StatusApproved)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range n {
		if got, err := r.x.AnswerDeviceChallenge(ctx, auth, id, ids[i], payloads[i]); err != nil || !got.Approved() {
			t.Fatal(got, err)
		}
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / n
}

// Answering costs one ECDSA verify plus little: the request JWT is parsed
// once and the stored challenge is not decoded again for each answer.
func TestAnswerAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	// 139 before NewChallenge and the single parse, 75 before pushsig's
	// own JSON object reader, 26 with it, 18 with the protocol's words
	// and the hash's input not copied.
	if got := answerAllocs(t); got > 20 {
		t.Errorf("an answer allocates %.1f times, want at most 20", got)
	}
}

// TestUpdateDeviceFactor: a device rotates its notification token; only
// its own request JWT may, the token is checked as on creation, and the
// next notification goes to the new token.
func TestUpdateDeviceFactor(t *testing.T) {
	r := newPushRig(t)
	const id, other = "user-00000001", "user-00000002"
	d := r.verifiedDevice(t, id, 0, provider.PlatformAPN)
	o := r.verifiedDevice(t, other, 1, provider.PlatformFCM)
	same := r.verifiedDevice(t, id, 2, provider.PlatformFCM) // another device of the same identity
	newToken := strings.Repeat("n", 40)
	good := provider.DeviceFactorUpdate{Platform: provider.PlatformFCM, NotificationToken: newToken, SDKVersion: "2.0.0"}
	now := r.clock.now()
	refusals := []struct {
		name, auth, identity string
		req                  provider.DeviceFactorUpdate
		want                 error
	}{
		{"another identity's device", o.auth(t, now), id, good, provider.ErrUnauthorized},
		{"another identity's device on its own path", o.auth(t, now), other, good, provider.ErrUnauthorized},
		{"another device of the identity", same.auth(t, now), id, good, provider.ErrUnauthorized},
		{"no request JWT", "", id, good, provider.ErrUnauthorized},
		{"token too short", d.auth(t, now), id, provider.DeviceFactorUpdate{Platform: provider.PlatformFCM, NotificationToken: strings.Repeat("s", 31)}, provider.ErrInvalidRequest},
		{"token too long", d.auth(t, now), id, provider.DeviceFactorUpdate{Platform: provider.PlatformAPN, NotificationToken: strings.Repeat("s", 256)}, provider.ErrInvalidRequest},
		{"no token", d.auth(t, now), id, provider.DeviceFactorUpdate{Platform: provider.PlatformAPN}, provider.ErrInvalidRequest},
		{"token with none", d.auth(t, now), id, provider.DeviceFactorUpdate{Platform: provider.PlatformNone, NotificationToken: newToken}, provider.ErrInvalidRequest},
		{"no platform", d.auth(t, now), id, provider.DeviceFactorUpdate{NotificationToken: newToken}, provider.ErrInvalidRequest},
	}
	for _, tc := range refusals {
		if _, err := r.x.UpdateDeviceFactor(ctx, tc.auth, tc.identity, d.f.ID, tc.req); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	got, err := r.x.UpdateDeviceFactor(ctx, d.auth(t, now), id, d.f.ID, good)
	if err != nil {
		t.Fatal(err)
	}
	want := provider.PushFactorConfig{Platform: provider.PlatformFCM, AppID: "com.example.app", NotificationToken: newToken,
		SDKVersion: "2.0.0", CredentialID: d.f.CredentialID, Metadata: map[string]string{"os": "Android"}}
	if diff := cmp.Diff(want, *got.Push); diff != "" || got.FriendlyName != "Pixel" || got.Status != provider.FactorVerified {
		t.Errorf("updated factor %+v (-want +got):\n%s", got, diff)
	}
	r.notes = nil
	if _, err := r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details}); err != nil {
		t.Fatal(err)
	}
	if len(r.notes) != 1 || r.notes[0].Token != newToken || r.notes[0].Platform != provider.PlatformFCM {
		t.Errorf("the next notification went to %v, not the new token", r.notes)
	}
	// Platform none stops notifications.
	if _, err := r.x.UpdateDeviceFactor(ctx, d.auth(t, now), id, d.f.ID, provider.DeviceFactorUpdate{Platform: provider.PlatformNone}); err != nil {
		t.Fatal(err)
	}
	r.notes = nil
	if _, err := r.x.CreatePushChallenge(ctx, provider.PushChallengeRequest{Identity: id, FactorID: d.f.ID, Details: details}); err != nil || len(r.notes) != 0 {
		t.Errorf("after platform none: %v, notifications %v", err, r.notes)
	}
}

// The device protocol's times are Twilio's: UTC, to the second, "Z".
func TestJSONTime(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 12, 7, 23, 59, 59, 999_999_999, paris), "2026-12-07T22:59:59Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05Z"},
	} {
		if got := jsonTime(tt.t); got != tt.want {
			t.Errorf("jsonTime(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}
