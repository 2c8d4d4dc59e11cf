package selfhosted_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
)

// TestOneSpellingPerID: an ID names its verification (or factor) in
// exactly one spelling, the one the provider issued. Hex digits in another
// case are another ID, which is not found: budgets that the caller keys by
// ID (verify's check budgets) cannot be dodged by re-spelling it.
func TestOneSpellingPerID(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, out, _, _ := newRecorded(t)
	v, err := p.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	code, _ := out.LastCode(to)
	others := []string{
		v.ID[:len(v.ID)-32] + strings.ToUpper(v.ID[len(v.ID)-32:]), // the nonce
		v.ID[:2] + strings.ToUpper(v.ID[2:4]) + v.ID[4:],           // the name
		strings.ToUpper(v.ID),
		strings.ToLower(v.ID),
	}
	for _, id := range others {
		if id == v.ID {
			t.Fatalf("spelling %s is the ID itself", id)
		}
		if got, err := p.Check(ctx, provider.CheckRequest{ID: id, Code: code}); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Check(%s) = %v, %v; want ErrNotFound", id, got, err)
		}
		if got, err := p.Fetch(ctx, id); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Fetch(%s) = %v, %v; want ErrNotFound", id, got, err)
		}
		if got, err := p.Cancel(ctx, id); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Cancel(%s) = %v, %v; want ErrNotFound", id, got, err)
		}
		if got, err := p.Approve(ctx, id); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Approve(%s) = %v, %v; want ErrNotFound", id, got, err)
		}
	}
	wantApproved(t, p, provider.CheckRequest{ID: v.ID, Code: code}, "the ID as issued")

	const identity = "user-0001-spelling"
	e, err := p.EnrollFactor(ctx, provider.EnrollRequest{Identity: identity, Type: provider.FactorTOTP, FriendlyName: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	fid := e.Factor.ID
	upper := fid[:2] + strings.ToUpper(fid[2:])
	if upper == fid {
		t.Fatalf("factor ID %s has no letter to re-spell", fid)
	}
	if f, err := p.FetchFactor(ctx, identity, upper); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("FetchFactor(%s) = %v, %v; want ErrNotFound", upper, f, err)
	}
	if err := p.DeleteFactor(ctx, identity, upper); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("DeleteFactor(%s) = %v; want ErrNotFound", upper, err)
	}
	if _, err := p.FetchFactor(ctx, identity, fid); err != nil {
		t.Errorf("FetchFactor with the ID as issued: %v", err)
	}
}
