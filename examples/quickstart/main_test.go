package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

func noEnv(string) string { return "" }

func TestDemoOnFake(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, noEnv, strings.NewReader(""), &out, &errOut); code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	for _, want := range []string{
		"1. Start: send a code to +14155552671 over sms",
		"is pending",
		`"Your verifykit verification code is: ` + fake.FirstDefaultCode + `"`,
		"status pending: a wrong code is not an error",
		"4. Check the right code (" + fake.FirstDefaultCode + ")",
		"status approved: +14155552671 is verified",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDemoRefusesBadInput(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-to", "12"}, exitUsage, "country code"},
		{[]string{"-bogus"}, exitUsage, ""},
		{[]string{"-region", "XX"}, exitUsage, "unknown region"},
		{[]string{"-to", fake.NumberLandline}, exitUndeliverable, "-channel call"},
		{[]string{"nonsense"}, exitUsage, "unknown command"},
		{[]string{"start"}, exitConfig, "go run ./examples/emulator"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), tt.args, noEnv, strings.NewReader(""), &out, &errOut); code != tt.code {
			t.Errorf("%q: exit %d, want %d (stderr %q)", tt.args, code, tt.code, errOut.String())
		}
		if !strings.Contains(errOut.String(), tt.msg) {
			t.Errorf("%q: stderr %q lacks %q", tt.args, errOut.String(), tt.msg)
		}
	}
}

// emulatorEnv runs an emulator and returns the environment that points the
// quickstart at it.
func emulatorEnv(t *testing.T, opts ...twiliotest.Option) (*twiliotest.Server, func(string) string) {
	srv := twiliotest.NewServer(opts...)
	t.Cleanup(srv.Close)
	env := map[string]string{
		"TWILIO_ACCOUNT_SID":        twiliotest.DefaultAccountSID,
		"TWILIO_AUTH_TOKEN":         twiliotest.DefaultAuthToken,
		"TWILIO_VERIFY_SERVICE_SID": twiliotest.DefaultServiceSID,
		"TWILIO_VERIFY_BASE_URL":    srv.URL,
	}
	return srv, func(k string) string { return env[k] }
}

func TestTwilioModes(t *testing.T) {
	t.Parallel()
	srv, env := emulatorEnv(t)
	ctx := context.Background()
	runq := func(stdin string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, args, env, strings.NewReader(stdin), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	// The bare command plays on the fake even with Twilio configured, as
	// its usage says, and sends nothing through Twilio.
	if code, out, stderr := runq(""); code != exitOK || !strings.Contains(out, "on the in-memory fake provider") || !strings.Contains(stderr, "plays on the fake") {
		t.Errorf("no command with Twilio configured: %d %q %q", code, out, stderr)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("the bare command sent %d messages through the emulator", n)
	}
	code, out, _ := runq("", "start", "-to", "(415) 555-2671", "-region", "US")
	if code != exitOK || !strings.Contains(out, "Sent a code to +14155552671 by sms") {
		t.Fatalf("start: %d %q", code, out)
	}
	sent, _ := srv.LastCode("+14155552671")
	if code, out, _ := runq("", "check", "-to", "+14155552671", "-code", "0000"); code != exitWrongCode || !strings.Contains(out, "not right") {
		t.Errorf("wrong code: %d %q", code, out)
	}
	if code, _, stderr := runq("", "check", "-to", "+14155552671"); code != exitUsage || !strings.Contains(stderr, "-code") {
		t.Errorf("check without -code: %d %q", code, stderr)
	}
	if code, out, _ := runq("", "check", "-to", "+14155552671", "-code", sent); code != exitOK || !strings.Contains(out, "Approved") {
		t.Errorf("right code: %d %q", code, out)
	}
	if code, _, stderr := runq("", "check", "-to", "+14155552671", "-code", sent); code != exitNotFound || !strings.Contains(stderr, "Start again") {
		t.Errorf("after approval: %d %q", code, stderr)
	}
}

func TestInteractiveWithFixedCode(t *testing.T) {
	t.Parallel()
	_, env := emulatorEnv(t, twiliotest.WithFixedCode("424242"))
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"interactive", "-to", "+14155550100", "-channel", "call"}, env,
		strings.NewReader("9999\n424242\n"), &out, &errOut)
	if code != exitOK || strings.Count(out.String(), "Enter the code") != 2 || !strings.Contains(out.String(), "by call") {
		t.Errorf("interactive: %d %q %q", code, out.String(), errOut.String())
	}
	// End of input before the right code.
	out.Reset()
	if code := run(context.Background(), []string{"interactive", "-to", "+14155550111"}, env, strings.NewReader("9999\n"), &out, &errOut); code != exitFailed {
		t.Errorf("interactive, input ends: exit %d", code)
	}
}

func TestExplainedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(*twiliotest.Server)
		args  []string
		code  int
		words string
	}{
		{"landline", nil, []string{"start", "-to", fake.NumberLandline}, exitUndeliverable, "-channel call"},
		{"rate limited", nil, []string{"start", "-to", fake.NumberRateLimited}, exitRateLimited, "Wait 30s"},
		{"rate limited, no wait", func(s *twiliotest.Server) { s.InjectFault(twiliotest.Fault{Status: 429, Code: 60212}) },
			[]string{"start"}, exitRateLimited, "Wait a little"},
		{"too many sends", func(s *twiliotest.Server) { s.InjectFault(twiliotest.Fault{Status: 429, Code: 60203}) },
			[]string{"start"}, exitTooManySends, "Too many codes"},
		{"too many checks", func(s *twiliotest.Server) { s.InjectFault(twiliotest.Fault{Status: 429, Code: 60202}) },
			[]string{"check", "-code", "1234"}, exitTooManyChecks, "Too many wrong codes"},
		{"outcome unknown", func(s *twiliotest.Server) { s.InjectFault(twiliotest.Fault{Drop: true}) },
			[]string{"check", "-code", "1234"}, exitOutcomeUnknown, "Check the status"},
		{"bad number", nil, []string{"start", "-to", "12"}, exitUsage, "country code"},
		{"unavailable", func(s *twiliotest.Server) { s.InjectFault(twiliotest.Fault{Status: 503, Code: 20503, Times: 10}) },
			[]string{"start"}, exitConfig, "could not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, env := emulatorEnv(t)
			if tt.setup != nil {
				tt.setup(srv)
			}
			var out, errOut bytes.Buffer
			code := run(context.Background(), tt.args, env, strings.NewReader(""), &out, &errOut)
			if code != tt.code || !strings.Contains(errOut.String(), tt.words) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut.String(), tt.code, tt.words)
			}
		})
	}
	// Wrong credentials.
	_, env := emulatorEnv(t)
	bad := func(k string) string {
		if k == "TWILIO_AUTH_TOKEN" {
			return "wrong"
		}
		return env(k)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"start"}, bad, strings.NewReader(""), &out, &errOut); code != exitConfig || !strings.Contains(errOut.String(), "refused the credentials") {
		t.Errorf("wrong token: %d %q", code, errOut.String())
	}
	broken := func(k string) string {
		if k == "TWILIO_VERIFY_SERVICE_SID" {
			return "VA1"
		}
		return env(k)
	}
	if code := run(context.Background(), []string{"start"}, broken, strings.NewReader(""), &out, &errOut); code != exitConfig {
		t.Errorf("bad service SID: %d", code)
	}
}

// TestHelp: help, -h and a command's -h print the commands (and the
// command's flags) and exit 0, as a newcomer asking for help expects.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"-h"}, {"-help"}, {"--help"}, {"start", "-h"}, {"totp-enroll", "-h"}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, noEnv, strings.NewReader(""), &out, &errOut); code != exitOK {
			t.Errorf("%q: exit %d, want 0 (stderr %q)", args, code, errOut.String())
		}
		all := out.String() + errOut.String()
		for _, want := range []string{"quickstart start -to NUMBER", "quickstart interactive", "quickstart totp-demo", "exit codes:"} {
			if !strings.Contains(all, want) {
				t.Errorf("%q: the help lacks %q:\n%s", args, want, all)
			}
		}
		if len(args) == 2 && !strings.Contains(all, "-"+map[string]string{"start": "channel", "totp-enroll": "identity"}[args[0]]) {
			t.Errorf("%q: the help lacks the command's flags:\n%s", args, all)
		}
	}
}
