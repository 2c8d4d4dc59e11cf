package twilio_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	fm "github.com/verifykit/verifykit/internal/faultmatrix"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
	"github.com/verifykit/verifykit/verify"
)

// wire records every form that reaches the server.
type wire struct {
	mu    sync.Mutex
	forms []url.Values
}

func (w *wire) server(t *testing.T, answer func(http.ResponseWriter, *http.Request)) string {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f, err := url.ParseQuery(string(b))
		if err != nil {
			t.Errorf("the body %q is not a form", b)
		}
		w.mu.Lock()
		w.forms = append(w.forms, f)
		w.mu.Unlock()
		answer(rw, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestHostileInputOnTheWire sends hostile targets and codes through
// verify → twilio and shows what reaches the server: either nothing (the
// input is refused with ErrInvalidRequest) or exactly one field with the
// normalised value, never an extra field.
func TestHostileInputOnTheWire(t *testing.T) {
	var w wire
	base := w.server(t, func(rw http.ResponseWriter, r *http.Request) {
		reply(rw, 200, []byte(`{"sid":"`+veSID+`","status":"pending"}`))
	})
	p, _ := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken), twilio.WithBaseURL(base))
	c, _ := verify.New(p, verify.WithDefaultRegion("US"))
	ctx := context.Background()
	starts := []struct {
		to   string
		want url.Values // nil: refused before the wire
	}{
		{"+14155552671&Channel=call", nil},
		{"+14155552671\nChannel: call", nil},
		{"+1415555\x002671", nil},
		{"+1415\xff5552671", nil},
		{strings.Repeat("+1", 5000), nil},
		{"\u202e+14155552671", url.Values{"To": {"+14155552671"}, "Channel": {"sms"}}}, // bidi override: dropped by parsing
		{"alice@example.com&Channel=sms", nil},
		{"(415) 555-2671", url.Values{"To": {"+14155552671"}, "Channel": {"sms"}}},
		{"a&b=c@example.com", nil}, // a legal address would need the email channel
	}
	for _, s := range starts {
		w.forms = nil
		_, err := c.Start(ctx, s.to, verify.ChannelSMS, nil)
		if s.want == nil {
			if !errors.Is(err, verify.ErrInvalidRequest) || len(w.forms) != 0 {
				t.Errorf("Start(%q): %v, %d requests; want ErrInvalidRequest and none", s.to, err, len(w.forms))
			}
			continue
		}
		if err != nil || len(w.forms) != 1 {
			t.Fatalf("Start(%q): %v, %d requests", s.to, err, len(w.forms))
		}
		if diff := cmp.Diff(s.want, w.forms[0]); diff != "" {
			t.Errorf("Start(%q) sent (-want +got):\n%s", s.to, diff)
		}
	}
	// An address with form syntax in it is legal; it reaches the wire as
	// one value.
	w.forms = nil
	if _, err := c.Start(ctx, "a&b=c@example.com", verify.ChannelEmail, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(url.Values{"To": {"a&b=c@example.com"}, "Channel": {"email"}}, w.forms[0]); diff != "" {
		t.Errorf("address with & and = sent (-want +got):\n%s", diff)
	}
	for _, code := range []string{"1234&To=+19999999999", "1234\x00", strings.Repeat("9", 100), "١٢٣٤٥٦", "<script>", "12\u202e34"} {
		w.forms = nil
		_, err := c.Check(ctx, "+14155552671", code, nil)
		if !errors.Is(err, verify.ErrInvalidRequest) || len(w.forms) != 0 {
			t.Errorf("Check(code %q): %v, %d requests; want ErrInvalidRequest and none", code, err, len(w.forms))
		}
	}
	// Spaces, line breaks and dashes are what people type (or paste):
	// removed, then the code is sent as one field.
	for typed, sent := range map[string]string{" 123-456 ": "123456", "12\n34": "1234", "9876\t54": "987654"} {
		w.forms = nil
		if _, err := c.Check(ctx, "+14155552671", typed, nil); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(url.Values{"To": {"+14155552671"}, "Code": {sent}}, w.forms[0]); diff != "" {
			t.Errorf("code %q sent (-want +got):\n%s", typed, diff)
		}
	}
}

// TestSecretsSweep sets recognisable secrets, runs every operation against
// every fault of the matrix (and against a server that quotes the request
// back in its errors) with every logger and hook on, and fails if a
// credential, a code or a full phone number appears in any error, log
// record, event, formatted value or panic.
func TestSecretsSweep(t *testing.T) {
	const (
		token  = "SECRETtoken4242abcdef"
		secret = "SECRETapikey9191xyz"
		code   = "864209"
		custom = "A9B8C7"
		to     = "+14155552671"
	)
	secrets := []string{token, secret, code, custom, "4155552671", twiliotest.DefaultAuthToken}
	var seen []string
	var mu sync.Mutex
	keep := func(s string) { mu.Lock(); seen = append(seen, s); mu.Unlock() }
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) { keep(string(p)); return len(p), nil }),
		&slog.HandlerOptions{Level: slog.LevelDebug}))

	// A server that quotes the whole request back in its error message.
	echo := func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		user, pass, _ := r.BasicAuth()
		msg := fmt.Sprintf("bad request %s %s?%s user=%s pass=%s", b, r.URL.Path, r.URL.RawQuery, user, pass)
		j, _ := jsonString(msg)
		reply(w, 400, []byte(`{"code":60200,"message":`+j+`,"status":400}`))
	}
	// A proxy that quotes the Authorization header, in every encoding a
	// body can carry, with the credentials across the cut of long
	// messages.
	var echoes atomic.Int32
	echoAuth := func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		var encs []string
		for _, enc := range credentialEncodings(user, pass) {
			encs = append(encs, enc)
		}
		sort.Strings(encs)
		n := int(echoes.Add(1))
		// Each request starts the list at another encoding, so each in
		// turn comes first, and others straddle the cut at 512 bytes.
		msg := strings.Repeat("x", n%7) + strings.Join(append(encs[n%len(encs):], encs[:n%len(encs)]...), " ")
		j, _ := jsonString(msg)
		reply(w, 502, []byte(`{"code":20502,"message":`+j+`,"more_info":`+j+`}`))
	}
	rows := append([]fm.Fault{{Name: "echo", Handler: echo}, {Name: "echo the Authorization header", Handler: echoAuth}}, faults...)
	for _, creds := range []twilio.Credentials{twilio.AuthToken(accountSID, token), twilio.APIKey("SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", secret)} {
		for _, f := range rows {
			if f.InMemory {
				continue // the same answers as the network rows, only slower
			}
			var base string
			var stop func()
			if f.Listen != nil {
				base, _, stop = f.Listen(t)
			} else {
				srv := httptest.NewServer(f.Handler)
				base, stop = srv.URL, srv.Close
			}
			p, err := twilio.New(serviceSID, creds, append([]twilio.Option{twilio.WithBaseURL(base), twilio.WithRetries(1), twilio.WithRetryWait(0, 0),
				twilio.WithLogger(logger), twilio.WithRetryHook(func(_ context.Context, e twilio.RetryEvent) { keep(fmt.Sprintf("%v %+v", e, e)) })}, faultOpts(f)...)...)
			if err != nil {
				t.Fatal(err)
			}
			c, _ := verify.New(p, verify.WithLogger(logger), verify.WithHook(func(_ context.Context, e verify.Event) {
				keep(fmt.Sprintf("%v %+v %#v", e, e, e))
			}))
			keep(fmt.Sprintf("%v %+v %#v %v %+v %#v", p, p, p, creds, creds, creds))
			calls := []func(ctx context.Context) (verify.Verification, error){
				func(ctx context.Context) (verify.Verification, error) {
					return c.Start(ctx, to, verify.ChannelSMS, &verify.StartOptions{CustomCode: custom})
				},
				func(ctx context.Context) (verify.Verification, error) { return c.Check(ctx, to, code, nil) },
				func(ctx context.Context) (verify.Verification, error) { return c.CheckID(ctx, veSID, code, nil) },
				func(ctx context.Context) (verify.Verification, error) { return c.Fetch(ctx, veSID) },
				func(ctx context.Context) (verify.Verification, error) { return c.Cancel(ctx, veSID) },
			}
			for _, call := range calls {
				func() {
					defer func() {
						if r := recover(); r != nil {
							keep(fmt.Sprint("panic: ", r))
							t.Errorf("%s: panic %v", f.Name, r)
						}
					}()
					ctx, cancel := context.WithTimeout(context.Background(), deadlineOr(f, 2*time.Second))
					defer cancel()
					v, err := call(ctx)
					keep(fmt.Sprintf("%v %+v %#v", v, v, v))
					if err != nil {
						keep(fmt.Sprintf("%v %+v %#v %s", err, err, err, err))
						var ae *twilio.APIError
						if errors.As(err, &ae) {
							keep(ae.Message + ae.MoreInfo)
						}
					}
				}()
			}
			stop()
		}
	}
	// Values a program might print.
	f := fake.MustNew(fake.WithFixedCode(code))
	f.Start(context.Background(), provider.StartRequest{To: to, Channel: provider.ChannelSMS})
	m, _ := f.LastMessage(to)
	e := twiliotest.MustNew(twiliotest.WithFixedCode(code))
	for _, v := range []any{
		m, twiliotest.Message{To: to, Code: code, Body: "Your code is " + code},
		provider.StartRequest{To: to, CustomCode: custom}, provider.CheckRequest{To: to, Code: code},
		&verify.Error{Op: "check", Target: "+14*******71", Err: errors.New("x")}, e, twiliotest.NewServer(),
	} {
		keep(fmt.Sprintf("%v %+v %#v", v, v, v))
	}
	if len(seen) < 100 {
		t.Fatalf("the sweep saw only %d strings", len(seen))
	}
	// Pieces of the credentials, raw and Basic-encoded, show partial leaks.
	for _, cr := range [][2]string{{accountSID, token}, {"SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", secret}} {
		secrets = append(secrets, fragments(cr[1])...)
		basic := base64.StdEncoding.EncodeToString([]byte(cr[0] + ":" + cr[1]))
		secrets = append(secrets, fragments(basic[48:])...)
	}
	for _, s := range seen {
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("%q appears in: %s", secret, s)
			}
		}
	}
}

// deadlineOr is the fault's deadline, or d.
func deadlineOr(f fm.Fault, d time.Duration) time.Duration {
	if f.Deadline > 0 {
		return f.Deadline
	}
	return d
}

// faultOpts are the client options a fault row asks for.
func faultOpts(f fm.Fault) []twilio.Option {
	var opts []twilio.Option
	if f.Name == fm.RowFollowingClient {
		opts = append(opts, twilio.WithHTTPClient(fm.FollowingClient()))
	}
	if f.SetPolicy {
		opts = append(opts, twilio.WithPOSTRetry(f.Policy))
	}
	return opts
}

// jsonString encodes s as a JSON string.
func jsonString(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
