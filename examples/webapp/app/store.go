package app

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// user is an account. Its fields are guarded by App.mu.
type user struct {
	email string
	salt  []byte
	hash  []byte
	phone string // E.164, set once enrolment is confirmed
	twoFA bool
	// identity names the account's factors at the provider: random, not
	// the e-mail address (see totp.go). totp is the ID of its confirmed
	// authenticator app, or empty.
	identity string
	totp     string
	// push is the ID of its confirmed phone (a push factor), or empty.
	push string
	// epoch counts the changes to the account's second factor. A code step
	// records it when it begins and does nothing if it has moved by the
	// time the code is approved.
	epoch uint64
}

// stage is how far a session has come.
type stage int

const (
	stageAnon     stage = iota // not logged in
	stageCode                  // password accepted, waiting for the code
	stageLoggedIn              // logged in
)

// randomToken returns 32 random bytes, base64url-encoded.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashPassword derives a key from password with PBKDF2-HMAC-SHA256.
func hashPassword(password string, salt []byte, iterations int) []byte {
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, 32)
	if err != nil {
		panic(err) // only for parameters outside what FIPS mode allows
	}
	return key
}

// checkPassword compares in constant time.
func checkPassword(u *user, password string, iterations int) bool {
	return subtle.ConstantTimeCompare(hashPassword(password, u.salt, iterations), u.hash) == 1
}

// limiter allows at most max events per key within a sliding window. It
// forgets keys whose events are all older than the window, and holds at
// most maxKeys keys: when that many are active, events for new keys are
// refused until some expire. Memory stays bounded whatever keys requests
// make up.
type limiter struct {
	mu      sync.Mutex
	max     int
	maxKeys int
	window  time.Duration
	events  map[string][]time.Time
	swept   time.Time
}

// defaultMaxKeys bounds each limiter's keys.
const defaultMaxKeys = 100_000

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, maxKeys: defaultMaxKeys, window: window, events: map[string][]time.Time{}}
}

// allow records an event for key at now and reports whether it is within
// the limit. Refused events are not recorded.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, known := l.events[key]
	full := !known && len(l.events) >= l.maxKeys
	// Sweep once a window, or when full, at most every tenth of a window
	// (a sweep costs a pass over every key).
	if now.Sub(l.swept) > l.window || (full && now.Sub(l.swept) > l.window/10) {
		for k, ev := range l.events {
			if len(ev) == 0 || now.Sub(ev[len(ev)-1]) > l.window {
				delete(l.events, k)
			}
		}
		l.swept = now
		_, known = l.events[key]
		full = !known && len(l.events) >= l.maxKeys
	}
	if full {
		return false
	}
	ev := l.events[key]
	i := 0
	for i < len(ev) && now.Sub(ev[i]) > l.window {
		i++
	}
	ev = ev[i:]
	if len(ev) >= l.max {
		l.events[key] = ev
		return false
	}
	l.events[key] = append(ev, now)
	return true
}
