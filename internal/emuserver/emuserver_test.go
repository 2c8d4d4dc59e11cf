package emuserver

import (
	"net/http"
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
			if r.At(k) != want[k] {
				t.Fatalf("At(%d) = %d, want %d", k, r.At(k), want[k])
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
		{"876000h", MaxAdvance, true},
		{"876001h", 0, false},
	} {
		if d, ok := ParseAdvance(tt.in); d != tt.want || ok != tt.ok {
			t.Errorf("ParseAdvance(%q) = %v, %v; want %v, %v", tt.in, d, ok, tt.want, tt.ok)
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
