package twiliotest

import (
	"net/http"

	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/wire"
)

// The Safe List: account-level phone numbers that Twilio's fraud guard and
// geo permissions never block. The emulator exempts them from its own
// refusals of a start: the buckets of the service's rate limits.

// safeListJSON is Twilio's SafeList resource.
type safeListJSON struct {
	SID         string `json:"sid"`
	PhoneNumber string `json:"phone_number"`
	URL         string `json:"url"`
}

func (e *Emulator) safeListRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /v2/SafeList/Numbers", e.createSafeList)
	m.HandleFunc("GET /v2/SafeList/Numbers/{phone}", e.fetchSafeList)
	m.HandleFunc("DELETE /v2/SafeList/Numbers/{phone}", e.deleteSafeList)
}

func (e *Emulator) safeListJSON(r *http.Request, sid, phone string) safeListJSON {
	return safeListJSON{SID: sid, PhoneNumber: phone, URL: e.base(r) + "/v2/SafeList/Numbers/" + phone}
}

func (e *Emulator) createSafeList(w http.ResponseWriter, r *http.Request) {
	phone := r.PostForm.Get("PhoneNumber")
	if !wire.IsE164(phone) {
		invalid(w, "PhoneNumber")
		return
	}
	a := &e.api
	a.mu.Lock()
	sid, ok := a.safeList[phone]
	if !ok {
		if a.safeList == nil {
			a.safeList = map[string]string{}
		}
		sid = a.newSID("GN")
		a.safeList[phone] = sid
	}
	a.mu.Unlock()
	emuserver.WriteJSON(w, http.StatusCreated, e.safeListJSON(r, sid, phone))
}

func (e *Emulator) fetchSafeList(w http.ResponseWriter, r *http.Request) {
	phone := r.PathValue("phone")
	a := &e.api
	a.mu.Lock()
	sid, ok := a.safeList[phone]
	a.mu.Unlock()
	if !ok {
		notFound(w, r)
		return
	}
	emuserver.WriteJSON(w, http.StatusOK, e.safeListJSON(r, sid, phone))
}

func (e *Emulator) deleteSafeList(w http.ResponseWriter, r *http.Request) {
	phone := r.PathValue("phone")
	a := &e.api
	a.mu.Lock()
	_, ok := a.safeList[phone]
	delete(a.safeList, phone)
	a.mu.Unlock()
	if !ok {
		notFound(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// safeListed reports whether phone is on the Safe List.
func (e *Emulator) safeListed(phone string) bool {
	a := &e.api
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.safeList[phone]
	return ok
}
