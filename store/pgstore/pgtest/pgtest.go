// Package pgtest starts real PostgreSQL servers for tests, on free
// loopback ports, each in a temporary directory made by initdb, and stops
// them. It is exported so that the tests of other modules (the web app
// over PostgreSQL) start their server the same way.
//
// It finds initdb and postgres on PATH, or else in the newest
// /usr/lib/postgresql/*/bin (Debian's layout), or in the directory named by
// PG_BIN. PostgreSQL refuses to run as root: a test running as root runs
// the server as the postgres user.
package pgtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a PostgreSQL server that a test started.
type Server struct {
	bin   string // the directory of initdb and postgres
	dir   string // owned by the server's user: data/ and the socket
	port  int
	owner *owner
	conf  []string // -c settings

	mu  sync.Mutex
	cmd *exec.Cmd
	out *lineLog
}

// Bin returns the directory holding initdb and postgres, or an error
// saying why there is none.
func Bin() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		return d, check(d)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if check(d) == nil {
			return d, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if check(d) == nil {
			return d, nil
		}
	}
	return "", errors.New("initdb and postgres not found on PATH, in /usr/lib/postgresql/*/bin or in $PG_BIN")
}

func version(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func check(dir string) error {
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// Require returns the directory of initdb and postgres. When PostgreSQL is
// not installed and PG_REQUIRED=1 is set, it fails tb; otherwise it skips
// tb.
func Require(tb testing.TB) string {
	tb.Helper()
	bin, err := Bin()
	if err != nil {
		if os.Getenv("PG_REQUIRED") == "1" {
			tb.Fatalf("PG_REQUIRED=1 but PostgreSQL is not installed: %v", err)
		}
		tb.Skipf("PostgreSQL is not installed (set PG_REQUIRED=1 to fail instead): %v", err)
	}
	return bin
}

// Start starts a PostgreSQL server with the default durability (fsync
// and synchronous_commit on: a killed server restarts with every
// acknowledged commit) on a free loopback port, and stops it and removes
// its files when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := Require(tb)
	s, err := start(bin, true)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// StartMain is Start for TestMain, where there is no testing.TB: it
// returns nil and no error when PostgreSQL is not installed. Its server
// does not fsync (fsync=off: it keeps every acknowledged commit when it is
// killed, but not when the machine fails), which makes tests and
// benchmarks that do not measure the disk faster. Stop it with Stop.
func StartMain() (*Server, error) {
	bin, err := Bin()
	if err != nil {
		return nil, nil
	}
	return start(bin, false)
}

func start(bin string, durable bool) (*Server, error) {
	o, err := serverOwner()
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root and no postgres user to run the server: %w", err)
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir, owner: o}
	if err := chown(dir, o); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s.conf = []string{
		"listen_addresses=127.0.0.1",
		"unix_socket_directories=" + dir,
		"max_connections=200",
		"shared_buffers=32MB",
		"log_min_messages=warning",
	}
	if !durable {
		s.conf = append(s.conf, "fsync=off", "full_page_writes=off")
	}
	tmpl, err := template(bin, o)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	// cp -a keeps the files' owner and modes, which the server checks.
	if out, err := exec.Command("cp", "-a", tmpl, s.data()).CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: copying the initdb template: %v\n%s", err, out)
	}
	if err := s.startFree(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// The data directory initdb made, once per process, which every server
// copies (initdb takes seconds; a copy, a fraction of one).
var tmplDir struct {
	once sync.Once
	dir  string
	err  error
}

// template returns the template data directory, making it on first use.
// It stays in a temporary directory after the process ends when a test
// binary is killed; Cleanup removes it otherwise.
func template(bin string, o *owner) (string, error) {
	tmplDir.once.Do(func() {
		dir, err := os.MkdirTemp("", "pgtest-template-")
		if err != nil {
			tmplDir.err = err
			return
		}
		if err := chown(dir, o); err != nil {
			tmplDir.err = err
			return
		}
		data := filepath.Join(dir, "data")
		initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
			"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
		prepare(initdb, o)
		if out, err := initdb.CombinedOutput(); err != nil {
			_ = os.RemoveAll(dir)
			tmplDir.err = fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
			return
		}
		tmplDir.dir = data
	})
	return tmplDir.dir, tmplDir.err
}

// Cleanup removes the template data directory that the servers of this
// process were copied from. Call it at the end of TestMain.
func Cleanup() {
	if tmplDir.dir != "" {
		_ = os.RemoveAll(filepath.Dir(tmplDir.dir))
	}
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// Addr returns the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port returns the server's port.
func (s *Server) Port() int { return s.port }

// URL returns a postgres:// URL of the server's database "postgres", as
// the superuser postgres (no password: the server trusts loopback
// connections).
func (s *Server) URL() string {
	return "postgres://postgres@" + s.Addr() + "/postgres?sslmode=disable"
}

// startFree starts the server on a free port. The port freePort found can
// be taken by another process before the server binds it; then it tries
// another.
func (s *Server) startFree() error {
	for try := 1; ; try++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		s.port = port
		err = s.start()
		if err == nil || try == 5 || !strings.Contains(err.Error(), "could not bind") && !strings.Contains(err.Error(), "already in use") {
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

// lineLog keeps the server's last lines of output, for errors.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) add(line string) {
	l.mu.Lock()
	if len(l.lines) == 50 {
		l.lines = l.lines[1:]
	}
	l.lines = append(l.lines, line)
	l.mu.Unlock()
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// start runs the server and waits until it says it accepts connections.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	args := []string{"-D", s.data(), "-p", strconv.Itoa(s.port)}
	for _, c := range s.conf {
		args = append(args, "-c", c)
	}
	// The server logs "ready to accept connections" at LOG level, which
	// log_min_messages=warning hides: ask for it.
	args = append(args, "-c", "log_min_messages=log")
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), args...)
	prepare(cmd, s.owner)
	out, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		return err
	}
	log := new(lineLog)
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			log.add(line)
			if strings.Contains(line, "ready to accept connections") {
				ready <- nil
				for sc.Scan() {
					log.add(sc.Text())
				}
				_, _ = io.Copy(io.Discard, out)
				return
			}
		}
		ready <- fmt.Errorf("pgtest: postgres exited before it was ready:\n%s", log)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	select {
	case err := <-ready:
		if err != nil {
			_ = cmd.Wait()
			return err
		}
	case <-ctx.Done():
		killGroup(cmd.Process.Pid)
		_ = cmd.Wait()
		return fmt.Errorf("pgtest: postgres on port %d not ready after 60s:\n%s", s.port, log)
	}
	s.cmd, s.out = cmd, log
	return nil
}

// Log returns the server's last lines of output.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		return ""
	}
	return s.out.String()
}

// Kill kills the server and every process of it with SIGKILL, as a crash
// would, and waits for the postmaster to exit. It does nothing when the
// server is not running.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	killGroup(s.cmd.Process.Pid)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the killed server again on the same port and data
// directory; it recovers from its write-ahead log. The killed server's
// processes may take a moment to go; Restart tries again for a while.
func (s *Server) Restart() error {
	var err error
	for range 50 {
		if err = s.start(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond) // the old processes are exiting
	}
	return err
}

// Stop kills the server and removes its files.
func (s *Server) Stop() {
	s.Kill()
	_ = os.RemoveAll(s.dir)
}
