package twiliotest_test

import (
	"go/build"
	"testing"
)

// TestImportsNoFake: the emulator sits on the engine, not on the test
// double (DESIGN.md: never an emulator → fake).
func TestImportsNoFake(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if imp == "github.com/verifykit/verifykit/fake" {
			t.Errorf("twiliotest imports %s", imp)
		}
	}
}
