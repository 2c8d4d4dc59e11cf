package readmetest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/route"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/vonage"
)

const (
	capsStart = "<!-- provider-table:start (checked by internal/readmetest: go test ./internal/readmetest -run TestProviderTable -update) -->\n"
	capsEnd   = "<!-- provider-table:end -->"
)

var update = flag.Bool("update", false, "rewrite the generated tables in docs/ from the code")

// providers builds one of each provider, offline.
func providers(t *testing.T) []struct {
	name string
	p    provider.Provider
} {
	t.Helper()
	must := func(p provider.Provider, err error) provider.Provider {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	f := fake.MustNew()
	st, err := store.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	tw := must(twilio.New("VA00000000000000000000000000000000", twilio.AuthToken("AC00000000000000000000000000000000", "token")))
	vo := must(vonage.New("Acme", vonage.APIKey("key", "secret")))
	sh := must(selfhosted.New(st, selfhosted.GenerateKey("k1"), selfhosted.WithSender(new(selfhosted.Outbox), provider.ChannelSMS)))
	r := must(route.New([]route.Route{{Name: "fake", Provider: f}}))
	return []struct {
		name string
		p    provider.Provider
	}{{"fake", f}, {"twilio", tw}, {"vonage", vo}, {"selfhosted", sh}, {"route (over one fake)", r}}
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// providerTable renders what each provider declares and implements.
func providerTable(t *testing.T) string {
	var b strings.Builder
	b.WriteString("| provider | Check by target | re-sends on a second Start | Cancel | Fetch | Approve | TOTP factors | silent network auth (CheckSNA) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, e := range providers(t) {
		caps := provider.CapabilitiesOf(e.p)
		_, cancel := e.p.(provider.Canceler)
		_, fetch := e.p.(provider.Fetcher)
		_, approve := e.p.(provider.Approver)
		_, factors := e.p.(provider.FactorProvider)
		_, sna := e.p.(provider.SNAChecker)
		b.WriteString("| " + strings.Join([]string{e.name, yes(caps.CheckByTo), yes(caps.ResendOnStart), yes(cancel), yes(fetch), yes(approve), yes(factors), yes(sna)}, " | ") + " |\n")
	}
	return b.String()
}

// TestProviderTable checks that the table of docs/providers.md says what
// each provider really declares and implements, so that the docs cannot
// go stale about which providers have factors, cancel and the rest.
func TestProviderTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "providers.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, capsStart), strings.Index(s, capsEnd)
	if i < 0 || j < i {
		t.Fatalf("docs/providers.md has no table between %q and %q", capsStart, capsEnd)
	}
	want := providerTable(t)
	if *update {
		s = s[:i+len(capsStart)] + want + s[j:]
		if err := os.WriteFile(filepath.Join(repoRoot, "docs", "providers.md"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(want, s[i+len(capsStart):j]); diff != "" {
		t.Errorf("docs/providers.md's provider table differs from the code; run go test ./internal/readmetest -run TestProviderTable -update\n(-want +got):\n%s", diff)
	}
}
