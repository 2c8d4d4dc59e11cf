package vonagetest

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
)

// The operations a Fault can name.
const (
	OpStart  = "start"
	OpCheck  = "check"
	OpCancel = "cancel"
	OpNext   = "next_workflow"
)

// Fault makes matching API requests fail, for Emulator.InjectFault.
type Fault struct {
	// Op limits the fault to one operation (OpStart, OpCheck, OpCancel,
	// OpNext); empty matches every one.
	Op string
	// Times is how many matching requests fail. Zero means one; a negative
	// value means every one until ClearFaults.
	Times int
	// Status, when not zero, is the HTTP status of the answer: a problem
	// body of that status, without the request being processed. With
	// Status zero the connection is closed without an answer.
	Status int
	// RetryAfter, in seconds, is sent with a Status answer when positive.
	RetryAfter int
	// Processed makes the request take effect before its answer is lost
	// (the connection is closed), as when a response is lost on the way
	// back. It ignores Status.
	Processed bool
}

// InjectFault makes requests that match f fail. Faults are matched in the
// order they were injected; each request consumes at most one.
func (e *Emulator) InjectFault(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	e.mu.Lock()
	e.faults = append(e.faults, &f)
	e.mu.Unlock()
}

// ClearFaults removes every injected fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	e.faults = nil
	e.mu.Unlock()
}

// opOf names the operation of an API request.
func opOf(r *http.Request) string {
	p := strings.TrimPrefix(r.URL.Path, "/v2/verify")
	switch {
	case p == "" && r.Method == http.MethodPost:
		return OpStart
	case strings.HasSuffix(p, "/next_workflow"):
		return OpNext
	case r.Method == http.MethodDelete:
		return OpCancel
	case r.Method == http.MethodPost:
		return OpCheck
	}
	return ""
}

// takeFault consumes and returns the first fault matching r, or nil.
func (e *Emulator) takeFault(r *http.Request) *Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.faults) == 0 {
		return nil
	}
	op := opOf(r)
	for i, f := range e.faults {
		if f.Op != "" && f.Op != op {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
			}
		}
		return f
	}
	return nil
}

// apply answers r as the fault says.
func (f *Fault) apply(w http.ResponseWriter, r *http.Request, e *Emulator) {
	switch {
	case f.Processed:
		e.mux.ServeHTTP(httptest.NewRecorder(), r)
		dropConnection(w)
	case f.Status != 0:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		writeProblem(w, f.Status, kindOf(f.Status), http.StatusText(f.Status), "Injected fault.", nil)
	default:
		dropConnection(w)
	}
}

// kindOf names the problem type of a status, as Vonage's generic errors do.
func kindOf(status int) string {
	switch status {
	case 401:
		return "unauthorized"
	case 403:
		return "forbidden"
	case 404:
		return "not-found"
	case 409:
		return "conflict"
	case 422:
		return "invalid-params"
	case 429:
		return "throttled"
	}
	if status >= 500 {
		return "internal-error"
	}
	return "bad-request"
}
