package store_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/verifykit/verifykit/store"
)

// A read-modify-write: read the record, decide, and swap on the version
// read. On a conflict the store returns the current record, so the loop
// decides again without another read.
func Example() {
	ctx := context.Background()
	s, err := store.NewMemory()
	if err != nil {
		panic(err)
	}
	if _, err := s.CompareAndSwap(ctx, "attempts", 0, []byte{0}, time.Minute); err != nil {
		panic(err)
	}
	r, err := s.Get(ctx, "attempts")
	if err != nil {
		panic(err)
	}
	for {
		next := []byte{r.Value[0] + 1}
		r, err = s.CompareAndSwap(ctx, "attempts", r.Version, next, time.Minute)
		if errors.Is(err, store.ErrConflict) {
			continue // r is now the current record
		}
		if err != nil {
			panic(err)
		}
		break
	}
	fmt.Println("attempts:", r.Value[0])

	n, _, err := s.Incr(ctx, "sends:+14155552671", time.Hour)
	if err != nil {
		panic(err)
	}
	fmt.Println("sends this hour:", n)
	// Output:
	// attempts: 1
	// sends this hour: 1
}
