package store

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestCounterTableMatchesMap drives a counterTable and a Go map with the
// same random puts, deletes and sweeps, on keys whose slots crowd into a
// few clusters (some wrapping around the array's end), and checks after
// each step that the table holds exactly what the map holds: a deletion
// that moved the wrong entry back, or none, leaves an entry unreachable.
func TestCounterTableMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var tab counterTable
	want := map[ckey]memCounter{}
	keys := make([]ckey, 200)
	for i := range keys {
		// The second half picks the slot: few distinct low bits, many
		// near the end of the array, so clusters form and wrap around.
		keys[i] = ckey{uint64(i + 1), uint64(rng.IntN(6)) - 3 + uint64(i)<<20}
		if i%2 == 1 {
			keys[i][1] = rng.Uint64()
		}
	}
	// The clock moves slowly, so counters expire as the steps go; an
	// expired counter may stay until a sweep or a new counter takes its
	// slot, and is then as good as absent.
	now := int64(0)
	check := func(step int) {
		t.Helper()
		live := 0
		for _, k := range keys {
			got, ok := tab.get(k)
			w, wok := want[k]
			switch {
			case wok && w.reset > now:
				live++
				if !ok || got != w {
					t.Fatalf("step %d: key %v: got %v %v, want %v", step, k, got, ok, w)
				}
			case ok && got.reset > now:
				t.Fatalf("step %d: key %v: got live %v, want none", step, k, got)
			case ok && wok && got != w:
				t.Fatalf("step %d: key %v: got %v, want %v or none", step, k, got, w)
			}
		}
		if tab.len() < live || tab.len() > len(want) {
			t.Fatalf("step %d: len %d, want %d to %d", step, tab.len(), live, len(want))
		}
	}
	for step := range 5000 {
		now = int64(step / 20)
		k := keys[rng.IntN(len(keys))]
		switch op := rng.IntN(10); {
		case op < 6:
			c := memCounter{n: int64(step), reset: now + 1 + int64(rng.IntN(100))}
			tab.put(k, c, now)
			want[k] = c
		case op < 9:
			tab.del(k)
			delete(want, k)
		default:
			tab.sweep(now)
			for k, c := range want {
				if c.reset <= now {
					delete(want, k)
				}
			}
		}
		check(step)
	}
}

// TestCounterTableShrinks: a sweep that leaves few counters gives the
// array back, so memory follows the live counters.
func TestCounterTableShrinks(t *testing.T) {
	var tab counterTable
	for i := range 10000 {
		tab.put(ckey{uint64(i + 1), uint64(i) * 0x9e3779b97f4a7c15}, memCounter{reset: int64(i % 1000)}, 0)
	}
	big := len(tab.slots)
	tab.sweep(995)
	if tab.len() != 40 || len(tab.slots) > 128 || len(tab.slots) >= big {
		t.Fatalf("after the sweep: %d counters in %d slots (%d before)", tab.len(), len(tab.slots), big)
	}
	for i := range 10000 {
		_, ok := tab.get(ckey{uint64(i + 1), uint64(i) * 0x9e3779b97f4a7c15})
		if ok != (i%1000 >= 996) {
			t.Fatalf("key %d: present %v", i, ok)
		}
	}
}

// TestTakeReusesExpiredSlot: a Take whose new counter takes the slot of
// another of its counters, found expired, still counts both.
func TestTakeReusesExpiredSlot(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m, err := NewMemory(WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	x := Limit{Key: "x", Max: 5, Window: time.Minute}
	if _, err := m.Take(ctx, []Limit{x}); err != nil {
		t.Fatal(err)
	}
	// A key whose home slot is x's, in x's shard.
	kx := m.ckey("x")
	tab := &m.shards[kx[0]%memShards].counters
	xi, _ := tab.find(kx)
	y := ""
	for i := 0; y == ""; i++ {
		k := m.ckey("y" + strconv.Itoa(i))
		if k[0]%memShards == kx[0]%memShards && int(k[1])&(len(tab.slots)-1) == xi {
			y = "y" + strconv.Itoa(i)
		}
	}
	now = now.Add(2 * time.Minute)
	ls := []Limit{{Key: y, Max: 5, Window: time.Minute}, x}
	if res, err := m.Take(ctx, ls); err != nil || !res.OK {
		t.Fatal(res, err)
	}
	if err := m.Counts(ctx, ls); err != nil {
		t.Fatal(err)
	}
	if ls[0].Count != 1 || ls[1].Count != 1 {
		t.Errorf("counts %d and %d, want 1 and 1", ls[0].Count, ls[1].Count)
	}
}
