package emuserver

import (
	"net/http"

	"github.com/verifykit/verifykit/internal/faultq"
)

// Faults is an emulator's scheduled faults: the fault core the fake uses
// too (see internal/faultq).
type Faults[F any] = faultq.Queue[F]

// MaxFaults bounds the faults an emulator holds.
const MaxFaults = 100

// Drop closes the connection of w without an answer, as a server or a
// network that fails mid-request does.
func Drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // the server closes the connection
}
