package app

import (
	"errors"
	"log"
	"net/http"
	"strconv"

	"github.com/verifykit/verifykit/verify"
	"github.com/verifykit/verifykit/verify/recovery"
)

// Recovery codes: the way back when the phone (the authenticator app, the
// SMS number) is gone.
//
// When an account switches on its first second factor, the app issues a
// set of recovery codes (package verify/recovery, in Config.Recovery) and
// shows them once, on the page that confirms the factor; only their slow
// hashes are kept. A login step may then be finished with one of them
// instead of the factor's code: the step is the same pending as a code
// step (bound to the action, the account and the factor's epoch), and
// each code works once. When the account's last factor is switched off its
// codes are deleted; the next factor brings a new set.

// issueRecovery issues the account's recovery codes if it has none yet,
// and returns them (nil when it already had a set, or recovery is not
// configured). Failures are logged: the factor is on regardless, and the
// codes can be issued with the next factor.
func (a *App) issueRecovery(r *http.Request, identity string) []string {
	if a.cfg.Recovery == nil {
		return nil
	}
	set, err := a.cfg.Recovery.Issue(r.Context(), identity)
	if err != nil {
		if !errors.Is(err, recovery.ErrAlreadyIssued) {
			log.Printf("webapp: issuing recovery codes: %v", err)
		}
		return nil
	}
	return set.Codes()
}

// dropRecovery deletes the account's recovery codes once it has no second
// factor left. Best effort, like dropFactor.
func (a *App) dropRecovery(r *http.Request, identity string) {
	if a.cfg.Recovery == nil {
		return
	}
	if err := a.cfg.Recovery.Delete(r.Context(), identity); err != nil && !errors.Is(err, verify.ErrNotFound) {
		log.Printf("webapp: deleting recovery codes: %v", err)
	}
}

// hasRecovery reports whether the account has unused recovery codes.
func (a *App) hasRecovery(r *http.Request, identity string) bool {
	if a.cfg.Recovery == nil || identity == "" {
		return false
	}
	n, err := a.cfg.Recovery.Remaining(r.Context(), identity)
	return err == nil && n > 0
}

// useRecovery finishes login step p with a recovery code instead of the
// factor's code.
func (a *App) useRecovery(w http.ResponseWriter, r *http.Request, s *session, p *pending) {
	a.mu.Lock()
	u := a.users[p.account]
	identity, act := "", p.action
	if u != nil {
		identity = u.identity
	}
	a.mu.Unlock()
	if act != actLogin || a.cfg.Recovery == nil || identity == "" {
		a.redirect(w, r, "/verify", "A recovery code can only finish a login.")
		return
	}
	if !a.allowed(a.totpChecks, r, p.account) {
		a.redirect(w, r, "/verify", "Too many attempts. Wait a few minutes and try again.")
		return
	}
	res, err := a.cfg.Recovery.Use(r.Context(), identity, r.PostForm.Get("recovery"))
	switch {
	case err == nil && res.Accepted:
		a.mu.Lock()
		p.note = " You used a recovery code: " + strconv.Itoa(res.Remaining) + " left. Set up your phone again soon."
		a.mu.Unlock()
		a.complete(w, r, s, p)
	case err == nil:
		a.redirect(w, r, "/verify", "That recovery code is not right, or was used already.")
	case errors.Is(err, verify.ErrTooManyChecks):
		a.redirect(w, r, "/verify", "Too many wrong recovery codes. Wait an hour, then try again.")
	default:
		// Never grant access on an error.
		a.redirect(w, r, "/verify", "We could not check your recovery code right now. Please try again.")
	}
}
