package app

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/pushdevice"
)

var phoneLinkRE = regexp.MustCompile(`href="([^"]+)" id="phone-link"`)

func setupPush(t *testing.T) *env {
	t.Helper()
	return setupWith(t, nil, func(c *Config) { c.Device = c.Outbox.Device() })
}

// enrollPhone sets up a phone from the enrolment page: the simulator
// takes the access token from the page's link, as the phone page does.
func (b *browser) enrollPhone() *pushdevice.Device {
	e := b.e
	e.t.Helper()
	b.post("/", "/push/enroll", url.Values{})
	b.wantPage("enrolment page", `<img src="data:image/png;base64,`)
	m := phoneLinkRE.FindStringSubmatch(b.page)
	if m == nil {
		e.t.Fatalf("no phone link on the page:\n%s", b.page)
	}
	link, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil || link.Path != "/phone" {
		e.t.Fatalf("phone link %q: %v", m[1], err)
	}
	frag, _ := url.ParseQuery(link.Fragment)
	dev, err := pushdevice.New(e.fake.Device(), pushdevice.WithClock(e.clock.Now))
	if err != nil {
		e.t.Fatal(err)
	}
	if f, err := dev.Enroll(ctx(), frag.Get("t"), nil); err != nil || f.Identity != frag.Get("i") {
		e.t.Fatalf("enrolling the phone: %v, %v", f, err)
	}
	b.pushAction()
	return dev
}

func (b *browser) pushAction() { b.post("/verify", "/verify", url.Values{"action": {"push"}}) }

func (b *browser) pushDone() bool {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + "/push/status")
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct{ Done bool }
	json.NewDecoder(resp.Body).Decode(&s)
	return s.Done
}

// pending returns the phone's only pending request.
func pendingOn(t *testing.T, dev *pushdevice.Device) string {
	t.Helper()
	list, err := dev.Pending(ctx())
	if err != nil || len(list) != 1 {
		t.Fatalf("the phone has %d pending requests (%v), want 1", len(list), err)
	}
	return list[0].ID
}

func TestPushEndToEnd(t *testing.T) {
	e := setupPush(t)
	b := e.member()
	b.get("/")
	b.wantPage("home", "Phone: <strong>off</strong>")

	// Nothing happens before the phone has enrolled.
	b.post("/", "/push/enroll", url.Values{})
	if b.pushDone() {
		t.Fatal("status done before the phone enrolled")
	}
	b.pushAction()
	b.wantPage("not yet", "has not finished yet")
	if e.user(email).push != "" {
		t.Fatal("push on without a phone")
	}

	dev := b.enrollPhone()
	codes := b.recoveryCodes()
	b.wantPage("enrolled", "Your phone is set up")
	u := e.user(email)
	if u.push == "" || u.push != dev.Factor().ID {
		t.Fatalf("push factor %q, phone's %q", u.push, dev.Factor().ID)
	}

	// Log in: the page waits until the phone approves.
	b.logout()
	b.login(email, password)
	b.wantPage("login step", "Approve on your phone")
	if b.loggedIn() {
		t.Fatal("logged in before the phone approved")
	}
	id := pendingOn(t, dev)
	dc, _ := dev.Fetch(ctx(), id)
	if dc.Push == nil || dc.Push.Message != "Log in to verifykit demo?" || len(dc.Push.Fields) != 2 || strings.Contains(dc.Push.Fields[0].Value, "ada@") {
		t.Errorf("the phone shows %+v, want the message, the masked account and the IP", dc.Push)
	}
	b.pushAction()
	b.wantPage("pending", "Not approved yet")
	if b.pushDone() {
		t.Fatal("done before the phone answered")
	}
	if _, err := dev.Approve(ctx(), id); err != nil {
		t.Fatal(err)
	}
	if !b.pushDone() {
		t.Fatal("not done after the phone approved")
	}
	b.pushAction()
	if !b.loggedIn() {
		t.Fatalf("the phone's approval did not log in:\n%s", b.page)
	}

	// A denial grants nothing; a recovery code still works.
	b.logout()
	b.login(email, password)
	if _, err := dev.Deny(ctx(), pendingOn(t, dev)); err != nil {
		t.Fatal(err)
	}
	b.pushAction()
	b.wantPage("denied", "denied on your phone")
	if b.loggedIn() {
		t.Fatal("a denied request logged in")
	}
	if b.pushDone() {
		t.Fatal("after the denial was shown, the waiting page would go on again (a reload loop)")
	}
	b.get("/verify")
	b.wantPage("recovery offered", `id="recovery-code"`)
	b.useRecovery(codes[0])
	if !b.loggedIn() {
		t.Fatal("a recovery code did not log in after a denial")
	}
}

func TestPushApprovalOfAReplacedRequestGrantsNothing(t *testing.T) {
	e := setupPush(t)
	b := e.member()
	dev := b.enrollPhone()
	b.logout()

	b.login(email, password)
	first := pendingOn(t, dev)
	b.action("resend") // a new request replaces the first
	list, err := dev.Pending(ctx())
	if err != nil || len(list) != 2 {
		t.Fatalf("%d pending after a resend (%v), want 2", len(list), err)
	}
	if _, err := dev.Approve(ctx(), first); err != nil {
		t.Fatal(err)
	}
	b.pushAction()
	if b.loggedIn() {
		t.Fatal("the approval of a replaced request logged in")
	}

	// An approval on another session's step does not log this one in.
	other := e.browser()
	other.login(email, password)
	if _, err := dev.Approve(ctx(), mustPending(t, dev)[0]); err != nil {
		t.Fatal(err)
	}
	b.pushAction()
	other.pushAction()
	if b.loggedIn() == other.loggedIn() {
		t.Fatalf("one approval logged in %v and %v, want exactly the session it was for", b.loggedIn(), other.loggedIn())
	}
}

func mustPending(t *testing.T, dev *pushdevice.Device) []string {
	t.Helper()
	list, err := dev.Pending(ctx())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestPushFallsBackToTheApp(t *testing.T) {
	e := setupPush(t)
	b := e.member()
	ap := b.enrollApp()
	b.recoveryCodes()
	e.advance(60e9)
	b.post("/", "/push/enroll", url.Values{}) // needs a fresh proof: recent enough
	b.wantPage("enrolment page", "phone-link")
	b.get("/") // abandon it
	dev := b.enrollPhone()
	b.wantPage("enrolled", "Your phone is set up")
	b.logout()

	b.login(email, password)
	b.wantPage("push login", "Use a code instead")
	b.action("code")
	b.wantPage("app step", "authenticator app")
	e.advance(30e9)
	b.code(ap.code())
	if !b.loggedIn() {
		t.Fatal("the app's code did not log in after falling back")
	}
	_ = dev
}

func TestDeviceEndpointsNeedNoCSRF(t *testing.T) {
	e := setupPush(t)
	resp, err := e.srv.Client().Post(e.srv.URL+"/device/v2/Services/"+deviceService+"/Entities/u-0123456789abcdef/Factors", "application/x-www-form-urlencoded", strings.NewReader("FactorType=push"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Refused by the device protocol (no access token), not by the CSRF
	// check (403): the phone has no session.
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("device create without a token: %d, want 401", resp.StatusCode)
	}
	var _ provider.PushDeviceAPI = e.fake.Device()
}

func TestPushReplacingThePhoneWaitsForTheNewOne(t *testing.T) {
	e := setupPush(t)
	b := e.member()
	old := b.enrollPhone()
	b.recoveryCodes()
	e.advance(60e9)

	// A new enrolment is not finished by the phone already enrolled.
	b.post("/", "/push/enroll", url.Values{})
	b.wantPage("enrolment page", "phone-link")
	if b.pushDone() {
		t.Fatal("the enrolment counts the old phone as done")
	}
	b.pushAction()
	b.wantPage("not yet", "has not finished yet")

	dev := b.enrollPhone()
	b.wantPage("replaced", "Your phone is set up")
	if got := e.user(email).push; got != dev.Factor().ID || got == old.Factor().ID {
		t.Fatalf("push factor %q; want the new phone's %q", got, dev.Factor().ID)
	}
	// The old phone's factor is gone.
	if _, err := e.fake.FetchFactor(ctx(), e.user(email).identity, old.Factor().ID); err == nil {
		t.Error("the replaced phone's factor still exists")
	}
}

func TestPushRemoveNeedsThePhone(t *testing.T) {
	e := setupPush(t)
	b := e.member()
	dev := b.enrollPhone()
	b.recoveryCodes()

	b.post("/", "/push/remove", url.Values{})
	b.wantPage("remove step", "Approve on your phone")
	if strings.Contains(b.page, `id="recovery-code"`) {
		t.Error("a removal offers a recovery code")
	}
	b.pushAction()
	if e.user(email).push == "" {
		t.Fatal("removed before the phone approved")
	}
	if _, err := dev.Approve(ctx(), pendingOn(t, dev)); err != nil {
		t.Fatal(err)
	}
	b.pushAction()
	b.wantPage("removed", "Your phone is removed")
	if e.user(email).push != "" {
		t.Fatal("the phone is still on")
	}
	if _, err := e.fake.FetchFactor(ctx(), e.user(email).identity, dev.Factor().ID); err == nil {
		t.Error("the removed phone's factor still exists")
	}
}
