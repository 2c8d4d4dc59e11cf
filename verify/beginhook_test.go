package verify_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/verify"
)

// spanKey marks the context WithBeginHook returned, for TestBeginHook.
type spanKey struct{}

// TestBeginHook checks that the begin hook runs before each operation
// with its name, that the operation (its provider call) and the hook run
// with the context it returns, and that Event.Country names the region of
// the number a start went to.
func TestBeginHook(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	note := func(s string) { mu.Lock(); got = append(got, s); mu.Unlock() }
	f := fake.MustNew(fake.WithOnSend(func(ctx context.Context, _ fake.Message) {
		v, _ := ctx.Value(spanKey{}).(string)
		note("provider sends in " + v)
	}))
	var countries []string
	c := newClient(t, f,
		verify.WithBeginHook(func(ctx context.Context, op string) context.Context {
			note("begin " + op)
			return context.WithValue(ctx, spanKey{}, op)
		}),
		verify.WithHook(func(ctx context.Context, e verify.Event) {
			v, _ := ctx.Value(spanKey{}).(string)
			note("hook " + e.Op + " in " + v)
			countries = append(countries, e.Country)
		}))
	ctx := context.Background()
	v, err := c.Start(ctx, "+442079460000", verify.ChannelSMS, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := f.LastCode("+442079460000")
	if _, err := c.CheckID(ctx, v.ID, code, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(ctx, "+14155552671", verify.ChannelCall, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnrollTOTP(ctx, "user-00000001", "phone", nil); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"begin start", "provider sends in start", "hook start in start",
		"begin check", "hook check in check",
		"begin start", "provider sends in start", "hook start in start",
		"begin enroll factor", "hook enroll factor in enroll factor",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"GB", "", "US", ""}, countries); diff != "" {
		t.Errorf("Event.Country (-want +got):\n%s", diff)
	}
	if _, err := verify.New(f, verify.WithBeginHook(nil)); err == nil {
		t.Error("New accepted a nil begin hook")
	}
}
