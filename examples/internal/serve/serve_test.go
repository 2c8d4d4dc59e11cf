package serve

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRunServesUntilCanceled(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }), func() { close(ready) })
	}()
	<-ready
	// A transport of its own: another test's httptest.Server.Close closes
	// http.DefaultTransport's idle connections.
	hc := &http.Client{Transport: &http.Transport{}}
	resp, err := hc.Get("http://" + l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hi" {
		t.Errorf("body %q", body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second): // a bound on a hang, not a timing assertion
		t.Fatal("Run did not return after its context was canceled")
	}
}

func TestRunReportsServeError(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	l.Close() // Serve fails at once
	if err := Run(context.Background(), l, http.NotFoundHandler(), nil); err == nil {
		t.Error("Run on a closed listener: nil error")
	}
}

func TestProgramCheck(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		addr   string
		remote bool
		want   int
		msg    string
	}{
		{"127.0.0.1:0", false, 0, ""},
		{"localhost:8025", false, 0, ""},
		{"[::1]:0", false, 0, ""},
		{"0.0.0.0:0", false, 2, "emu: refusing to listen on 0.0.0.0: it is not a loopback address, and the outbox would be open"},
		{"0.0.0.0:0", true, 0, ""},
		{"nonsense", true, 2, "emu: -addr: "},
	} {
		var out, errOut strings.Builder
		p := Program{Name: "emu", Stdout: &out, Stderr: &errOut, Exposed: "the outbox"}
		if got := p.Check(tt.addr, tt.remote); got != tt.want || !strings.HasPrefix(errOut.String(), tt.msg) || (tt.msg == "") != (errOut.Len() == 0) {
			t.Errorf("Check(%q, %v) = %d, stderr %q; want %d, %q", tt.addr, tt.remote, got, errOut.String(), tt.want, tt.msg)
		}
	}
}
