package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/verifykit/verifykit/store/redisstore/redistest"
)

// syncBuffer is a concurrency-safe writer for the console output.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var codeRE = regexp.MustCompile(`code is: (\d+)`)

// startReplica runs the program and returns its base URL and console.
func startReplica(t *testing.T, args []string, env map[string]string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out := new(syncBuffer)
	ready := make(chan string, 1)
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, out, out, ready) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case base := <-ready:
		return base, out
	case code := <-done:
		t.Fatalf("the program exited with %d:\n%s", code, out)
	}
	return "", nil
}

func post(t *testing.T, base, path string, form url.Values) (int, map[string]string) {
	t.Helper()
	resp, err := http.PostForm(base+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

const testKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// TestTwoReplicasOneRedis starts a verification on one replica and checks
// it on another, both over one real redis-server.
func TestTwoReplicasOneRedis(t *testing.T) {
	url := redistest.Start(t).URL()
	env := map[string]string{"VERIFYKIT_KEY": testKey}
	a, consoleA := startReplica(t, []string{"-addr", "127.0.0.1:0", "-redis", url}, env)
	b, _ := startReplica(t, []string{"-addr", "127.0.0.1:0", "-redis", url}, env)

	status, v := post(t, a, "/start", map[string][]string{"to": {"+14155552671"}})
	if status != 200 || v["status"] != "pending" {
		t.Fatalf("start on replica A: %d %v", status, v)
	}
	m := codeRE.FindStringSubmatch(consoleA.String())
	if m == nil {
		t.Fatalf("no code on A's console:\n%s", consoleA)
	}
	wrong := "000000"
	if m[1] == wrong {
		wrong = "111111"
	}
	if status, got := post(t, b, "/check", map[string][]string{"id": {v["id"]}, "code": {wrong}}); status != 200 || got["status"] != "pending" {
		t.Fatalf("wrong code on replica B: %d %v", status, got)
	}
	if status, got := post(t, b, "/check", map[string][]string{"id": {v["id"]}, "code": {m[1]}}); status != 200 || got["status"] != "approved" {
		t.Fatalf("right code on replica B: %d %v", status, got)
	}
	if status, got := post(t, a, "/check", map[string][]string{"id": {v["id"]}, "code": {m[1]}}); status != 404 {
		t.Fatalf("the same code again on replica A: %d %v, want 404", status, got)
	}
}

func TestMemoryAndRefusals(t *testing.T) {
	base, console := startReplica(t, []string{"-addr", "127.0.0.1:0"}, nil)
	status, v := post(t, base, "/start", map[string][]string{"to": {"alice@example.com"}, "channel": {"email"}})
	if status != 200 {
		t.Fatalf("start: %d %v", status, v)
	}
	m := codeRE.FindStringSubmatch(console.String())
	if m == nil || strings.Contains(console.String(), "alice@example.com") {
		t.Fatalf("console must show the code and a masked address:\n%s", console)
	}
	if status, got := post(t, base, "/check", map[string][]string{"to": {"alice@example.com"}, "code": {m[1]}}); status != 200 || got["status"] != "approved" {
		t.Fatalf("check by to: %d %v", status, got)
	}
	if status, _ := post(t, base, "/start", map[string][]string{"to": {"not a number"}}); status != 400 {
		t.Fatalf("bad number: %d, want 400", status)
	}
	var out strings.Builder
	if code := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-redis", "redis://127.0.0.1:1/0"}, func(string) string { return "" }, &out, &out, nil); code != 2 {
		t.Fatalf("-redis without VERIFYKIT_KEY: exit %d, want 2 (%s)", code, out.String())
	}
}
