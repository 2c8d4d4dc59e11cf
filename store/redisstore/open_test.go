package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/store/redisstore"
	"github.com/verifykit/verifykit/store/redisstore/redistest"
)

// TestOpenServerDown checks that Open fails against a server that is not
// there, with a typed error that hides the password, instead of
// succeeding and leaving the failure to the first operation.
func TestOpenServerDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	url := strings.Replace(srv.URL(), "redis://", "redis://user:hunter2@", 1)
	srv.Kill()
	s, err := redisstore.Open(t.Context(), url)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded against a server that is down")
	}
	var se *store.Error
	if !errors.Is(err, provider.ErrUnavailable) || errors.Is(err, provider.ErrOutcomeUnknown) || !errors.As(err, &se) {
		t.Errorf("Open = %v, want a *store.Error matching ErrUnavailable only", err)
	}
	if out := fmt.Sprintf("%v %+v %#v", err, err, err); strings.Contains(out, "hunter2") {
		t.Errorf("Open's error reveals the password: %s", out)
	}
	if !strings.Contains(err.Error(), srv.Addr()) {
		t.Errorf("Open's error %q does not name the server %s", err, srv.Addr())
	}
}

// TestOpenCanceled checks that Open honours its context.
func TestOpenCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s, err := redisstore.Open(ctx, sharedServer(t).URL()); err == nil {
		s.Close()
		t.Fatal("Open succeeded with a canceled context")
	}
}

// TestGoRedisLogsNothingToStderr runs a program (this test binary) that
// opens a store and uses it while the server is down, and checks that
// go-redis wrote nothing to its standard error: its dial failures become
// Debug records of slog.Default(), and the store returns them as errors.
func TestGoRedisLogsNothingToStderr(t *testing.T) {
	if os.Getenv("REDISSTORE_STDERR_CHILD") == "1" {
		srv := redistest.Start(t)
		s, err := redisstore.Open(t.Context(), srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		srv.Kill()
		if _, err := s.Get(t.Context(), "k"); !errors.Is(err, provider.ErrUnavailable) {
			t.Fatalf("Get with the server down: %v", err)
		}
		if _, err := redisstore.Open(t.Context(), srv.URL()); !errors.Is(err, provider.ErrUnavailable) {
			t.Fatalf("Open with the server down: %v", err)
		}
		return
	}
	t.Parallel()
	redistest.Require(t)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestGoRedisLogsNothingToStderr$", "-test.count=1")
	cmd.Env = append(os.Environ(), "REDISSTORE_STDERR_CHILD=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("go-redis wrote to standard error:\n%s", stderr.String())
	}
}
