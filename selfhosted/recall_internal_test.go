package selfhosted

import (
	"testing"
	"time"
)

// TestRecallTickets checks the memory of records seen: a record older than
// one seen is refused when the read was issued after the newer one was
// learned, and accepted when the read raced with this replica's own
// writes (issued before they were learned); a deleted lineage that comes
// back is refused; a stable record that disappears or changes lineage is
// reported.
func TestRecallTickets(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := now.Add(time.Hour)
	r := newRecall(1024)
	a, b := [16]byte{1}, [16]byte{2}
	if !r.saw("v", a, seen{seq: 1}, kindVerification, until, r.ticket(), now) {
		t.Fatal("first sight refused")
	}
	inFlight := r.ticket() // a read issued now, answered after the writes below
	for seq := uint64(2); seq <= 9; seq++ {
		r.saw("v", a, seen{seq: seq}, kindVerification, until, r.ticket(), now)
	}
	if !r.saw("v", a, seen{seq: 1}, kindVerification, until, inFlight, now) {
		t.Error("a read that raced with this replica's writes was taken for a rollback")
	}
	if r.saw("v", a, seen{seq: 8}, kindVerification, until, r.ticket(), now) {
		t.Error("seq 8 read after seq 9 was learned: accepted, want refused")
	}
	r.saw("v", a, seen{seq: 10, spent: 3}, kindVerification, until, r.ticket(), now)
	if r.saw("v", a, seen{seq: 11, spent: 0}, kindVerification, until, r.ticket(), now) {
		t.Error("a later seq with fewer guesses taken was accepted")
	}
	if !r.saw("v", a, seen{seq: 11, spent: 3}, kindVerification, until, r.ticket(), now) {
		t.Error("a later seq with as many guesses taken was refused")
	}
	if !r.saw("v", b, seen{seq: 1}, kindVerification, until, r.ticket(), now) {
		t.Error("a new verification at the key was refused")
	}
	r.deleted("v", b, now)
	if r.saw("v", b, seen{seq: 1}, kindVerification, until, r.ticket(), now) {
		t.Error("a deleted verification put back: accepted, want refused")
	}
	if r.lost("v", r.ticket(), now) != true {
		t.Error("lost: a remembered key is reported as never seen")
	}
	tk := r.ticket()
	r.saw("e", a, seen{seq: 1}, kindStable, now.Add(stableRecall), r.ticket(), now)
	if r.lost("e", tk, now) {
		t.Error("a stable record first seen after the read was issued was reported lost")
	}
	if !r.lost("e", r.ticket(), now) {
		t.Error("a stable record seen and now absent was not reported lost")
	}
	if r.saw("e", b, seen{seq: 1}, kindStable, now.Add(stableRecall), r.ticket(), now) {
		t.Error("a stable record of another lineage was accepted")
	}
	// Forgotten after its time.
	later := until.Add(time.Second)
	if !r.saw("v", a, seen{seq: 1}, kindVerification, later.Add(time.Hour), r.ticket(), later) {
		t.Error("an expired memory still refuses")
	}
	// Bounded.
	for i := range 5000 {
		r.saw(string(rune(i)), a, seen{seq: 1}, kindVerification, until, r.ticket(), now)
	}
	if n := r.ll.Len(); n > 1024 {
		t.Errorf("%d keys remembered, bound 1024", n)
	}
}
