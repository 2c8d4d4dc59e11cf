package redisstore

import (
	"bytes"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
)

// TestRecordBufferCleared checks that a compare-and-swap's record buffer
// goes back to its pool with nothing of the record left in it.
func TestRecordBufferCleared(t *testing.T) {
	srv := redistest.Start(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	value := bytes.Repeat([]byte{0xA5}, 300)
	var ver uint64
	// The pool may drop a buffer put back (always possible, often under
	// the race detector): try a few writes.
	for range 20 {
		r, err := s.CompareAndSwap(t.Context(), "k", ver, value, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		ver = r.Version
		buf := recs.Get().(*[]byte)
		if cap(*buf) < versionLen+len(value) {
			continue
		}
		if b := (*buf)[:cap(*buf)]; bytes.IndexByte(b, 0xA5) >= 0 {
			t.Fatalf("the record buffer holds the value after use: % x", b[:versionLen+len(value)])
		}
		return
	}
	t.Fatal("no record buffer came back to the pool")
}
