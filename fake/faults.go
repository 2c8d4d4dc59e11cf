package fake

import (
	"math"

	"github.com/verifykit/verifykit/provider"
)

// Fault describes calls that should fail, for Fake.InjectFault.
type Fault struct {
	// Op limits the fault to one operation; empty matches every operation.
	Op Op
	// To limits the fault to one target (in normalised form); empty matches
	// every target. For Fetch, Cancel and Approve it matches the target of
	// the verification the ID names.
	To string
	// Times is how many matching calls fail. Zero means one; a negative
	// value means every matching call until ClearFaults.
	Times int
	// Err is the error the calls fail with, for example
	// provider.ErrUnavailable. The fake returns it wrapped in an *Error, so
	// errors.Is(err, Err) holds. Nil means provider.ErrUnavailable.
	Err error
	// Processed makes the operation take effect before the error is
	// returned, as when a request reaches the provider and its response is
	// lost. Use it with provider.ErrOutcomeUnknown to test that an
	// application does not assume the operation failed.
	Processed bool
}

// InjectFault makes calls that match ft fail. Faults are matched in the
// order they were injected; each call consumes at most one.
func (f *Fake) InjectFault(ft Fault) {
	if ft.Times == 0 {
		ft.Times = 1
	}
	if ft.Err == nil {
		ft.Err = provider.ErrUnavailable
	}
	f.faults.Add(ft, math.MaxInt)
}

// FailNext makes the next n calls, of any operation and target, fail with
// err before they take effect.
func (f *Fake) FailNext(n int, err error) {
	if n <= 0 {
		return
	}
	f.InjectFault(Fault{Times: n, Err: err})
}

// ClearFaults removes every injected fault.
func (f *Fake) ClearFaults() { f.faults.Clear() }

// takeFault consumes and returns the first fault matching op and to, or
// nil, with the emulators' fault queue.
func (f *Fake) takeFault(op Op, to string) *Fault {
	if f.faults.Len() == 0 {
		return nil
	}
	return f.faults.Take(func(ft *Fault) bool {
		return (ft.Op == "" || ft.Op == op) && (ft.To == "" || ft.To == to)
	}, func(ft *Fault) *int { return &ft.Times })
}

// err returns the error a call that hit ft fails with.
func (ft *Fault) err(op Op) error {
	e := &Error{Op: op, Kind: ft.Err, msg: "injected fault"}
	if fe, ok := ft.Err.(*Error); ok {
		e.Kind, e.Err, e.Reason, e.Wait = fe.Kind, fe.Err, fe.Reason, fe.Wait
	}
	return e
}
