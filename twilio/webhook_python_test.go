package twilio_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"testing"

	"github.com/verifykit/verifykit/twilio"
)

// pyValidator runs twilio-python's RequestValidator (Debian's
// python3-twilio) on cases. It is in every Python on sys.path of
// /usr/bin/python3; the working directory is a temporary one, since this
// package's directory is named twilio too and would shadow the module.
const pyValidator = `
import json, sys
from twilio.request_validator import RequestValidator

class Multi(dict):
    """A multi-valued form, as Flask's MultiDict offers it (getall)."""
    def __init__(self, pairs):
        super().__init__()
        self.pairs = pairs
        for k, v in pairs:
            self.setdefault(k, v)
    def getall(self, k):
        return [v for kk, v in self.pairs if kk == k]

out = {"multi": hasattr(RequestValidator, "get_values"), "cases": []}
for c in json.load(sys.stdin):
    v = RequestValidator(c["token"])
    if c.get("body") is not None:
        sig = v.compute_signature(c["sign_url"], {})
        ok = v.validate(c["check_url"], c["body"], c["go_sig"])
    else:
        pairs = c["pairs"] or []
        params = Multi(pairs) if out["multi"] else dict(pairs)
        sig = v.compute_signature(c["sign_url"], params)
        ok = v.validate(c["check_url"], params, c["go_sig"])
    out["cases"].append({"sig": sig, "ok": ok})
json.dump(out, sys.stdout)
`

type pyCase struct {
	Token    string      `json:"token"`
	SignURL  string      `json:"sign_url"`
	CheckURL string      `json:"check_url"`
	Pairs    [][2]string `json:"pairs"`
	Body     *string     `json:"body"`
	GoSig    string      `json:"go_sig"`
	repeated bool
}

// TestSignature_TwilioPython proves interop with Twilio's official Python
// validator both ways: signatures it computes pass ValidateSignature (or
// ValidateBodySignature) under the other URL spelling, and signatures
// Signature computes pass its validate. Skipped unless python3-twilio is
// installed; required when TWILIO_PY_REQUIRED=1 (CI).
func TestSignature_TwilioPython(t *testing.T) {
	t.Parallel()
	python := ""
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		cmd := exec.Command(p, "-c", "import twilio.request_validator")
		cmd.Dir = t.TempDir()
		if cmd.Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		if os.Getenv("TWILIO_PY_REQUIRED") == "1" {
			t.Fatal("TWILIO_PY_REQUIRED=1 but no python3 with twilio.request_validator (apt-get install python3-twilio)")
		}
		t.Skip("python3-twilio not installed")
	}
	body := `[{"id":"EV01","type":"com.twilio.accountsecurity.verify.verification.approved","data":{"to":"+1415 ü"}}]`
	bu := bodyURL("https://hooks.example.com/sink", []byte(body))
	cases := []pyCase{
		{Token: hookToken, SignURL: "https://hooks.example.com/verify", CheckURL: "https://hooks.example.com:443/verify",
			Pairs: [][2]string{{"type", "factor.verified"}, {"factor_sid", "YF0123"}, {"entity_identity", "5f0c6b1e-user-0001"}}},
		{Token: hookToken, SignURL: "https://hooks.example.com:443/v?x=1&y=%20z", CheckURL: "https://hooks.example.com/v?x=1&y=%20z",
			Pairs: [][2]string{{"A", "b"}, {"AB", "c"}, {"a", ""}, {"É", "ü€"}, {"Body", "line1\nline2 & more=yes"}}},
		{Token: "another-token-0000", SignURL: "http://127.0.0.1:8080/h", CheckURL: "http://127.0.0.1:8080/h",
			Pairs: [][2]string{{"To", "+14155552671"}, {"From", "+14155550100"}}},
		{Token: hookToken, SignURL: "http://hooks.example.com/h", CheckURL: "http://hooks.example.com:80/h", Pairs: nil},
		{Token: hookToken, SignURL: "https://hooks.example.com/r", CheckURL: "https://hooks.example.com/r",
			Pairs: [][2]string{{"Z", "2"}, {"Z", "1"}, {"Z", "2"}, {"Y", "b"}, {"Y", "a"}}, repeated: true},
		{Token: hookToken, SignURL: bu, CheckURL: bu, Body: &body},
	}
	for i := range cases {
		c := &cases[i]
		if c.Body != nil {
			c.GoSig = twilio.Signature(c.Token, c.CheckURL, nil)
			continue
		}
		c.GoSig = twilio.Signature(c.Token, c.CheckURL, form(c.Pairs))
	}
	in, _ := json.Marshal(cases)
	cmd := exec.Command(python, "-c", pyValidator)
	cmd.Dir = t.TempDir()
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var res struct {
		Multi bool `json:"multi"`
		Cases []struct {
			Sig string `json:"sig"`
			OK  bool   `json:"ok"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Cases) != len(cases) {
		t.Fatalf("python output %q: %v", out, err)
	}
	for i, c := range cases {
		if c.repeated && !res.Multi {
			t.Logf("case %d: this twilio-python predates repeated parameters (no get_values); skipped", i)
			continue
		}
		r := res.Cases[i]
		var goOK bool
		if c.Body != nil {
			goOK = twilio.ValidateBodySignature(c.Token, c.CheckURL, []byte(*c.Body), r.Sig)
		} else {
			goOK = twilio.ValidateSignature(c.Token, c.CheckURL, form(c.Pairs), r.Sig)
		}
		if !goOK {
			t.Errorf("case %d: twilio-python's signature %s of %s is refused for %s", i, r.Sig, c.SignURL, c.CheckURL)
		}
		if !r.OK {
			t.Errorf("case %d: twilio-python refuses our signature %s for %s", i, c.GoSig, c.CheckURL)
		}
	}
}

func form(pairs [][2]string) url.Values {
	v := url.Values{}
	for _, p := range pairs {
		v.Add(p[0], p[1])
	}
	return v
}
