package emuserver

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type testFault struct {
	Op string `json:"op"`
}

var errFull = errors.New("x: too many")

// newControl returns a mux serving a Control over a list of faults (at
// most 1), a clock at 0 and an outbox of one message; refusals answer
// their status with "param: msg".
func newControl(faults *[]testFault) *http.ServeMux {
	clock := Clock{Base: func() time.Time { return time.Unix(0, 0) }}
	c := &Control[testFault]{
		Prefix: "x: ",
		Inject: func(f testFault) error {
			switch {
			case f.Op == "bad":
				return errors.New("x: op bad")
			case len(*faults) == 1:
				return errFull
			}
			*faults = append(*faults, f)
			return nil
		},
		TooMany:  errFull,
		Clear:    func() { *faults = nil },
		Advance:  clock.Advance,
		Now:      clock.Now,
		Messages: func(r *http.Request) any { return []string{"to " + r.URL.Query().Get("to")} },
		Error: func(w http.ResponseWriter, status int, param, msg string) {
			w.WriteHeader(status)
			w.Write([]byte(param + ": " + msg))
		},
	}
	m := http.NewServeMux()
	c.Mount(m)
	return m
}

func TestControl(t *testing.T) {
	t.Parallel()
	var faults []testFault
	m := newControl(&faults)
	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		answer                          string
	}{
		{"messages", "GET", "/_emulator/messages?to=a", "", "", 200, `["to a"]` + "\n"},
		{"media type", "POST", "/_emulator/faults", "text/plain", `{}`, 415, "fault: the body must be JSON, with Content-Type application/json"},
		{"not JSON", "POST", "/_emulator/faults", "application/json", `{`, 400, "fault: not a JSON fault of at most 4 KiB"},
		{"unknown field", "POST", "/_emulator/faults", "application/json", `{"x":1}`, 400, "fault: not a JSON fault of at most 4 KiB"},
		{"too long", "POST", "/_emulator/faults", "application/json", `{"op":"` + strings.Repeat("a", maxFaultBody) + `"}`, 400, "fault: not a JSON fault of at most 4 KiB"},
		{"two faults", "POST", "/_emulator/faults", "application/json", `{} {}`, 400, "fault: one JSON object only"},
		{"invalid", "POST", "/_emulator/faults", "application/json", `{"op":"bad"}`, 400, "fault: op bad"},
		{"fault", "POST", "/_emulator/faults", "application/json; charset=utf-8", `{"op":"start"}`, 204, ""},
		{"full", "POST", "/_emulator/faults", "application/json", `{"op":"check"}`, 429, "fault: the emulator holds the maximum of faults"},
		{"clear", "DELETE", "/_emulator/faults", "", "", 204, ""},
		{"bad advance", "POST", "/_emulator/clock?advance=-1s", "", "", 400, "advance: ?advance= must be a non-negative duration such as 10m"},
		{"advance", "POST", "/_emulator/clock?advance=1h", "", "", 200, `{"now":"1970-01-01T01:00:00Z"}` + "\n"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
		if tt.ctype != "" {
			r.Header.Set("Content-Type", tt.ctype)
		}
		w := httptest.NewRecorder()
		m.ServeHTTP(w, r)
		if w.Code != tt.status || w.Body.String() != tt.answer {
			t.Errorf("%s: %d %q, want %d %q", tt.name, w.Code, w.Body.String(), tt.status, tt.answer)
		}
		if tt.name == "fault" {
			if diff := cmp.Diff([]testFault{{Op: "start"}}, faults); diff != "" {
				t.Errorf("faults after POST (-want +got):\n%s", diff)
			}
		}
	}
	if faults != nil {
		t.Errorf("faults after DELETE = %v, want none", faults)
	}
}
