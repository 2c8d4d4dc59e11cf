// Package emuserver is the server plumbing the provider emulators
// (twilio/twiliotest, vonage/vonagetest) share: the HTTP server timeouts
// and the loopback test server, the bounded outbox, the outbox filter, the
// control endpoints under /_emulator/ (outbox JSON, faults, clock; see
// Control, which an emulator fills with its fault type and error format),
// the scheduled-fault queue and the dropped connection. The fake uses its
// Ring and option helpers too.
package emuserver

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"time"
)

// The timeouts of the HTTP servers the emulators start (Configure sets them
// on any *http.Server): a client that stalls its headers, its body or an
// idle connection has it closed.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	IdleTimeout       = 2 * time.Minute
)

// Configure sets the timeouts above on srv, where they are not set already.
func Configure(srv *http.Server) {
	if srv.ReadHeaderTimeout == 0 {
		srv.ReadHeaderTimeout = ReadHeaderTimeout
	}
	if srv.ReadTimeout == 0 {
		srv.ReadTimeout = ReadTimeout
	}
	if srv.IdleTimeout == 0 {
		srv.IdleTimeout = IdleTimeout
	}
}

// Start serves h on a loopback port, with the timeouts above.
func Start(h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	Configure(srv.Config)
	srv.Start()
	return srv
}

// maxAdvance is the most POST /_emulator/clock?advance= moves an emulator's
// clock at once: 100 years.
const maxAdvance = 100 * 365 * 24 * time.Hour

// parseAdvance reads the advance= of POST /_emulator/clock: a Go duration
// from 0 to maxAdvance.
func parseAdvance(s string) (time.Duration, bool) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > maxAdvance {
		return 0, false
	}
	return d, true
}

// Filter returns the messages whose target (to(m)) is to: all of msgs when
// to is empty, else a new slice; empty but never nil when none is left.
func Filter[M any](msgs []M, to string, target func(M) string) []M {
	if to == "" && msgs != nil {
		return msgs
	}
	out := []M{}
	for _, m := range msgs {
		if target(m) == to {
			out = append(out, m)
		}
	}
	return out
}

// Ring is a bounded list that drops its oldest entry when full, in constant
// time: once full, an add overwrites the oldest slot instead of shifting
// the list. Its zero value holds nothing; set Limit (at least 1) first.
type Ring[T any] struct {
	Limit int
	buf   []T
	start int // index of the oldest entry once buf is full
}

// Add appends v, dropping the oldest entry when the ring holds Limit.
func (r *Ring[T]) Add(v T) {
	if len(r.buf) < r.Limit {
		r.buf = append(r.buf, v)
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % len(r.buf)
}

// Len returns the number of entries held.
func (r *Ring[T]) Len() int { return len(r.buf) }

// At returns the i-th entry, oldest first.
func (r *Ring[T]) At(i int) *T { return &r.buf[(r.start+i)%len(r.buf)] }

// AppendTo appends the entries to dst, oldest first, and returns the
// result.
func (r *Ring[T]) AppendTo(dst []T) []T {
	dst = append(dst, r.buf[r.start:]...)
	return append(dst, r.buf[:r.start]...)
}

// Slice returns a copy of the entries, oldest first (empty, not nil, when
// there are none).
func (r *Ring[T]) Slice() []T { return r.AppendTo(make([]T, 0, len(r.buf))) }

// Last returns the newest entry for which match reports true.
func (r *Ring[T]) Last(match func(T) bool) (T, bool) {
	for i := r.Len() - 1; i >= 0; i-- {
		if v := *r.At(i); match(v) {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// Apply runs opts, an emulator's options, on cfg: the error is the first
// option's error, or "pkg: nil option" for a nil one.
func Apply[C any, O ~func(*C) error](pkg string, cfg *C, opts []O) error {
	for _, o := range opts {
		if o == nil {
			return errors.New(pkg + ": nil option")
		}
		if err := o(cfg); err != nil {
			return err
		}
	}
	return nil
}

// BasicAuth reports whether r carries HTTP Basic credentials that secrets
// (user → password) holds, comparing the password in constant time.
func BasicAuth(r *http.Request, secrets map[string]string) bool {
	user, pass, ok := r.BasicAuth()
	want, known := secrets[user]
	if !known {
		want = "\x00no such user\x00"
	}
	return subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1 && known && ok
}

// RetryAfter sets the Retry-After header of w to d, rounded up to whole
// seconds.
func RetryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
}

// Set stores v in *dst, for an option of the fake or an emulator, when ok;
// else the error is "pkg: option: why" and *dst is left as it was.
func Set[T any](pkg, option string, v T, ok bool, why string, dst *T) error {
	if !ok {
		return errors.New(pkg + ": " + option + ": " + why)
	}
	*dst = v
	return nil
}

// SetCount is Set for an option that takes a count of at least 1.
func SetCount(pkg, option string, n int, dst *int) error {
	return Set(pkg, option, n, n >= 1, "less than 1", dst)
}

// Clock is an emulator's clock: Base (time.Now or WithClock's) plus the
// advance Advance has added. It takes no lock, so code holding the
// emulator's or a fake's lock may read it.
type Clock struct {
	Base   func() time.Time
	offset atomic.Int64 // the advance, in nanoseconds
}

// Now returns Base's time plus the advance.
func (c *Clock) Now() time.Time { return c.Base().Add(time.Duration(c.offset.Load())) }

// Advance adds d to the clock.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Must returns e, or panics with err when it is not nil: the body of an
// emulator's MustNew.
func Must[E any](e E, err error) E {
	if err != nil {
		panic(err)
	}
	return e
}
