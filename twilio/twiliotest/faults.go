package twiliotest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"
)

// Fault makes matching requests to the Verify API fail. POST it as JSON to
// /_emulator/faults, or pass it to Emulator.InjectFault.
type Fault struct {
	// Op limits the fault to one operation: "start", "check", "fetch",
	// "update" (cancel or approve) or "services"; empty matches every
	// request under /v2/.
	Op string `json:"op,omitempty"`
	// To limits the fault to requests whose To parameter is this target.
	To string `json:"to,omitempty"`
	// Times is how many matching requests fail; 0 means 1.
	Times int `json:"times,omitempty"`
	// Status and Code are the HTTP status and Twilio error code of the
	// answer, for example 503 and 20503 or 429 and 20429.
	Status int `json:"status,omitempty"`
	Code   int `json:"code,omitempty"`
	// Message is the error message; empty means a standard one.
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

// InjectFault schedules f. Faults are matched in the order they were
// injected; each request consumes at most one.
func (e *Emulator) InjectFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	if f.Status == 0 && !f.Drop {
		f.Status, f.Code = http.StatusServiceUnavailable, 20503
	}
	e.mu.Lock()
	e.faults = append(e.faults, &f)
	e.mu.Unlock()
}

// ClearFaults removes every scheduled fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	e.faults = nil
	e.mu.Unlock()
}

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

// takeFault consumes the first fault matching r, or returns nil. It reads
// To from the form only when a fault needs it.
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
		if f.To != "" {
			r.Body = http.MaxBytesReader(nil, r.Body, maxForm)
			if r.ParseForm() != nil || r.Form.Get("To") != f.To {
				continue
			}
		}
		f.Times--
		if f.Times <= 0 {
			e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
		}
		cp := *f
		return &cp
	}
	return nil
}

// apply answers r as the fault says.
func (f *Fault) apply(w http.ResponseWriter, r *http.Request, e *Emulator) {
	if f.Processed {
		e.mux.ServeHTTP(httptest.NewRecorder(), r)
	}
	if f.Drop {
		dropConnection(w)
		return
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	msg := f.Message
	if msg == "" {
		msg = messageOf(f.Code)
		if f.Code == 0 || msg == "Error "+strconv.Itoa(f.Code) {
			msg = http.StatusText(f.Status)
		}
	}
	writeError(w, f.Status, f.Code, msg)
}

func (e *Emulator) postFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxForm))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		http.Error(w, "fault: "+err.Error(), http.StatusBadRequest)
		return
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) || f.Times < 0 || f.RetryAfter < 0 {
		http.Error(w, "fault: status must be 400 to 599, times and retry_after not negative", http.StatusBadRequest)
		return
	}
	e.InjectFault(f)
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) deleteFaults(w http.ResponseWriter, r *http.Request) {
	e.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) postClock(w http.ResponseWriter, r *http.Request) {
	d, err := time.ParseDuration(r.URL.Query().Get("advance"))
	if err != nil || d < 0 {
		http.Error(w, "clock: ?advance= must be a non-negative duration such as 10m", http.StatusBadRequest)
		return
	}
	e.Advance(d)
	writeJSON(w, http.StatusOK, map[string]string{"now": rfc3339(e.now())})
}
