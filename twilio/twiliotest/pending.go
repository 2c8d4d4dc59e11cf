package twiliotest

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
)

// pending indexes the emulator's pending verifications, across services:
// which fake holds each (a service keeps verifications started before a
// change of its code length in the fake that started them), when it
// expires, and what the emulator adds to the fake's view (PSD2 amount and
// payee, silent network auth). It bounds them (WithMaxPending) and keeps
// their high-water mark. Its fields are guarded by Emulator.mu.
type pending struct {
	byID      map[string]*rec // by VE SID
	byTo      map[toKey]*rec
	bySNA     map[string]*rec // by the token of the sna.url
	starting  int             // starts in flight that may create a verification
	highWater int
	added     int // verifications indexed since the last sweep
}

type toKey struct{ service, to string }

// rec is the emulator's record of a pending verification.
type rec struct {
	sid, to string
	service *service
	fake    *fake.Fake
	expires time.Time

	amount, payee *string // PSD2, on a service with psd2_enabled

	snaToken   string // the token of the sna.url; empty unless the channel is sna
	snaAttempt string // the VL… SID of the sna send
	snaDone    bool   // the device visited the sna.url
	snaClient  string // the SNA client token (EnableSnaClientToken), empty when none
	snaFail    int    // the SNA error code of the device's last visit, 0 when none
}

func newPending() pending {
	return pending{byID: map[string]*rec{}, byTo: map[toKey]*rec{}, bySNA: map[string]*rec{}}
}

// index records that f, the fake of the service serviceSID, sent m.
// e.mu must be held.
func (e *Emulator) index(serviceSID string, f *fake.Fake, m fake.Message) {
	r := e.byID[m.VerificationID]
	if r == nil {
		s := e.services[serviceSID]
		if s == nil {
			return // deleted meanwhile
		}
		key := toKey{serviceSID, m.To}
		if old := e.byTo[key]; old != nil {
			e.forgetLocked(old) // the fake replaced an expired or ended one
		}
		r = &rec{sid: m.VerificationID, to: m.To, service: s, fake: f, expires: m.SentAt.Add(e.validity)}
		e.byID[r.sid] = r
		e.byTo[key] = r
		e.added++
		if n := len(e.byID); n > e.highWater {
			e.highWater = n
		}
		if e.added >= 64 && 2*e.added >= len(e.byID) {
			e.sweep(m.SentAt)
		}
	}
	if m.Channel == provider.ChannelSNA && r.snaToken == "" {
		r.snaToken = randomToken()
		e.bySNA[r.snaToken] = r
	}
}

// randomToken returns 32 random hex digits.
func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// forgetLocked drops r from the index. e.mu must be held.
func (e *Emulator) forgetLocked(r *rec) {
	if e.byID[r.sid] == r {
		delete(e.byID, r.sid)
	}
	if key := (toKey{r.service.SID, r.to}); e.byTo[key] == r {
		delete(e.byTo, key)
	}
	if r.snaToken != "" && e.bySNA[r.snaToken] == r {
		delete(e.bySNA, r.snaToken)
	}
}

// forget drops the verification sid from the index: it has ended.
func (e *Emulator) forget(sid string) {
	e.mu.Lock()
	if r := e.byID[sid]; r != nil {
		e.forgetLocked(r)
	}
	e.mu.Unlock()
}

// sweep drops the verifications that expired by now. e.mu must be held.
func (e *Emulator) sweep(now time.Time) {
	e.added = 0
	for _, r := range e.byID {
		if !now.Before(r.expires) {
			e.forgetLocked(r)
		}
	}
}

// lookupRec returns a copy of the record of the verification a request
// names in service s, by SID (and then To, if given, must match) or by To,
// or nil.
func (e *Emulator) lookupRec(s *service, sid, to string) *rec {
	e.mu.Lock()
	defer e.mu.Unlock()
	var r *rec
	if sid != "" {
		r = e.byID[sid]
		if r != nil && (r.service != s || to != "" && r.to != to) {
			r = nil
		}
	} else {
		r = e.byTo[toKey{s.SID, to}]
	}
	if r != nil && !e.now().Before(r.expires) {
		e.forgetLocked(r)
		r = nil
	}
	if r == nil {
		return nil
	}
	cp := *r
	return &cp
}

// reserve prepares a start to to on service s: it returns the fake to
// start it in (the one holding a pending verification for to, else cur),
// and whether a slot was reserved for a new verification. It returns a nil
// fake when the emulator holds the maximum of pending verifications.
func (e *Emulator) reserve(s *service, cur *fake.Fake, to string) (*fake.Fake, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	if r := e.byTo[toKey{s.SID, to}]; r != nil && now.Before(r.expires) {
		return r.fake, false // a re-send: no new verification
	}
	if len(e.byID)+e.starting >= e.maxPending {
		e.sweep(now)
		if len(e.byID)+e.starting >= e.maxPending {
			return nil, false
		}
	}
	e.starting++
	return cur, true
}

// started ends a start that reserve prepared, recording in the index what
// the answer v says. amount and payee are the PSD2 parameters, nil unless
// the service has psd2_enabled.
func (e *Emulator) started(reserved bool, v *provider.Verification, amount, payee *string) *rec {
	e.mu.Lock()
	defer e.mu.Unlock()
	if reserved {
		e.starting--
	}
	if v == nil {
		return nil
	}
	r := e.byID[v.ID]
	if r == nil {
		return nil
	}
	r.expires = v.ExpiresAt
	if amount != nil || payee != nil {
		r.amount, r.payee = amount, payee
	}
	if n := len(v.SendAttempts); n > 0 && v.Channel == provider.ChannelSNA {
		r.snaAttempt = v.SendAttempts[n-1].ID
	}
	if v.Channel != provider.ChannelSNA && r.snaToken != "" {
		// A re-send over another channel: the sna.url no longer applies.
		delete(e.bySNA, r.snaToken)
		r.snaToken, r.snaDone, r.snaClient, r.snaFail = "", false, "", 0
	}
	cp := *r
	return &cp
}
