package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/verifykit/verifykit/verify"
)

// action is what a code step does once its code is approved.
type action string

const (
	actLogin   action = "login"   // finish the login of the account
	actEnroll  action = "enroll"  // make target the account's factor, two-step login on
	actDisable action = "disable" // switch two-step login off
	actReauth  action = "reauth"  // prove the current factor, then enrol next
)

var headings = map[action]string{
	actLogin:   "Enter the code we sent you",
	actEnroll:  "Confirm your number",
	actDisable: "Confirm it is you",
	actReauth:  "Confirm it is you",
}

// factorSMS is a code that verify sends to a phone number (by SMS, or by a
// call) and checks by verification ID. Other kinds of factor (an
// authenticator app, say) add their own constant, and their own branch in
// deliver and checkCode; the binding of a code to its step is the same.
const factorSMS = "sms"

// pending is a code step in progress. It is bound to everything its
// approval decides: the action, the account, the epoch of the account's
// factor when the step began, and the verification the code belongs to.
// An approval applies to this pending value only, and only once (done); a
// step started later on the same session replaces it, and an approval of
// the replaced one grants nothing. Its fields are guarded by App.mu.
type pending struct {
	action   action
	account  string
	epoch    uint64
	factor   string
	target   string // where the code goes: an E.164 number for factorSMS
	next     string // for actReauth: the number to enrol once proved
	verifyID string // the verification the code belongs to, once sent
	tries    int    // checks reserved or made against verifyID
	done     bool
	note     string // added to the message once the step is done
	// For actPushEnroll: when the access token was issued (the phone's
	// factor is newer) and the phone page's link.
	since time.Time
	link  string
}

// begin makes p the session's step, replacing any other, sends its first
// code and shows the code form.
func (a *App) begin(w http.ResponseWriter, r *http.Request, s *session, p *pending) {
	a.mu.Lock()
	s.pend = p
	a.mu.Unlock()
	a.redirect(w, r, "/verify", a.deliver(r, s, p, verify.ChannelSMS))
}

// deliver (re)sends p's code over ch and returns what to tell the user.
func (a *App) deliver(r *http.Request, s *session, p *pending, ch verify.Channel) string {
	a.mu.Lock()
	account, target, factor := p.account, p.target, p.factor
	a.mu.Unlock()
	if factor == factorTOTP {
		return "Enter the code your authenticator app shows."
	}
	if factor == factorPush {
		return a.sendPush(r, s, p)
	}
	v, err := a.cfg.Verify.Start(r.Context(), target, ch, &verify.StartOptions{CallerKeys: a.callerKeys(r, account)})
	switch {
	case err == nil:
		a.mu.Lock()
		if s.pend == p { // not replaced while the code went out
			if p.verifyID != v.ID {
				p.tries = 0
			}
			p.verifyID = v.ID
		}
		a.mu.Unlock()
		if ch == verify.ChannelCall {
			return "We are calling you: the code will be read out."
		}
		return "We sent you a code by text message."
	case errors.Is(err, verify.ErrTooManySends):
		if d, ok := verify.RetryAfter(err); ok {
			return "A code was sent a moment ago: use it, or ask for another one in " + waitText(d) + "."
		}
		return "Too many codes were sent to this number. Use the last one you received, or wait 10 minutes."
	case errors.Is(err, verify.ErrUndeliverable):
		var pe *verify.PolicyError
		if errors.As(err, &pe) {
			return "We do not send codes to numbers like this one. Use another number."
		}
		return "We could not send a text message to this number. Try \"Call me instead\"."
	case errors.Is(err, verify.ErrRateLimited):
		if d, ok := verify.RetryAfter(err); ok {
			return "Too many requests. Try again in " + waitText(d) + "."
		}
		return "Too many requests. Try again in a minute."
	case errors.Is(err, verify.ErrOutcomeUnknown):
		return "We are not sure the code went out. If nothing arrives within a minute, use \"Send the code again\"."
	}
	return "We could not send a code right now. Please try again."
}

// errWrongVerification: the provider approved a verification other than
// the one the code was checked against. Nothing is granted.
var errWrongVerification = fmt.Errorf("%w: the approval is for another verification", verify.ErrOutcomeUnknown)

// checkCode checks code against step p's verification id and reports
// whether it is approved.
func (a *App) checkCode(ctx context.Context, p *pending, id, code string, keys map[string]string) (bool, error) {
	switch p.factor {
	case factorTOTP:
		return a.checkTOTP(ctx, p, id, code)
	case factorSMS:
		v, err := a.cfg.Verify.CheckID(ctx, id, code, &verify.CheckOptions{CallerKeys: keys})
		if err != nil || !v.Approved() {
			return false, err
		}
		if v.ID != id {
			return false, errWrongVerification
		}
		return true, nil
	}
	return false, fmt.Errorf("app: no checker for factor %q", p.factor)
}

// step returns the session's pending step if the session is at the stage
// the step needs, or nil. The caller holds a.mu.
func step(s *session) *pending {
	if s == nil || s.pend == nil {
		return nil
	}
	if (s.pend.action == actLogin) != (s.stage == stageCode) {
		return nil
	}
	return s.pend
}

func (a *App) verifyPage(w http.ResponseWriter, r *http.Request) {
	s := sess(r)
	a.mu.Lock()
	p := step(s)
	var act action
	var target, identity string
	var app, canSMS bool
	if p != nil {
		act, target = p.action, p.target
		if u := a.users[p.account]; u != nil && act == actLogin {
			identity = u.identity
		}
		app = p.factor == factorTOTP
		if u := a.users[p.account]; app && u != nil && act == actLogin {
			canSMS = u.twoFA && u.phone != ""
		}
	}
	a.mu.Unlock()
	if p == nil {
		a.redirect(w, r, "/", "")
		return
	}
	if app {
		target = ""
	}
	if a.pushPage(w, r, p) {
		return
	}
	a.render(w, r, "verify", view{Title: "Enter your code", Heading: headings[act], Target: maskPhone(target), AppCode: app, CanSMS: canSMS,
		CanRecover: a.hasRecovery(r, identity)})
}

func (a *App) verify(w http.ResponseWriter, r *http.Request) {
	s := sess(r)
	a.mu.Lock()
	p := step(s)
	a.mu.Unlock()
	if p == nil {
		a.redirect(w, r, "/", "")
		return
	}
	a.mu.Lock()
	app := p.factor == factorTOTP
	a.mu.Unlock()
	a.mu.Lock()
	push := p.factor == factorPush
	a.mu.Unlock()
	switch action := r.PostForm.Get("action"); {
	case action == "sms" || action == "code":
		a.smsInstead(w, r, s, p)
		return
	case push && action == "resend":
		a.redirect(w, r, "/verify", a.deliver(r, s, p, verify.ChannelSMS))
		return
	case push && action != "recovery":
		a.finishPush(w, r, s, p)
		return
	case action == "recovery":
		a.useRecovery(w, r, s, p)
		return
	case app && (action == "resend" || action == "call"):
		a.redirect(w, r, "/verify", "Enter the code your authenticator app shows.")
		return
	}
	switch r.PostForm.Get("action") {
	case "resend":
		a.redirect(w, r, "/verify", a.deliver(r, s, p, verify.ChannelSMS))
		return
	case "call":
		a.redirect(w, r, "/verify", a.deliver(r, s, p, verify.ChannelCall))
		return
	}
	a.mu.Lock()
	act, target, account, id := p.action, p.target, p.account, p.verifyID
	// Reserve a try before checking, under the lock: concurrent checks
	// cannot together exceed the limit.
	reserved := id != "" && p.tries < a.cfg.MaxTries
	if reserved {
		p.tries++
	}
	a.mu.Unlock()
	fail := func(msg string) {
		v := view{Title: "Enter your code", Heading: headings[act], Target: maskPhone(target), Error: msg, AppCode: app}
		if app {
			v.Target = ""
			a.mu.Lock()
			if u := a.users[account]; u != nil && act == actLogin {
				v.CanSMS = u.twoFA && u.phone != ""
			}
			a.mu.Unlock()
		}
		a.render(w, r, "verify", v)
	}
	refund := func() {
		a.mu.Lock()
		if p.verifyID == id && p.tries > 0 {
			p.tries--
		}
		a.mu.Unlock()
	}
	switch {
	case id == "":
		fail("No code is pending. Use \"Send the code again\".")
		return
	case !reserved:
		fail("Too many wrong codes. Wait 10 minutes, then ask for a new code.")
		return
	case app && !a.allowed(a.totpChecks, r, account):
		refund()
		fail("Too many attempts. Wait a few minutes and try again.")
		return
	}
	ok, err := a.checkCode(r.Context(), p, id, r.PostForm.Get("code"), a.callerKeys(r, account))
	switch {
	case err == nil && ok:
		a.complete(w, r, s, p)
	case err == nil:
		a.mu.Lock()
		left := a.cfg.MaxTries - p.tries
		a.mu.Unlock()
		if left <= 0 {
			fail("That code is not right, and no tries are left. Wait 10 minutes, then ask for a new code.")
			return
		}
		fail("That code is not right. " + strconv.Itoa(left) + " tries left.")
	case errors.Is(err, verify.ErrRateLimited):
		refund() // refused before it reached the provider
		if d, ok := verify.RetryAfter(err); ok {
			fail("Too many attempts. Try again in " + waitText(d) + ".")
			return
		}
		fail("Too many attempts. Wait a few minutes and try again.")
	case errors.Is(err, verify.ErrInvalidRequest):
		refund() // refused before it reached the provider
		fail("Codes are made of digits, like 123456. Check what you typed.")
	case errors.Is(err, verify.ErrNotFound):
		a.mu.Lock()
		if p.verifyID == id {
			p.verifyID = ""
		}
		a.mu.Unlock()
		fail("This code has expired. Use \"Send the code again\" for a new one.")
	case errors.Is(err, verify.ErrTooManyChecks):
		fail("Too many wrong codes. Wait 10 minutes, then ask for a new code.")
	case errors.Is(err, verify.ErrOutcomeUnknown):
		// Never grant access on an unknown outcome.
		fail("We could not confirm your code. Please try again.")
	default:
		fail("We could not check your code right now. Please try again.")
	}
}

// complete applies step p after its code was approved: once, and only if
// p is still the session's step, the session still stands where p began,
// and the account's factor has not changed since.
func (a *App) complete(w http.ResponseWriter, r *http.Request, s *session, p *pending) {
	now := a.cfg.Now()
	a.mu.Lock()
	if s.dead || s.pend != p || p.done {
		a.mu.Unlock()
		a.redirect(w, r, "/", "That code was for a step that has since been replaced or finished. Nothing was changed.")
		return
	}
	p.done, s.pend = true, nil
	u := a.users[p.account]
	wantStage := stageLoggedIn
	if p.action == actLogin {
		wantStage = stageCode
	}
	if u == nil || u.epoch != p.epoch || s.email != p.account || s.stage != wantStage {
		a.mu.Unlock()
		a.redirect(w, r, "/", "Your two-step login settings changed meanwhile. Nothing was changed; please start again.")
		return
	}
	var msg, removed, identity string
	switch p.action {
	case actLogin:
		s.stage = stageLoggedIn
		s.proofAt, s.proofEpoch = now, u.epoch
		a.sessions.rekey(s)
		msg = "You are logged in."
	case actEnroll:
		u.phone, u.twoFA = p.target, true
		u.epoch++
		s.proofAt, s.proofEpoch = now, u.epoch
		msg = "Two-step login is on. Next time, you will need a code after your password."
	case actDisable:
		u.phone, u.twoFA = "", false
		u.epoch++
		msg = "Two-step login is off."
	case actReauth:
		s.proofAt, s.proofEpoch = now, u.epoch
	case actTOTPEnroll, actPushEnroll:
		slot, what := &u.totp, "Your authenticator app is on. Next time, you will need its code after your password."
		if p.action == actPushEnroll {
			slot, what = &u.push, "Your phone is set up. Next time, approve the login on it."
		}
		if *slot != p.target {
			removed, identity = *slot, u.identity // the factor this one replaces
		}
		*slot = p.target
		u.epoch++
		s.proofAt, s.proofEpoch = now, u.epoch
		msg = what
	case actTOTPRemove, actPushRemove:
		slot, what := &u.totp, "Your authenticator app is off."
		if p.action == actPushRemove {
			slot, what = &u.push, "Your phone is removed."
		}
		removed, identity = *slot, u.identity
		*slot = ""
		u.epoch++
		msg = what
	}
	msg += p.note
	account := u.identity
	// A factor switched on brings recovery codes, unless the account has
	// a set already (Issue refuses then).
	enrolled := p.action == actEnroll || p.action == actTOTPEnroll || p.action == actPushEnroll
	noneLeft := !hasFactor(u)
	a.mu.Unlock()
	if removed != "" {
		a.dropFactor(r.Context(), identity, removed)
	}
	if noneLeft {
		a.dropRecovery(r, account)
	}
	if enrolled {
		if codes := a.issueRecovery(r, account); codes != nil {
			a.render(w, r, "recovery", view{Title: "Recovery codes", Heading: msg, RecoveryCodes: codes})
			return
		}
	}
	if p.action == actLogin {
		a.setSessionCookie(w, r, s)
	}
	if p.action == actReauth && p.next == nextTOTP {
		a.startTOTPEnroll(w, r, s)
		return
	}
	if p.action == actReauth && p.next == nextPush {
		a.startPushEnroll(w, r, s)
		return
	}
	if p.action == actReauth {
		a.enrollNumber(w, r, s, p.next)
		return
	}
	a.redirect(w, r, "/", msg)
}

// recentProof reports whether session s proved u's current factor within
// the re-authentication window. The caller holds a.mu.
func (a *App) recentProof(s *session, u *user) bool {
	return !s.proofAt.IsZero() && s.email == u.email && s.proofEpoch == u.epoch &&
		a.cfg.Now().Sub(s.proofAt) <= a.cfg.ReauthWindow
}
