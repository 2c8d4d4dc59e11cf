package twiliotest

import (
	"net/http"
)

// snaPath is where the emulator serves the sna.url of a silent network
// auth verification: snaPath + a random token.
const snaPath = "/_emulator/sna/"

// visitSNA is the device step of silent network auth: the device opens
// the verification's sna.url (over mobile data, on Twilio). Once it has,
// a check without a code approves the verification. The answer is 200
// with the form-encoded result Twilio's carriers give, ErrorCode=0 for
// success.
func (e *Emulator) visitSNA(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	now := e.now()
	e.mu.Lock()
	rc := e.bySNA[token]
	ok := rc != nil && now.Before(rc.expires)
	if ok {
		rc.snaDone = true
	}
	e.mu.Unlock()
	if !ok {
		notFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ErrorCode=0&ErrorDescription=Success&Carrier=verifykit-emulator"))
}
