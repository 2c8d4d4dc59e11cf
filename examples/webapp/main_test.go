package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/verifykit/verifykit/twilio/twiliotest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// start runs the program until the returned stop is called.
func start(t *testing.T, getenv func(string) string) (string, *syncBuffer, func() int) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	ready := make(chan string, 1)
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"-addr", "127.0.0.1:0"}, getenv, &out, &errOut, ready) }()
	select {
	case base := <-ready:
		return base, &out, func() int { cancel(); return <-exit }
	case code := <-exit:
		t.Fatalf("exited %d: %s", code, errOut.String())
	}
	return "", nil, nil
}

func get(t *testing.T, url string) string {
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestRunOnFake(t *testing.T) {
	base, out, stop := start(t, func(string) string { return "" })
	if !strings.Contains(get(t, base+"/"), "Sign in with a code") {
		t.Error("home page not served")
	}
	if !strings.Contains(out.String(), base+"/dev/outbox") {
		t.Errorf("output does not point at the outbox: %q", out.String())
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

func TestRunOnEmulator(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	env := map[string]string{
		"TWILIO_ACCOUNT_SID": twiliotest.DefaultAccountSID, "TWILIO_AUTH_TOKEN": twiliotest.DefaultAuthToken,
		"TWILIO_VERIFY_SERVICE_SID": twiliotest.DefaultServiceSID, "TWILIO_VERIFY_BASE_URL": srv.URL,
	}
	base, out, stop := start(t, func(k string) string { return env[k] })
	defer stop()
	if strings.Contains(out.String(), "/dev/outbox") {
		t.Error("the outbox is offered with a real provider")
	}
	if !strings.Contains(get(t, base+"/dev/outbox"), "404") {
		t.Error("/dev/outbox served with a real provider")
	}
}

func TestRunRefuses(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"-bogus"}, nil},
		{[]string{"-region", "XX"}, nil},
		{[]string{"-addr", "nonsense"}, nil},
		{nil, map[string]string{"TWILIO_VERIFY_SERVICE_SID": "VA1"}},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), tt.args, func(k string) string { return tt.env[k] }, &out, &errOut, nil); code == 0 {
			t.Errorf("run(%q, %v) succeeded", tt.args, tt.env)
		}
	}
}
