package engine

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d)) }
func byteName(to string) (b [16]byte)    { copy(b[:], to); return b }
func collidingName(string) (b [16]byte)  { return b }
func fixedCode() string                  { return "123456" }

// testConfig returns the tests' configuration, over a memory store on
// its clock.
func testConfig(t *testing.T) (Config, *clock) {
	t.Helper()
	c := new(clock)
	c.t.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	st, err := store.NewMemory(store.WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	return Config{Store: st, Now: c.now, Validity: 10 * time.Minute, MaxSends: 3, MaxChecks: 2,
		IDPrefix: "VE", AttemptPrefix: "VL", Name: byteName, NameLen: 16, NonceLen: 8, NewCode: fixedCode}, c
}

func newEngine(t *testing.T, edit func(*Config)) (*Verifications, *clock) {
	t.Helper()
	cfg, c := testConfig(t)
	cfg.Store = recordsStore(t, cfg.Store)
	if edit != nil {
		edit(&cfg)
	}
	if strings.HasSuffix(t.Name(), "/nocache") {
		cfg.Cache = -1
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e, c
}

// eachRecords runs test over each kind of records: a store (with this
// replica's cache and without) and the engine's memory. newEngine reads
// which from the subtest's name.
func eachRecords(t *testing.T, test func(*testing.T)) {
	for _, name := range []string{"store", "nocache", "memory"} {
		t.Run(name, test)
	}
}

// recordsStore returns st, or nil (the engine's memory) in a "memory"
// subtest.
func recordsStore(t *testing.T, st store.Store) store.Store {
	if strings.HasSuffix(t.Name(), "/memory") {
		return nil
	}
	return st
}

var ctx = context.Background()

const to = "+14155552671"

// TestLifecycle walks the rules of one verification: the same code re-sent
// and counted, the send limit, the wrong-code limit and its lock-out of
// re-sends, and gone after approval.
func TestLifecycle(t *testing.T) { eachRecords(t, testLifecycle) }

func testLifecycle(t *testing.T) {
	e, c := newEngine(t, nil)
	s1, code, err := e.Start(ctx, to, provider.ChannelSMS, "")
	if err != nil || code != "123456" {
		t.Fatalf("Start = %q, %v", code, err)
	}
	c.advance(time.Minute)
	s2, code2, err := e.Start(ctx, to, provider.ChannelCall, "")
	if err != nil || code2 != code || s2.ID() != s1.ID() {
		t.Fatalf("re-send: ID %s (want %s), code %q, %v", s2.ID(), s1.ID(), code2, err)
	}
	if v := s2.View(provider.StatusPending); len(v.SendAttempts) != 2 || !v.ExpiresAt.Equal(s1.Expires) || v.Channel != provider.ChannelCall {
		t.Errorf("after a re-send: %+v; want 2 attempts, the first expiry, channel call", v)
	}
	if _, _, err := e.Start(ctx, to, provider.ChannelSMS, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Start(ctx, to, provider.ChannelSMS, ""); !errors.Is(err, provider.ErrTooManySends) {
		t.Errorf("fourth send: %v, want ErrTooManySends", err)
	}
	for range 2 {
		if _, st, err := e.Check(ctx, s1.ID(), "", "000000", nil); err != nil || st != provider.StatusPending {
			t.Fatalf("wrong code: %s, %v", st, err)
		}
	}
	if _, _, err := e.Check(ctx, "", to, code, nil); !errors.Is(err, provider.ErrTooManyChecks) {
		t.Errorf("right code after the limit: %v, want ErrTooManyChecks", err)
	}
	var ee *Error
	if _, _, err := e.Start(ctx, to, provider.ChannelSMS, ""); !errors.As(err, &ee) || ee.Reason != ReasonChecksSpent {
		t.Errorf("start after the limit: %v, want %s", err, ReasonChecksSpent)
	}
	if _, err := e.Fetch(ctx, s1.ID(), nil); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("fetch of a spent verification: %v, want ErrNotFound", err)
	}
	c.advance(10 * time.Minute)
	s3, _, err := e.Start(ctx, to, provider.ChannelSMS, "")
	if err != nil || s3.ID() == s1.ID() {
		t.Fatalf("start after expiry: %s, %v; want a new verification", s3.ID(), err)
	}
	if _, st, err := e.Check(ctx, s3.ID(), to, code, nil); err != nil || st != provider.StatusApproved {
		t.Fatalf("right code: %s, %v", st, err)
	}
	for name, err := range map[string]error{
		"check": func() error { _, _, err := e.Check(ctx, s3.ID(), "", code, nil); return err }(),
		"fetch": func() error { _, err := e.Fetch(ctx, s3.ID(), nil); return err }(),
		"end":   func() error { _, err := e.End(ctx, s3.ID(), nil); return err }(),
	} {
		if !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("%s after approval: %v, want ErrNotFound", name, err)
		}
	}
}

func TestGoneAtMaxChecksAndCustomCode(t *testing.T) { eachRecords(t, testGoneAtMaxChecksAndCustomCode) }

func testGoneAtMaxChecksAndCustomCode(t *testing.T) {
	e, _ := newEngine(t, func(c *Config) { c.GoneAtMaxChecks = true })
	s, code, err := e.Start(ctx, to, provider.ChannelSMS, "ab12")
	if err != nil || code != "ab12" {
		t.Fatalf("Start = %q, %v", code, err)
	}
	for range 2 {
		e.Check(ctx, s.ID(), "", "0000", nil)
	}
	if _, _, err := e.Check(ctx, s.ID(), "", "ab12", nil); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("check after the last wrong code: %v, want ErrNotFound", err)
	}
}

// TestIDs checks that an ID names one verification of one target: a
// malformed ID, another nonce or another To find nothing.
func TestIDs(t *testing.T) { eachRecords(t, testIDs) }

func testIDs(t *testing.T) {
	e, _ := newEngine(t, nil)
	s, _, _ := e.Start(ctx, to, provider.ChannelSMS, "")
	id := s.ID()
	last := "0"
	if id[len(id)-1] == '0' {
		last = "1"
	}
	other := id[:len(id)-1] + last
	for _, tc := range []struct{ id, to string }{{"", to + "9"}, {id, to + "9"}, {other, ""}, {id[2:], ""}, {"VE" + strings.ToUpper(id[2:]), ""}, {"VEzz" + id[4:], ""}} {
		if _, _, err := e.Check(ctx, tc.id, tc.to, "123456", nil); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Check(%q, %q): %v, want ErrNotFound", tc.id, tc.to, err)
		}
	}
	if _, err := e.Fetch(ctx, id, nil); err != nil {
		t.Errorf("the verification was changed by lookups that missed: %v", err)
	}
}

func TestCollisionRefused(t *testing.T) { eachRecords(t, testCollisionRefused) }

func testCollisionRefused(t *testing.T) {
	e, _ := newEngine(t, func(c *Config) { c.Name = collidingName })
	e.Start(ctx, to, provider.ChannelSMS, "")
	if _, _, err := e.Start(ctx, "+14155550000", provider.ChannelSMS, ""); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("a second target with the same name: %v, want ErrUnavailable", err)
	}
}

// TestGate checks that a gate's error leaves the verification unchanged,
// and that the gate sees the verification's target.
func TestGate(t *testing.T) { eachRecords(t, testGate) }

func testGate(t *testing.T) {
	e, _ := newEngine(t, nil)
	s, _, _ := e.Start(ctx, to, provider.ChannelSMS, "")
	boom := errors.New("boom")
	var seen []string
	gate := func(target string) error { seen = append(seen, target); return boom }
	if _, _, err := e.Check(ctx, s.ID(), "", "123456", gate); err != boom {
		t.Errorf("Check: %v", err)
	}
	if _, err := e.End(ctx, s.ID(), gate); err != boom {
		t.Errorf("End: %v", err)
	}
	if _, err := e.Fetch(ctx, "VEnothing", gate); err != boom {
		t.Errorf("Fetch: %v", err)
	}
	if diff := cmp.Diff([]string{to, to, ""}, seen); diff != "" {
		t.Errorf("targets the gate saw (-want +got):\n%s", diff)
	}
	if _, st, err := e.Check(ctx, s.ID(), "", "123456", nil); st != provider.StatusApproved {
		t.Errorf("after refused operations: %s, %v; want approved", st, err)
	}
}

// TestApproveOnce checks that of many concurrent right codes exactly one
// approves.
func TestApproveOnce(t *testing.T) { eachRecords(t, testApproveOnce) }

func testApproveOnce(t *testing.T) {
	e, _ := newEngine(t, func(c *Config) { c.MaxChecks = 100 })
	s, _, _ := e.Start(ctx, to, provider.ChannelSMS, "")
	var approved atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, st, _ := e.Check(ctx, s.ID(), "", "123456", nil); st == provider.StatusApproved {
				approved.Add(1)
			}
		})
	}
	wg.Wait()
	if n := approved.Load(); n != 1 {
		t.Errorf("%d approvals, want 1", n)
	}
}

func TestMalformedRecord(t *testing.T) {
	var s State
	good := (&State{To: to, code: "1234", attempts: make([]attempt, 2)}).encode(8)
	if err := s.decode(good, 8); err != nil {
		t.Fatal(err)
	}
	for i := range good {
		if err := s.decode(good[:i], 8); err == nil {
			t.Errorf("a record cut at %d bytes decoded", i)
		}
	}
	// A verification starts with its first send: a record with none, or
	// created at another time, is not one the engine wrote.
	one := (&State{To: to, code: "1234", attempts: make([]attempt, 1)}).encode(8)
	if err := s.decode(one, 8); err != nil {
		t.Fatal(err)
	}
	noSend := append(one[:len(one)-26:len(one)-26], 0) // a send is 25 bytes here
	created := slices.Clone(one)
	created[8+1+4+1+8+1+len(to)+1+7]++ // the last byte of created
	for name, b := range map[string][]byte{"no send": noSend, "created apart from its first send": created} {
		if err := s.decode(b, 8); err == nil {
			t.Errorf("a record with %s decoded", name)
		}
	}
}

func TestConfigChecked(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("an empty Config was accepted")
	}
}

// TestOneSpellingPerID: the same hex digits in upper case are another,
// unknown ID, even where the target's name has no letter to change.
func TestOneSpellingPerID(t *testing.T) { eachRecords(t, testOneSpellingPerID) }

func testOneSpellingPerID(t *testing.T) {
	e, _ := newEngine(t, func(c *Config) { c.Name = collidingName })
	s, _, _ := e.Start(ctx, to, provider.ChannelSMS, "")
	// The name is all zeros: a non-digit in place of a 0 is no spelling of it.
	for _, c := range "g/:G \x00" {
		other := s.ID()[:2] + string(c) + s.ID()[3:]
		if _, err := e.Fetch(ctx, other, nil); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Fetch(%q): %v, want ErrNotFound", other, err)
		}
	}
	upper := "VE" + strings.ToUpper(s.ID()[2:])
	if upper == s.ID() {
		t.Skip("no letter in this ID")
	}
	if _, err := e.Fetch(ctx, upper, nil); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("Fetch(%s): %v, want ErrNotFound", upper, err)
	}
}

// TestDerivedCodes: with Reveal, what NewCode returns is stored and the
// code is derived from it and the nonce; Start delivers and Check compares
// the derived code, never the stored bytes.
func TestDerivedCodes(t *testing.T) { eachRecords(t, testDerivedCodes) }

func testDerivedCodes(t *testing.T) {
	e, _ := newEngine(t, func(c *Config) {
		c.NewCode = func() string { return "k1" }
		c.Reveal = func(nonce []byte, stored string) (string, error) {
			return stored + "-" + string(rune('0'+nonce[0]%10)), nil
		}
	})
	s, code, err := e.Start(ctx, to, provider.ChannelSMS, "")
	if err != nil || !strings.HasPrefix(code, "k1-") {
		t.Fatalf("Start = %q, %v; want the derived code", code, err)
	}
	if _, status, err := e.Check(ctx, s.ID(), "", "k1", nil); err != nil || status != provider.StatusPending {
		t.Fatalf("Check with the stored bytes = %s, %v; want pending", status, err)
	}
	if _, status, err := e.Check(ctx, s.ID(), "", code, nil); err != nil || status != provider.StatusApproved {
		t.Fatalf("Check with the derived code = %s, %v; want approved", status, err)
	}
}

// TestTakeBack: a send taken back leaves the verification as it was
// before it (a new one gone), so the send limit is not spent by sends
// that never went out; a state changed since is left alone.
func TestTakeBack(t *testing.T) { eachRecords(t, testTakeBack) }

func testTakeBack(t *testing.T) {
	e, c := newEngine(t, func(c *Config) { c.MaxSends = 2 })
	s1, _, err := e.Start(ctx, to, provider.ChannelSMS, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.TakeBack(ctx, s1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Fetch(ctx, s1.ID(), nil); !errors.Is(err, provider.ErrNotFound) {
		t.Fatalf("a new verification taken back: Fetch = %v, want ErrNotFound", err)
	}
	s1, _, _ = e.Start(ctx, to, provider.ChannelSMS, "")
	c.advance(time.Minute)
	s2, _, err := e.Start(ctx, to, provider.ChannelCall, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.TakeBack(ctx, s2); err != nil {
		t.Fatal(err)
	}
	got, err := e.Fetch(ctx, s1.ID(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s1.View(provider.StatusPending), got.View(provider.StatusPending)); diff != "" {
		t.Errorf("a re-send taken back (-before +after):\n%s", diff)
	}
	s3, _, err := e.Start(ctx, to, provider.ChannelCall, "")
	if err != nil {
		t.Fatalf("the re-send taken back still counted: %v", err)
	}
	if _, _, err := e.Check(ctx, s3.ID(), "", "000000", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.TakeBack(ctx, s3); !errors.Is(err, store.ErrConflict) {
		t.Errorf("TakeBack after a change = %v, want ErrConflict", err)
	}
}

// TestSpentVisible: with SpentVisible, a verification whose wrong codes
// are spent is still fetched and ended until it expires.
func TestSpentVisible(t *testing.T) { eachRecords(t, testSpentVisible) }

func testSpentVisible(t *testing.T) {
	for _, visible := range []bool{false, true} {
		e, _ := newEngine(t, func(c *Config) { c.SpentVisible, c.CreateFirst = visible, visible })
		s, _, _ := e.Start(ctx, to, provider.ChannelSMS, "")
		for range 2 {
			if _, _, err := e.Check(ctx, s.ID(), "", "000000", nil); err != nil {
				t.Fatal(err)
			}
		}
		_, ferr := e.Fetch(ctx, s.ID(), nil)
		_, eerr := e.End(ctx, s.ID(), nil)
		if gone := errors.Is(ferr, provider.ErrNotFound) && errors.Is(eerr, provider.ErrNotFound); gone == visible {
			t.Errorf("SpentVisible %v: Fetch %v, End %v", visible, ferr, eerr)
		}
	}
}

// FuzzRecord feeds arbitrary bytes to the record decoder and to Split: they
// must not panic; what decodes must survive encoding again unchanged, and
// Join must put back together what Split takes apart.
func FuzzRecord(f *testing.F) {
	s := State{To: to, Channel: provider.ChannelSMS, Checks: 2, code: "123456", seq: 3,
		attempts: []attempt{{channel: provider.ChannelSMS}, {channel: "voice"}}}
	f.Add(s.encode(8))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s State
		if s.decode(b, 8) == nil {
			if again := s.encode(8); !bytes.Equal(again, b) {
				t.Errorf("encoding is not stable: %x then %x", b, again)
			}
		}
		if h, body, err := Split(b, 8); err == nil {
			var s2 State
			if s.decode(b, 8) == nil && (s2.decode(Join(h.Seq, body, h.Stored), 8) != nil || s2.seq != s.seq || s2.Checks != h.Checks) {
				t.Errorf("Join(Split(%x)) differs", b)
			}
		}
	})
}
