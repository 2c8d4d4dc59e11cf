package twiliocode

import (
	"errors"
	"fmt"
	"testing"

	"github.com/verifykit/verifykit/provider"
)

func TestTableIsConsistent(t *testing.T) {
	t.Parallel()
	defaults := map[error]int{}
	prev := 0
	for _, e := range All() {
		if e.Code <= prev {
			t.Errorf("%d: the table is not in code order", e.Code)
		}
		prev = e.Code
		if e.Status < 400 || e.Status > 599 || e.Message == "" {
			t.Errorf("%d: status %d, message %q", e.Code, e.Status, e.Message)
		}
		if e.Default {
			if e.Sentinel == nil {
				t.Errorf("%d: a default entry needs a sentinel", e.Code)
			}
			if d, ok := defaults[e.Sentinel]; ok {
				t.Errorf("%v has two default codes, %d and %d", e.Sentinel, d, e.Code)
			}
			defaults[e.Sentinel] = e.Code
		}
		if got, ok := Lookup(e.Code); !ok || got.Code != e.Code {
			t.Errorf("Lookup(%d) = %v, %v", e.Code, got, ok)
		}
	}
	// Every sentinel a provider error can carry has a code to answer with.
	for _, s := range []error{provider.ErrInvalidRequest, provider.ErrNotFound, provider.ErrTooManyChecks,
		provider.ErrTooManySends, provider.ErrRateLimited, provider.ErrUndeliverable, provider.ErrUnauthorized,
		provider.ErrUnsupported} {
		e := For(fmt.Errorf("wrapped: %w", s))
		if e.Sentinel != s || SentinelOf(e.Code, false) != s {
			t.Errorf("For(%v) = %d (%v)", s, e.Code, e.Sentinel)
		}
	}
	if e := For(errors.New("other")); e.Code != ServiceUnavailable || e.Status != 503 {
		t.Errorf("For(other) = %v", e)
	}
	if _, ok := Lookup(99999); ok {
		t.Error("Lookup(99999) found an entry")
	}
}

func TestSentinelOf(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		code  int
		start bool
		want  error
	}{
		{MaxCheckAttempts, false, provider.ErrTooManyChecks},
		{MaxCheckAttempts, true, provider.ErrTooManySends},
		{MaxSendAttempts, false, provider.ErrTooManySends},
		{NotFound, true, provider.ErrNotFound},
		{InternalError, false, nil},
		{12345, false, nil},
	} {
		if got := SentinelOf(c.code, c.start); got != c.want {
			t.Errorf("SentinelOf(%d, %v) = %v, want %v", c.code, c.start, got, c.want)
		}
	}
}

func TestAllIsACopy(t *testing.T) {
	t.Parallel()
	a := All()
	a[0].Message = "changed"
	if e, _ := Lookup(a[0].Code); e.Message == "changed" {
		t.Error("All returned the table itself")
	}
}
