package engine

import (
	"bytes"
	"testing"

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
