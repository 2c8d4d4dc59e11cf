package httpretry

import (
	"testing"
	"time"
)

func TestExpBackoff(t *testing.T) {
	tests := []struct {
		min, max time.Duration
		n        int
		lo, hi   time.Duration
	}{
		{0, 5 * time.Second, 0, 0, 0},
		{0, 5 * time.Second, 3, 0, 0},
		{time.Second, 10 * time.Second, 0, 500 * time.Millisecond, time.Second},
		{time.Second, 10 * time.Second, 2, 2 * time.Second, 4 * time.Second},
		{time.Second, 10 * time.Second, 10, 5 * time.Second, 10 * time.Second},
		{time.Second, 10 * time.Second, 200, 5 * time.Second, 10 * time.Second},
		{time.Hour, time.Hour, 3, 30 * time.Minute, time.Hour},
	}
	for _, tt := range tests {
		for range 50 {
			if d := ExpBackoff(tt.min, tt.max, tt.n); d < tt.lo || d > tt.hi {
				t.Fatalf("ExpBackoff(%v, %v, %d) = %v, want %v to %v", tt.min, tt.max, tt.n, d, tt.lo, tt.hi)
			}
		}
	}
}
