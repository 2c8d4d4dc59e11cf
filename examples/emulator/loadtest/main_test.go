package main

import (
	"context"
	"strings"
	"testing"
)

// TestRunReports runs both targets briefly: the table must have a row for
// each, with the emulator's ratio to the ceiling. It asserts no figure.
func TestRunReports(t *testing.T) {
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"-duration", "200ms", "-workers", "2", "-rounds", "2", "-quiet"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(out.String(), "\n")
	var bare, emu bool
	for _, l := range lines {
		f := strings.Fields(l)
		switch {
		case len(f) == 9 && f[0] == "bare" && f[1] == "2" && f[7] == "0":
			bare = true
		case len(f) == 9 && f[0] == "emulator" && f[1] == "2" && f[7] == "0" && strings.HasSuffix(f[8], "×"):
			emu = true
		}
	}
	if !bare || !emu {
		t.Errorf("no error-free rows for both targets:\n%s", out.String())
	}
}

func TestRunRefuses(t *testing.T) {
	for _, args := range [][]string{{"-workers", "0"}, {"-workers", "x"}, {"-targets", "redis"}, {"-duration", "0s"}, {"-rounds", "0"}, {"-nope"}} {
		var out, errOut strings.Builder
		if code := run(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
}
