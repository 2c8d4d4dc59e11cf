package examplestest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// TestBrowser: Post sends the page's CSRF token and keeps cookies across
// requests; Want and a page without a token fail the test.
func TestBrowser(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s1"})
		fmt.Fprint(w, `<form><input name="csrf" value="tok-1"></form>`)
	})
	mux.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "no form") })
	mux.HandleFunc("POST /submit", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("sid")
		fmt.Fprintf(w, "csrf=%s name=%s cookie=%v", r.PostFormValue("csrf"), r.PostFormValue("name"), err == nil && c.Value == "s1")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	b := NewBrowser(t, srv.URL)
	b.Post("/form", "/submit", url.Values{"name": {"ada"}})
	b.Want("answer", "csrf=tok-1 name=ada cookie=true")

	for name, f := range map[string]func(b *Browser){
		"no token":   func(b *Browser) { b.Post("/plain", "/submit", url.Values{}) },
		"text wants": func(b *Browser) { b.Page = "something"; b.Want("page", "else") },
	} {
		ft := &fatalRecorder{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			f(NewBrowser(ft, srv.URL))
		}()
		<-done
		if ft.msg == "" {
			t.Errorf("%s: the test did not fail", name)
		}
	}
}
