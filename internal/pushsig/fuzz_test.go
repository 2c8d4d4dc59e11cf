package pushsig

import (
	"errors"
	"testing"
	"time"
)

// Every parser answers one of the sentinels or succeeds, and never panics.
func checkSentinel(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	n := 0
	for _, s := range []error{ErrMalformed, ErrSignature, ErrTime, ErrMismatch} {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("err %v matches %d sentinels, want 1", err, n)
	}
}

func FuzzParsePublicKey(f *testing.F) {
	k, _ := keys(f)
	good, _ := EncodePublicKey(&k.PublicKey)
	f.Add(good)
	f.Add("")
	f.Add("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")
	f.Fuzz(func(t *testing.T, s string) {
		pub, err := ParsePublicKey(s)
		checkSentinel(t, err)
		if err == nil {
			if _, err := EncodePublicKey(pub); err != nil {
				t.Fatalf("parsed key does not encode: %v", err)
			}
		}
	})
}

func FuzzVerifyFactor(f *testing.F) {
	k, _ := keys(f)
	sig, _ := SignFactor(k, "YF1")
	f.Add("YF1", sig)
	f.Add("YF1", "MAYCAQECAQI=")
	f.Fuzz(func(t *testing.T, id, payload string) {
		checkSentinel(t, VerifyFactor(&k.PublicKey, id, payload))
	})
}

func FuzzVerifyRequest(f *testing.F) {
	k, _ := keys(f)
	tok, _ := SignRequest(k, "kid1", "AC1", t0)
	f.Add(tok, int64(0))
	f.Add("a.b.c", int64(700))
	f.Fuzz(func(t *testing.T, token string, offset int64) {
		_, err := KeyID(token)
		checkSentinel(t, err)
		c, err := VerifyRequest(token, &k.PublicKey, t0.Add(timeSeconds(offset)), 0)
		checkSentinel(t, err)
		if err == nil && (c.KeyID == "" || c.Subject == "" || !c.Expires.After(c.NotBefore)) {
			t.Fatalf("accepted claims %v", c)
		}
	})
}

func FuzzChallengeVerify(f *testing.F) {
	k, _ := keys(f)
	tok, _ := SignChallengeResponse(k, []byte(challengeJSON), DefaultSignatureFields, StatusApproved)
	f.Add(tok, challengeJSON)
	f.Add("e30.e30.AAAA", "{}")
	f.Fuzz(func(t *testing.T, token, stored string) {
		c, err := NewChallenge([]byte(stored), DefaultSignatureFields)
		checkSentinel(t, err)
		if err != nil {
			return
		}
		status, err := c.Verify(token, &k.PublicKey)
		checkSentinel(t, err)
		if err == nil && status != StatusApproved && status != StatusDenied {
			t.Fatalf("accepted status %q", status)
		}
	})
}

func timeSeconds(n int64) (d time.Duration) { return time.Duration(n%100000) * time.Second }
