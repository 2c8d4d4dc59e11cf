//go:build race

package verify

// raceEnabled: the race detector drops sync.Pool items, so allocation
// counts are not meaningful.
const raceEnabled = true
