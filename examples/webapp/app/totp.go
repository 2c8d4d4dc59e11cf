package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"html/template"
	"log"
	"net/http"

	"github.com/verifykit/verifykit/verify"
)

// An authenticator app (TOTP) as a second factor, next to SMS codes.
//
// Enrolment creates a factor at the provider for the account's opaque
// identity (never its e-mail address), shows its QR code and key once, on
// the page, and switches the app on only when the first code it shows is
// confirmed. With the app on, a login asks for its code (with "text me a
// code instead" when the account also has a phone); removing it needs a
// fresh code from the app. Adding the app or a phone when a second factor
// is already on needs a recent proof of the current one, as changing the
// number does. Every step is a pending like the SMS steps: bound to the
// action, the account, the factor's epoch and the factor, approved once.

// factorTOTP is a code from the account's authenticator app, checked by
// the provider against the factor whose ID is the step's target.
const factorTOTP = "totp"

// The actions of the authenticator app.
const (
	actTOTPEnroll action = "totp-enroll" // confirm a new app with its first code: the app is on
	actTOTPRemove action = "totp-remove" // a fresh code from the app: the app is off
)

// nextTOTP, as a reauth step's next, enrols an app once the current factor
// is proved.
const nextTOTP = "\x00totp"

func init() {
	headings[actTOTPEnroll] = "Confirm your authenticator app"
	headings[actTOTPRemove] = "Confirm it is you"
}

// newIdentity returns a random identity for an account's factors: 32 hex
// digits after "u-", within the 8 to 64 letters, digits and dashes an
// identity may have, and telling nothing about the account.
func newIdentity() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "u-" + hex.EncodeToString(b)
}

// hasFactor reports whether u has two-step login on, by SMS or app. The
// caller holds a.mu.
func hasFactor(u *user) bool { return u.twoFA || u.totp != "" || u.push != "" }

// reauthStep returns the step that proves u's current factor before next
// (a phone number, or nextTOTP) is enrolled: the app's code when u has an
// app, else a code to u's phone. The caller holds a.mu.
func reauthStep(u *user, next string) *pending {
	if u.push != "" {
		return &pending{action: actReauth, account: u.email, epoch: u.epoch, factor: factorPush, target: u.push, next: next}
	}
	if u.totp != "" {
		return &pending{action: actReauth, account: u.email, epoch: u.epoch, factor: factorTOTP, target: u.totp, verifyID: u.totp, next: next}
	}
	return &pending{action: actReauth, account: u.email, epoch: u.epoch, factor: factorSMS, target: u.phone, next: next}
}

// loginStep returns the code step of u's login: the app's code when u has
// an app, else a code by SMS. The caller holds a.mu.
func loginStep(u *user) *pending {
	if u.push != "" {
		return &pending{action: actLogin, account: u.email, epoch: u.epoch, factor: factorPush, target: u.push}
	}
	if u.totp != "" {
		return &pending{action: actLogin, account: u.email, epoch: u.epoch, factor: factorTOTP, target: u.totp, verifyID: u.totp}
	}
	return &pending{action: actLogin, account: u.email, epoch: u.epoch, factor: factorSMS, target: u.phone}
}

func (a *App) totpRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /totp/enroll", a.totpEnroll)
	m.HandleFunc("POST /totp/remove", a.totpRemove)
}

// totpEnroll begins the enrolment of an authenticator app.
func (a *App) totpEnroll(w http.ResponseWriter, r *http.Request) {
	a.enrollFactor(w, r, nextTOTP, a.startTOTPEnroll)
}

// enrollFactor begins the enrolment of a new factor with start: at once
// if the account has no second factor or the session proved it recently,
// else after a proof of the current factor (next says what comes then).
func (a *App) enrollFactor(w http.ResponseWriter, r *http.Request, next string, start func(http.ResponseWriter, *http.Request, *session)) {
	s, _, ok := a.loggedIn(w, r)
	if !ok {
		return
	}
	a.mu.Lock()
	u := a.users[s.email]
	var p *pending
	if u != nil && hasFactor(u) && !a.recentProof(s, u) {
		p = reauthStep(u, next)
	}
	a.mu.Unlock()
	if p != nil {
		a.begin(w, r, s, p)
		return
	}
	start(w, r, s)
}

// setupFactor checks that session s may set up a factor now and drops the
// identity's abandoned set-ups except current(u); it returns the account,
// its identity and the epoch, or redirects.
func (a *App) setupFactor(w http.ResponseWriter, r *http.Request, s *session, current func(*user) string) (account, identity string, epoch uint64, ok bool) {
	a.mu.Lock()
	u := a.users[s.email]
	if u == nil || s.dead || s.stage != stageLoggedIn {
		a.mu.Unlock()
		a.redirect(w, r, "/login", "Log in first.")
		return "", "", 0, false
	}
	account, identity, epoch, cur := u.email, u.identity, u.epoch, current(u)
	a.mu.Unlock()
	if !a.allowed(a.totpSetups, r, account) {
		a.redirect(w, r, "/", "Too many attempts. Wait a few minutes, then try again.")
		return "", "", 0, false
	}
	a.dropUnconfirmed(r.Context(), identity, cur)
	return account, identity, epoch, true
}

// startTOTPEnroll creates the factor and shows its QR code and key, with
// the form for the first code.
func (a *App) startTOTPEnroll(w http.ResponseWriter, r *http.Request, s *session) {
	account, identity, epoch, ok := a.setupFactor(w, r, s, func(u *user) string { return u.totp })
	if !ok {
		return
	}
	e, err := a.cfg.Verify.EnrollTOTP(r.Context(), identity, "verifykit demo", nil)
	if err != nil {
		a.redirect(w, r, "/", "We could not set up an authenticator app right now. Please try again.")
		return
	}
	qr, err := e.QRCodeDataURL(240)
	if err != nil {
		a.dropFactor(r.Context(), identity, e.ID)
		a.redirect(w, r, "/", "We could not set up an authenticator app right now. Please try again.")
		return
	}
	p := &pending{action: actTOTPEnroll, account: account, epoch: epoch, factor: factorTOTP, target: e.ID, verifyID: e.ID}
	a.mu.Lock()
	s.pend = p
	a.mu.Unlock()
	// The QR code is a data: URL, which the page's default policy refuses.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	a.render(w, r, "totp", view{Title: "Authenticator app", Heading: headings[actTOTPEnroll], QR: qrURL(qr), Secret: e.Secret})
}

// totpRemove asks for a fresh code from the app before switching it off.
func (a *App) totpRemove(w http.ResponseWriter, r *http.Request) {
	a.removeFactor(w, r, actTOTPRemove, factorTOTP, func(u *user) string { return u.totp }, "No authenticator app is set up.")
}

// removeFactor asks for a fresh proof of the factor current(u) before
// act switches it off; none is what to say when there is none.
func (a *App) removeFactor(w http.ResponseWriter, r *http.Request, act action, factor string, current func(*user) string, none string) {
	s, u, ok := a.loggedIn(w, r)
	if !ok {
		return
	}
	a.mu.Lock()
	target := current(u)
	p := &pending{action: act, account: u.email, epoch: u.epoch, factor: factor, target: target}
	if factor == factorTOTP {
		p.verifyID = target
	}
	a.mu.Unlock()
	if target == "" {
		a.redirect(w, r, "/", none)
		return
	}
	a.begin(w, r, s, p)
}

// qrURL marks the data: URL of a QR code, made here from a PNG, as safe
// for an <img src>.
func qrURL(s string) template.URL { return template.URL(s) }

// dropFactor deletes a factor at the provider, best effort: a factor left
// behind cannot log anyone in, since the account no longer names it.
func (a *App) dropFactor(ctx context.Context, identity, id string) {
	if id == "" {
		return
	}
	if err := a.cfg.Verify.DeleteFactor(ctx, identity, id); err != nil && !errors.Is(err, verify.ErrNotFound) {
		log.Printf("webapp: deleting an authenticator factor: %v", err)
	}
}

// dropUnconfirmed deletes the identity's factors that were set up but
// never confirmed (a setup abandoned for another step, a logout, a closed
// tab), except current, so that they do not fill the provider's factors
// of the identity. Best effort, like dropFactor.
func (a *App) dropUnconfirmed(ctx context.Context, identity, current string) {
	fs, err := a.cfg.Verify.ListFactors(ctx, identity)
	if err != nil {
		if !errors.Is(err, verify.ErrNotFound) {
			log.Printf("webapp: listing authenticator factors: %v", err)
		}
		return
	}
	for _, f := range fs {
		if f.ID != current && !f.Verified() {
			a.dropFactor(ctx, identity, f.ID)
		}
	}
}

// checkTOTP checks a code from the app for step p: the first code of a new
// app confirms it; any other step is a challenge.
func (a *App) checkTOTP(ctx context.Context, p *pending, id, code string) (bool, error) {
	a.mu.Lock()
	act := p.action
	identity := ""
	if u := a.users[p.account]; u != nil {
		identity = u.identity
	}
	a.mu.Unlock()
	if act == actTOTPEnroll {
		f, err := a.cfg.Verify.ConfirmFactor(ctx, identity, id, code)
		if err != nil || !f.Verified() {
			return false, err
		}
		return f.ID == id, nil
	}
	ch, err := a.cfg.Verify.CheckFactor(ctx, identity, id, code)
	if err != nil || !ch.Approved() {
		return false, err
	}
	if ch.FactorID != "" && ch.FactorID != id {
		return false, errWrongVerification
	}
	return true, nil
}

// smsInstead replaces a login step waiting for the app's code or the
// phone's approval with one that asks for a code: the app's, when the
// step was the phone's and the account has an app, else one texted to
// the account's phone, when it has one.
func (a *App) smsInstead(w http.ResponseWriter, r *http.Request, s *session, p *pending) {
	a.mu.Lock()
	u := a.users[p.account]
	var np *pending
	if u != nil && p.action == actLogin && s.pend == p {
		switch {
		case p.factor == factorPush && u.totp != "":
			np = &pending{action: actLogin, account: u.email, epoch: u.epoch, factor: factorTOTP, target: u.totp, verifyID: u.totp}
		case p.factor != factorSMS && u.twoFA && u.phone != "":
			np = &pending{action: actLogin, account: u.email, epoch: u.epoch, factor: factorSMS, target: u.phone}
		}
	}
	a.mu.Unlock()
	if np == nil {
		a.redirect(w, r, "/verify", "This account has no other way to get a code. Use your phone, or a recovery code.")
		return
	}
	a.begin(w, r, s, np)
}
