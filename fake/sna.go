package fake

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/verifykit/verifykit/internal/fakeconf"
	"github.com/verifykit/verifykit/provider"
)

// DefaultSNABaseURL is where the SNA URLs of a Fake point unless
// WithSNABaseURL says otherwise. Nothing answers there: serve
// Fake.SNAHandler and name its address with WithSNABaseURL to open the
// URLs over HTTP.
const DefaultSNABaseURL = "http://sna.fake.invalid"

// snaSuccess is the body of a successful visit, in the form carriers
// answer Twilio's SNA URLs.
const snaSuccess = "ErrorCode=0&ErrorDescription=Success&Carrier=FAKE"

// WithSNABaseURL makes the fake's SNA URLs (Verification.SNAURL of a start
// over ChannelSNA) point at base, an http or https URL where the
// application's test serves Fake.SNAHandler:
//
//	mux := http.NewServeMux()
//	srv := httptest.NewServer(mux)
//	f := fake.MustNew(fake.WithSNABaseURL(srv.URL))
//	mux.Handle("/", f.SNAHandler())
func WithSNABaseURL(base string) Option {
	return func(c *config) error {
		u, err := url.Parse(base)
		if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("fake: WithSNABaseURL: not an http or https URL without query")
		}
		c.SNABaseURL = strings.TrimSuffix(base, "/")
		return nil
	}
}

// snaVisit is what the fake remembers of a device's visit of an SNA URL,
// until the verification is checked or expires.
type snaVisit struct {
	expires time.Time
	failed  error // the sentinel of an injected failure, nil on success
}

// snaURL returns the SNA URL of the verification id: the base, then
// /sna/, the ID and a token that only the fake derives from it.
func (f *Fake) snaURL(id string) string {
	return strings.TrimSuffix(f.snaBase(), "/") + "/sna/" + id + "/" + f.snaToken(id)
}

func (f *Fake) snaBase() string {
	if f.cfg.SNABaseURL != "" {
		return f.cfg.SNABaseURL
	}
	return DefaultSNABaseURL
}

// snaToken is 16 hex digits keyed by the fake's salt: deterministic under
// a seed, unguessable without it (for a test double; it is no MAC).
func (f *Fake) snaToken(id string) string {
	h := uint64(0xcbf29ce484222325)
	for i := range len(id) {
		h = (h ^ uint64(id[i])) * 1099511628211
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], fakeconf.Splitmix(h^f.salt^0x5e17e27a))
	return hex.EncodeToString(b[:])
}

// SNAHandler returns the handler of the fake's SNA URLs: the device's part
// of silent network auth. A GET (or POST) of a pending verification's URL
// answers 200 with "ErrorCode=0&ErrorDescription=Success&Carrier=FAKE",
// as a carrier answers Twilio's, and lets the next CheckSNA approve. An
// unknown, ended or expired verification's URL answers 404. A fault with
// Op OpSNA (see InjectFault) makes the visit fail instead: the answer
// carries ErrorCode=1 and the next CheckSNA fails with an SNAError of the
// fault's Err (provider.ErrUndeliverable to fall back, ErrInvalidRequest
// for a bad number).
func (f *Fake) SNAHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		rest, ok := strings.CutPrefix(r.URL.Path, "/sna/")
		id, token, _ := strings.Cut(rest, "/")
		if !ok || id == "" || token != f.snaToken(id) {
			http.NotFound(w, r)
			return
		}
		body, err := f.visitSNA(r.Context(), id)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(body))
	})
}

// visitSNA records the device's visit of the SNA URL of id and returns the
// body to answer, or an error when id is not a pending silent network
// auth verification.
func (f *Fake) visitSNA(ctx context.Context, id string) (string, error) {
	s, err := f.eng.Fetch(ctx, id, nil)
	if err != nil {
		return "", err
	}
	if s.Channel != provider.ChannelSNA {
		return "", provider.ErrNotFound
	}
	v := snaVisit{expires: s.Expires}
	body := snaSuccess
	if ft := f.takeFault(OpSNA, s.To); ft != nil {
		v.failed = ft.Err
		body = "ErrorCode=1&ErrorDescription=" + url.QueryEscape("injected fault")
	}
	now := f.cfg.Now()
	f.mu.Lock()
	if f.snaSeen == nil {
		f.snaSeen = map[string]snaVisit{}
	}
	if len(f.snaSeen) >= 1024 {
		for k, old := range f.snaSeen {
			if !now.Before(old.expires) {
				delete(f.snaSeen, k)
			}
		}
	}
	f.snaSeen[id] = v
	f.mu.Unlock()
	return body, nil
}

// CheckSNA checks the silent network auth verification req.ID (the fake
// checks these by ID only). It approves once the device has opened the
// verification's SNA URL (see SNAHandler), and until then fails with an
// SNAError matching provider.ErrNotYet, which uses no check attempt. A
// visit that an OpSNA fault failed makes it fail with an SNAError of the
// fault's Err. req.Code, the device's token, is not used: the fake hands
// none out. Faults with Op OpCheck apply to it as to Check. It implements
// provider.SNAChecker.
func (f *Fake) CheckSNA(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	if req.ID == "" {
		return provider.Verification{}, &Error{Op: OpCheck, Kind: provider.ErrInvalidRequest, Reason: ReasonMissingTarget, msg: "the fake checks silent network auth by ID"}
	}
	f.mu.Lock()
	v, seen := f.snaSeen[req.ID]
	f.mu.Unlock()
	var fault *Fault
	if !seen || v.failed != nil {
		s, err := f.eng.Fetch(ctx, req.ID, f.gate(OpCheck, "", &fault))
		switch {
		case fault != nil:
			return provider.Verification{}, fault.err(OpCheck)
		case err != nil:
			return provider.Verification{}, f.wrap(OpCheck, err)
		case s.Channel != provider.ChannelSNA:
			return provider.Verification{}, &Error{Op: OpCheck, Kind: provider.ErrInvalidRequest, msg: "not a silent network auth verification"}
		case v.failed != nil:
			return provider.Verification{}, &provider.SNAError{Op: "fake: check sna", Kind: v.failed, Description: "the device's visit failed"}
		}
		return provider.Verification{}, &provider.SNAError{Op: "fake: check sna", Kind: provider.ErrNotYet, Description: "the device has not opened the SNA URL"}
	}
	s, err := f.eng.End(ctx, req.ID, f.gate(OpCheck, "", &fault))
	if err == nil || errors.Is(err, provider.ErrNotFound) {
		f.mu.Lock()
		delete(f.snaSeen, req.ID)
		f.mu.Unlock()
	}
	if fault != nil {
		return provider.Verification{}, fault.err(OpCheck)
	}
	if err != nil {
		return provider.Verification{}, f.wrap(OpCheck, err)
	}
	return s.View(provider.StatusApproved), nil
}
