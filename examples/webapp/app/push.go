package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/verifykit/verifykit/internal/pushwire"
	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/verify"
)

// "Approve on your phone": a push factor as the second factor.
//
// Enrolment issues a short-lived access token for the account's identity
// and shows it as a QR code (and a link) to the phone page: a phone
// simulator in the browser that makes its P-256 key with WebCrypto,
// creates and verifies its factor through the device endpoints (/device/,
// Twilio's device protocol, package internal/pushwire over
// Config.Device), and approves or denies challenges, signing as Twilio's
// SDKs do. The enrolment page waits (static/wait.js polls /push/status)
// and finishes once the phone's factor is verified. A login then creates
// a challenge and the login page waits the same way for the phone's
// answer; "use a code instead" falls back to the authenticator app or an
// SMS, and a recovery code works when the phone is gone. Every step is a
// pending like the code steps, bound to the action, the account, the
// factor's epoch and the challenge, applied once.

// factorPush is a push factor: the step's target is the factor's ID and
// its verifyID the challenge's.
const factorPush = "push"

// The actions of the push factor.
const (
	actPushEnroll action = "push-enroll" // the phone's new factor is verified: push is on
	actPushRemove action = "push-remove" // the phone approved its removal: push is off
)

// nextPush, as a reauth step's next, enrols a phone once the current
// factor is proved.
const nextPush = "\x00push"

// deviceService is the service SID of the device endpoints' paths.
const deviceService = "VAverifykitdemo"

func init() {
	headings[actPushEnroll] = "Set up your phone"
	headings[actPushRemove] = "Confirm it is you"
}

func (a *App) pushRoutes(m *http.ServeMux) {
	if a.cfg.Device == nil {
		return
	}
	m.HandleFunc("POST /push/enroll", a.pushEnroll)
	m.HandleFunc("POST /push/remove", a.pushRemove)
	m.HandleFunc("GET /push/status", a.pushStatus)
	m.HandleFunc("GET /phone", a.page("phone", "Phone"))
	a.device = http.StripPrefix("/device", pushwire.Handler(pushwire.Config{API: a.cfg.Device, ServiceSID: deviceService, Now: a.cfg.Now}))
}

// pushEnroll begins the enrolment of a phone.
func (a *App) pushEnroll(w http.ResponseWriter, r *http.Request) {
	a.enrollFactor(w, r, nextPush, a.startPushEnroll)
}

// startPushEnroll issues an access token and shows the QR code of the
// phone page's enrolment link, waiting for the phone.
func (a *App) startPushEnroll(w http.ResponseWriter, r *http.Request, s *session) {
	account, identity, epoch, ok := a.setupFactor(w, r, s, func(u *user) string { return u.push })
	if !ok {
		return
	}
	tok, err := a.cfg.Verify.CreatePushAccessToken(r.Context(), identity, &verify.AccessTokenOptions{FactorFriendlyName: "verifykit demo phone", TTL: 5 * time.Minute})
	if err != nil {
		a.redirect(w, r, "/", "We could not set up a phone right now. Please try again.")
		return
	}
	// The token travels in the fragment, which browsers do not send to
	// servers: only the phone page reads it.
	link := a.origin(r) + "/phone#" + url.Values{"s": {deviceService}, "i": {identity}, "t": {tok.Token}}.Encode()
	png, err := totp.QRPNGOf(link, 240)
	if err != nil {
		a.redirect(w, r, "/", "We could not set up a phone right now. Please try again.")
		return
	}
	p := &pending{action: actPushEnroll, account: account, epoch: epoch, factor: factorPush, since: tok.CreatedAt, link: link}
	a.mu.Lock()
	s.pend = p
	a.mu.Unlock()
	a.renderPush(w, r, p, png, "")
}

// renderPush shows the enrolment page of step p: the QR code (png) of
// its link, the link, and the form the waiting script submits.
func (a *App) renderPush(w http.ResponseWriter, r *http.Request, p *pending, png []byte, flash string) {
	a.mu.Lock()
	link := p.link
	a.mu.Unlock()
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	a.render(w, r, "push", view{Title: "Set up your phone", Heading: headings[actPushEnroll], QR: qrURL(dataURL(png)),
		PhoneLink: template.URL(link), PushWait: true, Error: flash})
}

// pushPage renders the page of a push step (the enrolment's QR code, or
// "approve on your phone") and reports whether p was one.
func (a *App) pushPage(w http.ResponseWriter, r *http.Request, p *pending) bool {
	a.mu.Lock()
	push, act, link := p.factor == factorPush, p.action, p.link
	u := a.users[p.account]
	canCode := u != nil && act == actLogin && (u.totp != "" || u.twoFA && u.phone != "")
	identity := ""
	if u != nil && act == actLogin {
		identity = u.identity
	}
	a.mu.Unlock()
	if !push {
		return false
	}
	if act == actPushEnroll {
		png, err := totp.QRPNGOf(link, 240)
		if err != nil {
			a.redirect(w, r, "/", "We could not set up a phone right now. Please try again.")
			return true
		}
		a.renderPush(w, r, p, png, "")
		return true
	}
	a.render(w, r, "verify", view{Title: "Approve on your phone", Heading: "Approve on your phone", PushWait: true, CanCode: canCode,
		CanRecover: a.hasRecovery(r, identity)})
	return true
}

// pushRemove asks the phone to approve its own removal.
func (a *App) pushRemove(w http.ResponseWriter, r *http.Request) {
	a.removeFactor(w, r, actPushRemove, factorPush, func(u *user) string { return u.push }, "No phone is set up.")
}

// sendPush creates the challenge of step p and records it.
func (a *App) sendPush(r *http.Request, s *session, p *pending) string {
	a.mu.Lock()
	u := a.users[p.account]
	identity, factorID, act := "", p.target, p.action
	if u != nil {
		identity = u.identity
	}
	a.mu.Unlock()
	msg := "Log in to verifykit demo?"
	if act != actLogin {
		msg = "Confirm a change to your verifykit demo account?"
	}
	ch, err := a.cfg.Verify.StartPush(r.Context(), identity, factorID, verify.PushDetails{
		Message: msg,
		Fields:  []verify.PushField{{Label: "Account", Value: maskEmail(p.account)}, {Label: "From", Value: a.clientIP(r)}},
	}, nil)
	if err != nil {
		return "We could not reach your phone right now. Use a code instead, or try again."
	}
	a.mu.Lock()
	if s.pend == p {
		p.verifyID = ch.ID
	}
	a.mu.Unlock()
	return "We sent a request to your phone: approve it there."
}

// pushState is what /push/status and the push action see of step p:
// done (the phone answered, or finished enrolling), and the factor or
// challenge that says so.
func (a *App) pushState(ctx context.Context, p *pending) (done bool, id string, status provider.ChallengeStatus) {
	a.mu.Lock()
	u := a.users[p.account]
	identity, act, since, challenge, target := "", p.action, p.since, p.verifyID, p.target
	if u != nil {
		identity = u.identity
	}
	a.mu.Unlock()
	if identity == "" {
		return false, "", ""
	}
	if act == actPushEnroll {
		fs, err := a.cfg.Verify.ListFactors(ctx, identity)
		if err != nil {
			return false, "", ""
		}
		var newest verify.Factor
		for _, f := range fs {
			if f.Type == provider.FactorPush && f.Verified() && !f.CreatedAt.Before(since) && f.CreatedAt.After(newest.CreatedAt) {
				newest = f
			}
		}
		return newest.ID != "", newest.ID, ""
	}
	if challenge == "" {
		return false, "", ""
	}
	ch, err := a.cfg.Verify.FetchChallenge(ctx, identity, challenge)
	if err != nil || ch.FactorID != target || ch.ID != challenge {
		return false, "", ""
	}
	return ch.Status != provider.ChallengePending, ch.ID, ch.Status
}

// pushStatus answers the waiting page's script: {"done": true} once the
// phone has answered.
func (a *App) pushStatus(w http.ResponseWriter, r *http.Request) {
	s := sess(r)
	a.mu.Lock()
	p := step(s)
	if p != nil && p.factor != factorPush {
		p = nil
	}
	a.mu.Unlock()
	done := false
	if p != nil {
		done, _, _ = a.pushState(r.Context(), p)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]bool{"done": done, "waiting": p != nil})
}

// finishPush applies push step p if the phone finished it: the enrolled
// factor, or the challenge approved (a denial or an expiry grants
// nothing).
func (a *App) finishPush(w http.ResponseWriter, r *http.Request, s *session, p *pending) {
	done, id, status := a.pushState(r.Context(), p)
	a.mu.Lock()
	act := p.action
	a.mu.Unlock()
	switch {
	case !done && act == actPushEnroll:
		a.redirect(w, r, "/verify", "Your phone has not finished yet. Open the link on it, or scan the QR code.")
	case !done:
		a.redirect(w, r, "/verify", "Not approved yet. Approve the request on your phone.")
	case act == actPushEnroll:
		a.mu.Lock()
		p.target = id
		a.mu.Unlock()
		a.complete(w, r, s, p)
	case status == provider.ChallengeApproved:
		a.complete(w, r, s, p)
	default:
		// The request is over: the step waits for a new one (and the
		// waiting page stops going on by itself).
		a.mu.Lock()
		if p.verifyID == id {
			p.verifyID = ""
		}
		a.mu.Unlock()
		if status == provider.ChallengeDenied {
			a.redirect(w, r, "/verify", "The request was denied on your phone. Nothing was changed. Use \"Send the request again\" to try again.")
			return
		}
		a.redirect(w, r, "/verify", "The request expired. Use \"Send the request again\".")
	}
}

// dataURL returns a PNG as a data: URL.
func dataURL(png []byte) string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}

// origin returns the scheme and host the browser used.
func (a *App) origin(r *http.Request) string {
	scheme := "http"
	if a.secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// maskEmail shows the first letter and the domain of an address.
func maskEmail(e string) string {
	for i := 0; i < len(e); i++ {
		if e[i] == '@' && i > 0 {
			return e[:1] + "•••" + e[i:]
		}
	}
	return "•••"
}
