package vonagetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/verifykit/verifykit/vonage"
)

// WithCallbacks makes the emulator post Verify status callbacks to
// callbackURL, as Vonage posts them to an application's status webhook,
// each signed with an HS256 JWT in the Authorization header keyed with
// signatureSecret (claims iat, exp, jti and payload_hash, the SHA-256 of
// the body; iat and exp from the real clock, not the emulated one). It posts an event and a summary (status completed) when a
// code is approved, a summary failed when the wrong-code limit ends a
// request, and a summary expired when the last step's timeout passes. As
// with Vonage, requests authenticated with an API key (Basic) get no
// callbacks; only those signed with an application JWT do.
// Posts happen in the background, each with a 5-second timeout, and are
// not retried. callbackURL must be an http(s) URL.
func WithCallbacks(callbackURL string, signatureSecret []byte) Option {
	return func(c *config) error {
		u, err := url.Parse(callbackURL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || len(signatureSecret) == 0 {
			return errors.New("vonagetest: WithCallbacks: need an http(s) URL and a signature secret")
		}
		c.callbackURL, c.callbackSecret = callbackURL, append([]byte(nil), signatureSecret...)
		return nil
	}
}

// callbackJSON is a callback body.
type callbackJSON struct {
	Type           string         `json:"type"`
	RequestID      string         `json:"request_id"`
	Status         string         `json:"status"`
	Channel        string         `json:"channel,omitempty"`
	ClientRef      string         `json:"client_ref,omitempty"`
	TriggeredAt    string         `json:"triggered_at,omitempty"`
	SubmittedAt    string         `json:"submitted_at,omitempty"`
	FinalizedAt    string         `json:"finalized_at,omitempty"`
	ChannelTimeout int            `json:"channel_timeout,omitempty"`
	Workflow       []callbackStep `json:"workflow,omitempty"`
}

type callbackStep struct {
	Channel     string `json:"channel"`
	InitiatedAt string `json:"initiated_at"`
	Status      string `json:"status"`
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// finish posts the callbacks of rq's end with the given outcome
// (completed, failed, expired, or user_rejected: a codeless step the user
// refused, a summary failed). e.mu must be held.
func (e *Emulator) finish(rq *request, outcome string, now time.Time) {
	if e.callbackURL == "" || !rq.jwt {
		return // Vonage sends no webhooks for API-key (Basic) requests
	}
	status := outcome
	if outcome == "user_rejected" {
		status = "failed"
	}
	sum := rq.summary(status, outcome, now)
	if outcome != "completed" && outcome != "user_rejected" {
		e.queuePost([]callbackJSON{sum})
		return
	}
	ev := callbackJSON{Type: "event", RequestID: rq.id, Status: outcome, Channel: rq.steps[rq.cur].channel,
		ClientRef: rq.clientRef, TriggeredAt: stamp(rq.stepAt), FinalizedAt: stamp(now)}
	e.queuePost([]callbackJSON{ev, sum})
}

// summary is the summary callback of rq's end with status; the current
// step's status is cur (the outcome, or user_rejected), an earlier one's
// expired, and a step never started is unused.
func (rq *request) summary(status, cur string, now time.Time) callbackJSON {
	sum := callbackJSON{Type: "summary", RequestID: rq.id, Status: status, ClientRef: rq.clientRef,
		SubmittedAt: stamp(rq.created), FinalizedAt: stamp(now), ChannelTimeout: int(rq.timeout / time.Second)}
	for i, s := range rq.steps {
		st := callbackStep{Channel: s.channel, Status: "unused"}
		if i < len(rq.initiated) {
			st.InitiatedAt, st.Status = stamp(rq.initiated[i]), "expired"
			if i == rq.cur {
				st.Status = cur
			}
		}
		sum.Workflow = append(sum.Workflow, st)
	}
	return sum
}

// queuePost posts bodies in the background, after the callbacks queued
// before them. e.mu must be held.
func (e *Emulator) queuePost(bodies []callbackJSON) {
	prev, done := e.lastPost, make(chan struct{})
	e.lastPost = done
	go func() {
		defer close(done)
		if prev != nil {
			<-prev
		}
		e.post(bodies)
	}()
}

// callbackClient posts the callbacks. Its transport is its own, not
// http.DefaultTransport: closing any httptest.Server closes
// DefaultTransport's idle connections, and a callback taking one at that
// moment would fail and be lost.
var callbackClient = &http.Client{Timeout: 5 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}

// post sends the callbacks in order. Their tokens are signed with the
// real clock when they are sent, as Vonage signs them, not the emulated
// clock (which tests move): a receiver checks a token's age against its
// own clock (vonage.ParseCallback refuses one from its future or its
// past).
func (e *Emulator) post(bodies []callbackJSON) {
	for _, b := range bodies {
		now := time.Now()
		data, err := json.Marshal(b)
		if err != nil {
			return
		}
		tok, err := vonage.SignCallback(data, e.callbackSecret, now)
		if err != nil {
			return
		}
		req, err := http.NewRequest(http.MethodPost, e.callbackURL, bytes.NewReader(data))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", tok)
		resp, err := callbackClient.Do(req)
		if err != nil {
			return
		}
		resp.Body.Close()
	}
}

// ErrNoSuchRequest is Respond's error for a request that is not live.
var ErrNoSuchRequest = errors.New("vonagetest: no such live request")

// Respond plays the user's answer to a codeless step — the handset of a
// silent_auth step that is not checked with a code — for the live request
// id: yes completes it
// (an approval, as a right code would be), no ends it as user_rejected.
// The application learns either through the callbacks (WithCallbacks).
// It fails for a request that is not live or whose current step takes a
// code.
func (e *Emulator) Respond(id string, yes bool) error {
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	rq := e.requests[id]
	if rq == nil || rq.terminated || !e.progress(rq, now) {
		return ErrNoSuchRequest
	}
	if rq.steps[rq.cur].channel != "silent_auth" {
		return errors.New("vonagetest: Respond: the current step takes a code")
	}
	e.end(rq)
	outcome := "user_rejected"
	if yes {
		e.approved.Add(rq.id)
		outcome = "completed"
	}
	e.finish(rq, outcome, now)
	return nil
}
