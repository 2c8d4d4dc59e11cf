package selfhosted_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
)

const to = "+14155552671"

// startSMS starts an SMS verification to the test number with p and
// returns it with the code out received.
func startSMS(t *testing.T, p *selfhosted.Provider, out *selfhosted.Outbox) (provider.Verification, string) {
	t.Helper()
	v, err := p.Start(t.Context(), provider.StartRequest{To: to, Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	code, _ := out.LastCode(to)
	return v, code
}

// wantApproved fails the test unless p approves req; what names the
// check in the failure.
func wantApproved(t *testing.T, p *selfhosted.Provider, req provider.CheckRequest, what string) {
	t.Helper()
	got, err := p.Check(t.Context(), req)
	if err != nil || !got.Approved() {
		t.Fatalf("%s = %v, %v; want approved", what, got, err)
	}
}

// recorder is a store that records every value written, as a dump would
// show it, and can fail operations.
type recorder struct {
	store.Store
	mu     sync.Mutex
	values [][]byte
	keys   []string
	fail   map[string]error // operation name -> error to return
}

func (r *recorder) failing(op string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fail[op]
}

func (r *recorder) CompareAndSwap(ctx context.Context, key string, old uint64, value []byte, ttl time.Duration) (store.Record, error) {
	if err := r.failing("cas"); err != nil {
		return store.Record{}, err
	}
	r.mu.Lock()
	r.values = append(r.values, bytes.Clone(value))
	r.keys = append(r.keys, key)
	r.mu.Unlock()
	return r.Store.CompareAndSwap(ctx, key, old, value, ttl)
}

func (r *recorder) CompareAndDelete(ctx context.Context, key string, old uint64) (store.Record, error) {
	if err := r.failing("delete"); err != nil {
		return store.Record{}, err
	}
	return r.Store.CompareAndDelete(ctx, key, old)
}

func (r *recorder) Get(ctx context.Context, key string) (store.Record, error) {
	if err := r.failing("get"); err != nil {
		return store.Record{}, err
	}
	return r.Store.Get(ctx, key)
}

func newRecorded(t *testing.T, opts ...selfhosted.Option) (*selfhosted.Provider, *selfhosted.Outbox, *clock, *recorder) {
	t.Helper()
	c := newClock()
	m, err := store.NewMemory(store.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Store: m, fail: map[string]error{}}
	out := new(selfhosted.Outbox)
	p, err := selfhosted.New(rec, testKey, append([]selfhosted.Option{selfhosted.WithClock(c.Now), selfhosted.WithSender(out, provider.ChannelSMS, provider.ChannelEmail)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p, out, c, rec
}

// TestDumpDoesNotPass checks that the store holds neither the code nor the
// target, and that a provider with the store but another key cannot
// approve.
func TestDumpDoesNotPass(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, out, c, rec := newRecorded(t)
	v, code := startSMS(t, p, out)
	if _, err := p.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "000000"}); err != nil && code != "000000" {
		t.Fatal(err)
	}
	for i, val := range rec.values {
		for _, secret := range []string{code, to, to[1:], "4155552671"} {
			if bytes.Contains(val, []byte(secret)) || strings.Contains(rec.keys[i], secret) {
				t.Errorf("stored value %d (key %s) contains %q", i, rec.keys[i], secret)
			}
		}
	}
	if strings.Contains(v.ID, code) {
		t.Errorf("the ID %s contains the code", v.ID)
	}
	// Same store, another key: nothing opens, nothing approves.
	other, err := selfhosted.New(rec.Store, selfhosted.GenerateKey("k1"), selfhosted.WithClock(c.Now), selfhosted.WithSender(out, provider.ChannelSMS))
	if err != nil {
		t.Fatal(err)
	}
	// A record it cannot open is an error, never taken for an absent one.
	if _, err := other.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code}); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("Check with another key: error = %v, want ErrUnavailable", err)
	}
	if _, err := other.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS}); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("Start with another key: error = %v, want ErrUnavailable (the key check)", err)
	}
	const identity = "user-0001-dump"
	if _, err := p.EnrollFactor(ctx, provider.EnrollRequest{Identity: identity, Type: provider.FactorTOTP, FriendlyName: "phone"}); err != nil {
		t.Fatal(err)
	}
	if list, err := other.ListFactors(ctx, identity); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("ListFactors with another key = %v, %v; want ErrUnavailable, never an empty list", list, err)
	}
	if _, err := other.EnrollFactor(ctx, provider.EnrollRequest{Identity: identity, Type: provider.FactorTOTP, FriendlyName: "x"}); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("EnrollFactor with another key: %v, want ErrUnavailable (the key check)", err)
	}
	if list, err := p.ListFactors(ctx, identity); err != nil || len(list) != 1 {
		t.Errorf("the identity after the other key's attempts: %v, %v", list, err)
	}
	wantApproved(t, p, provider.CheckRequest{ID: v.ID, Code: code}, "Check with the right key")
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newClock()
	m, _ := store.NewMemory(store.WithClock(c.Now))
	out := new(selfhosted.Outbox)
	k1, k2 := selfhosted.GenerateKey("2026-01"), selfhosted.GenerateKey("2026-02")
	old, err := selfhosted.New(m, k1, selfhosted.WithClock(c.Now), selfhosted.WithSender(out, provider.ChannelSMS))
	if err != nil {
		t.Fatal(err)
	}
	v, code := startSMS(t, old, out)
	rotated, err := selfhosted.New(m, k2, selfhosted.WithOlderKeys(k1), selfhosted.WithClock(c.Now), selfhosted.WithSender(out, provider.ChannelSMS))
	if err != nil {
		t.Fatal(err)
	}
	if f, err := rotated.Fetch(ctx, v.ID); err != nil || f.Status != provider.StatusPending {
		t.Fatalf("Fetch after rotation = %v, %v", f, err)
	}
	wantApproved(t, rotated, provider.CheckRequest{ID: v.ID, Code: code}, "Check after rotation")
	// By To, too: the name under the older key is looked up on a miss.
	_, code = startSMS(t, old, out)
	wantApproved(t, rotated, provider.CheckRequest{To: to, Code: code}, "Check by To after rotation")
	if _, err := selfhosted.New(m, k2, selfhosted.WithOlderKeys(k2), selfhosted.WithSender(out, provider.ChannelSMS)); err == nil {
		t.Error("New accepted two keys with one ID")
	}
}

// TestSenderNotDelivered checks that a send that certainly did not go out
// is taken back, and one that may have gone out is not.
func TestSenderFailures(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var mu sync.Mutex
	var next error
	var sent []string
	sender := selfhosted.SenderFunc(func(ctx context.Context, m selfhosted.Message) error {
		mu.Lock()
		defer mu.Unlock()
		err := next
		next = nil
		if err == nil {
			sent = append(sent, m.Code)
		}
		return err
	})
	setNext := func(err error) { mu.Lock(); next = err; mu.Unlock() }
	c := newClock()
	m, _ := store.NewMemory(store.WithClock(c.Now))
	p, err := selfhosted.New(m, testKey, selfhosted.WithClock(c.Now), selfhosted.WithSender(sender, provider.ChannelSMS), selfhosted.WithMaxSends(2))
	if err != nil {
		t.Fatal(err)
	}
	req := provider.StartRequest{To: to, Channel: provider.ChannelSMS}

	setNext(fmt.Errorf("gateway down: %w", provider.ErrUnavailable))
	if _, err := p.Start(ctx, req); !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("Start with the sender down: error = %v, want ErrUnavailable", err)
	}
	if m.Len() != 1 { // the key check record only
		t.Fatalf("a send that did not go out left %d records besides the key check", m.Len()-1)
	}
	v, err := p.Start(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	// A re-send that did not go out is taken back: two more sends remain
	// possible in total (limit 2: the first, then one more).
	setNext(fmt.Errorf("refused: %w", provider.ErrUndeliverable))
	if _, err := p.Start(ctx, req); !errors.Is(err, provider.ErrUndeliverable) {
		t.Fatalf("re-send refused by the gateway: error = %v, want ErrUndeliverable", err)
	}
	setNext(errors.New("connection reset after the request was written"))
	_, err = p.Start(ctx, req)
	if !errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Fatalf("re-send with an unknown outcome: error = %v, want ErrOutcomeUnknown", err)
	}
	// That one counted: the limit of 2 is reached.
	if _, err := p.Start(ctx, req); !errors.Is(err, provider.ErrTooManySends) {
		t.Fatalf("third send: error = %v, want ErrTooManySends", err)
	}
	f, err := p.Fetch(ctx, v.ID)
	if err != nil || len(f.SendAttempts) != 2 {
		t.Fatalf("Fetch = %v (%d attempts), %v; want 2 attempts", f, len(f.SendAttempts), err)
	}
	if len(sent) != 1 {
		t.Fatalf("sender delivered %d messages, want 1", len(sent))
	}
	wantApproved(t, p, provider.CheckRequest{To: to, Code: sent[0]}, "Check")
}

// TestStoreFailures checks that a store failure keeps its kind: nothing
// happened (ErrUnavailable) or an approval may have landed
// (ErrOutcomeUnknown), never a definite answer.
func TestStoreFailures(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, out, _, rec := newRecorded(t)
	v, code := startSMS(t, p, out)
	set := func(op string, err error) { rec.mu.Lock(); rec.fail = map[string]error{op: err}; rec.mu.Unlock() }

	// The replica that started it checks on the version it wrote: the
	// compare-and-delete is its one store call.
	set("delete", store.Unavailable("delete", errors.New("connection refused")))
	_, err := p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
	if !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("Check with the store down: %v, want ErrUnavailable", err)
	}
	var se *store.Error
	if !errors.As(err, new(*selfhosted.Error)) || !errors.As(err, &se) {
		t.Error("errors.As does not reach *selfhosted.Error and *store.Error")
	}
	set("get", store.Unavailable("get", errors.New("connection refused"))) // and, after a failure, reads it
	if _, err := p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code}); !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("Check with the store down: %v, want ErrUnavailable", err)
	}
	set("delete", store.OutcomeUnknown("delete", errors.New("i/o timeout")))
	if _, err := p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code}); !errors.Is(err, provider.ErrOutcomeUnknown) {
		t.Fatalf("Check whose approval may have landed: %v, want ErrOutcomeUnknown", err)
	}
	set("cas", store.Unavailable("cas", errors.New("connection refused")))
	if _, err := p.Start(ctx, provider.StartRequest{To: "+14155550100", Channel: provider.ChannelSMS}); !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("Start with the store down: %v, want ErrUnavailable", err)
	}
	if _, ok := out.LastCode("+14155550100"); ok {
		t.Fatal("Start sent a code though it could not count the send")
	}
	set("none", nil)
	wantApproved(t, p, provider.CheckRequest{ID: v.ID, Code: code}, "Check after the store recovered")
}

// TestReplicasApproveOnce runs several providers over one store, all
// checking the right code for one verification at once.
func TestReplicasApproveOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newClock()
	m, _ := store.NewMemory(store.WithClock(c.Now))
	out := new(selfhosted.Outbox)
	var replicas []*selfhosted.Provider
	for range 4 {
		p, err := selfhosted.New(m, testKey, selfhosted.WithClock(c.Now), selfhosted.WithSender(out, provider.ChannelSMS))
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, p)
	}
	for round := range 20 {
		v, code := startSMS(t, replicas[round%4], out)
		var wg sync.WaitGroup
		var mu sync.Mutex
		approved, gone := 0, 0
		for i := range 16 {
			wg.Go(func() {
				got, err := replicas[i%4].Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && got.Approved():
					approved++
				case errors.Is(err, provider.ErrNotFound):
					gone++
				default:
					t.Errorf("Check = %v, %v", got, err)
				}
			})
		}
		wg.Wait()
		if approved != 1 || gone != 15 {
			t.Fatalf("round %d: %d approved, %d not found; want 1 and 15", round, approved, gone)
		}
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	m, _ := store.NewMemory()
	out := new(selfhosted.Outbox)
	sms := selfhosted.WithSender(out, provider.ChannelSMS)
	bad := map[string][]selfhosted.Option{
		"no sender":       nil,
		"nil option":      {sms, nil},
		"two senders":     {sms, selfhosted.WithSender(out, provider.ChannelSMS)},
		"auto sender":     {selfhosted.WithSender(out, provider.ChannelAuto)},
		"validity":        {sms, selfhosted.WithValidity(time.Second)},
		"sends":           {sms, selfhosted.WithMaxSends(0)},
		"checks":          {sms, selfhosted.WithMaxChecks(21)},
		"code length":     {sms, selfhosted.WithCodeLength(3)},
		"app name":        {sms, selfhosted.WithAppName("")},
		"nil clock":       {sms, selfhosted.WithClock(nil)},
		"short older key": {sms, selfhosted.WithOlderKeys(selfhosted.Key{ID: "x", Secret: []byte("short")})},
	}
	for name, opts := range bad {
		if _, err := selfhosted.New(m, testKey, opts...); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	if _, err := selfhosted.New(m, selfhosted.Key{ID: "k", Secret: []byte("short")}, sms); err == nil {
		t.Error("New accepted a short secret")
	}
	if _, err := selfhosted.New(nil, testKey, sms); err == nil {
		t.Error("New accepted a nil store")
	}
}

func TestCodeLengthAndChannels(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, out, _, _ := newProvider(t, selfhosted.WithCodeLength(8))
	if _, err := p.Start(ctx, provider.StartRequest{To: "alice@example.com", Channel: provider.ChannelAuto}); err != nil {
		t.Fatal(err)
	}
	msgs := out.Messages()
	if len(msgs) != 1 || msgs[0].Channel != provider.ChannelEmail || len(msgs[0].Code) != 8 || strings.Trim(msgs[0].Code, "0123456789") != "" {
		t.Fatalf("messages = %v, want one e-mail with an 8-digit code", msgs)
	}
	if _, err := p.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS, CustomCode: "1234"}); !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("custom code: %v, want ErrUnsupported", err)
	}
	only, err := selfhosted.New(mustMemory(t), testKey, selfhosted.WithSender(out, provider.ChannelEmail))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := only.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS}); !errors.Is(err, provider.ErrUndeliverable) {
		t.Errorf("sms without an sms sender: %v, want ErrUndeliverable", err)
	}
}

func mustMemory(t *testing.T) *store.Memory {
	m, err := store.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTemplatesAndRedaction(t *testing.T) {
	t.Parallel()
	m := selfhosted.Message{To: to, Channel: provider.ChannelSMS, Code: "123456", Locale: "pt-BR", AppName: "Acme"}
	if got, want := m.Text(), "O seu código de verificação do Acme é: 123456"; got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
	m.Locale = "xx"
	if got, want := m.Text(), "Your Acme verification code is: 123456"; got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, m); strings.Contains(s, "123456") || strings.Contains(s, to) {
			t.Errorf("Sprintf(%q, Message) = %q reveals a secret", verb, s)
		}
		if s := fmt.Sprintf(verb, testKey); strings.Contains(s, "0123456789abcdef") {
			t.Errorf("Sprintf(%q, Key) = %q reveals the secret", verb, s)
		}
	}
}

// TestCanceledDuringSend checks that a context canceled while the message
// is going out gives ErrOutcomeUnknown (it may have gone out), still
// matching the context's error, and keeps the send counted.
func TestCanceledDuringSend(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	sender := selfhosted.SenderFunc(func(ctx context.Context, m selfhosted.Message) error {
		cancel()
		return ctx.Err()
	})
	c := newClock()
	m, _ := store.NewMemory(store.WithClock(c.Now))
	p, err := selfhosted.New(m, testKey, selfhosted.WithClock(c.Now), selfhosted.WithSender(sender, provider.ChannelSMS))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
	if !errors.Is(err, provider.ErrOutcomeUnknown) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Start canceled during the send: error = %v, want ErrOutcomeUnknown and context.Canceled", err)
	}
	if m.Len() != 2 { // the verification and the key check record
		t.Fatalf("the send that may have gone out was taken back (%d records besides the key check)", m.Len()-1)
	}
}

// TestFactorKeyRotation checks that factors survive a key rotation: found
// under the same name, sealed under the new key at their next change (or
// by Rekey), usable afterwards without the older key.
func TestFactorKeyRotation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newClock()
	m, _ := store.NewMemory(store.WithClock(c.Now))
	out := new(selfhosted.Outbox)
	k1, k2 := selfhosted.GenerateKey("2026-01"), selfhosted.GenerateKey("2026-02")
	newP := func(key selfhosted.Key, opts ...selfhosted.Option) *selfhosted.Provider {
		p, err := selfhosted.New(m, key, append(opts, selfhosted.WithClock(c.Now), selfhosted.WithSender(out, provider.ChannelSMS))...)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	const identity = "user-0001-rotate"
	old := newP(k1)
	e, err := old.EnrollFactor(ctx, provider.EnrollRequest{Identity: identity, Type: provider.FactorTOTP, FriendlyName: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := totp.DecodeSecret(e.Secret)
	ver := totp.NewVerifier(secret, e.TOTP)
	if f, err := old.ConfirmFactor(ctx, provider.ConfirmRequest{Identity: identity, FactorID: e.ID, Code: ver.Code(ver.Step(c.Now()))}); err != nil || !f.Verified() {
		t.Fatalf("ConfirmFactor = %v, %v", f, err)
	}
	rotated := newP(k2, selfhosted.WithOlderKeys(k1))
	if list, err := rotated.ListFactors(ctx, identity); err != nil || len(list) != 1 {
		t.Fatalf("ListFactors after rotation = %v, %v; want the factor", list, err)
	}
	c.Advance(30 * time.Second)
	ch, err := rotated.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: ver.Code(ver.Step(c.Now()))})
	if err != nil || !ch.Approved() {
		t.Fatalf("ChallengeFactor after rotation = %v, %v; want approved", ch, err)
	}
	// The replay is still refused after the rotation.
	if ch, err := rotated.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: identity, FactorID: e.ID, Code: ver.Code(ver.Step(c.Now()))}); err != nil || ch.Approved() {
		t.Fatalf("replay after the move = %v, %v; want not approved", ch, err)
	}
	if n := m.Len() - 1; n != 1 { // less the key check record
		t.Fatalf("%d records after the rotation, want 1 (one name)", n)
	}
	if err := rotated.Rekey(ctx, identity); err != nil { // seals the name key under k2
		t.Fatal(err)
	}
	onlyNew := newP(k2)
	if list, err := onlyNew.ListFactors(ctx, identity); err != nil || len(list) != 1 {
		t.Fatalf("ListFactors with only the new key = %v, %v; want the factor", list, err)
	}
	// Rekey moves an identity that has not changed since the rotation.
	const idle = "user-0002-idle"
	if _, err := old.EnrollFactor(ctx, provider.EnrollRequest{Identity: idle, Type: provider.FactorTOTP, FriendlyName: "phone"}); err != nil {
		t.Fatal(err)
	}
	if err := rotated.Rekey(ctx, idle); err != nil {
		t.Fatal(err)
	}
	if list, err := onlyNew.ListFactors(ctx, idle); err != nil || len(list) != 1 {
		t.Fatalf("ListFactors after Rekey with only the new key = %v, %v", list, err)
	}
	if err := rotated.Rekey(ctx, "user-0003-nobody"); !errors.Is(err, provider.ErrNotFound) {
		t.Fatalf("Rekey of an unknown identity: %v, want ErrNotFound", err)
	}
	if err := rotated.DeleteIdentity(ctx, identity); err != nil {
		t.Fatal(err)
	}
	if err := rotated.DeleteIdentity(ctx, identity); !errors.Is(err, provider.ErrNotFound) {
		t.Fatalf("DeleteIdentity twice: %v, want ErrNotFound", err)
	}
}

// TestByIDStatuses: Fetch reports a verification that has had too many
// wrong codes as max_attempts_reached, Cancel and Approve report theirs.
func TestByIDStatuses(t *testing.T) {
	t.Parallel()
	p, _, _, _ := newProvider(t, selfhosted.WithMaxChecks(2))
	ctx := context.Background()
	start := func(to string) string {
		v, err := p.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
		if err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	spent, canceled, approved := start("+15005550101"), start("+15005550102"), start("+15005550103")
	for range 2 {
		_, _ = p.Check(ctx, provider.CheckRequest{ID: spent, Code: "0000000000"})
	}
	var got []provider.Status
	for _, call := range []struct {
		do func(context.Context, string) (provider.Verification, error)
		id string
	}{{p.Fetch, canceled}, {p.Fetch, spent}, {p.Cancel, canceled}, {p.Approve, approved}} {
		v, err := call.do(ctx, call.id)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v.Status)
	}
	want := []provider.Status{provider.StatusPending, provider.StatusMaxAttemptsReached, provider.StatusCanceled, provider.StatusApproved}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}
