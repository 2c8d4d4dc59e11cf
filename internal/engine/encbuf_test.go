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
	pooledHold(t, secret, 1, "the factor's secret")
}

// pooledHold fails t if any of the next n buffers of encBufs holds secret
// anywhere up to its capacity (what is in the pool is cleared to it).
func pooledHold(t *testing.T, secret []byte, n int, what string) {
	t.Helper()
	for range n {
		b := encBufs.Get().(*[]byte)
		defer encBufs.Put(b)
		if bytes.Contains((*b)[:cap(*b)], secret) {
			t.Errorf("a reused encoding buffer holds %s", what)
		}
	}
}

// TestEncodingBufferIsClearedAfterARetry: a retry after a lost swap may
// encode a shorter record into the reused buffer; what the longer one left
// beyond it (a deleted factor's secret) is cleared too.
func TestEncodingBufferIsClearedAfterARetry(t *testing.T) {
	a, b, st, _, _ := storeReplicas(t)
	const id = "user-0001-buf"
	var ids []string
	var gone []byte
	for _, s := range []string{"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"} {
		e, err := a.EnrollFactor(ctx, provider.EnrollRequest{Identity: id, Type: provider.FactorTOTP, FriendlyName: "phone", Secret: s})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
		gone, _ = totp.DecodeSecret(e.Secret)
	}
	// Replica b deletes the second factor while a renames the first: a's
	// first encoding holds the second's secret, its second does not.
	st.before = func() {
		if err := b.DeleteFactor(ctx, id, ids[1]); err != nil {
			t.Error(err)
		}
	}
	if _, err := a.UpdateFactor(ctx, id, ids[0], FactorUpdate{FriendlyName: "renamed"}); err != nil {
		t.Fatal(err)
	}
	if l, err := a.ListFactors(ctx, id); err != nil || len(l) != 1 {
		t.Fatalf("factors %v, %v; want the first alone", l, err)
	}
	// Replica b's write put its buffer back first: look at both.
	pooledHold(t, gone, 2, "a deleted factor's secret")
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
	vs.m[e.ID] = keptVerifier{secret: other, cfg: vs.m[e.ID].cfg, v: totp.NewVerifier(other, vs.m[e.ID].cfg)}
	c.advance(30 * time.Second)
	secret, _ := totp.DecodeSecret(e.Secret)
	v := totp.NewVerifier(secret, e.TOTP)
	code = v.Code(v.Step(c.now()))
	if ch, err := a.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: e.ID, Code: code}); err != nil || !ch.Approved() {
		t.Errorf("the right code, with a verifier of another secret kept: %v %v", ch, err)
	}
}

// TestVerifierForOtherSettingsNotUsed: a verifier kept for the factor's
// secret but other settings (the factor reconfigured on another replica)
// is not used: the record's settings decide.
func TestVerifierForOtherSettingsNotUsed(t *testing.T) {
	a, _, _, c, _ := storeReplicas(t)
	const id = "user-0001-cfg"
	e := verified(t, a, id)
	vs := &a.c.Store.verifiers
	k := vs.m[e.ID]
	cfg := k.cfg
	cfg.Digits = 8
	if k.cfg.Digits == 8 {
		cfg.Digits = 6
	}
	vs.m[e.ID] = keptVerifier{secret: k.secret, cfg: cfg, v: totp.NewVerifier(k.secret, cfg)}
	c.advance(30 * time.Second)
	v := totp.NewVerifier(k.secret, e.TOTP)
	code := v.Code(v.Step(c.now()))
	if ch, err := a.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: e.ID, Code: code}); err != nil || !ch.Approved() {
		t.Errorf("the right code, with a verifier of other settings kept: %v %v", ch, err)
	}
}

// TestVerifierKeptWithoutTheRecord: what is kept with a verifier shares
// no memory with the record it was decoded from (all of the identity's
// secrets).
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
	vs := &a.c.Store.verifiers
	vs.put(s)
	rec := uintptr(unsafe.Pointer(unsafe.SliceData(r.Value)))
	inRecord := func(p *byte) bool { return uintptr(unsafe.Pointer(p))-rec < uintptr(cap(r.Value)) }
	for k, kept := range vs.m {
		if inRecord(unsafe.StringData(k)) || inRecord(unsafe.StringData(string(kept.cfg.Algorithm))) || inRecord(unsafe.SliceData(kept.secret)) {
			t.Errorf("a kept verifier's ID, algorithm or secret is the decoded record's memory")
		}
	}
	if vs.m[e.ID].v == nil {
		t.Error("the factor's verifier was not kept")
	}
}
