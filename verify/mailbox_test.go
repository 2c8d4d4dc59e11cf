package verify_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/verify"
)

// recordTo records the target of every Start that reaches the provider.
type recordTo struct {
	*fake.Fake
	to []string
}

func (r *recordTo) Start(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
	r.to = append(r.to, req.To)
	return r.Fake.Start(ctx, req)
}

func (r *recordTo) Capabilities() provider.Capabilities { return provider.CapabilitiesOf(r.Fake) }

// TestMailboxIsOneDestination is the regression test for e-mail spellings
// that reach one mailbox counting as several destinations: only the domain
// was lower-cased, so Alice@, ALICE@ and alice@ each had a cooldown and a
// budget of their own. The codes still go to the address as typed.
func TestMailboxIsOneDestination(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []verify.Option
		to   []string
		want []string
		sent []string
	}{
		{
			name: "case of the local part",
			opts: []verify.Option{verify.WithResendCooldown(time.Minute, time.Hour)},
			to:   []string{"Alice@Example.com", "ALICE@example.com", "alice@EXAMPLE.COM", "bob@example.com"},
			want: []string{"ok", "too_many_sends cooldown/destination 1m0s", "too_many_sends cooldown/destination 1m0s", "ok"},
			sent: []string{"Alice@example.com", "bob@example.com"},
		},
		{
			name: "unicode case",
			opts: []verify.Option{verify.WithResendCooldown(time.Minute, time.Hour)},
			to:   []string{"Älice@example.com", "äLICE@example.com", "\u212Aate@example.com", "kate@example.com"},
			want: []string{"ok", "too_many_sends cooldown/destination 1m0s", "ok", "too_many_sends cooldown/destination 1m0s"},
			sent: []string{"Älice@example.com", "\u212Aate@example.com"},
		},
		{
			name: "send budget",
			opts: []verify.Option{verify.WithSendBudget(verify.PerDestination, 2, time.Hour)},
			to:   []string{"alice@example.com", "Alice@example.com", "aLiCe@example.com"},
			want: []string{"ok", "ok", "too_many_sends send_budget/destination 1h0m0s"},
			sent: []string{"alice@example.com", "Alice@example.com"},
		},
		{
			name: "tags are kept by default",
			opts: []verify.Option{verify.WithResendCooldown(time.Minute, time.Hour)},
			to:   []string{"alice+1@example.com", "alice+2@example.com", "Alice+1@example.com"},
			want: []string{"ok", "ok", "too_many_sends cooldown/destination 1m0s"},
			sent: []string{"alice+1@example.com", "alice+2@example.com"},
		},
		{
			name: "tags folded",
			opts: []verify.Option{verify.WithResendCooldown(time.Minute, time.Hour), verify.WithSubaddressFolding("+-")},
			to:   []string{"Alice+news@example.com", "alice@example.com", "alice-x@example.com", "ALICE+other@example.com", "+alice@example.com", "alicia@example.com"},
			want: []string{"ok", "too_many_sends cooldown/destination 1m0s", "too_many_sends cooldown/destination 1m0s", "too_many_sends cooldown/destination 1m0s", "ok", "ok"},
			sent: []string{"Alice+news@example.com", "+alice@example.com", "alicia@example.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := &recordTo{Fake: fake.MustNew(fake.WithMaxSends(100))}
				c := newClient(t, p, tt.opts...)
				var got []string
				for _, to := range tt.to {
					_, err := c.Start(context.Background(), to, verify.ChannelEmail, nil)
					got = append(got, outcome(err))
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("outcomes (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.sent, p.to); diff != "" {
					t.Errorf("sent to (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// TestMailboxCheckBudget: wrong codes to one mailbox count together,
// whichever spelling the Check or the Start named.
func TestMailboxCheckBudget(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newPolicyEnv(t, verify.WithCheckBudget(verify.PerDestination, 2, time.Hour))
		ctx := context.Background()
		v, err := e.c.Start(ctx, "Alice@example.com", verify.ChannelEmail, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		_, err = e.c.CheckID(ctx, v.ID, "000000", nil)
		got = append(got, outcome(err))
		_, err = e.c.Check(ctx, "Alice@example.com", "000000", nil)
		got = append(got, outcome(err))
		_, err = e.c.Check(ctx, "alice@example.com", "000000", nil)
		got = append(got, outcome(err))
		want := []string{"ok", "ok", "too_many_checks check_budget/destination 1h0m0s"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
	})
}

func TestSubaddressFoldingValidates(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"", "@", ".", "a", "+-=_~", " ", "+@"} {
		if _, err := verify.New(fake.MustNew(), verify.WithSubaddressFolding(d)); err == nil {
			t.Errorf("WithSubaddressFolding(%q): no error", d)
		}
	}
	for _, d := range []string{"+", "-", "+-", "=_~+"} {
		if _, err := verify.New(fake.MustNew(), verify.WithSubaddressFolding(d)); err != nil {
			t.Errorf("WithSubaddressFolding(%q): %v", d, err)
		}
	}
}
