package readmetest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// TestCurlRecipeApproves runs the curl recipe of docs/emulators.md as
// written, with bash and curl, against an emulator with the default
// credentials; only its address (127.0.0.1:8025) is replaced by the test
// server's. The recipe's last answer must approve the verification.
func TestCurlRecipeApproves(t *testing.T) {
	bash, err1 := exec.LookPath("bash")
	_, err2 := exec.LookPath("curl")
	if err1 != nil || err2 != nil {
		t.Skip("needs bash and curl")
	}
	var recipe string
	for _, b := range blocks(t, "docs/emulators.md") {
		if b.lang == "sh" && strings.Contains(b.body, "curl") && strings.Contains(b.body, "VerificationCheck") {
			recipe = b.body
		}
	}
	if recipe == "" {
		t.Fatal("docs/emulators.md has no curl recipe with a VerificationCheck")
	}
	srv := twiliotest.NewServer()
	defer srv.Close()
	script := strings.ReplaceAll(recipe, "http://127.0.0.1:8025", srv.URL)
	if script == recipe {
		t.Fatal("the recipe does not talk to http://127.0.0.1:8025")
	}
	cmd := exec.Command(bash, "-e", "-o", "pipefail", "-c", script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the recipe failed: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, `"status":"approved"`) {
		t.Errorf("the recipe's last answer does not approve:\n%s", out)
	}
	if len(srv.Approvals()) != 1 {
		t.Errorf("the emulator approved %d verifications, want 1", len(srv.Approvals()))
	}
}
