package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRun runs the example and checks that it printed the operations'
// spans, the HTTP spans and the metrics, and not the number.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{`"Name": "verify start"`, `"Name": "verify check"`, `"Name": "HTTP POST"`, `"Name": "sign-up"`,
		`"Name": "verifykit.sends"`, `"Name": "verifykit.checks"`, `"Name": "verifykit.sends.cost"`, `"Name": "verifykit.operation.duration"`} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %s", want)
		}
	}
	if strings.Contains(s, "4155552671") {
		t.Error("output contains the phone number")
	}
}
