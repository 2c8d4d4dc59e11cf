package selfhosted_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
)

// TestDumpHoldsNoTOTPSecret checks that what the provider writes to the
// store for a TOTP factor holds neither its secret (Base32 or raw), nor the
// identity, nor an accepted code: a dump of the store must not let anyone
// compute the factor's codes.
func TestDumpHoldsNoTOTPSecret(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, _, c, rec := newRecorded(t)
	const identity = "user-0001-totp-dump"
	e, err := p.EnrollFactor(ctx, provider.EnrollRequest{Identity: identity, Type: provider.FactorTOTP, FriendlyName: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := totp.DecodeSecret(e.Secret)
	if err != nil || len(secret) < 16 {
		t.Fatalf("DecodeSecret = %d bytes, %v", len(secret), err)
	}
	ver := totp.NewVerifier(secret, e.TOTP)
	code := ver.Code(ver.Step(c.Now()))
	if f, err := p.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: identity, FactorID: e.ID, Code: code}); err != nil || !f.Verified() {
		t.Fatalf("ConfirmFactor = %v, %v", f, err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.values) == 0 {
		t.Fatal("nothing was written to the store")
	}
	for i, val := range rec.values {
		for _, s := range [][]byte{secret[:16], []byte(e.Secret), []byte(strings.ToLower(e.Secret)), []byte(identity)} {
			if bytes.Contains(val, s) || strings.Contains(rec.keys[i], string(s)) {
				t.Errorf("stored value %d (key %s) contains the secret or the identity", i, rec.keys[i])
			}
		}
	}
}
