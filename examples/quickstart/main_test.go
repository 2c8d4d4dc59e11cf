package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunOnFake(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	for _, want := range []string{
		"1. Start: send a code to +14155552671 over sms",
		"is pending",
		`"Your verifykit verification code is: 250614"`,
		"status pending: a wrong code is not an error",
		"4. Check the right code (250614)",
		"status approved: +14155552671 is verified",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunRefusesBadInput(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-to", "12"}, &out, &errOut); code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(errOut.String(), "not a valid phone number") {
		t.Errorf("stderr = %q", errOut.String())
	}
	if code := run(context.Background(), []string{"-bogus"}, &out, &errOut); code != exitUsage {
		t.Errorf("bad flag: exit %d", code)
	}
	if code := run(context.Background(), []string{"-region", "XX"}, &out, &errOut); code != exitUsage {
		t.Errorf("bad region: exit %d", code)
	}
}
