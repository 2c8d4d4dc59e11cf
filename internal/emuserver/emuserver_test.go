package emuserver

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRing(t *testing.T) {
	t.Parallel()
	r := Ring[int]{Limit: 3}
	if got := r.AppendTo(nil); got != nil {
		t.Fatalf("empty AppendTo(nil) = %v, want nil", got)
	}
	if got := r.Slice(); got == nil || len(got) != 0 {
		t.Fatalf("empty Slice() = %#v, want empty, not nil", got)
	}
	for i := range 7 {
		r.Add(i)
		want := []int{}
		for j := max(0, i-2); j <= i; j++ {
			want = append(want, j)
		}
		if diff := cmp.Diff(want, r.Slice()); diff != "" {
			t.Fatalf("after adding %d (-want +got):\n%s", i, diff)
		}
		for k := range r.Len() {
			if *r.At(k) != want[k] {
				t.Fatalf("At(%d) = %d, want %d", k, *r.At(k), want[k])
			}
		}
	}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	msgs := []string{"a1", "b1", "a2"}
	first := func(s string) string { return s[:1] }
	if diff := cmp.Diff(msgs, Filter(msgs, "", first)); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"a1", "a2"}, Filter(msgs, "a", first)); diff != "" {
		t.Error(diff)
	}
	if got := Filter(msgs, "c", first); got == nil || len(got) != 0 {
		t.Errorf("Filter(c) = %#v, want empty, not nil", got)
	}
	if got := Filter(nil, "", first); got == nil {
		t.Error("Filter(nil, \"\") = nil, want empty, not nil (the outbox encodes as [])")
	}
}

func TestParseAdvance(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"5m", 5 * time.Minute, true},
		{"0s", 0, true},
		{"-1s", 0, false},
		{"", 0, false},
		{"5", 0, false},
		{"876000h", maxAdvance, true},
		{"876001h", 0, false},
	} {
		if d, ok := parseAdvance(tt.in); d != tt.want || ok != tt.ok {
			t.Errorf("parseAdvance(%q) = %v, %v; want %v, %v", tt.in, d, ok, tt.want, tt.ok)
		}
	}
}

func TestConfigure(t *testing.T) {
	t.Parallel()
	srv := &http.Server{ReadTimeout: time.Second}
	Configure(srv)
	if srv.ReadHeaderTimeout != ReadHeaderTimeout || srv.ReadTimeout != time.Second || srv.IdleTimeout != IdleTimeout {
		t.Errorf("Configure: %v %v %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout)
	}
	s := Start(http.NotFoundHandler())
	defer s.Close()
	if s.Config.ReadHeaderTimeout != ReadHeaderTimeout {
		t.Error("Start did not configure the server")
	}
}

func TestRingLast(t *testing.T) {
	t.Parallel()
	r := Ring[int]{Limit: 3}
	even := func(v int) bool { return v%2 == 0 }
	if v, ok := r.Last(even); ok || v != 0 {
		t.Fatalf("empty ring: Last = %d, %v", v, ok)
	}
	for v := 1; v <= 5; v++ { // holds 3 4 5, the oldest slot overwritten
		r.Add(v)
	}
	if v, ok := r.Last(even); !ok || v != 4 {
		t.Errorf("Last(even) = %d, %v; want 4, true", v, ok)
	}
	if v, ok := r.Last(func(v int) bool { return v < 3 }); ok {
		t.Errorf("Last found dropped entry %d", v)
	}
	r.Add(6)
	if v, _ := r.Last(even); v != 6 {
		t.Errorf("Last(even) = %d, want the newest, 6", v)
	}
}

func TestSetters(t *testing.T) {
	t.Parallel()
	n := 5
	if err := SetCount("acmetest", "WithMax", 0, &n); err == nil || err.Error() != "acmetest: WithMax: less than 1" || n != 5 {
		t.Errorf("SetCount(0) = %v, n = %d", err, n)
	}
	if err := SetCount("acmetest", "WithMax", 1, &n); err != nil || n != 1 {
		t.Errorf("SetCount(1) = %v, n = %d", err, n)
	}
	d := time.Second
	if err := Set("acmetest", "WithWait", -d, false, "not positive", &d); err == nil || err.Error() != "acmetest: WithWait: not positive" || d != time.Second {
		t.Errorf("Set(not ok) = %v, d = %v", err, d)
	}
}

func TestClock(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := Clock{Base: func() time.Time { return base }}
	if got := c.Now(); !got.Equal(base) {
		t.Fatalf("Now = %v, want %v", got, base)
	}
	c.Advance(time.Hour)
	c.Advance(90 * time.Second)
	if got, want := c.Now(), base.Add(time.Hour+90*time.Second); !got.Equal(want) {
		t.Errorf("after Advance, Now = %v, want %v", got, want)
	}
}

func TestMust(t *testing.T) {
	t.Parallel()
	if got := Must(7, nil); got != 7 {
		t.Errorf("Must(7, nil) = %d", got)
	}
	want := errors.New("bad option")
	defer func() {
		if r := recover(); r != want {
			t.Errorf("Must panicked with %v, want %v", r, want)
		}
	}()
	Must(0, want)
	t.Error("Must did not panic")
}

func TestApply(t *testing.T) {
	t.Parallel()
	type opt func(*int) error
	set := func(v int) opt { return func(n *int) error { *n = v; return nil } }
	bad := func(*int) error { return errors.New("x: bad") }
	for _, tt := range []struct {
		opts []opt
		want int
		err  string
	}{
		{[]opt{set(1), set(2)}, 2, ""},
		{[]opt{set(1), nil, set(2)}, 1, "x: nil option"},
		{[]opt{bad, set(2)}, 0, "x: bad"},
	} {
		n := 0
		err := Apply("x", &n, tt.opts)
		if got := fmt.Sprint(err); n != tt.want || (err != nil || tt.err != "") && got != tt.err {
			t.Errorf("Apply: %d, %v; want %d, %s", n, err, tt.want, tt.err)
		}
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	secrets := map[string]string{"u": "p"}
	for _, tt := range []struct {
		user, pass  string
		basic, want bool
	}{
		{"u", "p", true, true},
		{"u", "q", true, false},
		{"v", "p", true, false},
		{"", "", false, false},
		{"", "\x00no such user\x00", true, false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.basic {
			r.SetBasicAuth(tt.user, tt.pass)
		}
		if got := BasicAuth(r, secrets); got != tt.want {
			t.Errorf("BasicAuth(%q, %q) = %v, want %v", tt.user, tt.pass, got, tt.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{time.Second: "1", 1500 * time.Millisecond: "2", time.Nanosecond: "1"} {
		w := httptest.NewRecorder()
		RetryAfter(w, d)
		if got := w.Header().Get("Retry-After"); got != want {
			t.Errorf("RetryAfter(%v) = %q, want %q", d, got, want)
		}
	}
}
