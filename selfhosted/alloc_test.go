//go:build !race

package selfhosted_test

import (
	"runtime"
	"testing"
)

// bytesPerRun returns the bytes f allocates a call, on average over 200
// calls after one. (The race detector's sync.Pool drops what it is given
// at random: no figure to hold it to.)
func bytesPerRun(f func()) uint64 {
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 200 {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / 200
}

// TestSealingReusesItsBuffers: a record is sealed into a buffer reused
// once the store has it, and an identity's record encoded into one, so a
// Start and Check, and a TOTP login, allocate less than the records they
// write (about 700 bytes and 2 KiB sealed).
func TestSealingReusesItsBuffers(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   func(testing.TB) func()
		max  uint64
	}{
		{"StartCheck", startCheck, 1700},
		{"TOTPLogin", totpLogin, 9500},
	} {
		if n := bytesPerRun(tc.op(t)); n > tc.max {
			t.Errorf("%s allocates %d bytes, want at most %d", tc.name, n, tc.max)
		}
	}
}
