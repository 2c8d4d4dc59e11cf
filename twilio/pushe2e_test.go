package twilio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/pushdevice"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
	"github.com/verifykit/verifykit/verify"
)

// pushSetup is a backend (verify over twilio) and an emulator on a
// stopped clock that delivers webhooks by hand, with the application's
// webhook endpoint registered.
type pushSetup struct {
	srv    *twiliotest.Server
	clock  *fake.Clock
	client *verify.Client
	tw     *twilio.Client
	mu     sync.Mutex
	events []provider.LifecycleEvent
}

func newPushSetup(t testing.TB) *pushSetup {
	t.Helper()
	ps := &pushSetup{clock: fake.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))}
	ps.srv = twiliotest.NewServer(twiliotest.WithClock(ps.clock.Now), twiliotest.WithManualWebhookDelivery())
	t.Cleanup(ps.srv.Close)
	var err error
	ps.tw, err = twilio.New(twiliotest.DefaultServiceSID, twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(ps.srv.URL), twilio.WithRetryWait(0, 0), twilio.WithClock(ps.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if ps.client, err = verify.New(ps.tw); err != nil {
		t.Fatal(err)
	}
	h, err := twilio.NewWebhookHandler(twiliotest.DefaultAuthToken, func(_ context.Context, e provider.LifecycleEvent) error {
		ps.mu.Lock()
		defer ps.mu.Unlock()
		ps.events = append(ps.events, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	app := httptest.NewServer(h)
	t.Cleanup(app.Close)
	if _, err := ps.tw.CreateWebhook(context.Background(), twilio.WebhookParams{FriendlyName: "app", EventTypes: []string{"*"}, WebhookURL: app.URL + "/twilio/events"}); err != nil {
		t.Fatal(err)
	}
	return ps
}

// phone returns a device for identity that talks HTTP to the emulator.
func (ps *pushSetup) phone(t testing.TB, identity string, clock func() time.Time) *pushdevice.Device {
	t.Helper()
	tr, err := pushdevice.NewHTTP(ps.srv.URL, twiliotest.DefaultServiceSID, identity, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := pushdevice.New(tr, pushdevice.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (ps *pushSetup) delivered(t *testing.T) []provider.LifecycleEvent {
	t.Helper()
	ps.srv.Emulator.DeliverWebhooks(context.Background())
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]provider.LifecycleEvent(nil), ps.events...)
}

// TestPushEndToEnd: the backend (verify over twilio) issues an access
// token, the simulated phone enrols over HTTP as the SDKs do, the backend
// creates a challenge, the phone approves it, the backend sees it approved
// and receives the signed webhook events of each step.
func TestPushEndToEnd(t *testing.T) {
	ps := newPushSetup(t)
	ctx := context.Background()
	const user = "5f0c6b1e-user-0001"
	tok, err := ps.client.CreatePushAccessToken(ctx, user, &verify.AccessTokenOptions{FactorFriendlyName: "Pixel", TTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.ID, "YK") || tok.ExpiresAt.Sub(tok.CreatedAt) != 5*time.Minute {
		t.Errorf("token %v", tok)
	}
	phone := ps.phone(t, user, ps.clock.Now)
	factor, err := phone.Enroll(ctx, tok.Token, &pushdevice.EnrollOptions{Platform: provider.PlatformFCM, NotificationToken: strings.Repeat("f", 40), AppID: "com.example.app"})
	if err != nil {
		t.Fatal(err)
	}
	if factor.Status != provider.FactorVerified || factor.FriendlyName != "Pixel" || !strings.HasPrefix(factor.ID, "YF") {
		t.Fatalf("factor %+v", factor)
	}
	if _, err := phone.Create(ctx, tok.Token, nil); !errors.Is(err, provider.ErrUnauthorized) {
		t.Errorf("second use of the access token: %v, want ErrUnauthorized", err)
	}
	backendView, err := ps.client.FetchFactor(ctx, user, factor.ID)
	if err != nil || backendView.Push == nil || backendView.Push.AppID != "com.example.app" || backendView.Push.Platform != provider.PlatformFCM {
		t.Fatalf("backend's factor %+v, %v", backendView, err)
	}
	ch, err := ps.client.StartPush(ctx, user, factor.ID, verify.PushDetails{
		Message: "Log in to Acme?", Fields: []verify.PushField{{Label: "Browser", Value: "Firefox"}}, Hidden: map[string]string{"ip": "192.0.2.1"},
	}, &verify.PushOptions{ExpiresIn: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := ps.srv.Emulator.LastMessage(factor.ID); !ok || m.Channel != "push" || m.ChallengeSID != ch.ID || m.Body != "Log in to Acme?" || m.Platform != "fcm" {
		t.Errorf("outbox %+v, %v", m, ok)
	}
	if err := ps.client.ResendPush(ctx, user, ch.ID, 0); err != nil {
		t.Errorf("ResendPush: %v", err)
	}
	shown, err := phone.Pending(ctx)
	if err != nil || len(shown) != 1 || shown[0].Push == nil || shown[0].Push.Fields[0].Value != "Firefox" {
		t.Fatalf("phone shows %+v, %v", shown, err)
	}
	if _, err := phone.Approve(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	done, err := ps.client.WaitChallenge(ctx, user, ch.ID, nil)
	if err != nil || done.Status != provider.ChallengeApproved {
		t.Fatalf("backend sees %v, %v", done.Status, err)
	}
	var kinds []provider.LifecycleKind
	for _, e := range ps.delivered(t) {
		kinds = append(kinds, e.Kind)
		if e.Identity != user || e.FactorID != factor.ID {
			t.Errorf("event %v", e)
		}
	}
	want := []provider.LifecycleKind{provider.EventFactorCreated, provider.EventFactorVerified, provider.EventChallengeApproved}
	if !slicesEqual(kinds, want) {
		t.Errorf("webhook events %v, want %v", kinds, want)
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPushDeviceClockCorrected: a phone whose clock is an hour behind gets
// 401 with the emulator's Date, corrects its clock and retries once, as
// the SDKs do.
func TestPushDeviceClockCorrected(t *testing.T) {
	ps := newPushSetup(t)
	ctx := context.Background()
	const user = "5f0c6b1e-user-0002"
	tok, err := ps.client.CreatePushAccessToken(ctx, user, &verify.AccessTokenOptions{FactorFriendlyName: "Pixel"})
	if err != nil {
		t.Fatal(err)
	}
	behind := func() time.Time { return ps.clock.Now().Add(-time.Hour) }
	phone := ps.phone(t, user, behind)
	if _, err := phone.Enroll(ctx, tok.Token, nil); err != nil {
		t.Fatalf("enrol with a slow clock: %v", err)
	}
	if f := phone.Factor(); f.Status != provider.FactorVerified {
		t.Errorf("factor %v", f.Status)
	}
}

// TestPushDeviceRefusals: a denial is the device's to make and is seen as
// denied; a replayed answer, an answer to another challenge and a request
// without the device's key are refused.
func TestPushDeviceRefusals(t *testing.T) {
	ps := newPushSetup(t)
	ctx := context.Background()
	const user = "5f0c6b1e-user-0003"
	tok, _ := ps.client.CreatePushAccessToken(ctx, user, &verify.AccessTokenOptions{FactorFriendlyName: "Pixel"})
	phone := ps.phone(t, user, ps.clock.Now)
	factor, err := phone.Enroll(ctx, tok.Token, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := func() verify.Challenge {
		ch, err := ps.client.StartPush(ctx, user, factor.ID, verify.PushDetails{Message: "Log in?"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	a, b := start(), start()
	da, err := phone.Fetch(ctx, a.ID)
	if err != nil || len(da.SignatureFields) == 0 {
		t.Fatalf("fetch: %+v, %v", da, err)
	}
	answer, err := phone.SignAnswer(da, true)
	if err != nil {
		t.Fatal(err)
	}
	auth, _ := phone.Auth()
	tr, _ := pushdevice.NewHTTP(ps.srv.URL, twiliotest.DefaultServiceSID, user, nil)
	if _, err := tr.AnswerDeviceChallenge(ctx, auth, user, b.ID, answer); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("a's answer to b: %v, want ErrInvalidRequest", err)
	}
	if _, err := tr.AnswerDeviceChallenge(ctx, "not-a-jwt", user, a.ID, answer); !errors.Is(err, provider.ErrUnauthorized) {
		t.Errorf("answer without the device's JWT: %v, want ErrUnauthorized", err)
	}
	if _, err := tr.AnswerDeviceChallenge(ctx, auth, user, a.ID, answer); err != nil {
		t.Fatalf("a's answer: %v", err)
	}
	if _, err := tr.AnswerDeviceChallenge(ctx, auth, user, a.ID, answer); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("replayed answer: %v, want ErrInvalidRequest", err)
	}
	if _, err := phone.Deny(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := ps.client.FetchChallenge(ctx, user, b.ID); got.Status != provider.ChallengeDenied {
		t.Errorf("b is %v, want denied", got.Status)
	}
	// A device credential opens the device's endpoints only.
	for _, mp := range [][2]string{{"GET", "/Factors"}, {"POST", "/Challenges"}, {"GET", "/Factors/" + factor.ID}, {"DELETE", ""}} {
		req, _ := http.NewRequest(mp[0], ps.srv.URL+"/v2/Services/"+twiliotest.DefaultServiceSID+"/Entities/"+user+mp[1], nil)
		req.SetBasicAuth("token", auth)
		resp, err := ps.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s with the device's JWT: %d, want 401", mp[0], mp[1], resp.StatusCode)
		}
	}
	if err := phone.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.client.FetchFactor(ctx, user, factor.ID); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("factor after the device deleted it: %v", err)
	}
}

// BenchmarkPushEmulatorApprove measures a push login over HTTP through the
// emulator: the backend creates a challenge, the phone fetches, signs and
// answers it, the backend fetches it approved (four requests, one ECDSA
// signature and two verifications).
func BenchmarkPushEmulatorApprove(b *testing.B) {
	ps := newPushSetup(b)
	ctx := context.Background()
	const user = "5f0c6b1e-user-0009"
	tok, err := ps.client.CreatePushAccessToken(ctx, user, &verify.AccessTokenOptions{FactorFriendlyName: "Pixel"})
	if err != nil {
		b.Fatal(err)
	}
	phone := ps.phone(b, user, ps.clock.Now)
	factor, err := phone.Enroll(ctx, tok.Token, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ch, err := ps.client.StartPush(ctx, user, factor.ID, verify.PushDetails{Message: "Log in?"}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := phone.Approve(ctx, ch.ID); err != nil {
			b.Fatal(err)
		}
		if got, err := ps.client.FetchChallenge(ctx, user, ch.ID); err != nil || got.Status != provider.ChallengeApproved {
			b.Fatal(got.Status, err)
		}
	}
}

// TestPushTokenOfAnotherIdentity: an access token creates a factor only
// for the identity it was issued for; used at another's path it is
// refused and leaves no factor.
func TestPushTokenOfAnotherIdentity(t *testing.T) {
	ps := newPushSetup(t)
	ctx := context.Background()
	tok, err := ps.client.CreatePushAccessToken(ctx, "5f0c6b1e-user-000a", &verify.AccessTokenOptions{FactorFriendlyName: "Pixel"})
	if err != nil {
		t.Fatal(err)
	}
	const other = "5f0c6b1e-user-000b"
	if _, err := ps.phone(t, other, ps.clock.Now).Create(ctx, tok.Token, nil); !errors.Is(err, provider.ErrUnauthorized) {
		t.Errorf("token used for another identity: %v, want ErrUnauthorized", err)
	}
	for _, id := range []string{"5f0c6b1e-user-000a", other} {
		if fs, err := ps.client.ListFactors(ctx, id); err != nil || len(fs) != 0 {
			t.Errorf("%s has factors %v, %v", id, fs, err)
		}
	}
}

// TestPushTokenRotation: the phone rotates its notification token over
// HTTP as the SDKs do (UpdateFactor without AuthPayload); the next
// notification in the outbox goes to the new token. Another identity's
// phone cannot change the factor, and a malformed token is refused.
func TestPushTokenRotation(t *testing.T) {
	ps := newPushSetup(t)
	ctx := context.Background()
	const user, other = "5f0c6b1e-user-0001", "5f0c6b1e-user-0002"
	enrolled := func(identity string) (*pushdevice.Device, provider.Factor) {
		tok, err := ps.client.CreatePushAccessToken(ctx, identity, &verify.AccessTokenOptions{FactorFriendlyName: "Pixel"})
		if err != nil {
			t.Fatal(err)
		}
		d := ps.phone(t, identity, ps.clock.Now)
		f, err := d.Enroll(ctx, tok.Token, &pushdevice.EnrollOptions{Platform: provider.PlatformFCM, NotificationToken: strings.Repeat("f", 40)})
		if err != nil {
			t.Fatal(err)
		}
		return d, f
	}
	phone, factor := enrolled(user)
	intruder, _ := enrolled(other)
	newToken := strings.Repeat("a", 64)
	// The intruder's JWT on the user's factor, through the same transport.
	tr, _ := pushdevice.NewHTTP(ps.srv.URL, twiliotest.DefaultServiceSID, user, nil)
	auth, err := intruder.Auth()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.UpdateDeviceFactor(ctx, auth, user, factor.ID, provider.DeviceFactorUpdate{Platform: provider.PlatformAPN, NotificationToken: newToken}); !errors.Is(err, provider.ErrUnauthorized) {
		t.Errorf("another identity's phone updated the factor: %v", err)
	}
	if _, err := phone.UpdateNotification(ctx, provider.PlatformAPN, "short"); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("a 5-byte token: %v, want ErrInvalidRequest", err)
	}
	got, err := phone.UpdateNotification(ctx, provider.PlatformAPN, newToken)
	if err != nil {
		t.Fatal(err)
	}
	if got.Push == nil || got.Push.Platform != provider.PlatformAPN || got.Push.NotificationToken != newToken || got.Push.SDKVersion != pushdevice.SDKVersion {
		t.Errorf("updated factor %+v", got)
	}
	ch, err := ps.client.StartPush(ctx, user, factor.ID, verify.PushDetails{Message: "Log in to Acme?"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := ps.srv.Emulator.LastMessage(factor.ID); !ok || m.ChallengeSID != ch.ID || m.Platform != "apn" || m.NotificationToken != newToken {
		t.Errorf("the notification went to platform %q, token %d bytes (ok %v), want apn and the new token", m.Platform, len(m.NotificationToken), ok)
	}
}

// TestPushIncludeDate: a service with Push.IncludeDate gives its push
// challenges a details.date, the challenge's creation time, in what the
// backend reads and in what the device fetches and signs (the approval
// still verifies); without it, details carry no date. The service echoes
// the setting.
func TestPushIncludeDate(t *testing.T) {
	for _, include := range []bool{false, true} {
		t.Run(fmt.Sprint(include), func(t *testing.T) {
			ps := newPushSetup(t)
			ctx := context.Background()
			svc, err := ps.tw.UpdateService(ctx, twiliotest.DefaultServiceSID, twilio.ServiceParams{PushIncludeDate: twilio.Bool(include)})
			if err != nil || svc.Push == nil || svc.Push.IncludeDate != include {
				t.Fatalf("UpdateService = %+v, %v; want push.include_date %v", svc.Push, err, include)
			}
			const user = "5f0c6b1e-user-0002"
			tok, err := ps.client.CreatePushAccessToken(ctx, user, &verify.AccessTokenOptions{FactorFriendlyName: "Pixel"})
			if err != nil {
				t.Fatal(err)
			}
			phone := ps.phone(t, user, ps.clock.Now)
			factor, err := phone.Enroll(ctx, tok.Token, nil)
			if err != nil {
				t.Fatal(err)
			}
			ch, err := ps.client.StartPush(ctx, user, factor.ID, verify.PushDetails{Message: "Log in?"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ps.tw.FetchChallenge(ctx, user, ch.ID)
			if err != nil {
				t.Fatal(err)
			}
			raw := got.Detail.(*twilio.Challenge)
			want := ""
			if include {
				want = raw.DateCreated.UTC().Format(time.RFC3339)
			}
			if raw.Details == nil || raw.Details.Date != want {
				t.Errorf("the backend's details %+v, want the date %q", raw.Details, want)
			}
			dc, err := phone.Fetch(ctx, ch.ID)
			if err != nil {
				t.Fatal(err)
			}
			var seen struct {
				Details map[string]any `json:"details"`
			}
			if err := json.Unmarshal(dc.JSON, &seen); err != nil {
				t.Fatal(err)
			}
			if d, _ := seen.Details["date"].(string); d != want {
				t.Errorf("the device's details %v, want the date %q", seen.Details, want)
			}
			if a, err := phone.Approve(ctx, ch.ID); err != nil || !a.Approved() {
				t.Errorf("Approve over details with the date = %v, %v", a, err)
			}
		})
	}
}
