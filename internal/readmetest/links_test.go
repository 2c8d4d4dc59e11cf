package readmetest

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

var (
	linkRE       = regexp.MustCompile(`\]\(([^()\s]+)\)`)
	inlineCodeRE = regexp.MustCompile("`[^`]*`")
	headingRE    = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
)

// prose returns the lines of a Markdown file outside fenced blocks, with
// inline code removed, each with its line number.
func prose(t *testing.T, file string) (lines []string, numbers []int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, file))
	if err != nil {
		t.Fatal(err)
	}
	inFence := false
	for i, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		lines = append(lines, inlineCodeRE.ReplaceAllString(line, ""))
		numbers = append(numbers, i+1)
	}
	return lines, numbers
}

// anchors returns the GitHub anchors of a Markdown file's headings.
func anchors(t *testing.T, file string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, file))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	seen := map[string]int{}
	inFence := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		m := headingRE.FindStringSubmatch(line)
		if inFence || m == nil {
			continue
		}
		a := slug(m[1])
		if n := seen[a]; n > 0 {
			out[a+"-"+strconv.Itoa(n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// slug is GitHub's anchor for a heading: lower case, punctuation dropped,
// spaces as hyphens.
func slug(heading string) string {
	heading = strings.ReplaceAll(heading, "`", "")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ' || r == '-':
			b.WriteRune('-')
		case r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestLinks checks that every relative link in the project's Markdown files
// names a file or directory that exists, and every anchor a heading.
func TestLinks(t *testing.T) {
	for _, file := range markdownFiles(t) {
		lines, numbers := prose(t, file)
		for i, line := range lines {
			for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				target, anchor, _ := strings.Cut(target, "#")
				dest := file
				if target != "" {
					dest = path.Join(path.Dir(file), target)
					if _, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(dest))); err != nil {
						t.Errorf("%s:%d: link to %s: %v", file, numbers[i], m[1], err)
						continue
					}
				}
				if anchor != "" {
					if !strings.HasSuffix(dest, ".md") {
						t.Errorf("%s:%d: link %s: an anchor into a file that is not Markdown", file, numbers[i], m[1])
						continue
					}
					if !anchors(t, dest)[anchor] {
						t.Errorf("%s:%d: link %s: %s has no heading with the anchor #%s", file, numbers[i], m[1], dest, anchor)
					}
				}
			}
		}
	}
}

// TestREADMEShort checks that the README stays a first screen and an index,
// not a reference: the reference is in docs/.
func TestREADMEShort(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const limit = 400
	if n := strings.Count(string(b), "\n"); n > limit {
		t.Errorf("README.md has %d lines; keep it under %d and move the rest to a page under docs/", n, limit)
	}
}

// TestExamplesListed checks that every example (a directory under examples/
// with a main package, a go.mod or a package.json) has a README and that the
// README's list of examples links to it.
func TestExamplesListed(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(filepath.Join(repoRoot, "examples"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		switch d.Name() {
		case "node_modules", "internal", "testdata":
			return filepath.SkipDir
		}
		if !isExample(t, p) {
			return nil
		}
		rel, err := filepath.Rel(repoRoot, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if _, err := os.Stat(filepath.Join(p, "README.md")); err != nil {
			t.Errorf("%s has no README.md", rel)
		}
		if !strings.Contains(string(readme), "]("+rel+")") {
			t.Errorf("README.md's list of examples does not link to %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// isExample reports whether dir holds an example: a main package, a module
// or a Node package.
func isExample(t *testing.T, dir string) bool {
	t.Helper()
	for _, name := range []string{"go.mod", "package.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "main.go"))
	return err == nil && strings.Contains(string(b), "package main")
}
