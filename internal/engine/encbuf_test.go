package engine

import (
	"bytes"
	"testing"
	"time"
	"unsafe"

	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
)

// TestEncodingBufferIsCleared: the buffer an identity's record is encoded
// into is reused, so it is cleared after each write: it held the record's
// TOTP secret.
func TestEncodingBufferIsCleared(t *testing.T) {
	a, _, _, _, _ := storeReplicas(t)
	e, err := a.EnrollFactor(ctx, provider.EnrollRequest{Identity: "user-0001-buf", Type: provider.FactorTOTP, FriendlyName: "phone",
		Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"})
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := totp.DecodeSecret(e.Secret)
	b := encBufs.Get().(*[]byte)
	defer encBufs.Put(b)
	if bytes.Contains((*b)[:cap(*b)], secret) {
		t.Error("the reused encoding buffer holds the factor's secret")
	}
}

// TestVerifierKeptForTheNextOperation: over a store, a factor's TOTP
// verifier is kept for its next operation, and one kept for another
// secret (a record changed under the same factor ID) is not used.
func TestVerifierKeptForTheNextOperation(t *testing.T) {
	a, _, _, c, _ := storeReplicas(t)
	const id = "user-0001-ver"
	e := verified(t, a, id)
	vs := &a.c.Store.verifiers
	kept := vs.m[e.ID].v
	c.advance(30 * time.Second)
	code, _ := a.Code(id, e.ID)
	if ch, err := a.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: e.ID, Code: code}); err != nil || !ch.Approved() {
		t.Fatal(ch, err)
	}
	if got := vs.m[e.ID].v; got == nil || got != kept {
		t.Error("the factor's verifier was made again")
	}
	other := []byte("another secret, another factor.")
	vs.m[e.ID] = keptVerifier{other, vs.m[e.ID].cfg, totp.NewVerifier(other, vs.m[e.ID].cfg)}
	c.advance(30 * time.Second)
	secret, _ := totp.DecodeSecret(e.Secret)
	v := totp.NewVerifier(secret, e.TOTP)
	code = v.Code(v.Step(c.now()))
	if ch, err := a.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: e.ID, Code: code}); err != nil || !ch.Approved() {
		t.Errorf("the right code, with a verifier of another secret kept: %v %v", ch, err)
	}
}

// TestVerifierKeptWithoutTheRecord: what is kept with a verifier shares
// no memory with the decoded record (all of the identity's secrets).
func TestVerifierKeptWithoutTheRecord(t *testing.T) {
	a, _, _, _, _ := storeReplicas(t)
	const id = "user-0001-rec"
	e, err := a.EnrollFactor(ctx, provider.EnrollRequest{Identity: id, Type: provider.FactorTOTP, FriendlyName: "phone",
		TOTP: provider.TOTPConfig{Algorithm: provider.AlgSHA256}})
	if err != nil {
		t.Fatal(err)
	}
	_, r, _ := a.read(ctx, id)
	s, err := a.decode("", id, r)
	if err != nil {
		t.Fatal(err)
	}
	fa := s.byID[e.ID]
	vs := &a.c.Store.verifiers
	vs.put(s)
	for k, kept := range vs.m {
		if unsafe.StringData(k) == unsafe.StringData(fa.id) || unsafe.StringData(string(kept.cfg.Algorithm)) == unsafe.StringData(string(fa.cfg.Algorithm)) {
			t.Errorf("a kept verifier's ID or algorithm is the decoded record's memory")
		}
	}
}
