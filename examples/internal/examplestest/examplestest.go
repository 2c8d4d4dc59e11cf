// Package examplestest holds the test helpers the example programs share,
// so each example's tests do not copy them.
package examplestest

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
)

// SyncBuffer is a bytes.Buffer safe for concurrent use, for the output of
// a program that runs on another goroutine while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Server is an example program running on another goroutine.
type Server struct {
	// Base is the address the program announced, such as
	// "http://127.0.0.1:41234".
	Base string
	// Out and Err are the program's standard output and error.
	Out, Err *SyncBuffer

	cancel context.CancelFunc
	exit   chan int
	stop   sync.Once
	code   int
}

// Stop cancels the program's context, waits for it to return and returns
// its exit code. Calling it again returns the same code.
func (s *Server) Stop() int {
	s.stop.Do(func() {
		s.cancel()
		s.code = <-s.exit
	})
	return s.code
}

// Start runs run on another goroutine with a context, the program's
// outputs and a channel on which the program announces its address once it
// is listening. It returns once the address is announced, and fails t if
// the program exits first. The program is stopped (and waited for) when the
// test ends, if the test did not stop it.
func Start(t testing.TB, run func(ctx context.Context, stdout, stderr io.Writer, ready chan<- string) int) *Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{Out: new(SyncBuffer), Err: new(SyncBuffer), cancel: cancel, exit: make(chan int, 1)}
	ready := make(chan string, 1)
	go func() { s.exit <- run(ctx, s.Out, s.Err, ready) }()
	select {
	case s.Base = <-ready:
	case code := <-s.exit:
		cancel()
		t.Fatalf("exited %d before listening: %s", code, s.Err.String())
	}
	t.Cleanup(func() { s.Stop() })
	return s
}
