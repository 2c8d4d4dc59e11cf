// Package examplestest holds the test helpers the example programs share,
// so each example's tests do not copy them.
package examplestest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
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

// Browser is a cookie-keeping HTTP client for an example web app's pages:
// it follows redirects and submits forms with their CSRF token.
type Browser struct {
	t    testing.TB
	base string
	c    *http.Client
	// Page is the body of the last answer to Post.
	Page string
}

// NewBrowser returns a Browser for the app at base (such as
// "http://127.0.0.1:41234"). It has a transport of its own, not
// http.DefaultTransport, whose idle connections any httptest.Server's
// Close closes under a request.
func NewBrowser(t testing.TB, base string) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{t: t, base: base, c: &http.Client{Jar: jar, Transport: http.DefaultTransport.(*http.Transport).Clone()}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// Post gets the page at from, takes its CSRF token and posts form with it
// to path; the answer (after redirects) is in Page. It fails the test when
// a request fails or the page has no token.
func (b *Browser) Post(from, path string, form url.Values) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + from)
	if err != nil {
		b.t.Fatalf("GET %s: %v", from, err)
		return
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(page)
	if m == nil {
		b.t.Fatalf("no CSRF token on %s:\n%s", from, page)
		return
	}
	form.Set("csrf", string(m[1]))
	resp, err = b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b.Page = string(body)
}

// Want fails the test, naming what, unless Page contains text.
func (b *Browser) Want(what, text string) {
	b.t.Helper()
	if !strings.Contains(b.Page, text) {
		b.t.Fatalf("%s: page lacks %q:\n%s", what, text, b.Page)
	}
}
