package examplestest

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"
)

func TestSyncBufferConcurrent(t *testing.T) {
	t.Parallel()
	var b SyncBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { fmt.Fprint(&b, "x") })
	}
	wg.Wait()
	if b.String() != "xxxxxxxx" {
		t.Errorf("String() = %q", b.String())
	}
}

func TestStartAndStop(t *testing.T) {
	t.Parallel()
	s := Start(t, func(ctx context.Context, stdout, _ io.Writer, ready chan<- string) int {
		fmt.Fprintln(stdout, "listening")
		ready <- "http://127.0.0.1:1"
		<-ctx.Done()
		return 7
	})
	if s.Base != "http://127.0.0.1:1" || s.Out.String() != "listening\n" {
		t.Errorf("Base %q, Out %q", s.Base, s.Out.String())
	}
	if code := s.Stop(); code != 7 {
		t.Errorf("Stop() = %d, want 7", code)
	}
}

func TestStartFailsWhenTheProgramExits(t *testing.T) {
	t.Parallel()
	ft := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(ft, func(_ context.Context, _, stderr io.Writer, _ chan<- string) int {
			fmt.Fprint(stderr, "bad flag")
			return 2
		})
	}()
	<-done
	if ft.msg == "" {
		t.Error("Start did not fail when the program exited before listening")
	}
}

type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
