package verify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/verify"
)

// codeOnly is a provider without silent network auth checks.
type codeOnly struct{ provider.Provider }

// TestCheckSNA checks the client's silent network auth check: the typed
// outcomes pass through, CodeOf names them, and what cannot be sent is
// refused before the provider is called.
func TestCheckSNA(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := fake.MustNew(fake.WithSNABaseURL(srv.URL))
	mux.Handle("/", f.SNAHandler())
	c, err := verify.New(f)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v, err := c.Start(ctx, "+1 415 555 2671", verify.ChannelSNA, nil)
	if err != nil || v.SNAURL == "" {
		t.Fatalf("Start = %v, %v; want an SNA URL", v, err)
	}
	_, err = c.CheckSNA(ctx, v.ID, "", nil)
	if !errors.Is(err, verify.ErrNotYet) || verify.CodeOf(err) != verify.CodeNotYet {
		t.Fatalf("CheckSNA before the visit = %v (%s), want ErrNotYet", err, verify.CodeOf(err))
	}
	for name, call := range map[string]func() error{
		"token with a space": func() error { _, err := c.CheckSNA(ctx, v.ID, "a b", nil); return err },
		"long token":         func() error { _, err := c.CheckSNA(ctx, v.ID, strings.Repeat("t", 1025), nil); return err },
		"bad ID":             func() error { _, err := c.CheckSNA(ctx, "a/b", "", nil); return err },
	} {
		if err := call(); !errors.Is(err, verify.ErrInvalidRequest) {
			t.Errorf("%s: CheckSNA = %v, want ErrInvalidRequest", name, err)
		}
	}
	resp, err := srv.Client().Get(v.SNAURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got, err := c.CheckSNA(ctx, v.ID, "", nil)
	if err != nil || !got.Approved() {
		t.Fatalf("CheckSNA after the visit = %v, %v; want approved", got, err)
	}
	plain, err := verify.New(codeOnly{f})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.CheckSNA(ctx, v.ID, "", nil); !errors.Is(err, verify.ErrUnsupported) {
		t.Errorf("CheckSNA without an SNAChecker = %v, want ErrUnsupported", err)
	}
}

// TestCheckSNANotYetSpendsNoBudget: a phone that is slow to open its URL
// is polled with CheckSNA; answers of ErrNotYet give their check budget
// back, so polling cannot lock the user out before the phone's step.
func TestCheckSNANotYetSpendsNoBudget(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := fake.MustNew(fake.WithSNABaseURL(srv.URL))
	mux.Handle("/", f.SNAHandler())
	c, err := verify.New(f, verify.WithCheckBudget(verify.PerDestination, 2, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v, err := c.Start(ctx, "+14155552671", verify.ChannelSNA, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := c.CheckSNA(ctx, v.ID, "", nil); !errors.Is(err, verify.ErrNotYet) {
			t.Fatalf("poll %d: CheckSNA = %v, want ErrNotYet", i, err)
		}
	}
	resp, err := srv.Client().Get(v.SNAURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, err := c.CheckSNA(ctx, v.ID, "", nil); err != nil || !got.Approved() {
		t.Fatalf("CheckSNA after the visit = %v, %v; want approved", got, err)
	}
}
