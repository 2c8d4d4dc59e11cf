package engine

import (
	"bytes"
	"testing"

	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
)

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
	for range 2 {
		buf := encBufs.Get().(*[]byte)
		defer encBufs.Put(buf)
		if bytes.Contains((*buf)[:cap(*buf)], gone) {
			t.Error("a reused encoding buffer holds a deleted factor's secret")
		}
	}
}
