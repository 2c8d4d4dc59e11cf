// Package store defines the small state interface that verification state
// lives in, so that several replicas of an application can share it, and
// provides an in-memory implementation.
//
// A [Store] offers two kinds of state, both with expiry:
//
//   - Records: opaque byte values with a version, changed only by
//     compare-and-swap ([Store.CompareAndSwap], [Store.CompareAndDelete]). A
//     read-modify-write is a [Store.Get] followed by a compare-and-swap on the
//     version read; when another replica changed the record in between, the
//     swap fails with [ErrConflict] and returns the current record, so the
//     caller can decide again without another read. No update is ever lost,
//     and a record is approved (or deleted) at most once.
//   - Windowed counters ([Store.Incr]): a counter that starts at 1 and resets
//     when its window, which begins with the first increment, ends.
//
// Every record and counter expires, so nothing outlives the thing it
// belongs to, except a record stored with [NoExpiry]: the system of record
// for something that must not be lost silently (a TOTP factor), kept until
// it is deleted.
//
// # Failures
//
// A store failure matches [provider.ErrUnavailable] with errors.Is when
// nothing happened (the store could not be reached, or refused the
// operation before doing anything), and [provider.ErrOutcomeUnknown] when a
// write may have landed (the connection broke after the request was sent).
// Callers must not turn the second into a definite outcome. [ErrConflict]
// is not a failure: it is the answer of a compare-and-swap whose version
// did not match. A canceled or expired context gives the context's error
// (wrapped with ErrOutcomeUnknown when a write may already have been sent).
//
// # Implementations
//
// [Memory] keeps state in this process, for a single replica and for tests.
// The nested modules github.com/verifykit/verifykit/store/redisstore and
// github.com/verifykit/verifykit/store/pgstore keep it in Redis and in
// PostgreSQL, for many replicas. Package
// github.com/verifykit/verifykit/store/storetest is the conformance suite
// every implementation runs.
//
// # Imports
//
// store imports only provider (for the failure sentinels). The module's
// lifecycle engine (under fake, selfhosted and the Vonage emulator), verify
// (policies, the fraud guard, recovery codes) and route (sticky routing)
// import store; no store imports them (see docs/engine.md).
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// Store is the state interface. Implementations are safe for concurrent use
// by many goroutines and, where the implementation is shared (Redis), by
// many processes.
//
// Keys are non-empty strings chosen by the caller; records and counters
// share one key space, so callers keep them apart with prefixes. Keys should
// not contain personal data (hash it): they appear in a store's dumps and
// monitoring.
type Store interface {
	// Get returns the record stored at key. An absent or expired record is
	// the zero Record (Version 0) and a nil error.
	Get(ctx context.Context, key string) (Record, error)

	// CompareAndSwap stores value at key, to expire after ttl, if the
	// record's current version is old; old 0 means the key must be absent.
	// On success it returns the new record, whose Version is new and
	// nonzero (a version is never reused for the same key, so a record that
	// was deleted and created again does not match a stale version). When
	// the version does not match it returns the current record (the zero
	// Record when absent) and an error matching ErrConflict. ttl must be
	// positive; NoExpiry keeps the record until it is deleted.
	CompareAndSwap(ctx context.Context, key string, old uint64, value []byte, ttl time.Duration) (Record, error)

	// CompareAndDelete deletes the record at key if its current version is
	// old (nonzero). When the version does not match, or the record is
	// absent, it returns the current record and an error matching
	// ErrConflict.
	CompareAndDelete(ctx context.Context, key string, old uint64) (Record, error)

	// Incr increments the counter at key and returns its new value and when
	// it resets. A counter that is absent or whose window has ended starts
	// again at 1 with a window of the given length that ends at resetAt;
	// later increments inside the window keep resetAt. window must be
	// positive.
	Incr(ctx context.Context, key string, window time.Duration) (n int64, resetAt time.Time, err error)
}

// NoExpiry, given as a record's time to live, keeps the record until it is
// deleted: for records that are the system of record for something (a TOTP
// factor), which must never be lost silently. A Store that can evict keys
// with an expiry under memory pressure (Redis under a volatile-* policy)
// must store such a record without one; one that cannot evict stores it
// like any other (it expires in about 292 years).
const NoExpiry = time.Duration(math.MaxInt64)

// Record is a stored value and its version.
type Record struct {
	// Value is the stored value. The caller owns it: a Store never keeps
	// or changes a slice it was given or returned.
	Value []byte
	// Version identifies this state of the record; 0 means absent.
	Version uint64
}

// Found reports whether the record exists (its Version is not 0).
func (r Record) Found() bool { return r.Version != 0 }

// String describes the record without its value, which may be sensitive.
func (r Record) String() string {
	return fmt.Sprintf("Record{Version:%d Len:%d}", r.Version, len(r.Value))
}

// GoString is like String, so %#v does not print the value either.
func (r Record) GoString() string { return r.String() }

// Format prints what String does for every verb (%d and %x included), so
// no verb prints the value.
func (r Record) Format(f fmt.State, verb rune) {
	s := r.String()
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = io.WriteString(f, s)
}

// ErrConflict is the answer of a compare-and-swap or compare-and-delete
// whose expected version did not match the record's current version.
// Nothing was changed; the returned record is the current one.
var ErrConflict = errors.New("store: version conflict")

// ErrInvalid is returned for arguments a Store never accepts: an empty key,
// a non-positive ttl or window, a zero version to CompareAndDelete. It also
// matches provider.ErrInvalidRequest. It signals a bug in the caller.
var ErrInvalid = fmt.Errorf("store: invalid argument (%w)", provider.ErrInvalidRequest)

// Unavailable returns an error for a failure in which nothing happened:
// it matches provider.ErrUnavailable and wraps cause. op names the
// operation, such as "get".
func Unavailable(op string, cause error) error {
	return &Error{Op: op, Kind: provider.ErrUnavailable, Err: cause}
}

// OutcomeUnknown returns an error for a failure after which a write may
// have landed: it matches provider.ErrOutcomeUnknown and wraps cause.
func OutcomeUnknown(op string, cause error) error {
	return &Error{Op: op, Kind: provider.ErrOutcomeUnknown, Err: cause}
}

// Failed classifies err, the failure of a store operation op under ctx:
// Unavailable when nothingDone (the operation was a read, or err proves
// that it did nothing), OutcomeUnknown otherwise. When ctx has ended, or
// its deadline has passed a moment before ctx noticed (a socket deadline
// taken from ctx fires first), the error matches the context's error too.
// It is the classification every networked Store shares.
func Failed(ctx context.Context, op string, err error, nothingDone bool) error {
	cerr := ctx.Err()
	if dl, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(dl) {
		cerr = context.DeadlineExceeded
	}
	if cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	if nothingDone {
		return Unavailable(op, err)
	}
	return OutcomeUnknown(op, err)
}

// Error is a store failure. It matches its Kind (provider.ErrUnavailable
// or provider.ErrOutcomeUnknown) and its cause with errors.Is.
type Error struct {
	// Op is the store operation, such as "get", "cas", "delete" or "incr".
	Op string
	// Kind is provider.ErrUnavailable or provider.ErrOutcomeUnknown.
	Kind error
	// Err is the underlying cause, such as a network error. It may be nil.
	Err error
}

// Error describes the failure. It never contains a stored value.
func (e *Error) Error() string {
	s := "store: " + e.Op + ": " + e.Kind.Error()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// CheckArgs returns ErrInvalid when key is empty or d is not positive. An
// implementation calls it first, before any I/O.
func CheckArgs(key string, d time.Duration) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalid)
	}
	if d <= 0 {
		return fmt.Errorf("%w: duration %v is not positive", ErrInvalid, d)
	}
	return nil
}
