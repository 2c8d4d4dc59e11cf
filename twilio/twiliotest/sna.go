package twiliotest

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/verifykit/verifykit/twilio/internal/twiliocode"
)

// snaPath is where the emulator serves the sna.url of a silent network
// auth verification: snaPath + a random token.
const snaPath = "/_emulator/sna/"

// snaCarrier is the carrier the emulator's sna.url answers name.
const snaCarrier = "EMU"

// visitSNA is the device step of silent network auth: the device opens
// the verification's sna.url (over mobile data, on Twilio). Once it has,
// a check without a code approves the verification. The answer is 200
// with the form-encoded result carriers give, ErrorCode=0 for success
// ("ErrorCode=0&ErrorDescription=Success&Carrier=EMU"), followed by
// "&SnaClientToken=…" when the start asked for a client token.
//
// A fault with Op "sna" makes the visit fail instead: the answer carries
// the fault's code (ErrorCode=60510…), and later checks report it in
// sna_attempts_error_codes, until a visit succeeds.
func (e *Emulator) visitSNA(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	e.mu.Lock()
	rc := e.bySNATokenLocked(token) // pending.go
	ok := rc != nil
	var fault *Fault
	var client string
	if ok {
		fault = e.faults.Take(func(f *Fault) bool { return f.Op == faultSNA && (f.To == "" || f.To == rc.to) }, faultTimes)
		rc.snaFail, rc.snaDone = 0, fault == nil
		if fault != nil {
			rc.snaFail = fault.Code
		}
		client = rc.snaClient
	}
	e.mu.Unlock()
	if !ok {
		notFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if fault != nil {
		msg := fault.Message
		if en, known := twiliocode.Lookup(fault.Code); msg == "" && known {
			msg = en.Message
		}
		w.Write([]byte("ErrorCode=" + strconv.Itoa(fault.Code) + "&ErrorDescription=" + url.QueryEscape(msg)))
		return
	}
	body := "ErrorCode=0&ErrorDescription=Success&Carrier=" + snaCarrier
	if client != "" {
		body += "&SnaClientToken=" + client
	}
	w.Write([]byte(body))
}
