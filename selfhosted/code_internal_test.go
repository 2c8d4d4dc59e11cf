package selfhosted

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

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

// keyRecorder is a store that remembers the key of its last swap.
type keyRecorder struct {
	store.Store
	key string
}

func (k *keyRecorder) CompareAndSwap(ctx context.Context, key string, old uint64, value []byte, ttl time.Duration) (store.Record, error) {
	k.key = key
	return k.Store.CompareAndSwap(ctx, key, old, value, ttl)
}

// TestVerificationOfAnotherLineageRefused: every verification record this
// version writes has its nonce for lineage, so one sealed under the
// provider's key with another lineage (as unreleased earlier versions
// wrote) is refused as malformed, by a replica that has never seen it,
// rather than checked.
func TestVerificationOfAnotherLineageRefused(t *testing.T) {
	ctx := t.Context()
	m, _ := store.NewMemory()
	st, key, out := &keyRecorder{Store: m}, GenerateKey("k1"), new(Outbox)
	p, err := New(st, key, WithSender(out, provider.ChannelSMS))
	if err != nil {
		t.Fatal(err)
	}
	const to = "+14155552671"
	v, err := p.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Get(ctx, st.key)
	if err != nil {
		t.Fatal(err)
	}
	e, err := p.keys.openEnvelope(st.key, r.Value)
	if err != nil {
		t.Fatal(err)
	}
	e.lineage[0] ^= 1
	if _, err := m.CompareAndSwap(ctx, st.key, r.Version, sealEnvelope(nil, e.key, st.key, *e, e.payload, p.padV), time.Hour); err != nil {
		t.Fatal(err)
	}
	other, err := New(m, key, WithSender(out, provider.ChannelSMS))
	if err != nil {
		t.Fatal(err)
	}
	code, _ := out.LastCode(to)
	got, err := other.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
	if !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("a record of another lineage was checked: %+v, %v", got, err)
	}
}
