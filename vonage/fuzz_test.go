package vonage

import (
	"errors"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
)

var allSentinels = []error{
	provider.ErrInvalidRequest, provider.ErrNotFound, provider.ErrTooManyChecks, provider.ErrTooManySends,
	provider.ErrRateLimited, provider.ErrUndeliverable, provider.ErrUnauthorized, provider.ErrUnsupported,
	provider.ErrUnavailable, provider.ErrConflict, provider.ErrOutcomeUnknown,
}

// FuzzDecodeProblem feeds arbitrary error bodies to the problem decoder:
// it must not panic, every answer of 400 or more must match exactly one
// sentinel, and no secret of the request may survive into the error text.
func FuzzDecodeProblem(f *testing.F) {
	f.Add(409, `{"type":"https://developer.vonage.com/api-errors/verify#conflict","title":"Conflict","request_id":"c11236f4-00bf-4b89-84ba-88b25df97315"}`)
	f.Add(400, `{"type":"https://developer.nexmo.com/api-errors#bad-request","title":"Invalid Code","detail":"The code 1234 you provided"}`)
	f.Add(410, `{"type":"#gone"}`)
	f.Add(500, `not json`)
	f.Add(422, `{"title":"s3cr3t","detail":"+447700900001 s3cr3t bob@example.com"}`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 400 || status > 599 {
			status = 400 + (status%200+200)%200
		}
		for _, op := range []string{opStart, opCheck, opCancel, opNext} {
			e := decodeProblem(op, status, []byte(body), []string{"s3cr3t", "98765432"})
			n := 0
			for _, s := range allSentinels {
				if errors.Is(e, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%s %d %q matches %d sentinels", op, status, body, n)
			}
			msg := e.Error()
			if strings.Contains(msg, "s3cr3t") || strings.Contains(msg, "98765432") {
				t.Fatalf("secret in %q", msg)
			}
			if e.RequestID != "" && !validID(e.RequestID) {
				t.Fatalf("request ID %q kept", e.RequestID)
			}
		}
	})
}

// FuzzDecodeCallback feeds arbitrary bodies to the callback decoder: no
// panic, and whatever it accepts has a known type, a valid request ID and
// a status.
func FuzzDecodeCallback(f *testing.F) {
	f.Add(`{"type":"event","request_id":"c11236f4-00bf-4b89-84ba-88b25df97315","status":"completed","channel":"sms","triggered_at":"2026-01-01T00:00:00.000Z"}`)
	f.Add(`{"type":"summary","request_id":"x","status":"expired","workflow":[{"channel":"sms","initiated_at":"","status":"expired"}],"channel_timeout":300}`)
	f.Add(`{"type":"event","request_id":"x","status":"action_pending","action":{"type":"check","check_url":"https://x"}}`)
	f.Fuzz(func(t *testing.T, body string) {
		c, err := DecodeCallback([]byte(body))
		if err != nil {
			return
		}
		if c.Type != CallbackEvent && c.Type != CallbackSummary || !validID(c.RequestID) || c.Status == "" {
			t.Fatalf("accepted %+v", c)
		}
		_ = c.ProviderStatus()
		_ = ParseTimestamp(c.FinalizedAt)
	})
}
