package readmetest

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// requireDocsTest skips the tests that build modules unless
// VERIFYKIT_DOCS_TEST=1, and checks that the go command is there.
func requireDocsTest(t *testing.T) string {
	t.Helper()
	if os.Getenv("VERIFYKIT_DOCS_TEST") == "" {
		t.Skip("builds new modules with the go command; set VERIFYKIT_DOCS_TEST=1 (as CI and scripts/test-all do)")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("VERIFYKIT_DOCS_TEST is set but the go command is not on PATH: %v", err)
	}
	return goCmd
}

// newModule writes files into a new module named name in a temporary
// directory, with go.mod requiring verifykit (and the nested modules given)
// from this repository, and runs go mod tidy. It returns the directory.
func newModule(t *testing.T, goCmd, name string, files map[string]string, nested ...string) string {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var mod strings.Builder
	mod.WriteString("module " + name + "\n\ngo 1.25\n\n")
	for _, m := range append([]string{""}, nested...) {
		path := "github.com/verifykit/verifykit"
		if m != "" {
			path += "/" + m
		}
		mod.WriteString("require " + path + " v0.0.0\n")
		mod.WriteString("replace " + path + " => " + filepath.Join(root, filepath.FromSlash(m)) + "\n")
	}
	files["go.mod"] = mod.String()
	for p, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goRun(t, goCmd, dir, nil, "mod", "tidy")
	return dir
}

// goRun runs the go command in dir and fails the test with its output if
// it fails.
func goRun(t *testing.T, goCmd, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(goCmd, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// firstScreen returns the README's blocks marked "readmetest: PATH", by
// path.
func firstScreen(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, b := range blocks(t, "README.md") {
		p, ok := strings.CutPrefix(b.directive, "readmetest:")
		if !ok {
			continue
		}
		p = strings.TrimSpace(p)
		if _, dup := files[p]; dup {
			t.Fatalf("README.md:%d: a second block for %s", b.line, p)
		}
		files[p] = b.body
	}
	for _, want := range []string{"signup/signup.go", "signup/signup_test.go", "cmd/signup/main.go"} {
		if _, ok := files[want]; !ok {
			t.Fatalf("README.md has no block marked <!-- readmetest: %s -->", want)
		}
	}
	return files
}

// TestFirstScreen pastes the README's first screen into a new module, as
// a newcomer would: it must vet, its unit test on the fake must pass, and
// its program must approve a sign-up against the Twilio emulator with the
// code the emulator delivered, typed on standard input.
func TestFirstScreen(t *testing.T) {
	goCmd := requireDocsTest(t)
	dir := newModule(t, goCmd, "example.com/app", firstScreen(t))
	goRun(t, goCmd, dir, nil, "vet", "./...")
	out := goRun(t, goCmd, dir, nil, "test", "-count=1", "-v", "./...")
	if !strings.Contains(out, "--- PASS: TestSignUp") {
		t.Fatalf("the README's unit test did not run:\n%s", out)
	}
	bin := filepath.Join(dir, "signup-bin")
	goRun(t, goCmd, dir, nil, "build", "-o", bin, "./cmd/signup")

	srv := twiliotest.NewServer()
	defer srv.Close()
	cmd := exec.Command(bin, "(415) 555-2671")
	cmd.Env = append(os.Environ(),
		twilio.EnvBaseURL+"="+srv.URL,
		twilio.EnvAccountSID+"="+twiliotest.DefaultAccountSID,
		twilio.EnvAuthToken+"="+twiliotest.DefaultAuthToken,
		twilio.EnvServiceSID+"="+twiliotest.DefaultServiceSID,
		twilio.EnvAPIKey+"=", twilio.EnvAPISecret+"=")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			_ = cmd.Process.Kill() // a program that hangs fails the test, not CI
		}
	}()
	r := bufio.NewReader(stdout)
	prompt, err := r.ReadString(':')
	if err != nil || !strings.HasSuffix(prompt, "code:") {
		_ = cmd.Wait()
		t.Fatalf("the program did not ask for the code: %q, %v; stderr:\n%s", prompt, err, stderr.String())
	}
	code, ok := srv.LastCode("+14155552671")
	if !ok {
		t.Fatal("the emulator delivered no code to +14155552671")
	}
	if _, err := io.WriteString(stdin, code+"\n"); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the program failed: %v; stdout %q; stderr:\n%s", err, rest, stderr.String())
	}
	if !strings.Contains(string(rest), "approved") {
		t.Fatalf("the program did not approve the sign-up: stdout %q; stderr:\n%s", rest, stderr.String())
	}
}
