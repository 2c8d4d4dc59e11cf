package twiliotest

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// Verification Attempts: every code a start sends (a new verification or
// a re-send) is an attempt, VL…, the attempt_sid of the verification's
// send_code_attempts. It is "unconverted" until its verification is
// approved, then "converted"; its channel_data.status goes from
// "unconfirmed" to "confirmed". The list filters and the summary are
// Twilio's; the emulator keeps the newest WithOutboxLimit attempts.

// attempt is one Verification Attempt; guarded by apiState.mu.
type attempt struct {
	sid, serviceSID, verificationSID string
	channel, to, locale              string
	country                          *string // see countryCode
	codeLength                       int
	first                            bool // its verification's first attempt
	converted                        bool
	created, updated                 time.Time
}

type attemptPriceJSON struct {
	Value    string `json:"value"`
	Currency string `json:"currency"`
}

type attemptDataJSON struct {
	VerificationSID string  `json:"verification_sid"`
	To              string  `json:"to"`
	Status          string  `json:"status"`
	MessageStatus   *string `json:"message_status,omitempty"`
	CallStatus      *string `json:"call_status,omitempty"`
	ErrorCode       *string `json:"error_code"`
	Country         *string `json:"country"`
	CodeLength      int     `json:"code_length"`
	Locale          *string `json:"locale"`
}

type verificationAttemptJSON struct {
	SID              string           `json:"sid"`
	AccountSID       string           `json:"account_sid"`
	ServiceSID       string           `json:"service_sid"`
	VerificationSID  string           `json:"verification_sid"`
	DateCreated      string           `json:"date_created"`
	DateUpdated      string           `json:"date_updated"`
	ConversionStatus string           `json:"conversion_status"`
	Channel          string           `json:"channel"`
	Price            attemptPriceJSON `json:"price"`
	ChannelData      attemptDataJSON  `json:"channel_data"`
	URL              string           `json:"url"`
}

func (e *Emulator) attemptRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /v2/Attempts", e.listAttempts)
	m.HandleFunc("GET /v2/Attempts/Summary", e.attemptsSummary)
	m.HandleFunc("GET /v2/Attempts/{sid}", e.fetchAttempt)
}

// attemptChannels are the channels Twilio's Attempts API names; starts on
// others (sna) make no attempt.
var attemptChannels = map[string]bool{"sms": true, "call": true, "email": true, "whatsapp": true, "rbm": true}

// countryOf returns the ISO country of an E.164 number, or "".
func countryOf(to string) string {
	if !wire.IsE164(to) {
		return ""
	}
	n, err := phonenumbers.Parse(to, "")
	if err != nil {
		return ""
	}
	r := phonenumbers.GetRegionCodeForNumber(n)
	if r == "" || r == "ZZ" {
		// A number outside the assigned ranges (such as a UK drama
		// number, +447700900…) still belongs to its calling code's main
		// country, as Twilio counts it.
		r = phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode()))
	}
	if r == "ZZ" {
		return ""
	}
	return r
}

// countryCode returns the attempt's country, found when first asked for
// (finding it costs more than the rest of a start). apiState.mu must be
// held.
func (at *attempt) countryCode() string {
	if at.country == nil {
		c := countryOf(at.to)
		at.country = &c
	}
	return *at.country
}

// recordAttempt records the attempt of the code a start of service
// serviceSID (whose codes have codeLength digits) just sent for v.
func (e *Emulator) recordAttempt(serviceSID, locale string, codeLength int, v provider.Verification) {
	if len(v.SendAttempts) == 0 {
		return
	}
	if codeLength == 0 {
		codeLength = 6 // the default, as the fake's
	}
	last := v.SendAttempts[len(v.SendAttempts)-1]
	ch := string(last.Channel)
	if !attemptChannels[ch] {
		return
	}
	a := &e.api
	a.mu.Lock()
	a.attempts.Add(attempt{
		sid: last.ID, serviceSID: serviceSID, verificationSID: v.ID, channel: ch, to: v.To, locale: locale,
		codeLength: codeLength, first: len(v.SendAttempts) == 1, created: last.Time.UTC(), updated: last.Time.UTC(),
	})
	a.mu.Unlock()
}

// convertAttempts marks the attempts of the verification sid converted:
// those from the newest back to its first.
func (e *Emulator) convertAttempts(sid string) {
	a := &e.api
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := a.attempts.Len() - 1; i >= 0; i-- {
		if at := a.attempts.At(i); at.verificationSID == sid {
			if !at.converted { // the clock is read only when there is one to convert
				at.converted, at.updated = true, e.now().UTC()
			}
			if at.first {
				return
			}
		}
	}
}

func (e *Emulator) attemptJSON(r *http.Request, at *attempt) verificationAttemptJSON {
	status, conf := "unconverted", "unconfirmed"
	if at.converted {
		status, conf = "converted", "confirmed"
	}
	data := attemptDataJSON{
		VerificationSID: at.verificationSID, To: at.to, Status: conf, Country: nullable(at.countryCode()),
		CodeLength: at.codeLength, Locale: nullable(at.locale),
	}
	delivered := "delivered"
	if at.channel == "call" {
		completed := "completed"
		data.CallStatus = &completed
	} else {
		data.MessageStatus = &delivered
	}
	return verificationAttemptJSON{
		SID: at.sid, AccountSID: e.accountSID, ServiceSID: at.serviceSID, VerificationSID: at.verificationSID,
		DateCreated: rfc3339(at.created), DateUpdated: rfc3339(at.updated), ConversionStatus: status, Channel: at.channel,
		Price: attemptPriceJSON{Value: "0.00", Currency: "usd"}, ChannelData: data,
		URL: e.base(r) + "/v2/Attempts/" + at.sid,
	}
}

// attemptFilter is a parsed filter of the list or the summary.
type attemptFilter struct {
	after, before                   time.Time
	to, country, channel, service   string
	verification, status, dstPrefix string
}

// parseAttemptFilter reads the filters of r, or writes a 400 and returns
// false.
func parseAttemptFilter(w http.ResponseWriter, r *http.Request) (attemptFilter, bool) {
	q := r.URL.Query()
	var f attemptFilter
	for _, d := range []struct {
		key string
		dst *time.Time
	}{{"DateCreatedAfter", &f.after}, {"DateCreatedBefore", &f.before}} {
		if v := q.Get(d.key); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				invalid(w, d.key)
				return f, false
			}
			*d.dst = t
		}
	}
	f.to, f.country, f.channel = q.Get("ChannelData.To"), strings.ToUpper(q.Get("Country")), q.Get("Channel")
	f.service, f.verification, f.status, f.dstPrefix = q.Get("VerifyServiceSid"), q.Get("VerificationSid"), q.Get("Status"), q.Get("DestinationPrefix")
	switch {
	case f.channel != "" && !attemptChannels[f.channel]:
		invalid(w, "Channel")
	case f.service != "" && !wire.ValidSID(f.service, "VA"):
		invalid(w, "VerifyServiceSid")
	case f.verification != "" && !wire.ValidSID(f.verification, "VE"):
		invalid(w, "VerificationSid")
	case f.status != "" && f.status != "converted" && f.status != "unconverted":
		invalid(w, "Status")
	case f.country != "" && len(f.country) != 2:
		invalid(w, "Country")
	default:
		return f, true
	}
	return f, false
}

func (f attemptFilter) match(at *attempt) bool {
	status := "unconverted"
	if at.converted {
		status = "converted"
	}
	return (f.after.IsZero() || at.created.After(f.after)) &&
		(f.before.IsZero() || at.created.Before(f.before)) &&
		(f.to == "" || at.to == f.to) && (f.country == "" || at.countryCode() == f.country) &&
		(f.channel == "" || at.channel == f.channel) && (f.service == "" || at.serviceSID == f.service) &&
		(f.verification == "" || at.verificationSID == f.verification) && (f.status == "" || status == f.status) &&
		(f.dstPrefix == "" || strings.HasPrefix(at.to, f.dstPrefix))
}

// listAttempts lists the attempts that match the filters, newest first.
func (e *Emulator) listAttempts(w http.ResponseWriter, r *http.Request) {
	f, ok := parseAttemptFilter(w, r)
	if !ok {
		return
	}
	f.dstPrefix = "" // not a filter of the list
	a := &e.api
	a.mu.Lock()
	items := []any{}
	for i := a.attempts.Len() - 1; i >= 0; i-- {
		if at := a.attempts.At(i); f.match(at) {
			items = append(items, e.attemptJSON(r, at))
		}
	}
	a.mu.Unlock()
	e.writePage(w, r, "attempts", items, nil, badFactorParam)
}

// find returns the attempt sid, or nil. a.mu must be held.
func (a *apiState) find(sid string) *attempt {
	for i := range a.attempts.Len() {
		if at := a.attempts.At(i); at.sid == sid {
			return at
		}
	}
	return nil
}

func (e *Emulator) fetchAttempt(w http.ResponseWriter, r *http.Request) {
	a := &e.api
	a.mu.Lock()
	at := a.find(r.PathValue("sid"))
	var out verificationAttemptJSON
	if at != nil {
		out = e.attemptJSON(r, at)
	}
	a.mu.Unlock()
	if at == nil {
		notFound(w, r)
		return
	}
	emuserver.WriteJSON(w, http.StatusOK, out)
}

// attemptsSummary counts the attempts that match the filters.
func (e *Emulator) attemptsSummary(w http.ResponseWriter, r *http.Request) {
	f, ok := parseAttemptFilter(w, r)
	if !ok {
		return
	}
	f.to, f.verification, f.status = "", "", "" // not filters of the summary
	var total, converted int
	a := &e.api
	a.mu.Lock()
	for i := range a.attempts.Len() {
		if at := a.attempts.At(i); f.match(at) {
			total++
			if at.converted {
				converted++
			}
		}
	}
	a.mu.Unlock()
	rate := "0"
	if total > 0 {
		rate = strconv.FormatFloat(100*float64(converted)/float64(total), 'f', 9, 64)
		rate = strings.TrimRight(strings.TrimRight(rate, "0"), ".")
	}
	emuserver.WriteJSON(w, http.StatusOK, map[string]any{
		"total_attempts": total, "total_converted": converted, "total_unconverted": total - converted,
		"conversion_rate_percentage": rate, "url": e.base(r) + "/v2/Attempts/Summary",
	})
}
