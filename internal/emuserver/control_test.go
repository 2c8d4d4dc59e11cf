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
// their ControlError's number as the status (400+kind) with the detail.
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
		Error: func(w http.ResponseWriter, kind ControlError, detail string) {
			w.WriteHeader(400 + int(kind))
			w.Write([]byte(detail))
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
		{"media type", "POST", "/_emulator/faults", "text/plain", `{}`, 400 + int(BadMediaType), ""},
		{"not JSON", "POST", "/_emulator/faults", "application/json", `{`, 400 + int(BadFault), ""},
		{"unknown field", "POST", "/_emulator/faults", "application/json", `{"x":1}`, 400 + int(BadFault), ""},
		{"too long", "POST", "/_emulator/faults", "application/json", `{"op":"` + strings.Repeat("a", maxFaultBody) + `"}`, 400 + int(BadFault), ""},
		{"two faults", "POST", "/_emulator/faults", "application/json", `{} {}`, 400 + int(ExtraFault), ""},
		{"invalid", "POST", "/_emulator/faults", "application/json", `{"op":"bad"}`, 400 + int(InvalidFault), "op bad"},
		{"fault", "POST", "/_emulator/faults", "application/json; charset=utf-8", `{"op":"start"}`, 204, ""},
		{"full", "POST", "/_emulator/faults", "application/json", `{"op":"check"}`, 400 + int(TooManyFaults), ""},
		{"clear", "DELETE", "/_emulator/faults", "", "", 204, ""},
		{"bad advance", "POST", "/_emulator/clock?advance=-1s", "", "", 400 + int(BadAdvance), ""},
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
