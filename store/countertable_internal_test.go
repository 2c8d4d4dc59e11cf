package store

import (
	"math/rand/v2"
	"testing"
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
	check := func(step int) {
		t.Helper()
		if tab.len() != len(want) {
			t.Fatalf("step %d: len %d, want %d", step, tab.len(), len(want))
		}
		for _, k := range keys {
			got, ok := tab.get(k)
			w, wok := want[k]
			if ok != wok || got != w {
				t.Fatalf("step %d: key %v: got %v %v, want %v %v", step, k, got, ok, w, wok)
			}
		}
	}
	for step := range 5000 {
		k := keys[rng.IntN(len(keys))]
		switch op := rng.IntN(10); {
		case op < 6:
			c := memCounter{n: int64(step), reset: int64(rng.IntN(100))}
			tab.put(k, c)
			want[k] = c
		case op < 9:
			tab.del(k)
			delete(want, k)
		default:
			now := int64(rng.IntN(100))
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
		tab.put(ckey{uint64(i + 1), uint64(i) * 0x9e3779b97f4a7c15}, memCounter{reset: int64(i % 1000)})
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
