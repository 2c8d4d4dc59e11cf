package emuserver

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"
)

// maxFaultBody bounds the body of POST /_emulator/faults.
const maxFaultBody = 4 << 10

// Control is the control endpoints both emulators serve under /_emulator/:
// the outbox as JSON, faults (POST, DELETE) and the clock. F is the
// emulator's fault type; the functions are the emulator's.
type Control[F any] struct {
	Prefix   string                    // the error prefix of Inject's errors, such as "twiliotest: "
	Inject   func(F) error             // the emulator's InjectFault
	TooMany  error                     // Inject's error when it holds the most faults
	Clear    func()                    // the emulator's ClearFaults
	Advance  func(time.Duration)       // the emulator's Advance
	Now      func() time.Time          // the emulator's clock
	Messages func(r *http.Request) any // the outbox, filtered as the request says
	// Error writes a refusal in the vendor's format: status is 415 (not
	// JSON), 429 (too many faults) or 400 (an invalid fault or clock
	// parameter: an emulator may answer its own status for those), param
	// is "fault" or "advance", msg says what is wrong.
	Error       func(w http.ResponseWriter, status int, param, msg string)
	BodyTimeout time.Duration // a read deadline of the fault body; 0 sets none
}

// Mount serves the control endpoints on m.
func (c *Control[F]) Mount(m *http.ServeMux) {
	m.HandleFunc("GET /_emulator/messages", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, c.Messages(r))
	})
	m.HandleFunc("POST /_emulator/faults", c.postFault)
	m.HandleFunc("DELETE /_emulator/faults", func(w http.ResponseWriter, _ *http.Request) {
		c.Clear()
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("POST /_emulator/clock", func(w http.ResponseWriter, r *http.Request) {
		d, ok := parseAdvance(r.URL.Query().Get("advance"))
		if !ok {
			c.Error(w, http.StatusBadRequest, "advance", "?advance= must be a non-negative duration such as 10m")
			return
		}
		c.Advance(d)
		WriteJSON(w, http.StatusOK, map[string]string{"now": c.Now().UTC().Format(time.RFC3339)})
	})
}

// postFault schedules the fault in a JSON body. It needs Content-Type
// application/json, which a web page cannot send to another origin without
// the emulator's consent (it gives none).
func (c *Control[F]) postFault(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		c.Error(w, http.StatusUnsupportedMediaType, "fault", "the body must be JSON, with Content-Type application/json")
		return
	}
	if c.BodyTimeout > 0 {
		rc := http.NewResponseController(w)
		if rc.SetReadDeadline(time.Now().Add(c.BodyTimeout)) == nil {
			defer rc.SetReadDeadline(time.Time{})
		}
	}
	var f F
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFaultBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		w.Header().Set("Connection", "close")
		c.Error(w, http.StatusBadRequest, "fault", "not a JSON fault of at most 4 KiB")
		return
	}
	if dec.More() {
		c.Error(w, http.StatusBadRequest, "fault", "one JSON object only")
		return
	}
	switch err := c.Inject(f); {
	case errors.Is(err, c.TooMany):
		c.Error(w, http.StatusTooManyRequests, "fault", "the emulator holds the maximum of faults")
	case err != nil:
		c.Error(w, http.StatusBadRequest, "fault", strings.TrimPrefix(err.Error(), c.Prefix))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
