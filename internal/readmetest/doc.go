// Package readmetest checks the project's documentation: that the README's
// first screen works when pasted into a new module, that every Go snippet
// in README.md and docs/*.md compiles against the current API, and that
// every relative link in the Markdown files leads somewhere.
//
// The README marks the files of its first screen with an HTML comment
// before the fenced block:
//
//	<!-- readmetest: signup/signup.go -->
//
// Those blocks are written, under the path given, into a new module named
// example.com/app whose go.mod replaces github.com/verifykit/verifykit with
// this repository; the test then runs `go vet` and `go test` there, and runs
// the program against the Twilio emulator (twiliotest), typing the code the
// emulator delivered, as a newcomer would.
//
// Other Go blocks are compiled as fragments: each goes into a package of
// its own, wrapped in a function unless it declares its own functions, with
// its imports worked out from the package names it uses and the free names
// (ctx, client, typed, …) declared by a shared prelude. A comment before a
// block changes that:
//
//	<!-- snippet: skip REASON -->             not compiled (say why)
//	<!-- snippet: prelude DECLARATIONS -->    more package-level declarations
//
// The tests that build modules run only when VERIFYKIT_DOCS_TEST=1 (CI sets
// it; so does scripts/test-all), since they start the go command and need
// the module cache or the module proxy; the link check always runs.
package readmetest
