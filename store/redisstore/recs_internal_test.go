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
	r, err := s.CompareAndSwap(t.Context(), "k", 0, value, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompareAndSwap(t.Context(), "k", r.Version, value, time.Hour); err != nil {
		t.Fatal(err)
	}
	buf := recs.Get().(*[]byte)
	if cap(*buf) < versionLen+len(value) {
		t.Fatalf("the pool gave a buffer of capacity %d, not the record's", cap(*buf))
	}
	if b := (*buf)[:cap(*buf)]; bytes.IndexByte(b, 0xA5) >= 0 {
		t.Errorf("the record buffer holds the value after use: % x", b[:versionLen+len(value)])
	}
}
