package readmetest

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the repository's root, from this package's directory.
const repoRoot = "../.."

// block is one fenced code block of a Markdown file.
type block struct {
	file string // path relative to the repository's root
	line int    // line of the opening fence, from 1
	lang string // the fence's info string, such as "go"
	body string
	// directive is the HTML comment right before the fence, without its
	// delimiters, such as "readmetest: signup/signup.go"; empty if none.
	directive string
}

var directiveRE = regexp.MustCompile(`(?s)^<!--\s*(.*?)\s*-->$`)

// blocks returns the fenced code blocks of the Markdown file at path
// (relative to the repository's root).
func blocks(t *testing.T, path string) []block {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	var out []block
	var cur *block
	var body strings.Builder
	var comment []string // lines of the HTML comment being read
	inComment := false
	lastDirective := ""
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if cur != nil {
			if strings.TrimSpace(line) == "```" {
				cur.body = body.String()
				out = append(out, *cur)
				cur = nil
				continue
			}
			body.WriteString(line)
			body.WriteByte('\n')
			continue
		}
		if inComment {
			comment = append(comment, line)
			if strings.Contains(line, "-->") {
				inComment = false
				lastDirective = directiveOf(strings.Join(comment, "\n"))
			}
			continue
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			cur = &block{file: path, line: n, lang: strings.TrimSpace(trimmed[3:]), directive: lastDirective}
			body.Reset()
			lastDirective = ""
		case strings.HasPrefix(trimmed, "<!--"):
			comment = []string{line}
			if strings.Contains(line, "-->") {
				lastDirective = directiveOf(line)
			} else {
				inComment = true
			}
		case trimmed == "":
			// A blank line between the comment and the fence is allowed.
		default:
			lastDirective = ""
		}
	}
	if cur != nil {
		t.Fatalf("%s:%d: fenced block never closed", path, cur.line)
	}
	return out
}

// directiveOf returns the text of an HTML comment if it is a directive for
// these tests ("readmetest:" or "snippet:"), else "".
func directiveOf(comment string) string {
	m := directiveRE.FindStringSubmatch(strings.TrimSpace(comment))
	if m == nil {
		return ""
	}
	if strings.HasPrefix(m[1], "readmetest:") || strings.HasPrefix(m[1], "snippet:") {
		return m[1]
	}
	return ""
}

// docFiles returns README.md and every Markdown page under docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md"}
	pages, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		rel, err := filepath.Rel(repoRoot, p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.ToSlash(rel))
	}
	return files
}

// markdownFiles returns every Markdown file the project keeps: the doc
// files and each example's README.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	files := docFiles(t)
	err := filepath.WalkDir(filepath.Join(repoRoot, "examples"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "node_modules" {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == "README.md" {
			rel, err := filepath.Rel(repoRoot, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
