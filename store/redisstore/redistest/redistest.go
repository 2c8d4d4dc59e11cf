// Package redistest starts real redis-server processes for tests, on free
// loopback ports, and stops them. It is exported so that the tests of other
// modules (the examples over Redis) start their server the same way.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a redis-server process that a test started.
type Server struct {
	dir   string
	port  int
	fsync string // appendfsync: always (Start) or everysec (StartMain)

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Require reports the path of redis-server. When it is not installed and
// REDIS_REQUIRED=1 is set, it fails tb; otherwise it skips tb.
func Require(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("REDIS_REQUIRED") == "1" {
			tb.Fatalf("REDIS_REQUIRED=1 but redis-server is not installed: %v", err)
		}
		tb.Skip("redis-server is not installed (set REDIS_REQUIRED=1 to fail instead)")
	}
	return path
}

// Start starts a redis-server on a free loopback port, with an append-only
// file synced on every write in a temporary directory (so a killed server
// restarts with every acknowledged write; it makes every write wait for
// the disk), and stops it when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	Require(tb)
	s := &Server{dir: tb.TempDir(), fsync: "always"}
	if err := s.startFree(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Kill() })
	return s
}

// StartMain is Start for TestMain, where there is no testing.TB: it returns
// nil when redis-server is not installed. Its server syncs the append-only
// file every second (Redis's default), not on every write: it is for tests
// and benchmarks that do not kill it.
func StartMain(dir string) (*Server, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, nil
	}
	s := &Server{dir: dir, fsync: "everysec"}
	return s, s.startFree()
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL returns the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// startFree starts the server on a free port. The port freePort found can
// be taken by another process before redis-server binds it; then it tries
// another.
func (s *Server) startFree() error {
	for try := 1; ; try++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		s.port = port
		err = s.start()
		if err == nil || try == 5 || !strings.Contains(err.Error(), "Address already in use") {
			return err
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs the server and waits until it says it accepts connections.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "yes",
		"--appendfsync", s.fsync,
		"--loglevel", "notice",
	)
	dieWithParent(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var lines []string
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, "Ready to accept connections") {
				ready <- nil
				_, _ = io.Copy(io.Discard, out)
				return
			}
			lines = append(lines, line)
		}
		ready <- fmt.Errorf("redis-server exited before it was ready:\n%s", strings.Join(lines, "\n"))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case err := <-ready:
		if err != nil {
			_ = cmd.Wait()
			return err
		}
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("redis-server on port %d not ready after 30s", s.port)
	}
	s.cmd = cmd
	return nil
}

// Kill kills the server with SIGKILL and waits for it to exit. It does
// nothing when the server is not running.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the killed server again on the same port and directory;
// it reloads the append-only file.
func (s *Server) Restart() error { return s.start() }
