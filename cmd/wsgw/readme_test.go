package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/template"
)

var readmePath = filepath.Join("..", "..", "README.md")

const (
	rulesBegin = "<!-- rules:begin"
	rulesEnd   = "<!-- rules:end -->"
)

// rulesTable renders the README's rule table.
func rulesTable(rules []template.Rule) string {
	var b strings.Builder
	b.WriteString("| Rule | Severity | What it checks |\n| --- | --- | --- |\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", r.ID, r.Severity, strings.ReplaceAll(r.Summary, "|", `\|`))
	}
	return b.String()
}

// TestREADMERules fails when the rule table in README.md is not the one
// compile.Rules() gives; `go test ./cmd/wsgw -run TestREADMERules -update`
// rewrites it.
func TestREADMERules(t *testing.T) {
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	begin := bytes.Index(readme, []byte(rulesBegin))
	end := bytes.Index(readme, []byte(rulesEnd))
	if begin < 0 || end < begin {
		t.Fatalf("README.md has no %q ... %q block", rulesBegin, rulesEnd)
	}
	begin += bytes.IndexByte(readme[begin:], '\n') + 1
	want := rulesTable(compile.Rules())
	if got := string(readme[begin:end]); got != want {
		if *update {
			out := append(append(append([]byte{}, readme[:begin]...), want...), readme[end:]...)
			if err := os.WriteFile(readmePath, out, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("the rule table in README.md is out of date; run go test ./cmd/wsgw -run TestREADMERules -update\n--- got\n%s--- want\n%s", got, want)
	}
}

// TestREADMETestCommand checks that .ci/run runs the test command the README
// tells a new user to run.
func TestREADMETestCommand(t *testing.T) {
	const cmd = "go test -race ./..."
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile(filepath.Join("..", "..", ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte("```sh\n"+cmd+"\n```")) {
		t.Errorf("README.md does not show %q in a sh block of its own", cmd)
	}
	found := false
	for _, line := range strings.Split(string(ci), "\n") {
		if strings.TrimSpace(line) == cmd {
			found = true
		}
	}
	if !found {
		t.Errorf(".ci/run has no line %q", cmd)
	}
}

// TestREADMECitesOnlyTheRepository checks that the README and the behaviour
// reference cite nothing users do not have: no "SPEC", and every rule number
// the README cites is a rule of BEHAVIOUR.md.
func TestREADMECitesOnlyTheRepository(t *testing.T) {
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	behaviour, err := os.ReadFile(filepath.Join("..", "..", "BEHAVIOUR.md"))
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string][]byte{"README.md": readme, "BEHAVIOUR.md": behaviour} {
		if i := bytes.Index(doc, []byte("SPEC")); i >= 0 {
			t.Errorf("%s mentions SPEC (users have no SPEC; cite BEHAVIOUR.md): %q", name, doc[max(i-40, 0):min(i+40, len(doc))])
		}
	}
	defined := map[string]bool{}
	for _, m := range regexp.MustCompile(`\*\*(R-\d+\.\d+)\*\*`).FindAllSubmatch(behaviour, -1) {
		defined[string(m[1])] = true
	}
	for _, m := range regexp.MustCompile(`\bR-\d+\.\d+\b`).FindAll(readme, -1) {
		if !defined[string(m)] {
			t.Errorf("README.md cites %s, which BEHAVIOUR.md does not define", m)
		}
	}
}
