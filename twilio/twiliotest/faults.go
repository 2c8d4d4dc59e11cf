package twiliotest

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// Fault makes matching requests to the Verify API fail. POST it as JSON to
// /_emulator/faults, or pass it to Emulator.InjectFault.
type Fault struct {
	// Op limits the fault to one operation: "start", "check", "fetch",
	// "update" (cancel or approve) or "services"; empty matches every
	// request under /v2/. "sna" matches only the device's visit of an
	// sna.url: the visit fails with Code, one of Twilio's SNA error codes
	// (605xx, such as 60510, or 60540 for a bad number), which later
	// checks report in sna_attempts_error_codes; such a fault takes no
	// Status, Drop or Processed. Any other value is refused.
	Op string `json:"op,omitempty"`
	// To limits the fault to requests whose To parameter is this target.
	To string `json:"to,omitempty"`
	// Times is how many matching requests fail; 0 means 1.
	Times int `json:"times,omitempty"`
	// Status and Code are the HTTP status (400 to 599) and Twilio error
	// code of the answer, for example 503 and 20503 or 429 and 20429.
	Status int `json:"status,omitempty"`
	Code   int `json:"code,omitempty"`
	// Message is the error message (at most 1024 bytes); empty means a
	// standard one.
	Message string `json:"message,omitempty"`
	// RetryAfter, in seconds, adds a Retry-After header.
	RetryAfter int `json:"retry_after,omitempty"`
	// Drop closes the connection instead of answering.
	Drop bool `json:"drop,omitempty"`
	// Processed serves the request normally first, then answers with the
	// fault (or drops the connection): the change happens, and the client
	// does not learn of it.
	Processed bool `json:"processed,omitempty"`
}

// faultOps are the values Fault.Op may take. A new resource adds its
// operation here and to opOf.
var faultOps = map[string]bool{"": true, "start": true, "check": true, "fetch": true, "update": true, "services": true, faultSNA: true}

// faultSNA is the Op of a fault of the device's visit of an sna.url.
const faultSNA = "sna"

// Limits of a fault's fields, so that faults stay small.
const (
	maxFaultMessage = 1024
	maxFaultTo      = 320
	maxFaultTimes   = 1 << 20
)

// ErrTooManyFaults is returned by InjectFault when the emulator already
// holds the maximum of scheduled faults (100).
var ErrTooManyFaults = errors.New("twiliotest: too many scheduled faults")

// validate checks f and fills in its defaults.
func (f *Fault) validate() error {
	switch {
	case !faultOps[f.Op]:
		return fmt.Errorf("twiliotest: fault: unknown op %q (want start, check, fetch, update, services, sna or empty)", f.Op)
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return errors.New("twiliotest: fault: status must be 400 to 599")
	case f.Times < 0 || f.Times > maxFaultTimes:
		return fmt.Errorf("twiliotest: fault: times must be 0 to %d", maxFaultTimes)
	case f.RetryAfter < 0 || f.RetryAfter > 86400:
		return errors.New("twiliotest: fault: retry_after must be 0 to 86400 seconds")
	case f.Code < 0 || f.Code > 99999:
		return errors.New("twiliotest: fault: code must be 0 to 99999")
	case len(f.Message) > maxFaultMessage || len(f.To) > maxFaultTo:
		return fmt.Errorf("twiliotest: fault: message longer than %d bytes or to longer than %d", maxFaultMessage, maxFaultTo)
	case f.Op == faultSNA && (f.Code < 60500 || f.Code > 60599 || f.Status != 0 || f.Drop || f.Processed || f.RetryAfter != 0):
		return errors.New("twiliotest: fault: an sna fault needs an SNA error code (60500 to 60599) and takes no status, drop, processed or retry_after")
	}
	if f.Times == 0 {
		f.Times = 1
	}
	if f.Status == 0 && !f.Drop && f.Op != faultSNA {
		f.Status, f.Code = http.StatusServiceUnavailable, twiliocode.ServiceUnavailable
	}
	return nil
}

// InjectFault schedules f. Faults are matched in the order they were
// injected; each request consumes at most one. It returns an error for an
// invalid fault, and ErrTooManyFaults when the emulator holds the maximum.
func (e *Emulator) InjectFault(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	if !e.faults.Add(f, emuserver.MaxFaults) {
		return ErrTooManyFaults
	}
	return nil
}

// ClearFaults removes every scheduled fault.
func (e *Emulator) ClearFaults() { e.faults.Clear() }

// opOf names the operation of a request under /v2/.
func opOf(r *http.Request) string {
	p := strings.TrimPrefix(r.URL.Path, "/v2/Services")
	switch {
	case strings.HasSuffix(p, "/VerificationCheck"):
		return "check"
	case strings.HasSuffix(p, "/Verifications"):
		return "start"
	case strings.Contains(p, "/Verifications/") && r.Method == http.MethodGet:
		return "fetch"
	case strings.Contains(p, "/Verifications/"):
		return "update"
	}
	return "services"
}

// takeFault consumes the first fault matching r, or returns nil. r's form
// has been read already: nothing here waits on the client.
func (e *Emulator) takeFault(r *http.Request) *Fault {
	if e.faults.Len() == 0 {
		return nil
	}
	op, to := opOf(r), r.Form.Get("To")
	return e.faults.Take(func(f *Fault) bool {
		return (f.Op == "" || f.Op == op) && (f.To == "" || f.To == to)
	}, faultTimes)
}

// faultTimes is where a fault counts the requests it still fails (at least
// 1 once validated).
func faultTimes(f *Fault) *int { return &f.Times }

// apply answers r as the fault says.
func (f *Fault) apply(w http.ResponseWriter, r *http.Request, e *Emulator) {
	if f.Processed {
		e.mux.ServeHTTP(httptest.NewRecorder(), r)
	}
	if f.Drop {
		emuserver.Drop(w)
		return
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	msg := f.Message
	if msg == "" {
		if en, ok := twiliocode.Lookup(f.Code); ok {
			msg = en.Message
		} else {
			msg = http.StatusText(f.Status)
		}
	}
	writeError(w, f.Status, f.Code, msg)
}

// control is the shared /_emulator/ endpoints (outbox JSON, faults, clock),
// answering refusals with Twilio errors.
func (e *Emulator) control() *emuserver.Control[Fault] {
	return &emuserver.Control[Fault]{
		Prefix: "twiliotest: fault: ", Inject: e.InjectFault, TooMany: ErrTooManyFaults, Clear: e.ClearFaults,
		Advance: e.Advance, Now: e.now, BodyTimeout: e.bodyTimeout,
		Messages: func(r *http.Request) any { return e.filtered(r.URL.Query().Get("to")) },
		Error:    e.controlError,
	}
}

// controlError writes a refusal of a control endpoint as a Twilio error.
func (e *Emulator) controlError(w http.ResponseWriter, status int, param, msg string) {
	if status == http.StatusTooManyRequests {
		e.tooMany(w, "Too Many Requests: "+msg)
		return
	}
	writeError(w, status, twiliocode.InvalidParameter, param+": "+msg)
}
