package emuserver

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

type fault struct {
	op    string
	times int
}

func TestFaults(t *testing.T) {
	t.Parallel()
	var q Faults[fault]
	times := func(f *fault) *int { return &f.times }
	op := func(name string) func(*fault) bool { return func(f *fault) bool { return f.op == "" || f.op == name } }
	if !q.Add(fault{"start", 2}, 3) || !q.Add(fault{"", -1}, 3) || !q.Add(fault{"check", 1}, 3) {
		t.Fatal("Add refused a fault under the limit")
	}
	if q.Add(fault{"x", 1}, 3) || q.Len() != 3 {
		t.Fatalf("Add over the limit: Len = %d", q.Len())
	}
	for i, want := range []fault{{"start", 1}, {"start", 0}, {"", -1}, {"", -1}} {
		if f := q.Take(op("start"), times); f == nil || *f != want {
			t.Fatalf("take %d = %v; want %v", i, f, want)
		}
	}
	if q.Len() != 2 {
		t.Fatalf("Len = %d after the start fault ran out, want 2", q.Len())
	}
	q.Clear()
	if q.Take(op("check"), times) != nil || q.Len() != 0 {
		t.Fatal("Take after Clear found a fault")
	}
}

func TestDrop(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { Drop(w) }))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (%d), want the connection closed", resp.StatusCode)
	}
}
