package providertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/pushdevice"
	"github.com/verifykit/verifykit/verify"
)

// PushHarness is implemented by harnesses whose provider offers push
// factors (provider.PushProvider): it gives the device side of the
// provider, what a phone calls, so that the suite can play the phone with
// a pushdevice.Device. The push section also needs the factor section's
// clock and limits (Now, FactorLimits).
type PushHarness interface {
	// PushDevice returns the provider's device side: fake.Fake.Device, or
	// an HTTP transport to a server's device endpoints.
	PushDevice() provider.PushDeviceAPI
}

// PushDevice calls h.PushDeviceFunc, or returns nil without one.
func (h *HarnessFuncs) PushDevice() provider.PushDeviceAPI {
	if h.PushDeviceFunc == nil {
		return nil
	}
	return h.PushDeviceFunc()
}

// NeedPush names the push capability in skips.
const NeedPush = "provider.PushProvider"

// PushRule is one rule of the push contract.
type PushRule struct {
	// Name is the subtest's name.
	Name string
	// Text states the rule.
	Text string

	check func(context.Context, *pushEnv) error
}

// PushRules returns the rules of the push section.
func PushRules() []PushRule { return append([]PushRule(nil), pushRules...) }

// pushEnv is what a push rule works with: the client, the device side,
// the clock and the limits.
type pushEnv struct {
	c       *verify.Client
	api     provider.PushDeviceAPI
	now     func() time.Time
	advance func(time.Duration)
	lim     FactorLimits
	target  func() any
}

// RunPushRuleOn checks one push rule against the provider of a
// conformance Harness, as Run does for every push rule, through
// verify.New as an application reaches it. It skips t, naming the
// capability, when the provider does not implement provider.PushProvider.
// It skips t too, saying so, when h gives no device side (PushHarness,
// HarnessFuncs.PushDeviceFunc): the suite plays the phone through it.
// Otherwise h must have the factor section's Now and FactorLimits.
func RunPushRuleOn(t testing.TB, r PushRule, h Harness) {
	t.Helper()
	p := h.Provider()
	pp, ok := p.(provider.PushProvider)
	if !ok {
		t.Skipf("rule Push/%s needs %s, which the provider does not implement", r.Name, NeedPush)
		return
	}
	fh, err := factorHarnessOf(h, pp)
	if err != nil {
		t.Errorf("%v\nrule: %s", err, r.Text)
		return
	}
	ph, ok := h.(PushHarness)
	var api provider.PushDeviceAPI
	if ok {
		api = ph.PushDevice()
	}
	if api == nil {
		t.Skipf("rule Push/%s: the provider offers push factors (%s) but the harness gives no device side to play the phone with (HarnessFuncs.PushDeviceFunc, or a PushDevice() provider.PushDeviceAPI method)", r.Name, NeedPush)
		return
	}
	c, err := verify.New(p)
	if err != nil {
		t.Errorf("verify.New: %v", err)
		return
	}
	env := &pushEnv{c: c, api: api, now: fh.now, advance: h.Advance, lim: fh.lim, target: h.ErrorTarget}
	if err := r.check(t.Context(), env); err != nil {
		t.Errorf("%v\nrule: %s", err, r.Text)
	}
}

var pushRules = []PushRule{
	{"EnrolWithAccessToken", "A device creates an unverified push factor with an access token the application issued (its platform and app ID reported), verifies it with the DER signature over its ID, and the application then sees it verified.", checkPushEnrol},
	{"AccessTokenOnceBeforeExpiry", "An access token creates one factor: a second use, an expired token and an unknown one fail with ErrUnauthorized.", checkPushToken},
	{"WrongKeyCannotVerify", "A factor-verification signature by another key, or over another factor's ID, fails with ErrInvalidRequest and leaves the factor unverified.", checkPushWrongVerify},
	{"ApproveAndDeny", "A push challenge is pending with the details asked for, expires 5 minutes after creation by default, reaches the device, and the device's approval or denial is what the application then sees, with the time it responded.", checkPushAnswer},
	{"OnlyTheDeviceKeyAnswers", "An answer signed by another key, or one factor's device answering another factor's challenge, is refused and the challenge stays pending.", checkPushOnlyKey},
	{"ReplayRefused", "An answer approves one challenge once: sent again, or sent for another challenge, it is refused with ErrInvalidRequest and changes nothing.", checkPushReplay},
	{"WrongSignaturesLockOut", "After the allowed wrong signatures the next answer, even right, fails with ErrTooManyChecks; once the window ends the right answer works.", checkPushLockOut},
	{"ChallengeExpires", "A challenge not answered before its expiry is expired, and an answer then fails with ErrNotFound.", checkPushExpiry},
	{"UnverifiedCannotBeChallenged", "A push challenge of an unverified factor fails with ErrInvalidRequest, and one of an unknown factor with ErrNotFound.", checkPushUnverified},
	{"ClockCorrection", "A request JWT used outside its validity window fails with ErrUnauthorized carrying the server's time (provider.ServerTime), from which a device with a wrong clock corrects itself and succeeds.", checkPushClock},
	{"DeviceUpdatesItsFactor", "A device changes its own factor's notification platform and token, and its name, signed with its key, and the application then sees the new platform, token and name; an update signed by another factor's key or by no factor's key fails with ErrUnauthorized, a malformed one with ErrInvalidRequest, and neither changes anything.", checkPushUpdate},
	{"DeletedFactorIsGone", "A factor its device deleted is gone: fetch and challenge fail with ErrNotFound, and its key no longer authenticates.", checkPushDeleted},
	{"WaitAndList", "WaitChallenge returns once the device has answered; ListChallenges filters by factor and status.", checkPushWaitList},
	{"SecretsNeverPrinted", "No way of printing an access token, and no error of the push operations, reveals a token, a request JWT or a signature.", checkPushSecrets},
}

const pushIdentity = "user-0001-push"

var pushDetails = verify.PushDetails{
	Message: "Log in to Example?",
	Fields:  []verify.PushField{{Label: "Location", Value: "Paris, FR"}, {Label: "IP", Value: "192.0.2.1"}},
	Hidden:  map[string]string{"session": "s-1"},
}

// namedPhone is how the suite's devices enrol: named, as an app using Twilio's
// SDKs names its factor (FriendlyName is required on the wire), with the
// name the access tokens carry.
func namedPhone() *pushdevice.EnrollOptions { return &pushdevice.EnrollOptions{FriendlyName: "Phone"} }

// device makes a phone for env's provider.
func (e *pushEnv) device() (*pushdevice.Device, error) {
	return pushdevice.New(e.api, pushdevice.WithClock(e.now))
}

// token issues an access token for identity.
func (e *pushEnv) token(ctx context.Context, identity string) (verify.AccessToken, error) {
	tok, err := e.c.CreatePushAccessToken(ctx, identity, &verify.AccessTokenOptions{FactorFriendlyName: "Phone"})
	if err != nil {
		return tok, fmt.Errorf("CreatePushAccessToken: %v", err)
	}
	if tok.Token == "" || tok.Identity != identity {
		return tok, fmt.Errorf("CreatePushAccessToken = %v: want a token for %s", tok, identity)
	}
	return tok, nil
}

// enrolled returns a phone with a verified factor for identity.
func (e *pushEnv) enrolled(ctx context.Context, identity string) (*pushdevice.Device, verify.Factor, error) {
	tok, err := e.token(ctx, identity)
	if err != nil {
		return nil, verify.Factor{}, err
	}
	d, err := e.device()
	if err != nil {
		return nil, verify.Factor{}, err
	}
	f, err := d.Enroll(ctx, tok.Token, namedPhone())
	if err != nil {
		return nil, f, fmt.Errorf("device Enroll: %v", err)
	}
	if !f.Verified() || f.Type != provider.FactorPush {
		return nil, f, fmt.Errorf("device Enroll = %v: want a verified push factor", f)
	}
	return d, f, nil
}

// start creates a challenge of factorID.
func (e *pushEnv) start(ctx context.Context, factorID string, opts *verify.PushOptions) (verify.Challenge, error) {
	ch, err := e.c.StartPush(ctx, pushIdentity, factorID, pushDetails, opts)
	if err != nil {
		return ch, fmt.Errorf("StartPush: %v", err)
	}
	return ch, nil
}

// status fetches a challenge's status through the client.
func (e *pushEnv) status(ctx context.Context, id string) (verify.ChallengeStatus, error) {
	ch, err := e.c.FetchChallenge(ctx, pushIdentity, id)
	if err != nil {
		return "", fmt.Errorf("FetchChallenge: %v", err)
	}
	return ch.Status, nil
}

func checkPushEnrol(ctx context.Context, e *pushEnv) error {
	tok, err := e.token(ctx, pushIdentity)
	if err != nil {
		return err
	}
	d, err := e.device()
	if err != nil {
		return err
	}
	f, err := d.Create(ctx, tok.Token, &pushdevice.EnrollOptions{FriendlyName: "Phone", Platform: provider.PlatformFCM, NotificationToken: strings.Repeat("f", 40), AppID: "com.example.app"})
	if err != nil {
		return fmt.Errorf("device Create: %v", err)
	}
	if f.ID == "" || f.Type != provider.FactorPush || f.Status != provider.FactorUnverified || f.FriendlyName != "Phone" {
		return fmt.Errorf("device Create = %+v: want an unverified push factor named Phone", f)
	}
	if df := d.Factor(); df.CredentialID == "" || df.AccountID == "" {
		return fmt.Errorf("device Create gave no credential or account ID to sign with")
	}
	if got, err := e.c.FetchFactor(ctx, pushIdentity, f.ID); err != nil || got.Status != provider.FactorUnverified {
		return fmt.Errorf("FetchFactor before verification = %v, %v; want unverified", got, err)
	}
	v, err := d.Verify(ctx)
	if err != nil || !v.Verified() {
		return fmt.Errorf("device Verify = %v, %v; want verified", v, err)
	}
	got, err := e.c.FetchFactor(ctx, pushIdentity, f.ID)
	if err != nil || !got.Verified() || got.Type != provider.FactorPush {
		return fmt.Errorf("FetchFactor after verification = %v, %v; want a verified push factor", got, err)
	}
	if got.Push == nil || got.Push.Platform != provider.PlatformFCM || got.Push.AppID != "com.example.app" {
		return fmt.Errorf("FetchFactor: push configuration %+v, want platform fcm and app ID com.example.app", got.Push)
	}
	return nil
}

func checkPushToken(ctx context.Context, e *pushEnv) error {
	tok, err := e.token(ctx, pushIdentity)
	if err != nil {
		return err
	}
	d1, _ := e.device()
	if _, err := d1.Create(ctx, tok.Token, namedPhone()); err != nil {
		return fmt.Errorf("first use: %v", err)
	}
	d2, _ := e.device()
	if _, err := d2.Create(ctx, tok.Token, namedPhone()); !errors.Is(err, provider.ErrUnauthorized) {
		return wantErr("second use of a token", err, provider.ErrUnauthorized)
	}
	tok2, err := e.token(ctx, pushIdentity)
	if err != nil {
		return err
	}
	e.advance(tok2.ExpiresAt.Sub(e.now()) + time.Second)
	if _, err := d2.Create(ctx, tok2.Token, namedPhone()); !errors.Is(err, provider.ErrUnauthorized) {
		return wantErr("an expired token", err, provider.ErrUnauthorized)
	}
	_, err = d2.Create(ctx, "not-a-token-"+strings.Repeat("x", 20), nil)
	return wantErr("an unknown token", err, provider.ErrUnauthorized)
}

// created returns a phone of pushIdentity with a new, unverified
// factor.
func (e *pushEnv) created(ctx context.Context) (*pushdevice.Device, verify.Factor, error) {
	tok, err := e.token(ctx, pushIdentity)
	if err != nil {
		return nil, verify.Factor{}, err
	}
	d, err := e.device()
	if err != nil {
		return nil, verify.Factor{}, err
	}
	f, err := d.Create(ctx, tok.Token, namedPhone())
	if err != nil {
		return nil, f, fmt.Errorf("device Create: %v", err)
	}
	return d, f, nil
}

func checkPushWrongVerify(ctx context.Context, e *pushEnv) error {
	d, f, err := e.created(ctx)
	if err != nil {
		return err
	}
	// Another phone's signature over its own factor's ID.
	other, _, err := e.enrolled(ctx, "user-0002-push")
	if err != nil {
		return err
	}
	foreign, _ := other.VerificationPayload()
	auth, err := d.Auth()
	if err != nil {
		return err
	}
	if _, err := e.api.VerifyDeviceFactor(ctx, auth, pushIdentity, f.ID, foreign); !errors.Is(err, provider.ErrInvalidRequest) {
		return fmt.Errorf("verification with another key's signature: err = %v, want ErrInvalidRequest", err)
	}
	if got, err := e.c.FetchFactor(ctx, pushIdentity, f.ID); err != nil || got.Status != provider.FactorUnverified {
		return fmt.Errorf("after a wrong signature FetchFactor = %v, %v; want unverified", got, err)
	}
	if v, err := d.Verify(ctx); err != nil || !v.Verified() {
		return fmt.Errorf("the right signature afterwards: %v, %v", v, err)
	}
	return nil
}

func checkPushAnswer(ctx context.Context, e *pushEnv) error {
	d, f, err := e.enrolled(ctx, pushIdentity)
	if err != nil {
		return err
	}
	created := e.now()
	a, err := e.start(ctx, f.ID, nil)
	if err != nil {
		return err
	}
	if a.ID == "" || a.Status != provider.ChallengePending || a.FactorID != f.ID {
		return fmt.Errorf("StartPush = %v: want a pending challenge of %s", a, f.ID)
	}
	if exp := a.ExpiresAt.Sub(created); exp < 5*time.Minute-time.Second || exp > 5*time.Minute+time.Second {
		return fmt.Errorf("StartPush: expires %v after creation, want 5 minutes", exp)
	}
	if a.Push == nil || a.Push.Message != pushDetails.Message || len(a.Push.Fields) != 2 || a.Push.Fields[1] != pushDetails.Fields[1] {
		return fmt.Errorf("StartPush: details %+v, want %+v", a.Push, pushDetails)
	}
	pending, err := d.Pending(ctx)
	if err != nil || len(pending) != 1 || pending[0].ID != a.ID {
		return fmt.Errorf("device Pending = %v, %v; want the challenge", pending, err)
	}
	if pending[0].Push == nil || pending[0].Push.Message != pushDetails.Message {
		return fmt.Errorf("the device sees details %+v, want the message %q", pending[0].Push, pushDetails.Message)
	}
	e.advance(2 * time.Second)
	approved, err := d.Approve(ctx, a.ID)
	if err != nil || approved.Status != provider.ChallengeApproved {
		return fmt.Errorf("device Approve = %v, %v", approved, err)
	}
	got, err := e.c.FetchChallenge(ctx, pushIdentity, a.ID)
	if err != nil || got.Status != provider.ChallengeApproved || got.RespondedAt.IsZero() {
		return fmt.Errorf("after approval FetchChallenge = %v (responded %v), %v; want approved with the response time", got, got.RespondedAt, err)
	}
	b, err := e.start(ctx, f.ID, nil)
	if err != nil {
		return err
	}
	if denied, err := d.Deny(ctx, b.ID); err != nil || denied.Status != provider.ChallengeDenied {
		return fmt.Errorf("device Deny = %v, %v", denied, err)
	}
	if st, err := e.status(ctx, b.ID); err != nil || st != provider.ChallengeDenied {
		return fmt.Errorf("after denial the status is %q (%v), want denied", st, err)
	}
	return nil
}

// challenged returns a verified phone of pushIdentity, its factor and
// one challenge of it per options given.
func (e *pushEnv) challenged(ctx context.Context, opts ...*verify.PushOptions) (*pushdevice.Device, verify.Factor, []verify.Challenge, error) {
	d, f, err := e.enrolled(ctx, pushIdentity)
	if err != nil {
		return nil, f, nil, err
	}
	chs := make([]verify.Challenge, len(opts))
	for i, o := range opts {
		if chs[i], err = e.start(ctx, f.ID, o); err != nil {
			return nil, f, nil, err
		}
	}
	return d, f, chs, nil
}

// answerOf returns the AuthPayload by which d approves challenge id, and
// d's request JWT, for sending by hand.
func answerOf(ctx context.Context, d *pushdevice.Device, id string) (payload, auth string, err error) {
	dc, err := d.Fetch(ctx, id)
	if err != nil {
		return "", "", fmt.Errorf("device Fetch: %v", err)
	}
	if payload, err = d.SignAnswer(dc, true); err != nil {
		return "", "", err
	}
	auth, err = d.Auth()
	return payload, auth, err
}

// refused sends an answer by hand and checks it fails with want.
func (e *pushEnv) refused(ctx context.Context, what, auth, id, payload string, want error) error {
	_, err := e.api.AnswerDeviceChallenge(ctx, auth, pushIdentity, id, payload)
	if !errors.Is(err, want) {
		return fmt.Errorf("%s: err = %v, want %v", what, err, want)
	}
	return nil
}

// stillPending checks that challenge id is pending.
func (e *pushEnv) stillPending(ctx context.Context, what, id string) error {
	if st, err := e.status(ctx, id); err != nil || st != provider.ChallengePending {
		return fmt.Errorf("%s the status is %q (%v), want pending", what, st, err)
	}
	return nil
}

func checkPushOnlyKey(ctx context.Context, e *pushEnv) error {
	d, _, chs, err := e.challenged(ctx, nil)
	if err != nil {
		return err
	}
	d2, _, err := e.enrolled(ctx, pushIdentity) // a second phone of the same user
	if err != nil {
		return err
	}
	ch := chs[0]
	// The second phone's key over the first factor's challenge, sent with
	// the first phone's credentials.
	dc, err := d.Fetch(ctx, ch.ID)
	if err != nil {
		return fmt.Errorf("device Fetch: %v", err)
	}
	dc.FactorID = d2.Factor().ID // pass the device's own check; the server must not
	payload, err := d2.SignAnswer(dc, true)
	if err != nil {
		return err
	}
	auth, _ := d.Auth()
	if err := e.refused(ctx, "an answer signed by another key", auth, ch.ID, payload, provider.ErrInvalidRequest); err != nil {
		return err
	}
	// The second phone answering with its own credentials.
	auth2, _ := d2.Auth()
	if _, err := e.api.AnswerDeviceChallenge(ctx, auth2, pushIdentity, ch.ID, payload); err == nil {
		return fmt.Errorf("another factor's device answered the challenge")
	}
	return e.stillPending(ctx, "after the refused answers", ch.ID)
}

func checkPushReplay(ctx context.Context, e *pushEnv) error {
	d, _, chs, err := e.challenged(ctx, nil, nil)
	if err != nil {
		return err
	}
	a, b := chs[0], chs[1]
	payload, auth, err := answerOf(ctx, d, a.ID)
	if err != nil {
		return err
	}
	if err := e.refused(ctx, "a's answer sent for b", auth, b.ID, payload, provider.ErrInvalidRequest); err != nil {
		return err
	}
	if got, err := e.api.AnswerDeviceChallenge(ctx, auth, pushIdentity, a.ID, payload); err != nil || !got.Approved() {
		return fmt.Errorf("the answer: %v, %v", got, err)
	}
	if err := e.refused(ctx, "the answer replayed", auth, a.ID, payload, provider.ErrInvalidRequest); err != nil {
		return err
	}
	return e.stillPending(ctx, "b after the replays:", b.ID)
}

func checkPushLockOut(ctx context.Context, e *pushEnv) error {
	d, _, chs, err := e.challenged(ctx, nil, &verify.PushOptions{ExpiresIn: time.Hour})
	if err != nil {
		return err
	}
	decoy, target := chs[0], chs[1]
	wrong, auth, err := answerOf(ctx, d, decoy.ID) // the decoy's answer, sent for the target
	if err != nil {
		return err
	}
	for i := range e.lim.MaxWrong {
		if err := e.refused(ctx, fmt.Sprintf("wrong answer %d", i+1), auth, target.ID, wrong, provider.ErrInvalidRequest); err != nil {
			return err
		}
	}
	if _, err := d.Approve(ctx, target.ID); !errors.Is(err, provider.ErrTooManyChecks) {
		return fmt.Errorf("the right answer after %d wrong: err = %v, want ErrTooManyChecks", e.lim.MaxWrong, err)
	}
	e.advance(e.lim.Window)
	if got, err := d.Approve(ctx, target.ID); err != nil || !got.Approved() {
		return fmt.Errorf("the right answer after the window: %v, %v", got, err)
	}
	return nil
}

func checkPushExpiry(ctx context.Context, e *pushEnv) error {
	d, f, chs, err := e.challenged(ctx, &verify.PushOptions{ExpiresIn: time.Minute})
	if err != nil {
		return err
	}
	payload, auth, err := answerOf(ctx, d, chs[0].ID)
	if err != nil {
		return err
	}
	e.advance(time.Minute)
	if st, err := e.status(ctx, chs[0].ID); err != nil || st != provider.ChallengeExpired {
		return fmt.Errorf("after its expiry the status is %q (%v), want expired", st, err)
	}
	if err := e.refused(ctx, "an answer after expiry", auth, chs[0].ID, payload, provider.ErrNotFound); err != nil {
		return err
	}
	_, err = e.c.StartPush(ctx, pushIdentity, f.ID, pushDetails, &verify.PushOptions{ExpiresIn: time.Hour + time.Minute})
	return wantErr("an expiry over an hour", err, provider.ErrInvalidRequest)
}

func checkPushUnverified(ctx context.Context, e *pushEnv) error {
	_, f, err := e.created(ctx)
	if err != nil {
		return err
	}
	if _, err := e.c.StartPush(ctx, pushIdentity, f.ID, pushDetails, nil); !errors.Is(err, provider.ErrInvalidRequest) {
		return fmt.Errorf("a challenge of an unverified factor: err = %v, want ErrInvalidRequest", err)
	}
	_, err = e.c.StartPush(ctx, pushIdentity, unknownID, pushDetails, nil)
	return wantErr("a challenge of an unknown factor", err, provider.ErrNotFound)
}

func checkPushClock(ctx context.Context, e *pushEnv) error {
	d, f, err := e.enrolled(ctx, pushIdentity)
	if err != nil {
		return err
	}
	// A request JWT made 11 minutes ago is past its exp.
	auth, _ := d.Auth()
	e.advance(11 * time.Minute)
	_, err = e.api.ListDeviceChallenges(ctx, auth, pushIdentity, f.ID, "")
	if !errors.Is(err, provider.ErrUnauthorized) {
		return fmt.Errorf("an expired request JWT: err = %v, want ErrUnauthorized", err)
	}
	st, ok := provider.ServerTime(err)
	if !ok || st.Sub(e.now()).Abs() > 2*time.Second {
		return fmt.Errorf("an expired request JWT: ServerTime = %v, %v; want the server's time %v", st, ok, e.now())
	}
	// A phone whose clock is 20 minutes slow corrects itself and approves.
	tok, err := e.token(ctx, pushIdentity)
	if err != nil {
		return err
	}
	slow, err := pushdevice.New(e.api, pushdevice.WithClock(func() time.Time { return e.now().Add(-20 * time.Minute) }))
	if err != nil {
		return err
	}
	sf, err := slow.Enroll(ctx, tok.Token, namedPhone())
	if err != nil || !sf.Verified() {
		return fmt.Errorf("a phone with a slow clock: Enroll = %v, %v", sf, err)
	}
	ch, err := e.start(ctx, sf.ID, nil)
	if err != nil {
		return err
	}
	if got, err := slow.Approve(ctx, ch.ID); err != nil || !got.Approved() {
		return fmt.Errorf("a phone with a slow clock: Approve = %v, %v", got, err)
	}
	return nil
}

func checkPushUpdate(ctx context.Context, e *pushEnv) error {
	d, f, err := e.enrolled(ctx, pushIdentity)
	if err != nil {
		return err
	}
	other, _, err := e.enrolled(ctx, pushIdentity) // a second phone of the same user
	if err != nil {
		return err
	}
	fcm := strings.Repeat("a", 40)
	if _, err := d.UpdateNotification(ctx, provider.PlatformFCM, fcm); err != nil {
		return fmt.Errorf("device UpdateNotification(fcm): %v", err)
	}
	got, err := e.c.FetchFactor(ctx, pushIdentity, f.ID)
	if err != nil || got.Push == nil || got.Push.Platform != provider.PlatformFCM || got.Push.NotificationToken != fcm {
		return fmt.Errorf("after the update to fcm FetchFactor = %v, %v; want platform fcm and the device's new token", got, err)
	}
	apn := strings.Repeat("b", 64)
	auth, err := d.Auth()
	if err != nil {
		return err
	}
	up, err := e.api.UpdateDeviceFactor(ctx, auth, pushIdentity, f.ID, provider.DeviceFactorUpdate{Platform: provider.PlatformAPN, NotificationToken: apn, FriendlyName: "New phone"})
	if err != nil || up.ID != f.ID || up.FriendlyName != "New phone" || up.Push == nil || up.Push.Platform != provider.PlatformAPN {
		return fmt.Errorf("UpdateDeviceFactor(apn, renamed) = %v, %v; want the factor on apn named New phone", up, err)
	}
	want := func(what string) error {
		got, err := e.c.FetchFactor(ctx, pushIdentity, f.ID)
		switch {
		case err != nil || got.Push == nil:
			return fmt.Errorf("%s FetchFactor = %v, %v", what, got, err)
		case got.Push.Platform != provider.PlatformAPN || got.FriendlyName != "New phone" || !got.Verified():
			return fmt.Errorf("%s FetchFactor = %v; want the verified factor on apn named New phone", what, got)
		case got.Push.NotificationToken != apn:
			return fmt.Errorf("%s FetchFactor reports another notification token than the device's last update", what)
		}
		return nil
	}
	if err := want("after the update to apn"); err != nil {
		return err
	}
	evil := provider.DeviceFactorUpdate{Platform: provider.PlatformFCM, NotificationToken: strings.Repeat("e", 40), FriendlyName: "Evil"}
	otherAuth, err := other.Auth()
	if err != nil {
		return err
	}
	if _, err := e.api.UpdateDeviceFactor(ctx, otherAuth, pushIdentity, f.ID, evil); !errors.Is(err, provider.ErrUnauthorized) {
		return wantErr("an update signed by another factor's key", err, provider.ErrUnauthorized)
	}
	if _, err := e.api.UpdateDeviceFactor(ctx, auth[:len(auth)-4]+"AAAA", pushIdentity, f.ID, evil); !errors.Is(err, provider.ErrUnauthorized) {
		return wantErr("an update with a forged signature", err, provider.ErrUnauthorized)
	}
	if _, err := e.api.UpdateDeviceFactor(ctx, auth, pushIdentity, f.ID, provider.DeviceFactorUpdate{Platform: provider.PlatformFCM}); !errors.Is(err, provider.ErrInvalidRequest) {
		return wantErr("an update to fcm without a token", err, provider.ErrInvalidRequest)
	}
	return want("after the refused updates")
}

func checkPushDeleted(ctx context.Context, e *pushEnv) error {
	d, f, err := e.enrolled(ctx, pushIdentity)
	if err != nil {
		return err
	}
	auth, _ := d.Auth()
	if err := d.Delete(ctx); err != nil {
		return fmt.Errorf("device Delete: %v", err)
	}
	if _, err := e.c.FetchFactor(ctx, pushIdentity, f.ID); !errors.Is(err, provider.ErrNotFound) {
		return fmt.Errorf("FetchFactor of a deleted factor: err = %v, want ErrNotFound", err)
	}
	if _, err := e.c.StartPush(ctx, pushIdentity, f.ID, pushDetails, nil); !errors.Is(err, provider.ErrNotFound) {
		return fmt.Errorf("StartPush of a deleted factor: err = %v, want ErrNotFound", err)
	}
	_, err = e.api.ListDeviceChallenges(ctx, auth, pushIdentity, f.ID, "")
	return wantErr("the deleted factor's key", err, provider.ErrUnauthorized)
}

func checkPushWaitList(ctx context.Context, e *pushEnv) error {
	d, f, err := e.enrolled(ctx, pushIdentity)
	if err != nil {
		return err
	}
	_, f2, err := e.enrolled(ctx, pushIdentity)
	if err != nil {
		return err
	}
	a, err := e.start(ctx, f.ID, nil)
	if err != nil {
		return err
	}
	if _, err := e.start(ctx, f.ID, nil); err != nil {
		return err
	}
	if _, err := e.start(ctx, f2.ID, nil); err != nil {
		return err
	}
	if _, err := d.Approve(ctx, a.ID); err != nil {
		return fmt.Errorf("device Approve: %v", err)
	}
	got, err := e.c.WaitChallenge(ctx, pushIdentity, a.ID, nil)
	if err != nil || !got.Approved() {
		return fmt.Errorf("WaitChallenge = %v, %v; want approved", got, err)
	}
	l, err := e.c.ListChallenges(ctx, pushIdentity, verify.ChallengeQuery{FactorID: f.ID, Status: provider.ChallengePending})
	if err != nil || len(l) != 1 || l[0].FactorID != f.ID || l[0].Status != provider.ChallengePending {
		return fmt.Errorf("ListChallenges(pending of %s) = %v, %v; want one", f.ID, l, err)
	}
	all, err := e.c.ListChallenges(ctx, pushIdentity, verify.ChallengeQuery{})
	if err != nil || len(all) != 3 || all[0].ID != a.ID {
		return fmt.Errorf("ListChallenges() = %v, %v; want 3, oldest first", all, err)
	}
	return nil
}

func checkPushSecrets(ctx context.Context, e *pushEnv) error {
	tok, err := e.token(ctx, pushIdentity)
	if err != nil {
		return err
	}
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok), fmt.Sprintf("%q", tok)} {
		if strings.Contains(s, tok.Token) {
			return fmt.Errorf("printing an access token shows it: %s", s)
		}
	}
	d, f, chs, err := e.challenged(ctx, nil)
	if err != nil {
		return err
	}
	ch := chs[0]
	payload, auth, err := answerOf(ctx, d, ch.ID)
	if err != nil {
		return err
	}
	vp, _ := d.VerificationPayload()
	secrets := []string{tok.Token, auth, payload, vp, strings.Split(auth, ".")[2], strings.Split(payload, ".")[2]}
	var errs []error
	_, err = e.api.CreateDeviceFactor(ctx, tok.Token, provider.DeviceFactorRequest{Alg: "ES256"})
	errs = append(errs, err)
	_, err = e.api.VerifyDeviceFactor(ctx, auth, pushIdentity, "YF-other", vp)
	errs = append(errs, err)
	_, err = e.api.AnswerDeviceChallenge(ctx, auth, pushIdentity, unknownID, payload)
	errs = append(errs, err)
	_, err = e.api.AnswerDeviceChallenge(ctx, auth[:len(auth)-4]+"AAAA", pushIdentity, ch.ID, payload)
	errs = append(errs, err)
	_, err = e.c.StartPush(ctx, pushIdentity, f.ID, verify.PushDetails{}, nil)
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			return fmt.Errorf("a malformed push request succeeded")
		}
		for _, v := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			for _, s := range secrets {
				if strings.Contains(v, s) {
					return fmt.Errorf("an error shows a secret: %s", v)
				}
			}
		}
	}
	return nil
}
