// Package bench measures one verification flow, Start(sms) then Check,
// through verifykit and through the alternatives an application could use
// instead, against the same loopback server answering Twilio-shaped JSON.
//
// It is a module of its own so that the official twilio-go SDK, which it
// compares against, is not a dependency of verifykit. See docs/performance.md
// for how to run it and the figures measured.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	twiliogo "github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	verifygo "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/verify"
)

// The credentials and service every variant uses. They are made up.
const (
	AccountSID = "AC0123456789abcdef0123456789abcdef"
	AuthToken  = "0123456789abcdef0123456789abcdef"
	ServiceSID = "VA0123456789abcdef0123456789abcdef"
	Code       = "123456"
)

// Targets is how many distinct phone numbers the flows cycle through. It
// is far more than any cache in verifykit holds, so every Start sees a
// number it has not seen lately, as it would with real users.
const Targets = 1 << 16

// numbers are valid US numbers (+1 415 2xx xxxx), one per flow.
var numbers = func() []string {
	out := make([]string, Targets)
	for i := range out {
		out[i] = "+1415" + strconv.Itoa(2000000+i)
	}
	return out
}()

// next hands out the numbers in turn, across variants and goroutines.
var next atomic.Uint64

// Number returns the next phone number to verify.
func Number() string { return numbers[next.Add(1)%Targets] }

// Pair is one flow: Start(sms) to to, then Check with the right code.
type Pair func(ctx context.Context, to string) error

// Variant is one way of making the flow.
type Variant struct {
	// Name is short, for tables and sub-benchmark names.
	Name string
	// Doc says what the variant is.
	Doc string
	// New builds the variant against the server at baseURL.
	New func(baseURL string) (Pair, error)
}

// Variants are the ways of making the flow, the baseline first.
var Variants = []Variant{
	{"bare", "net/http form posts, decoding the two JSON answers", newBare},
	{"twilio-go", "the official github.com/twilio/twilio-go SDK", newTwilioGo},
	{"provider", "verifykit's twilio provider alone", newProvider},
	{"client", "verify.Client over verifykit's twilio provider", newClient},
	{"client-fake", "verify.Client over the fake (no network)", newClientFake},
	{"fake", "the fake alone: client-fake less this is verify.Client's own cost", newFake},
}

// Server answers POST .../Verifications with a created (201) pending
// verification and POST .../VerificationCheck with an approved one, both
// Twilio-shaped and about the To the request names. It checks nothing
// else; every variant pays its cost alike.
func Server() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(serve))
}

const (
	createdHead = `{"sid":"VE0123456789abcdef0123456789abcdef","service_sid":"` + ServiceSID + `","account_sid":"` + AccountSID + `","to":"`
	createdTail = `","channel":"sms","status":"pending","valid":false,"date_created":"2026-01-01T00:00:00Z","date_updated":"2026-01-01T00:00:00Z",` +
		`"lookup":{"carrier":null},"amount":null,"payee":null,"send_code_attempts":[{"time":"2026-01-01T00:00:00Z","channel":"sms","attempt_sid":"VL0123456789abcdef0123456789abcdef"}],` +
		`"sna":null,"url":"https://verify.twilio.com/v2/Services/` + ServiceSID + `/Verifications/VE0123456789abcdef0123456789abcdef"}`
	checkHead = createdHead
	checkTail = `","channel":"sms","status":"approved","valid":true,"amount":null,"payee":null,"sna_attempts_error_codes":[],` +
		`"date_created":"2026-01-01T00:00:00Z","date_updated":"2026-01-01T00:00:05Z"}`
)

// bufs are the server's request and response buffers.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// serve is as cheap as a server can be, so that the ratios compare the
// clients rather than the server: it reads the body into a pooled buffer,
// takes To from it without url.Values, and writes the answer in one Write.
func serve(w http.ResponseWriter, r *http.Request) {
	bp := bufs.Get().(*[]byte)
	defer bufs.Put(bp)
	body := (*bp)[:0]
	for {
		if len(body) == cap(body) {
			body = append(body, 0)[:len(body)]
		}
		n, err := r.Body.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err == io.EOF {
			break
		}
		if err != nil || len(body) > 1<<16 {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
	}
	to, ok := formValue(body, "To=")
	if !ok || r.Method != http.MethodPost {
		http.Error(w, "no To", http.StatusBadRequest)
		return
	}
	out := body[len(body):]
	h := w.Header()
	h["Content-Type"] = jsonType
	switch {
	case strings.HasSuffix(r.URL.Path, "/Verifications"):
		out = append(append(append(out, createdHead...), to...), createdTail...)
		w.WriteHeader(http.StatusCreated)
	case strings.HasSuffix(r.URL.Path, "/VerificationCheck"):
		out = append(append(append(out, checkHead...), to...), checkTail...)
	default:
		http.NotFound(w, r)
		return
	}
	w.Write(out)
	*bp = out[:0]
}

var jsonType = []string{"application/json"}

// formValue returns the value of key (such as "To=") in a form body,
// unescaping only "%2B", the one escape a phone number needs. It writes
// the value over the body.
func formValue(body []byte, key string) ([]byte, bool) {
	for i := 0; i < len(body); {
		end := bytes.IndexByte(body[i:], '&')
		if end < 0 {
			end = len(body)
		} else {
			end += i
		}
		if bytes.HasPrefix(body[i:end], []byte(key)) {
			v := body[i+len(key) : end]
			out := v[:0]
			for j := 0; j < len(v); j++ {
				if v[j] == '%' && j+2 < len(v) && v[j+1] == '2' && (v[j+2] == 'B' || v[j+2] == 'b') {
					out = append(out, '+')
					j += 2
					continue
				}
				out = append(out, v[j])
			}
			return out, true
		}
		i = end + 1
	}
	return nil, false
}

// transport is each variant's own keep-alive transport.
func transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return t
}

// answer is what the bare client decodes: the fields an application uses.
type answer struct {
	SID    string `json:"sid"`
	To     string `json:"to"`
	Status string `json:"status"`
	Valid  bool   `json:"valid"`
}

func newBare(base string) (Pair, error) {
	hc := &http.Client{Transport: transport()}
	start := base + "/v2/Services/" + ServiceSID + "/Verifications"
	check := base + "/v2/Services/" + ServiceSID + "/VerificationCheck"
	post := func(ctx context.Context, u string, form url.Values, want int) (answer, error) {
		var a answer
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
		if err != nil {
			return a, err
		}
		req.SetBasicAuth(AccountSID, AuthToken)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := hc.Do(req)
		if err != nil {
			return a, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != want {
			return a, fmt.Errorf("status %d", resp.StatusCode)
		}
		err = json.NewDecoder(resp.Body).Decode(&a)
		return a, err
	}
	return func(ctx context.Context, to string) error {
		if _, err := post(ctx, start, url.Values{"To": {to}, "Channel": {"sms"}}, http.StatusCreated); err != nil {
			return err
		}
		a, err := post(ctx, check, url.Values{"To": {to}, "Code": {Code}}, http.StatusOK)
		if err != nil {
			return err
		}
		if a.Status != "approved" {
			return errors.New("bare: not approved")
		}
		return nil
	}, nil
}

// redirect sends twilio-go's requests, made for https://verify.twilio.com,
// to the server instead. twilio-go has no base-URL setting. It rewrites the
// request's URL in place, which costs nothing: twilio-go builds a new
// request for every call and never looks at it again.
type redirect struct {
	host string
	next http.RoundTripper
}

func (t *redirect) RoundTrip(r *http.Request) (*http.Response, error) {
	r.URL.Scheme, r.URL.Host, r.Host = "http", t.host, t.host
	return t.next.RoundTrip(r)
}

func newTwilioGo(base string) (Pair, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	c := &twclient.Client{
		Credentials: twclient.NewCredentials(AccountSID, AuthToken),
		HTTPClient:  &http.Client{Transport: &redirect{host: u.Host, next: transport()}},
	}
	c.SetAccountSid(AccountSID)
	rc := twiliogo.NewRestClientWithParams(twiliogo.ClientParams{Client: c})
	return func(_ context.Context, to string) error {
		// twilio-go takes no context.
		if _, err := rc.VerifyV2.CreateVerification(ServiceSID, (&verifygo.CreateVerificationParams{}).SetTo(to).SetChannel("sms")); err != nil {
			return err
		}
		v, err := rc.VerifyV2.CreateVerificationCheck(ServiceSID, (&verifygo.CreateVerificationCheckParams{}).SetTo(to).SetCode(Code))
		if err != nil {
			return err
		}
		if v.Status == nil || *v.Status != "approved" {
			return errors.New("twilio-go: not approved")
		}
		return nil
	}, nil
}

func newTwilio(base string) (*twilio.Client, error) {
	return twilio.New(ServiceSID, twilio.AuthToken(AccountSID, AuthToken),
		twilio.WithBaseURL(base), twilio.WithHTTPClient(&http.Client{Transport: transport()}))
}

func newProvider(base string) (Pair, error) {
	c, err := newTwilio(base)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, to string) error {
		if _, err := c.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS}); err != nil {
			return err
		}
		v, err := c.Check(ctx, provider.CheckRequest{To: to, Code: Code})
		if err != nil {
			return err
		}
		if !v.Approved() {
			return errors.New("provider: not approved")
		}
		return nil
	}, nil
}

func clientPair(c *verify.Client) Pair {
	return func(ctx context.Context, to string) error {
		if _, err := c.Start(ctx, to, verify.ChannelSMS, nil); err != nil {
			return err
		}
		v, err := c.Check(ctx, to, Code, nil)
		if err != nil {
			return err
		}
		if !v.Approved() {
			return errors.New("client: not approved")
		}
		return nil
	}
}

func newClient(base string) (Pair, error) {
	tc, err := newTwilio(base)
	if err != nil {
		return nil, err
	}
	c, err := verify.New(tc)
	if err != nil {
		return nil, err
	}
	return clientPair(c), nil
}

func newFake(string) (Pair, error) {
	f, err := fake.New(fake.WithFixedCode(Code), fake.WithOutboxLimit(64))
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, to string) error {
		if _, err := f.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS}); err != nil {
			return err
		}
		v, err := f.Check(ctx, provider.CheckRequest{To: to, Code: Code})
		if err != nil {
			return err
		}
		if !v.Approved() {
			return errors.New("fake: not approved")
		}
		return nil
	}, nil
}

func newClientFake(string) (Pair, error) {
	f, err := fake.New(fake.WithFixedCode(Code), fake.WithOutboxLimit(64))
	if err != nil {
		return nil, err
	}
	c, err := verify.New(f)
	if err != nil {
		return nil, err
	}
	return clientPair(c), nil
}
