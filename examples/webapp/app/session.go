package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Cookie names. The session cookie exists only for a logged-in session or
// one waiting for its code; the CSRF cookie lets the forms of visitors
// without a session carry a token with no state on the server; the flash
// cookie carries a one-time message across a redirect.
const (
	cookieName  = "vk_session"
	csrfCookie  = "vk_csrf"
	flashCookie = "vk_flash"
)

// session is a logged-in browser's state (or one waiting for its code),
// kept on the server; the cookie holds only its random ID. Its fields are
// guarded by App.mu.
type session struct {
	id      string
	csrf    string
	stage   stage
	email   string // the account: logged in, or waiting for its code
	created time.Time
	used    time.Time
	seq     uint64 // when it was last used, in the store's order of uses
	dead    bool   // logged out, replaced, expired or evicted

	// pend is the code step in progress, if any.
	pend *pending
	// proofAt is when this session last proved the account's current
	// factor (a code at login, or a step-up), and proofEpoch the factor's
	// epoch then; see App.recentProof.
	proofAt    time.Time
	proofEpoch uint64
}

// sessionStore holds the sessions, at most max of them: expired ones are
// dropped when seen and swept now and then, and when the store is full the
// least recently used one makes room. Guarded by App.mu.
type sessionStore struct {
	m        map[string]*session
	max      int
	idle     time.Duration
	lifetime time.Duration
	swept    time.Time
	uses     uint64 // counts gets and adds, to order sessions by last use
}

func (st *sessionStore) expired(s *session, now time.Time) bool {
	return now.Sub(s.used) >= st.idle || now.Sub(s.created) >= st.lifetime
}

// get returns the live session with this ID and marks it used, or nil.
func (st *sessionStore) get(id string, now time.Time) *session {
	s := st.m[id]
	if s == nil {
		return nil
	}
	if st.expired(s, now) {
		st.drop(s)
		return nil
	}
	s.used = now
	st.uses++
	s.seq = st.uses
	return s
}

// add stores s, making room if the store is full.
func (st *sessionStore) add(s *session, now time.Time) {
	if now.Sub(st.swept) >= time.Minute || len(st.m) >= st.max {
		for _, old := range st.m {
			if st.expired(old, now) {
				st.drop(old)
			}
		}
		st.swept = now
	}
	for len(st.m) >= st.max {
		var lru *session
		for _, old := range st.m {
			if lru == nil || old.seq < lru.seq {
				lru = old
			}
		}
		st.drop(lru)
	}
	st.uses++
	s.seq = st.uses
	st.m[s.id] = s
}

// drop ends s: it leaves the store, and its pending step with it.
func (st *sessionStore) drop(s *session) {
	delete(st.m, s.id)
	s.dead, s.pend = true, nil
}

// rekey gives s a new ID and CSRF token, so an ID known before a login
// step is worthless after it.
func (st *sessionStore) rekey(s *session) {
	delete(st.m, s.id)
	s.id, s.csrf = randomToken(), randomToken()
	st.m[s.id] = s
}

// lookup returns the request's live session, or nil: it never creates one.
func (a *App) lookup(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions.get(c.Value, a.cfg.Now())
}

// newSession starts a session for account at stage st, ending the
// request's session if it had one. The caller holds a.mu.
func (a *App) newSession(old *session, account string, st stage) *session {
	now := a.cfg.Now()
	if old != nil && !old.dead {
		a.sessions.drop(old)
	}
	s := &session{id: randomToken(), csrf: randomToken(), stage: st, email: account, created: now, used: now}
	a.sessions.add(s, now)
	return s
}

// secure reports whether the request reached the user over TLS: directly,
// through a trusted proxy that says so, or by configuration.
func (a *App) secure(r *http.Request) bool {
	if a.cfg.SecureCookies || r.TLS != nil {
		return true
	}
	return a.fromTrustedProxy(r) && strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https")
}

func (a *App) cookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	age := int(maxAge / time.Second)
	if maxAge < 0 {
		age = -1
	}
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true,
		Secure: a.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: age,
	})
}

func (a *App) setSessionCookie(w http.ResponseWriter, r *http.Request, s *session) {
	a.cookie(w, r, cookieName, s.id, a.cfg.SessionLifetime)
}

// mac is an HMAC-SHA256 of the parts under the app's key.
func (a *App) mac(parts ...string) []byte {
	h := hmac.New(sha256.New, a.key)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

// anonCSRF returns the CSRF token for a visitor without a session: an HMAC
// of a random value kept in the visitor's CSRF cookie, which it sets when
// the request has none. The server keeps nothing.
func (a *App) anonCSRF(w http.ResponseWriter, r *http.Request) string {
	seed := ""
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 43 {
		seed = c.Value
	} else {
		seed = randomToken()
		a.cookie(w, r, csrfCookie, seed, 12*time.Hour)
	}
	return base64.RawURLEncoding.EncodeToString(a.mac("csrf", seed))
}

// csrfOK checks a form's token: against the session's, or for a visitor
// without a session against the HMAC of the CSRF cookie.
func (a *App) csrfOK(r *http.Request, s *session) bool {
	got := []byte(r.PostForm.Get("csrf"))
	if s != nil {
		a.mu.Lock()
		want := []byte(s.csrf)
		a.mu.Unlock()
		return subtle.ConstantTimeCompare(got, want) == 1
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return false
	}
	want := []byte(base64.RawURLEncoding.EncodeToString(a.mac("csrf", c.Value)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// setFlash leaves a message for the next page, in a signed cookie.
func (a *App) setFlash(w http.ResponseWriter, r *http.Request, msg string) {
	tag := base64.RawURLEncoding.EncodeToString(a.mac("flash", msg)[:16])
	a.cookie(w, r, flashCookie, base64.RawURLEncoding.EncodeToString([]byte(msg))+"."+tag, time.Minute)
}

// takeFlash returns the message left for this page, if its signature
// holds, and clears it.
func (a *App) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	a.cookie(w, r, flashCookie, "", -1)
	enc, tag, ok := strings.Cut(c.Value, ".")
	msg, err := base64.RawURLEncoding.DecodeString(enc)
	if !ok || err != nil {
		return ""
	}
	want := base64.RawURLEncoding.EncodeToString(a.mac("flash", string(msg))[:16])
	if subtle.ConstantTimeCompare([]byte(tag), []byte(want)) != 1 {
		return ""
	}
	return string(msg)
}

// remoteAddr is the address of the peer, without the port.
func remoteAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(r.RemoteAddr)
	return a.Unmap(), err == nil
}

func (a *App) trusted(ip netip.Addr) bool {
	for _, p := range a.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (a *App) fromTrustedProxy(r *http.Request) bool {
	ip, ok := remoteAddr(r)
	return ok && a.trusted(ip)
}

// clientIP is the address the rate limits count against: the peer's, or,
// when the peer is a trusted proxy, the last address in X-Forwarded-For
// that is not itself a trusted proxy. Addresses a client put in the header
// itself come before its proxies' and are never reached while an untrusted
// one follows them. An IPv6 address counts as its /64, which one host
// usually holds whole.
func (a *App) clientIP(r *http.Request) string {
	ip := a.clientAddr(r)
	if addr, err := netip.ParseAddr(ip); err == nil && addr.Is6() {
		return netip.PrefixFrom(addr, 64).Masked().String()
	}
	return ip
}

func (a *App) clientAddr(r *http.Request) string {
	ip, ok := remoteAddr(r)
	if !ok {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return r.RemoteAddr
		}
		return host
	}
	if !a.trusted(ip) {
		return ip.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled header: trust nothing further left
		}
		hop = hop.Unmap()
		if !a.trusted(hop) {
			return hop.String()
		}
	}
	return ip.String()
}
