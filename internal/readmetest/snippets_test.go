package readmetest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// knownImports maps the package names snippets use to their import paths.
var knownImports = map[string]string{
	"bufio": "bufio", "bytes": "bytes", "context": "context", "errors": "errors",
	"fmt": "fmt", "http": "net/http", "io": "io", "log": "log", "os": "os",
	"slog": "log/slog", "strings": "strings", "testing": "testing", "time": "time",

	"verify":       "github.com/verifykit/verifykit/verify",
	"recovery":     "github.com/verifykit/verifykit/verify/recovery",
	"fake":         "github.com/verifykit/verifykit/fake",
	"twilio":       "github.com/verifykit/verifykit/twilio",
	"twiliotest":   "github.com/verifykit/verifykit/twilio/twiliotest",
	"emuclient":    "github.com/verifykit/verifykit/twilio/twiliotest/emuclient",
	"vonage":       "github.com/verifykit/verifykit/vonage",
	"vonagetest":   "github.com/verifykit/verifykit/vonage/vonagetest",
	"route":        "github.com/verifykit/verifykit/route",
	"selfhosted":   "github.com/verifykit/verifykit/selfhosted",
	"twiliosender": "github.com/verifykit/verifykit/selfhosted/twiliosender",
	"pushnotify":   "github.com/verifykit/verifykit/selfhosted/pushnotify",
	"pushdevice":   "github.com/verifykit/verifykit/pushdevice",
	"store":        "github.com/verifykit/verifykit/store",
	"storetest":    "github.com/verifykit/verifykit/store/storetest",
	"redisstore":   "github.com/verifykit/verifykit/store/redisstore",
	"pgstore":      "github.com/verifykit/verifykit/store/pgstore",
	"provider":     "github.com/verifykit/verifykit/provider",
	"providertest": "github.com/verifykit/verifykit/provider/providertest",
	"verifyotel":   "github.com/verifykit/verifykit/verify/verifyotel",
	"otelhttp":     "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
}

// prelude declares the free names snippets use, so that a snippet shows
// only what matters. A snippet that declares one of them shadows it.
const prelude = `
var (
	ctx                                       context.Context
	client                                    *verify.Client
	p                                         provider.Provider
	twilioClient, vonageClient, vonageClient2 provider.Provider
	to, phone, typed, factorID, clientIP      string
	deviceToken, sessionID                    string
	user                                      struct{ ID string }
	metrics                                   struct{ Count func(...any) }
	pager                                     struct{ Notify func(string) }
	st                                        store.Store
	sms                                       selfhosted.Sender
)
`

// snippet is a Go block made into a package of the snippets' module.
type snippet struct {
	b      block
	dir    string
	source string
	offset int // lines of source before the block's first line
}

// makeSnippet turns a Go block into a compilable file: the block as is
// when it declares functions or types, else wrapped in a function; the
// shared prelude and the block's own; the imports its package names need.
func makeSnippet(t *testing.T, b block, dir string) snippet {
	t.Helper()
	body := b.body
	// A line that is only "..." stands for code left out.
	body = regexp.MustCompile(`(?m)^(\s*)\.\.\.\s*$`).ReplaceAllString(body, "$1// ...")
	extra := ""
	if rest, ok := strings.CutPrefix(b.directive, "snippet: prelude"); ok {
		extra = rest + "\n"
	}
	decls := prelude + extra
	file := "package snippet\n" + decls + body
	wrapped := false
	if f, err := parser.ParseFile(token.NewFileSet(), "", file, 0); err != nil || len(f.Decls) == 0 || onlyPrelude(f) {
		wrapped = true
		file = "package snippet\n" + decls + "func snippet() error {\n" + body + "\nreturn nil\n}\n"
	}
	f, err := parser.ParseFile(token.NewFileSet(), "", file, parser.SkipObjectResolution)
	if err != nil {
		t.Errorf("%s:%d: the Go block does not parse, as a file or as statements: %v", b.file, b.line, err)
		return snippet{}
	}
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && knownImports[id.Name] != "" {
				used[id.Name] = true
			}
		}
		return true
	})
	var names []string
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	var imports strings.Builder
	imports.WriteString("import (\n")
	for _, n := range names {
		fmt.Fprintf(&imports, "\t%q\n", knownImports[n])
	}
	imports.WriteString(")\n")
	prefix := "package snippet\n" + decls
	head := "package snippet\n" + imports.String() + decls
	if wrapped {
		prefix += "func snippet() error {\n"
		head += "func snippet() error {\n"
	}
	src := head + file[len(prefix):]
	return snippet{b: b, dir: dir, source: src, offset: strings.Count(head, "\n")}
}

// onlyPrelude reports whether f declares nothing but the prelude's
// variables, that is, the block was statements that parsed as nothing.
func onlyPrelude(f *ast.File) bool {
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); !ok || g.Tok != token.VAR && g.Tok != token.TYPE && g.Tok != token.CONST {
			return false
		}
	}
	return true
}

// nestedModules returns the paths, relative to the repository's root, of
// the library's nested modules that snippets may import (the stores and
// the like; not the examples or the benchmarks).
func nestedModules(t *testing.T) []string {
	t.Helper()
	var mods []string
	err := filepath.WalkDir(repoRoot, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "examples", "bench", "testdata", "node_modules", ".git":
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() != "go.mod" || filepath.Dir(p) == filepath.Clean(repoRoot) {
			return nil
		}
		rel, err := filepath.Rel(repoRoot, filepath.Dir(p))
		if err != nil {
			return err
		}
		// Only modules whose path is the directory's under verifykit's
		// (the replace directives of newModule assume it).
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "module github.com/verifykit/verifykit/"+filepath.ToSlash(rel)+"\n") {
			mods = append(mods, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return mods
}

var buildErrRE = regexp.MustCompile(`^(?:\./)?(s\d+)/snippet\.go:(\d+):(?:\d+:)? (.*)$`)

// TestSnippetsCompile compiles every Go block of README.md and docs/*.md
// (but the README's first screen, which TestFirstScreen runs) against the
// current API, each in a package of its own.
func TestSnippetsCompile(t *testing.T) {
	goCmd := requireDocsTest(t)
	files := map[string]string{}
	byDir := map[string]snippet{}
	n := 0
	for _, file := range docFiles(t) {
		for _, b := range blocks(t, file) {
			if b.lang != "go" || strings.HasPrefix(b.directive, "readmetest:") {
				continue
			}
			if strings.HasPrefix(b.directive, "snippet: skip") {
				continue
			}
			n++
			dir := fmt.Sprintf("s%03d", n)
			s := makeSnippet(t, b, dir)
			if s.dir == "" {
				continue
			}
			files[dir+"/snippet.go"] = s.source
			byDir[dir] = s
		}
	}
	if n == 0 {
		t.Fatal("no Go snippets found")
	}
	dir := newModule(t, goCmd, "example.com/docs", files, nestedModules(t)...)
	cmd := exec.Command(goCmd, "build", "-gcflags=-e", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}
	failed := false
	for _, line := range strings.Split(string(out), "\n") {
		m := buildErrRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		msg := m[3]
		// Snippets show a step, not a whole program: what they declare
		// and do not use yet is fine.
		if strings.Contains(msg, "declared and not used") || strings.Contains(msg, "imported and not used") {
			continue
		}
		s := byDir[m[1]]
		l, _ := strconv.Atoi(m[2])
		t.Errorf("%s:%d: %s", s.b.file, s.b.line+l-s.offset, msg)
		failed = true
	}
	if !failed && !strings.Contains(string(out), "declared and not used") && !strings.Contains(string(out), "imported and not used") {
		t.Fatalf("go build failed:\n%s", out)
	}
}
