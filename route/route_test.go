package route_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/route"
	"github.com/verifykit/verifykit/store"
)

// TestRouting checks the choice of route by channel, country and prefix.
func TestRouting(t *testing.T) {
	t.Parallel()
	uk, us, mail, fr, rest := fake.MustNew(), fake.MustNew(), fake.MustNew(), fake.MustNew(), fake.MustNew()
	r, err := route.New([]route.Route{
		{Name: "uk", Provider: uk, Countries: []string{"GB"}, Channels: []provider.Channel{provider.ChannelSMS}},
		{Name: "us", Provider: us, Prefixes: []string{"+1415"}},
		{Name: "mail", Provider: mail, Channels: []provider.Channel{provider.ChannelEmail}},
		{Name: "fr", Provider: fr, Countries: []string{"FR"}, Channels: []provider.Channel{provider.ChannelCall}},
		{Name: "rest", Provider: rest, Channels: []provider.Channel{provider.ChannelSMS, provider.ChannelCall}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		to   string
		ch   provider.Channel
		want string
	}{
		{"+447700900001", provider.ChannelSMS, "uk"},
		{"+447700900002", provider.ChannelCall, "rest"}, // uk takes sms only
		{"+14155552671", provider.ChannelCall, "us"},
		{"+12125550100", provider.ChannelSMS, "rest"},
		{"alice@example.com", provider.ChannelEmail, "mail"},
		{"+33612345678", provider.ChannelSMS, "rest"},
		{"+33612345670", provider.ChannelCall, "fr"},
		{"+447700900003", provider.ChannelCall, "rest"},
	} {
		v, err := r.Start(ctx, provider.StartRequest{To: tc.to, Channel: tc.ch})
		if err != nil {
			t.Errorf("Start(%s, %s): %v", tc.to, tc.ch, err)
			continue
		}
		if got := route.ServedBy(v.ID); got != tc.want {
			t.Errorf("Start(%s, %s) served by %q, want %q", tc.to, tc.ch, got, tc.want)
		}
	}
	// No route takes WhatsApp to a French number.
	_, err = r.Start(ctx, provider.StartRequest{To: "+33612345679", Channel: provider.ChannelWhatsApp})
	if !errors.Is(err, provider.ErrUnsupported) || strings.Contains(err.Error(), "612345679") {
		t.Errorf("unroutable start: %v", err)
	}
	if diff := cmp.Diff([]string{"uk", "us", "mail", "fr", "rest"}, r.Routes()); diff != "" {
		t.Error(diff)
	}
}

// TestCheckByTo checks checks by To through the Router's memory, and the
// refusal without it.
func TestCheckByTo(t *testing.T) {
	t.Parallel()
	a, b := fake.MustNew(), fake.MustNew()
	a.InjectFault(fake.Fault{Op: fake.OpStart, Err: provider.ErrUnavailable})
	ctx := context.Background()
	r, _ := route.New([]route.Route{{Name: "a", Provider: a}, {Name: "b", Provider: b}}, route.WithCheckByTo())
	v, err := r.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	if err != nil || route.ServedBy(v.ID) != "b" {
		t.Fatalf("Start = %v, %v", v, err)
	}
	// A repeated start sticks to b, although a is healthy again: the
	// pending verification is there.
	v2, err := r.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	if err != nil || v2.ID != v.ID {
		t.Fatalf("second Start = %v, %v; want the same verification", v2, err)
	}
	code, _ := b.LastCode("+14155552671")
	got, err := r.Check(ctx, provider.CheckRequest{To: "+14155552671", Code: code})
	if err != nil || !got.Approved() || got.ID != v.ID {
		t.Fatalf("Check by To = %v, %v", got, err)
	}
	if len(a.Messages()) != 0 {
		t.Error("a sent a code")
	}
	// The verification has ended: the next start goes to a again.
	v3, err := r.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	if err != nil || route.ServedBy(v3.ID) != "a" {
		t.Errorf("start after approval = %v, %v; want route a", v3, err)
	}
	plain, _ := route.New([]route.Route{{Name: "a", Provider: a}})
	if _, err := plain.Check(ctx, provider.CheckRequest{To: "+14155552671", Code: "123456"}); !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("check by To without WithCheckByTo: %v", err)
	}
	if plain.Capabilities().CheckByTo {
		t.Error("CheckByTo declared without WithCheckByTo")
	}
}

// TestReporting checks the hook and the log of a failover.
func TestReporting(t *testing.T) {
	t.Parallel()
	a, b := fake.MustNew(), fake.MustNew()
	a.InjectFault(fake.Fault{Op: fake.OpStart, Err: provider.ErrUndeliverable})
	var events []route.Event
	var buf bytes.Buffer
	r, _ := route.New([]route.Route{{Name: "a", Provider: a}, {Name: "b", Provider: b}},
		route.WithHook(func(_ context.Context, e route.Event) { events = append(events, e) }),
		route.WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	ctx := context.Background()
	v, err := r.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	code, _ := b.LastCode("+14155552671")
	if _, err := r.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code}); err != nil {
		t.Fatal(err)
	}
	type ev struct {
		Op, Route, ID string
		Failed, Over  bool
	}
	var got []ev
	for _, e := range events {
		got = append(got, ev{e.Op, e.Route, e.ID, e.Err != nil, e.FailedOver})
	}
	want := []ev{{"start", "a", "", true, true}, {"start", "b", v.ID, false, false}, {"check", "b", v.ID, false, false}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	log := buf.String()
	for _, s := range []string{"route failover", "route=a", "route=b", "op=check"} {
		if !strings.Contains(log, s) {
			t.Errorf("log lacks %q:\n%s", s, log)
		}
	}
	if strings.Contains(log, code) || strings.Contains(log, "5552671") {
		t.Errorf("log shows a code or a number:\n%s", log)
	}
}

// TestNewValidates checks the refusals of New.
func TestNewValidates(t *testing.T) {
	t.Parallel()
	f := fake.MustNew()
	for name, routes := range map[string][]route.Route{
		"none":          nil,
		"nil provider":  {{Name: "a"}},
		"bad name":      {{Name: "A:b", Provider: f}},
		"duplicate":     {{Name: "a", Provider: f}, {Name: "a", Provider: f}},
		"bad country":   {{Name: "a", Provider: f, Countries: []string{"gb"}}},
		"bad prefix":    {{Name: "a", Provider: f, Prefixes: []string{"44"}}},
		"unknown chan.": {{Name: "a", Provider: f, Channels: []provider.Channel{"pigeon"}}},
	} {
		if _, err := route.New(routes); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	r, err := route.New([]route.Route{{Provider: f}}) // named by the provider
	if err != nil || r.Routes()[0] != "fake" {
		t.Errorf("New = %v, %v", r, err)
	}
}

// TestUnknownIDs checks IDs the Router never issued.
func TestUnknownIDs(t *testing.T) {
	t.Parallel()
	r, _ := route.New([]route.Route{{Name: "a", Provider: fake.MustNew()}})
	ctx := context.Background()
	for _, id := range []string{"", "a", "a:", "b:VE00000000000000000000000000000000", "VE00000000000000000000000000000000"} {
		if _, err := r.Cancel(ctx, id); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Cancel(%q): %v", id, err)
		}
	}
	if route.ServedBy("nope") != "" || route.ServedBy("a:x") != "a" {
		t.Error("ServedBy")
	}
}

// Example routes SMS to British numbers through one provider and
// everything else through another, failing over when the first is down.
func Example() {
	uk, world := fake.MustNew(fake.WithFixedCode("123456")), fake.MustNew(fake.WithFixedCode("654321"))
	r, err := route.New([]route.Route{
		{Name: "uk", Provider: uk, Countries: []string{"GB"}},
		{Name: "world", Provider: world},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	v, _ := r.Start(ctx, provider.StartRequest{To: "+447700900123", Channel: provider.ChannelSMS})
	fmt.Println(route.ServedBy(v.ID))

	uk.InjectFault(fake.Fault{Op: fake.OpStart, Err: provider.ErrUnavailable})
	v, _ = r.Start(ctx, provider.StartRequest{To: "+447700900456", Channel: provider.ChannelSMS})
	fmt.Println(route.ServedBy(v.ID))

	got, _ := r.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "654321"})
	fmt.Println(got.Status)
	// Output:
	// uk
	// world
	// approved
}

// failingStore is a store that is down.
type failingStore struct{ store.Store }

func (failingStore) Get(context.Context, string) (store.Record, error) {
	return store.Record{}, store.Unavailable("get", errors.New("down"))
}

func (failingStore) CompareAndSwap(context.Context, string, uint64, []byte, time.Duration) (store.Record, error) {
	return store.Record{}, store.Unavailable("cas", errors.New("down"))
}

// TestSharedMemory runs two replicas of a Router on one store: what one
// started, the other routes and checks by To.
func TestSharedMemory(t *testing.T) {
	t.Parallel()
	a, b := fake.MustNew(), fake.MustNew()
	st, err := store.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	replica := func() *route.Router {
		r, err := route.New([]route.Route{{Name: "a", Provider: a}, {Name: "b", Provider: b}}, route.WithStore(st), route.WithCheckByTo())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1, r2 := replica(), replica()
	ctx := context.Background()
	const to = "+14155552671"
	a.InjectFault(fake.Fault{Op: fake.OpStart, Err: provider.ErrUnavailable})
	v, err := r1.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
	if err != nil || route.ServedBy(v.ID) != "b" {
		t.Fatalf("Start on replica 1 = %v, %v", v, err)
	}
	v2, err := r2.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
	if err != nil || v2.ID != v.ID {
		t.Fatalf("repeated Start on replica 2 = %v, %v; want %s", v2, err, v.ID)
	}
	code, _ := b.LastCode(to)
	got, err := r2.Check(ctx, provider.CheckRequest{To: to, Code: code})
	if err != nil || !got.Approved() {
		t.Fatalf("Check by To on replica 2 = %v, %v", got, err)
	}
	v3, err := r1.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
	if err != nil || route.ServedBy(v3.ID) != "a" {
		t.Fatalf("Start after approval = %v, %v; want route a", v3, err)
	}
	if len(a.Messages()) != 1 || len(b.Messages()) != 2 {
		t.Errorf("a sent %d, b sent %d; want 1 and 2", len(a.Messages()), len(b.Messages()))
	}

	down, _ := route.New([]route.Route{{Name: "a", Provider: a}}, route.WithStore(failingStore{}), route.WithCheckByTo())
	if _, err := down.Start(ctx, provider.StartRequest{To: "+14155550100", Channel: provider.ChannelSMS}); err != nil {
		t.Errorf("Start with the store down: %v", err)
	}
	if _, err := down.Check(ctx, provider.CheckRequest{To: "+14155550100", Code: "123456"}); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("Check by To with the store down: %v", err)
	}
}

// cancelOnly is a provider that can cancel but not fetch or approve.
type cancelOnly struct{ *fake.Fake }

func (c cancelOnly) Fetch()   {} // not provider.Fetcher: wrong signature
func (c cancelOnly) Approve() {} // not provider.Approver

// TestUnsupportedOperation checks that the Router answers ErrUnsupported
// for an operation a verification's route lacks, and passes the others
// through.
func TestUnsupportedOperation(t *testing.T) {
	t.Parallel()
	f := fake.MustNew()
	mixed, _ := route.New([]route.Route{{Name: "a", Provider: cancelOnly{f}}, {Name: "b", Provider: fake.MustNew()}})
	ctx := context.Background()
	v, err := mixed.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mixed.Fetch(ctx, v.ID); !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("Fetch through a route that cannot: %v", err)
	}
	if _, err := mixed.Approve(ctx, v.ID); !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("Approve through a route that cannot: %v", err)
	}
	if got, err := mixed.Cancel(ctx, v.ID); err != nil || got.Status != provider.StatusCanceled || got.ID != v.ID {
		t.Errorf("Cancel = %v, %v", got, err)
	}
}

// TestUnprefixedIDs puts a Router in front of a provider that already
// issued IDs: with WithUnprefixedIDs they reach that provider, and the
// answers keep the ID the application stored; without it they are unknown.
func TestUnprefixedIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old := fake.MustNew()
	before, err := old.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	code, _ := old.LastCode("+14155552671")
	routes := []route.Route{{Name: "primary", Provider: old}, {Name: "backup", Provider: fake.MustNew()}}
	strict, _ := route.New(routes)
	if _, err := strict.Check(ctx, provider.CheckRequest{ID: before.ID, Code: code}); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("Check of an unprefixed ID without the option: %v, want ErrNotFound", err)
	}
	r, err := route.New(routes, route.WithUnprefixedIDs("primary"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Fetch(ctx, before.ID); err != nil || got.ID != before.ID || got.Status != provider.StatusPending {
		t.Errorf("Fetch of the stored ID = %v, %v, want it pending under the same ID", got, err)
	}
	got, err := r.Check(ctx, provider.CheckRequest{ID: before.ID, Code: code})
	if err != nil || !got.Approved() || got.ID != before.ID {
		t.Errorf("Check of the stored ID = %v, %v, want approved under the same ID", got, err)
	}
	if _, err := route.New(routes, route.WithUnprefixedIDs("nope")); err == nil {
		t.Error("WithUnprefixedIDs of an unknown route was accepted")
	}
}

// TestNoFailoverAfterTheCallersDeadline checks that a start failing with a
// context error ends there, even when the error also says nothing was
// sent: the caller gave up, and the next route must not be tried.
func TestNoFailoverAfterTheCallersDeadline(t *testing.T) {
	t.Parallel()
	for _, cerr := range []error{context.Canceled, context.DeadlineExceeded} {
		first, second := fake.MustNew(), fake.MustNew()
		first.InjectFault(fake.Fault{Op: fake.OpStart, Err: fmt.Errorf("%w: %w", provider.ErrUnavailable, cerr)})
		spy1, spy2 := newSpy("first", first), newSpy("second", second)
		r, err := route.New([]route.Route{{Provider: spy1}, {Provider: spy2}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Start(context.Background(), provider.StartRequest{To: to, Channel: provider.ChannelSMS})
		if !errors.Is(err, cerr) {
			t.Errorf("%v: Start = %v, want the context error", cerr, err)
		}
		if n := spy2.count("start"); n != 0 {
			t.Errorf("%v: the second route saw %d starts, want 0", cerr, n)
		}
	}
}

// ctxKey marks the caller's context, for TestHookContext.
type ctxKey struct{}

// TestHookContext checks that the hook receives the caller's context, so
// that a tracer or a request-scoped logger sees the call it belongs to.
func TestHookContext(t *testing.T) {
	t.Parallel()
	var seen []any
	r, err := route.New([]route.Route{{Name: "a", Provider: fake.MustNew()}},
		route.WithHook(func(ctx context.Context, _ route.Event) { seen = append(seen, ctx.Value(ctxKey{})) }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), ctxKey{}, "caller")
	v, err := r.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "000000"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Cancel(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{"caller", "caller", "caller"}, seen); diff != "" {
		t.Errorf("contexts the hook saw (-want +got):\n%s", diff)
	}
}

// TestErrorNamesTheRouteOnce checks that a route named after its
// provider does not repeat the name ("twilio: twilio: start"), and that a
// route named otherwise is still named.
func TestErrorNamesTheRouteOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ route, want string }{
		{"fake", "route: start: fake: start: provider unavailable"},
		{"primary", "route: start: primary: fake: start: provider unavailable"},
	} {
		f := fake.MustNew()
		f.InjectFault(fake.Fault{Op: fake.OpStart, Err: provider.ErrUnavailable})
		r, err := route.New([]route.Route{{Name: tc.route, Provider: f}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Start(context.Background(), provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("route %q: error %v, want it to begin %q", tc.route, err, tc.want)
		}
	}
}

// TestSticky checks WithSticky's two bounds: the Router forgets a pending
// verification once its duration has passed, and keeps at most size
// targets.
func TestSticky(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	f := fake.MustNew()
	r, err := route.New([]route.Route{{Name: "a", Provider: f}}, route.WithCheckByTo(), route.WithClock(clock), route.WithSticky(time.Minute, 10))
	if err != nil {
		t.Fatal(err)
	}
	const to = "+14155552671"
	if _, err := r.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(59 * time.Second)
	if _, err := r.Check(ctx, provider.CheckRequest{To: to, Code: "000000"}); err != nil {
		t.Errorf("Check by To inside the sticky window: %v", err)
	}
	now = now.Add(time.Second)
	if _, err := r.Check(ctx, provider.CheckRequest{To: to, Code: "000000"}); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("Check by To after the sticky window: %v, want ErrNotFound (forgotten)", err)
	}
	if _, err := route.New([]route.Route{{Name: "a", Provider: f}}, route.WithSticky(0, 10)); err == nil {
		t.Error("WithSticky(0, 10) was accepted")
	}
	small, _ := route.New([]route.Route{{Name: "a", Provider: fake.MustNew()}}, route.WithCheckByTo(), route.WithSticky(time.Hour, 2))
	for i := range 5 {
		if _, err := small.Start(ctx, provider.StartRequest{To: fmt.Sprintf("+1415555%04d", 1000+i), Channel: provider.ChannelSMS}); err != nil {
			t.Fatal(err)
		}
	}
	known := 0
	for i := range 5 {
		if _, err := small.Check(ctx, provider.CheckRequest{To: fmt.Sprintf("+1415555%04d", 1000+i), Code: "000000"}); err == nil {
			known++
		}
	}
	if known == 0 || known > 3 {
		t.Errorf("a Router of size 2 remembers %d of 5 targets, want 1 to 3 (it sweeps to nine tenths once over its size)", known)
	}
}
