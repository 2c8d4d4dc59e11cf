package twilio

import (
	"io"
	"testing"
)

// TestBodyReadersOfAttemptsAreDistinct hands out request bodies in orders
// a retry library may use — measuring the body first or not, rewinding it
// once or several times — and checks that once the call is sending, no two
// readers are the same object (the transport may still be writing an
// earlier attempt's body when a retry asks for a new one), and that every
// reader yields the whole body.
func TestBodyReadersOfAttemptsAreDistinct(t *testing.T) {
	t.Parallel()
	const body = "Code=123456&To=%2B14155552671"
	for _, measured := range []int{0, 1, 2} {
		a := &attempt{reqBody: []byte(body), building: true}
		for range measured { // calls before the call sends: nothing runs yet
			r, err := a.bodyReader()
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := io.ReadAll(r); string(b) != body {
				t.Fatalf("measured=%d: reader before sending yields %q", measured, b)
			}
		}
		a.building = false
		seen := map[io.Reader]bool{}
		for i := range 4 {
			r, err := a.bodyReader()
			if err != nil {
				t.Fatal(err)
			}
			if seen[r] {
				t.Fatalf("measured=%d: reader %d of the sending phase was already handed out", measured, i)
			}
			seen[r] = true
			if b, _ := io.ReadAll(r); string(b) != body {
				t.Fatalf("measured=%d: reader %d yields %q", measured, i, b)
			}
		}
	}
}
