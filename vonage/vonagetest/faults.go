package vonagetest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/verifykit/verifykit/internal/emuserver"
)

// The operations a Fault can name.
const (
	OpStart  = "start"
	OpCheck  = "check"
	OpCancel = "cancel"
	OpNext   = "next_workflow"
)

// Fault makes matching API requests fail. Pass it to Emulator.InjectFault,
// or POST it as JSON to /_emulator/faults.
type Fault struct {
	// Op limits the fault to one operation (OpStart, OpCheck, OpCancel,
	// OpNext); empty matches every one.
	Op string `json:"op,omitempty"`
	// Times is how many matching requests fail. Zero means one; a negative
	// value means every one until ClearFaults.
	Times int `json:"times,omitempty"`
	// Status, when not zero, is the HTTP status of the answer (400 to
	// 599): a problem body of that status, without the request being
	// processed. With Status zero the connection is closed without an
	// answer.
	Status int `json:"status,omitempty"`
	// RetryAfter, in seconds, is sent with a Status answer when positive.
	RetryAfter int `json:"retry_after,omitempty"`
	// Processed makes the request take effect before its answer is lost
	// (the connection is closed), as when a response is lost on the way
	// back. It ignores Status.
	Processed bool `json:"processed,omitempty"`
}

// ErrTooManyFaults is InjectFault's error when the emulator holds 100
// faults.
var ErrTooManyFaults = errors.New("vonagetest: too many faults")

// InjectFault makes requests that match f fail. Faults are matched in the
// order they were injected; each request consumes at most one. It refuses
// an unknown Op, a Status outside 400 to 599, and a negative RetryAfter.
func (e *Emulator) InjectFault(f Fault) error {
	switch f.Op {
	case "", OpStart, OpCheck, OpCancel, OpNext:
	default:
		return errors.New("vonagetest: fault: op must be start, check, cancel or next_workflow")
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) || f.RetryAfter < 0 {
		return errors.New("vonagetest: fault: status must be 400 to 599, retry_after not negative")
	}
	if f.Times == 0 {
		f.Times = 1
	}
	if !e.faults.Add(f, emuserver.MaxFaults) {
		return ErrTooManyFaults
	}
	return nil
}

// control is the shared /_emulator/ endpoints (outbox JSON, faults, clock),
// answering refusals with Vonage problems.
func (e *Emulator) control() *emuserver.Control[Fault] {
	return &emuserver.Control[Fault]{
		Prefix: "vonagetest: fault: ", Inject: e.InjectFault, TooMany: ErrTooManyFaults, Clear: e.ClearFaults,
		Advance: e.Advance, Now: e.clock.Now, Messages: e.messages, Error: controlError,
	}
}

// controlError writes a refusal of a control endpoint as a Vonage problem.
func controlError(w http.ResponseWriter, status int, param, msg string) {
	switch status {
	case http.StatusUnsupportedMediaType:
		writeProblem(w, status, "unsupported-media-type", "Unsupported Media Type", msg, nil)
	case http.StatusTooManyRequests:
		writeProblem(w, status, "throttled", "Rate Limit Hit", msg, nil)
	default:
		invalidParams(w, param, msg)
	}
}

// ClearFaults removes every injected fault.
func (e *Emulator) ClearFaults() { e.faults.Clear() }

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
	if e.faults.Len() == 0 {
		return nil
	}
	op := opOf(r)
	return e.faults.Take(func(f *Fault) bool { return f.Op == "" || f.Op == op },
		func(f *Fault) *int { return &f.Times }) // negative: every request until ClearFaults
}

// apply answers r as the fault says.
func (f *Fault) apply(w http.ResponseWriter, r *http.Request, e *Emulator) {
	switch {
	case f.Processed:
		e.mux.ServeHTTP(httptest.NewRecorder(), r)
		emuserver.Drop(w)
	case f.Status != 0:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		writeProblem(w, f.Status, kindOf(f.Status), http.StatusText(f.Status), "Injected fault.", nil)
	default:
		emuserver.Drop(w)
	}
}

// kindOf names the problem type of a status, as Vonage's generic errors do.
func kindOf(status int) string {
	if k, ok := map[int]string{401: "unauthorized", 403: "forbidden", 404: "not-found", 409: "conflict", 422: "invalid-params", 429: "throttled"}[status]; ok {
		return k
	}
	if status >= 500 {
		return "internal-error"
	}
	return "bad-request"
}
