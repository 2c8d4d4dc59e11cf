package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/examples/internal/examplestest"
	"github.com/verifykit/verifykit/twilio/twiliotest"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// syncBuffer is the examples' shared concurrent-safe buffer.
type syncBuffer = examplestest.SyncBuffer

// start runs the program until the returned stop is called.
func start(t *testing.T, getenv func(string) string, args ...string) (string, *syncBuffer, func() int) {
	args = append([]string{"-addr", "127.0.0.1:0"}, args...)
	srv := examplestest.Start(t, func(ctx context.Context, stdout, stderr io.Writer, ready chan<- string) int {
		return run(ctx, args, getenv, stdout, stderr, ready)
	})
	return srv.Base, srv.Out, srv.Stop
}

// hc has a transport of its own: any httptest.Server's Close closes
// http.DefaultTransport's idle connections, under a parallel test's request.
var hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

func get(t *testing.T, url string) string {
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestRunOnFake(t *testing.T) {
	base, out, stop := start(t, func(string) string { return "" })
	if !strings.Contains(get(t, base+"/"), "Sign in with a code") {
		t.Error("home page not served")
	}
	if !strings.Contains(out.String(), base+"/dev/outbox") {
		t.Errorf("output does not point at the outbox: %q", out.String())
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

func TestRunOnEmulator(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	env := map[string]string{
		"TWILIO_ACCOUNT_SID": twiliotest.DefaultAccountSID, "TWILIO_AUTH_TOKEN": twiliotest.DefaultAuthToken,
		"TWILIO_VERIFY_SERVICE_SID": twiliotest.DefaultServiceSID, "TWILIO_VERIFY_BASE_URL": srv.URL,
	}
	base, out, stop := start(t, func(k string) string { return env[k] })
	defer stop()
	if strings.Contains(out.String(), "/dev/outbox") {
		t.Error("the outbox is offered with a real provider")
	}
	if !strings.Contains(get(t, base+"/dev/outbox"), "404") {
		t.Error("/dev/outbox served with a real provider")
	}
}

func TestRunRefuses(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"-bogus"}, nil},
		{[]string{"-region", "XX"}, nil},
		{[]string{"-addr", "nonsense"}, nil},
		{[]string{"-trusted-proxy", "10.0.0.0/33"}, nil},
		{[]string{"-trusted-proxy", "proxy.example"}, nil},
		{[]string{"stray"}, nil},
		{nil, map[string]string{"TWILIO_VERIFY_SERVICE_SID": "VA1"}},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), tt.args, func(k string) string { return tt.env[k] }, &out, &errOut, nil); code == 0 {
			t.Errorf("run(%q, %v) succeeded", tt.args, tt.env)
		}
	}
}

func TestRunBehindProxy(t *testing.T) {
	noEnv := func(string) string { return "" }
	base, out, stop := start(t, noEnv, "-trusted-proxy", "127.0.0.1, 10.0.0.0/8")
	if strings.Contains(out.String(), "/dev/outbox") || !strings.Contains(get(t, base+"/dev/outbox"), "404") {
		t.Error("the outbox is served behind a proxy without -dev-outbox")
	}
	stop()
	base, _, stop = start(t, noEnv, "-trusted-proxy", "127.0.0.1", "-dev-outbox")
	if !strings.Contains(get(t, base+"/dev/outbox"), "Outbox") {
		t.Error("-dev-outbox did not serve the outbox")
	}
	stop()
	base, _, stop = start(t, noEnv, "-secure-cookie")
	defer stop()
	resp, err := hc.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if c := resp.Cookies(); len(c) == 0 || !c[0].Secure {
		t.Errorf("-secure-cookie: cookies %v", c)
	}
}

// TestFailoverMidRun runs the app on twilio (primary) and vonage
// (fallback), each on its emulator, takes twilio down in the middle of a
// sign-up, and checks that the sign-up completes through vonage.
func TestFailoverMidRun(t *testing.T) {
	t.Parallel()
	tw := twiliotest.NewServer()
	defer tw.Close()
	vg := vonagetest.NewServer()
	defer vg.Close()
	keyFile := filepath.Join(t.TempDir(), "vonage.pem")
	if err := os.WriteFile(keyFile, vonagetest.DefaultPrivateKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TWILIO_ACCOUNT_SID": twiliotest.DefaultAccountSID, "TWILIO_AUTH_TOKEN": twiliotest.DefaultAuthToken,
		"TWILIO_VERIFY_SERVICE_SID": twiliotest.DefaultServiceSID, "TWILIO_VERIFY_BASE_URL": tw.URL,
		"VONAGE_APPLICATION_ID": vonagetest.DefaultApplicationID, "VONAGE_PRIVATE_KEY_PATH": keyFile,
		"VONAGE_BRAND": "verifykit demo", "VONAGE_BASE_URL": vg.URL,
	}
	// The login follows the enrolment at once, on the real clock: no
	// resend cooldown, or the login's code would wait for it.
	base, out, stop := start(t, func(k string) string { return env[k] }, "-resend-cooldown", "0")
	defer stop()
	if !strings.Contains(out.String(), "on twilio, with vonage as the fallback") {
		t.Fatalf("output: %s", out.String())
	}
	b := examplestest.NewBrowser(t, base)
	const mail, pw, phone = "ada@example.com", "correct horse battery", "+14155552671"
	b.Post("/signup", "/signup", url.Values{"email": {mail}, "password": {pw}})
	b.Post("/login", "/login", url.Values{"email": {mail}, "password": {pw}})
	b.Want("logged in", "Welcome, "+mail)

	// Twilio goes down: every start answers 503.
	tw.InjectFault(twiliotest.Fault{Op: "start", Status: 503, Code: 20503, Times: 1000})
	b.Post("/enroll", "/enroll", url.Values{"phone": {"(415) 555-2671"}})
	b.Want("code page", "Confirm your number")
	code, ok := vg.LastCode(phone)
	if !ok {
		t.Fatal("vonage sent no code")
	}
	if n := len(tw.Messages()); n != 0 {
		t.Fatalf("twilio sent %d codes while down", n)
	}
	b.Post("/verify", "/verify", url.Values{"action": {"verify"}, "code": {code}})
	b.Want("enrolment", "Two-step login is on")
	if a := vg.Approvals(); len(a) != 1 {
		t.Errorf("vonage approvals: %v", a)
	}

	// Twilio is back: the next login's code comes from twilio again.
	tw.ClearFaults()
	b.Post("/", "/logout", url.Values{})
	b.Post("/login", "/login", url.Values{"email": {mail}, "password": {pw}})
	b.Want("code page", "Enter the code we sent you")
	code, ok = tw.LastCode(phone)
	if !ok {
		t.Fatal("twilio sent no code once back")
	}
	b.Post("/verify", "/verify", url.Values{"action": {"verify"}, "code": {code}})
	b.Want("logged in with a code", "Welcome, "+mail)
}

func TestRunOnSelfhosted(t *testing.T) {
	base, out, stop := start(t, func(string) string { return "" }, "-provider", "selfhosted")
	if !strings.Contains(get(t, base+"/"), "Sign in with a code") {
		t.Error("home page not served")
	}
	if !strings.Contains(out.String(), "self-hosted provider") {
		t.Errorf("output does not name the provider: %q", out.String())
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
	for _, args := range [][]string{{"-provider", "bogus"}, {"-provider", "selfhosted", "-addr", "0.0.0.0:0"}} {
		var o, e bytes.Buffer
		if code := run(context.Background(), args, func(string) string { return "" }, &o, &e, nil); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
}
