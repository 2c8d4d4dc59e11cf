// Package replicatest holds the tests that every shared-store variant of
// the web app runs (examples/webapp/redis, examples/webapp/postgres):
// replicas of the web app over one store server, and the flag's refusals.
// Each variant's test supplies its run function and its store.
package replicatest

import (
	"context"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/examples/internal/examplestest"
)

// Key is the application key every replica shares (VERIFYKIT_KEY).
const Key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// RunFunc is a variant's run: its main with the arguments, environment
// and console as parameters, sending its address on ready once it serves.
type RunFunc func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) int

// Store describes a variant's shared store.
type Store struct {
	Flag    string // the flag that names the store, "-redis"
	Name    string // how the console names it, "Redis"
	URL     string // a running server's URL
	DownURL string // a URL of the same scheme where no server answers
}

// replica runs the program on a free loopback port with args, and returns
// it (its console holds the codes it sent).
func replica(t *testing.T, run RunFunc, env map[string]string, args ...string) *examplestest.Server {
	t.Helper()
	args = append([]string{"-addr", "127.0.0.1:0"}, args...)
	return examplestest.Start(t, func(ctx context.Context, stdout, stderr io.Writer, ready chan<- string) int {
		return run(ctx, args, func(k string) string { return env[k] }, stdout, stderr, ready)
	})
}

var codeRE = regexp.MustCompile(`console sender: to [^:]+: .*?(\d{4,10})`)

// codes returns the codes a replica printed on its console, in order.
func codes(s *examplestest.Server) []string {
	var out []string
	for _, m := range codeRE.FindAllStringSubmatch(s.Out.String(), -1) {
		out = append(out, m[1])
	}
	return out
}

// enrolled signs mail up on the replica at base, logs in and asks for a
// code to phone, and returns the browser, its Page the app's answer.
// Each replica keeps its accounts in memory, so the test signs the same
// account up on each: it stands for the user database that a real
// deployment's replicas share.
func enrolled(t *testing.T, base, mail, phone string) *examplestest.Browser {
	t.Helper()
	const pw = "correct horse battery"
	b := examplestest.NewBrowser(t, base)
	b.Post("/signup", "/signup", url.Values{"email": {mail}, "password": {pw}})
	b.Post("/login", "/login", url.Values{"email": {mail}, "password": {pw}})
	b.Want("logged in", "Welcome, "+mail)
	b.Post("/enroll", "/enroll", url.Values{"phone": {phone}})
	return b
}

// TwoReplicas runs two replicas of the web app on the self-hosted
// provider over one real store server: a code sent through replica A is
// approved through replica B (once), a resend cooldown that A started
// holds on B, and the policies' limits are shared on another provider.
func TwoReplicas(t *testing.T, run RunFunc, s Store) {
	env := map[string]string{"VERIFYKIT_KEY": Key}

	t.Run("no shared key", func(t *testing.T) {
		var out strings.Builder
		if code := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-provider", "selfhosted", s.Flag, s.URL},
			func(string) string { return "" }, &out, &out, nil); code != 2 || !strings.Contains(out.String(), "VERIFYKIT_KEY") {
			t.Fatalf("%s without VERIFYKIT_KEY: exit %d (%s), want 2 naming VERIFYKIT_KEY", s.Flag, code, out.String())
		}
	})

	t.Run("code sent by A approved by B", func(t *testing.T) {
		// No cooldown here, so that B's step may (re)send at once.
		flags := []string{"-provider", "selfhosted", s.Flag, s.URL, "-resend-cooldown", "0"}
		a, b := replica(t, run, env, flags...), replica(t, run, env, flags...)
		if !strings.Contains(a.Out.String(), "state in "+s.Name) || !strings.Contains(a.Out.String(), "limits in "+s.Name) {
			t.Fatalf("A's console does not say the state is in %s:\n%s", s.Name, a.Out)
		}
		const mail, phone = "ada@example.com", "+14155552671"
		onA := enrolled(t, a.Base, mail, phone)
		onA.Want("code page on A", "Confirm your number")
		sent := codes(a)
		if len(sent) != 1 {
			t.Fatalf("A sent %d codes, want 1:\n%s", len(sent), a.Out)
		}
		code := sent[0]

		// The user's session is on A; B knows nothing of it. On B the
		// verification that A started is found in the store: B's step
		// re-sends the same code (it would be a new, different code over a
		// store of B's own), and the code A sent is approved there.
		onB := enrolled(t, b.Base, mail, phone)
		onB.Want("code page on B", "Confirm your number")
		if got := codes(b); len(got) != 1 || got[0] != code {
			t.Fatalf("B sent %v, want A's code %s again", got, code)
		}
		onB.Post("/verify", "/verify", url.Values{"action": {"verify"}, "code": {code}})
		onB.Want("approved on B", "Two-step login is on")

		// Approved once: the same code on A finds the verification gone.
		onA.Post("/verify", "/verify", url.Values{"action": {"verify"}, "code": {code}})
		if strings.Contains(onA.Page, "Two-step login is on") {
			t.Fatalf("the code was approved a second time, on A:\n%s", onA.Page)
		}
	})

	t.Run("cooldown started on A holds on B", func(t *testing.T) {
		flags := []string{"-provider", "selfhosted", s.Flag, s.URL, "-resend-cooldown", "1m"}
		a, b := replica(t, run, env, flags...), replica(t, run, env, flags...)
		const mail, phone = "grace@example.com", "+14155550123"
		onA := enrolled(t, a.Base, mail, phone)
		onA.Want("code page on A", "Confirm your number")
		if n := len(codes(a)); n != 1 {
			t.Fatalf("A sent %d codes, want 1:\n%s", n, a.Out)
		}
		onB := enrolled(t, b.Base, mail, phone)
		onB.Want("cooldown on B", "A code was sent a moment ago")
		if n := len(codes(b)); n != 0 {
			t.Fatalf("B sent %d codes during A's cooldown:\n%s", n, b.Out)
		}
	})

	// The policies count in the store whatever the provider: here the
	// built-in fake, whose verifications each replica keeps to itself.
	t.Run("limits shared on another provider", func(t *testing.T) {
		flags := []string{s.Flag, s.URL, "-resend-cooldown", "1m"}
		a, b := replica(t, run, nil, flags...), replica(t, run, nil, flags...)
		if o := a.Out.String(); !strings.Contains(o, "fake provider, limits in "+s.Name) {
			t.Fatalf("A's console: %s", o)
		}
		const mail, phone = "hedy@example.com", "+14155550199"
		enrolled(t, a.Base, mail, phone).Want("code page on A", "Confirm your number")
		enrolled(t, b.Base, mail, phone).Want("cooldown on B", "A code was sent a moment ago")
	})
}

// Refusals checks that the store's flag needs a server that answers and a
// URL of its scheme, and that without the flag the program is command
// webapp (state in memory).
func Refusals(t *testing.T, run RunFunc, s Store) {
	var out strings.Builder
	env := map[string]string{"VERIFYKIT_KEY": Key}
	if code := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-provider", "selfhosted", s.Flag, s.DownURL},
		func(k string) string { return env[k] }, &out, &out, nil); code != 2 || !strings.Contains(out.String(), s.Flag+":") {
		t.Fatalf("%s with no server there: exit %d (%s), want 2", s.Flag, code, out.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"-addr", "127.0.0.1:0", s.Flag, "mysql://nope"},
		func(string) string { return "" }, &out, &out, nil); code != 2 {
		t.Fatalf("%s with a bad URL: exit %d (%s), want 2", s.Flag, code, out.String())
	}
	m := replica(t, run, nil, "-provider", "selfhosted")
	if o := m.Out.String(); !strings.Contains(o, "state in memory") || strings.Contains(o, s.Name) {
		t.Fatalf("without %s: %s", s.Flag, o)
	}
}
