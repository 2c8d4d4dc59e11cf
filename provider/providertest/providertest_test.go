package providertest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
)

// broken wraps a fake and breaks one rule of the contract.
type broken struct {
	*fake.Fake
	start func(context.Context, provider.StartRequest) (provider.Verification, error)
	check func(context.Context, provider.CheckRequest) (provider.Verification, error)
}

func (b *broken) Start(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
	if b.start != nil {
		return b.start(ctx, req)
	}
	return b.Fake.Start(ctx, req)
}

func (b *broken) Check(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	if b.check != nil {
		return b.check(ctx, req)
	}
	return b.Fake.Check(ctx, req)
}

type testHarness struct {
	p     provider.Provider
	f     *fake.Fake
	clock *fake.Clock
}

func (h *testHarness) Provider() provider.Provider       { return h.p }
func (h *testHarness) LastCode(to string) (string, bool) { return h.f.LastCode(to) }
func (h *testHarness) Advance(d time.Duration)           { h.clock.Advance(d) }
func (h *testHarness) ErrorTarget() any                  { return new(*fake.Error) }

// failures runs every rule against providers made by mk and returns the
// names of the rules that failed.
func failures(t *testing.T, mk func(*fake.Fake) provider.Provider, opts ...fake.Option) []string {
	t.Helper()
	var failed []string
	for _, r := range Rules() {
		clock := fake.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		f := fake.MustNew(append([]fake.Option{fake.WithClock(clock.Now)}, opts...)...)
		if err := r.run(t.Context(), &testHarness{p: mk(f), f: f, clock: clock}); err != nil {
			failed = append(failed, r.Name)
		}
	}
	sort.Strings(failed)
	return failed
}

func TestSuiteCatchesBrokenProviders(t *testing.T) {
	tests := []struct {
		name string
		mk   func(*fake.Fake) provider.Provider
		opts []fake.Option
		want []string
	}{
		{
			name: "correct fake",
			mk:   func(f *fake.Fake) provider.Provider { return f },
			want: nil,
		},
		{
			name: "approves any well-formed code",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				b.check = func(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
					if req.ID == "" {
						if m, ok := f.LastMessage(req.To); ok && len(req.Code) == len(m.Code) {
							req.Code = m.Code
						}
					} else if v, err := f.Fetch(ctx, req.ID); err == nil {
						if m, ok := f.LastMessage(v.To); ok && len(req.Code) == len(m.Code) {
							req.Code = m.Code
						}
					}
					return f.Check(ctx, req)
				}
				return b
			},
			want: []string{"CheckByID", "ConcurrentUse", "ExpiredIsGone", "TooManyChecks", "WrongCodeIsPending"},
		},
		{
			name: "forgets the check limit",
			mk:   func(f *fake.Fake) provider.Provider { return f },
			opts: []fake.Option{fake.WithMaxChecks(1000)},
			want: []string{"TooManyChecks"},
		},
		{
			name: "forgets the send limit",
			mk:   func(f *fake.Fake) provider.Provider { return f },
			opts: []fake.Option{fake.WithMaxSends(1000)},
			want: []string{"TooManySends"},
		},
		{
			name: "reports a wrong code as an error",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				b.check = func(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
					v, err := f.Check(ctx, req)
					if err == nil && !v.Approved() {
						return v, errors.New("wrong code")
					}
					return v, err
				}
				return b
			},
			want: []string{"CheckByID", "ConcurrentUse", "ExpiredIsGone", "TooManyChecks", "WrongCodeIsPending"},
		},
		{
			name: "ignores the context",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				b.start = func(_ context.Context, req provider.StartRequest) (provider.Verification, error) {
					return f.Start(context.Background(), req)
				}
				return b
			},
			want: []string{"CanceledContext"},
		},
		{
			name: "sends a new code on every start",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				b.start = func(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
					if v, err := f.Check(ctx, provider.CheckRequest{To: req.To, Code: "0000"}); err == nil {
						f.Cancel(ctx, v.ID)
					}
					return f.Start(ctx, req)
				}
				return b
			},
			want: []string{"ConcurrentUse", "RepeatStartReusesVerification", "TooManySends"},
		},
		{
			name: "never expires",
			mk:   func(f *fake.Fake) provider.Provider { return f },
			opts: []fake.Option{fake.WithValidity(1000 * time.Hour)},
			want: []string{"ExpiredIsGone"},
		},
		{
			name: "accepts anything as a target",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				b.start = func(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
					if req.To == "" || req.To[0] != '+' {
						req.To, req.Channel = "+14155559999", provider.ChannelSMS
					}
					return f.Start(ctx, req)
				}
				return b
			},
			want: []string{"EmailChannel", "InvalidTargetIsInvalidRequest"},
		},
		{
			name: "returns bare sentinels",
			mk: func(f *fake.Fake) provider.Provider {
				b := &broken{Fake: f}
				b.check = func(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
					v, err := f.Check(ctx, req)
					if errors.Is(err, provider.ErrNotFound) {
						err = provider.ErrNotFound
					}
					return v, err
				}
				return b
			},
			want: []string{"ErrorsAs"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := failures(t, tt.mk, tt.opts...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("failed rules (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFailureNamesRule checks that a failure reported through Run carries
// the rule's text.
func TestFailureNamesRule(t *testing.T) {
	r := Rules()[0]
	rec := &recorder{TB: t}
	f := fake.MustNew()
	RunRule(rec, r, &testHarness{p: &broken{Fake: f, start: func(context.Context, provider.StartRequest) (provider.Verification, error) {
		return provider.Verification{}, errors.New("boom")
	}}, f: f, clock: fake.NewClock(time.Now())})
	if len(rec.msgs) != 1 || !strings.Contains(rec.msgs[0], "rule: "+r.Text) || !strings.Contains(rec.msgs[0], "boom") {
		t.Errorf("reported %q, want one message with the error and %q", rec.msgs, "rule: "+r.Text)
	}
}

type recorder struct {
	testing.TB
	msgs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
