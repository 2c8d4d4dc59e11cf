package selfhosted

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

// TestCodeIsKeyed checks that a code depends on the application key and
// not on the nonce alone: the nonce is in the verification's ID, which the
// application sees and may log, so a code computable from it would let
// anyone with an ID (or a dump of the store) pass the check.
func TestCodeIsKeyed(t *testing.T) {
	t.Parallel()
	newP := func(id string) *Provider {
		m, err := store.NewMemory()
		if err != nil {
			t.Fatal(err)
		}
		p, err := New(m, GenerateKey(id), WithSender(new(Outbox), provider.ChannelSMS))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := newP("a"), newP("b")
	const n = 32
	sameKeys, fromNonce := 0, 0
	for range n {
		var nonce [16]byte
		_, _ = rand.Read(nonce[:])
		ca := a.code(a.keys.primary, nonce)
		if ca != a.code(a.keys.primary, nonce) {
			t.Fatal("the same key and nonce gave two codes")
		}
		if ca == b.code(b.keys.primary, nonce) {
			sameKeys++
		}
		if ca == fmt.Sprintf("%06d", binary.BigEndian.Uint64(nonce[:8])%1_000_000) {
			fromNonce++
		}
	}
	// Two independent 6-digit codes agree with probability 1e-6 each.
	if sameKeys > 1 {
		t.Errorf("%d of %d nonces gave the same code under two keys: the code is not keyed", sameKeys, n)
	}
	if fromNonce > 1 {
		t.Errorf("%d of %d codes are the nonce's own digits", fromNonce, n)
	}
}

// TestSealBufferHoldsNoPlaintext: the buffer a record is sealed into is
// reused, and sealing is in place, so it holds the sealed record alone:
// not the TOTP secret of the identity record sealed last.
func TestSealBufferHoldsNoPlaintext(t *testing.T) {
	m, _ := store.NewMemory()
	p, err := New(m, GenerateKey("k1"), WithSender(new(Outbox), provider.ChannelSMS))
	if err != nil {
		t.Fatal(err)
	}
	secret := "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	if _, err := p.EnrollFactor(t.Context(), provider.EnrollRequest{Identity: "user-0001", Type: provider.FactorTOTP, FriendlyName: "phone", Secret: secret}); err != nil {
		t.Fatal(err)
	}
	raw, _ := totp.DecodeSecret(secret)
	b := sealBufs.Get().(*[]byte)
	defer sealBufs.Put(b)
	if len(*b) == 0 {
		t.Skip("the pool dropped the buffer (as it may under the race detector)")
	}
	if bytes.Contains((*b)[:cap(*b)], raw) {
		t.Error("the reused sealing buffer holds the factor's secret")
	}
}
