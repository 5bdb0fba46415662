package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/template"
)

const tdir = "testdata/templates/"

var (
	clean  = tdir + "clean.yaml"
	warn   = tdir + "warn.yaml"
	bad    = tdir + "bad.yaml"
	syntax = tdir + "syntax.json"
)

// TestValidateGolden runs wsgw with buffers and compares exit status, stdout
// and stderr with testdata/golden/NAME.txtar. `go test ./cmd/wsgw -update`
// rewrites them. The templates use only template-level rules (WSGW1001-1013),
// whose IDs and messages are stable. SPEC.
func TestValidateGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"text-clean", []string{"validate", clean}},
		{"text-bad", []string{"validate", bad}},
		{"text-syntax", []string{"validate", syntax}},
		{"text-yaml-syntax", []string{"validate", tdir + "syntax-indent.yaml"}},
		{"github-yaml-syntax", []string{"validate", "--format", "github", tdir + "syntax-indent.yaml"}},
		{"text-warn", []string{"validate", warn}},
		{"text-warn-strict", []string{"validate", "--strict", warn}},
		{"text-param", []string{"validate", "--param", "TopicName=wsgw-topic", warn}},
		{"text-param-bad-value", []string{"validate", "--param", "TopicName=ab", warn}},
		{"text-param-unknown", []string{"validate", "--param", "TopicNme=x", warn}},
		{"text-several", []string{"validate", clean, warn, bad, syntax}},
		{"text-unreadable", []string{"validate", clean, tdir + "missing.yaml", "testdata/templates"}},
		{"json-clean", []string{"validate", "--format", "json", clean}},
		{"json-several", []string{"validate", "--format=json", clean, warn, bad, syntax}},
		{"json-unreadable", []string{"validate", "--format=json", warn, tdir + "missing.yaml"}},
		{"sarif-several", []string{"validate", "--format", "sarif", clean, warn, bad, syntax}},
		{"sarif-unreadable", []string{"validate", "--format", "sarif", tdir + "missing.yaml"}},
		{"github-several", []string{"validate", "--format", "github", clean, warn, bad, syntax}},
		{"junit-several", []string{"validate", "--format", "junit", clean, warn, bad, syntax}},
		{"junit-strict", []string{"validate", "--format", "junit", "--strict", warn}},
		{"junit-unreadable", []string{"validate", "--format", "junit", tdir + "missing.yaml"}},
		{"usage-no-template", []string{"validate"}},
		{"usage-bad-format", []string{"validate", "--format", "xml", clean}},
		{"usage-bad-flag", []string{"validate", "--bogus", clean}},
		{"usage-bad-param", []string{"validate", "--param", "TopicName", clean}},
		{"usage-empty-param-name", []string{"validate", "--param", "=x", clean}},
		{"usage-list-rules-with-file", []string{"validate", "--list-rules", clean}},
		{"usage-list-rules-sarif", []string{"validate", "--list-rules", "--format", "sarif"}},
		{"usage-unknown-command", []string{"valdiate", clean}},
		{"usage-version-args", []string{"version", "now"}},
		{"help-validate", []string{"validate", "--help"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := runWSGW(tt.args...)
			comment := fmt.Sprintf("wsgw %s\nexit %d\n", strings.Join(tt.args, " "), code)
			if strings.HasPrefix(tt.name, "sarif-") {
				out = withoutSARIFRules(t, out)
				comment += "(driver.rules emptied here; TestSARIFStructure checks it against compile.Rules())\n"
			}
			got := txtar.Format(&txtar.Archive{
				Comment: []byte(comment),
				Files:   []txtar.File{{Name: "stdout", Data: []byte(out)}, {Name: "stderr", Data: []byte(errs)}},
			})
			golden := filepath.Join("testdata", "golden", tt.name+".txtar")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/wsgw -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (go test ./cmd/wsgw -update rewrites it)\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

// withoutSARIFRules empties runs[0].tool.driver.rules, which lists every rule
// of compile.Rules() and grows as rules are added: the golden files then change
// only when wsgw's output for their templates does. TestSARIFStructure checks
// the rules list itself.
func withoutSARIFRules(t *testing.T, out string) string {
	t.Helper()
	var doc sarifLog
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("sarif output is not JSON: %v\n%s", err, out)
	}
	doc.Runs[0].Tool.Driver.Rules = []sarifRule{}
	var b bytes.Buffer
	if err := writeJSON(&b, doc); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestExitCodes pins the exit statuses of SPEC independently of the
// golden files.
func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"clean", []string{"validate", clean}, 0},
		{"warning", []string{"validate", warn}, 0},
		{"warning strict", []string{"validate", "--strict", warn}, 1},
		{"clean strict", []string{"validate", "--strict", clean}, 0},
		{"error", []string{"validate", bad}, 1},
		{"syntax error", []string{"validate", syntax}, 1},
		{"several", []string{"validate", clean, bad}, 1},
		{"param fixes warning", []string{"validate", "--strict", "--param", "TopicName=abc", warn}, 0},
		{"param breaks MinLength", []string{"validate", "--param", "TopicName=ab", warn}, 1},
		{"unreadable", []string{"validate", tdir + "missing.yaml"}, 2},
		{"unreadable beats error", []string{"validate", bad, tdir + "missing.yaml"}, 2},
		{"directory of templates with errors", []string{"validate", "testdata/templates"}, 1},
		{"directory without templates", []string{"validate", "testdata/golden"}, 0},
		{"bad flag", []string{"validate", "--nope", clean}, 2},
		{"bad param", []string{"validate", "--param", "nope", clean}, 2},
		{"bad format", []string{"validate", "--format", "yaml", clean}, 2},
		{"no template", []string{"validate"}, 2},
		{"unknown command", []string{"lint", clean}, 2},
		{"list rules", []string{"validate", "--list-rules"}, 0},
		{"help", []string{"validate", "--help"}, 0},
		{"version", []string{"version"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, errs, code := runWSGW(tt.args...); code != tt.want {
				t.Errorf("wsgw %s: exit %d, want %d\nstderr: %s", strings.Join(tt.args, " "), code, tt.want, errs)
			}
		})
	}
}

func TestListRules(t *testing.T) {
	rules := compile.Rules()
	if len(rules) < len(template.Rules()) {
		t.Fatalf("compile.Rules() has %d rules, fewer than the %d template rules", len(rules), len(template.Rules()))
	}
	t.Run("text", func(t *testing.T) {
		out, _, code := runWSGW("validate", "--list-rules")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if code != 0 || len(lines) != len(rules) {
			t.Fatalf("exit %d, %d lines, want 0 and %d lines:\n%s", code, len(lines), len(rules), out)
		}
		for i, r := range rules {
			f := strings.Fields(lines[i])
			if len(f) < 3 || f[0] != r.ID || f[1] != r.Severity.String() || !strings.HasSuffix(lines[i], " "+r.Summary) {
				t.Errorf("line %d = %q, want %s %s %s", i+1, lines[i], r.ID, r.Severity, r.Summary)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		out, _, code := runWSGW("validate", "--list-rules", "--format", "json")
		var got []struct{ ID, Severity, Summary string }
		if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
			t.Fatalf("exit %d, %v:\n%s", code, err, out)
		}
		if len(got) != len(rules) {
			t.Fatalf("%d rules, want %d", len(got), len(rules))
		}
		for i, r := range rules {
			if got[i].ID != r.ID || got[i].Severity != r.Severity.String() || got[i].Summary != r.Summary {
				t.Errorf("rule %d = %+v, want %+v", i, got[i], r)
			}
		}
	})
}

// sarif is the part of SARIF 2.1.0 that code-scanning tools need.
type sarif struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name           string `json:"name"`
				Version        string `json:"version"`
				InformationURI string `json:"informationUri"`
				Rules          []struct {
					ID               string `json:"id"`
					ShortDescription struct {
						Text string `json:"text"`
					} `json:"shortDescription"`
					DefaultConfiguration struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex *int   `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region *struct {
						StartLine   int `json:"startLine"`
						StartColumn int `json:"startColumn"`
						EndLine     int `json:"endLine"`
						EndColumn   int `json:"endColumn"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
		} `json:"results"`
	} `json:"runs"`
}

// TestSARIFStructure checks the fields GitHub code scanning requires, and that
// the rules list is compile.Rules(). SPEC.
func TestSARIFStructure(t *testing.T) {
	out, _, code := runWSGW("validate", "--format", "sarif", clean, warn, bad, syntax)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	var doc sarif
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || !strings.Contains(doc.Schema, "sarif-2.1.0") || len(doc.Runs) != 1 {
		t.Fatalf("version %q, $schema %q, %d runs; want 2.1.0, a sarif-2.1.0 schema, 1 run", doc.Version, doc.Schema, len(doc.Runs))
	}
	run := doc.Runs[0]
	d := run.Tool.Driver
	if d.Name != "wsgw" || d.Version != testVersion || !strings.HasPrefix(d.InformationURI, "https://") {
		t.Errorf("driver = %q %q %q", d.Name, d.Version, d.InformationURI)
	}
	rules := compile.Rules()
	if len(d.Rules) != len(rules) {
		t.Fatalf("%d rules, want %d", len(d.Rules), len(rules))
	}
	for i, r := range rules {
		got := d.Rules[i]
		if got.ID != r.ID || got.ShortDescription.Text != r.Summary || got.DefaultConfiguration.Level != r.Severity.String() {
			t.Errorf("rules[%d] = %+v, want %s", i, got, r.ID)
		}
	}
	_, _, want := loadAll(t, clean, warn, bad, syntax)
	if len(run.Results) != len(want) {
		t.Fatalf("%d results, want %d", len(run.Results), len(want))
	}
	for i, res := range run.Results {
		if res.RuleIndex == nil || *res.RuleIndex < 0 || *res.RuleIndex >= len(d.Rules) || d.Rules[*res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %d: ruleIndex does not point at rule %s", i, res.RuleID)
		}
		if res.RuleID != want[i].Rule || res.Level != want[i].Severity.String() || !strings.HasPrefix(res.Message.Text, want[i].Message) {
			t.Errorf("result %d = %s %s %q, want %s", i, res.RuleID, res.Level, res.Message.Text, want[i].Text())
		}
		if len(res.Locations) != 1 {
			t.Fatalf("result %d: %d locations", i, len(res.Locations))
		}
		pl := res.Locations[0].PhysicalLocation
		if uri := pl.ArtifactLocation.URI; uri != want[i].Range.File || strings.Contains(uri, `\`) || strings.HasPrefix(uri, "/") {
			t.Errorf("result %d: uri %q, want relative %q", i, uri, want[i].Range.File)
		}
		if r := pl.Region; r == nil || r.StartLine != want[i].Range.Line || r.StartColumn != want[i].Range.Col || r.EndLine < r.StartLine && r.EndLine != 0 {
			t.Errorf("result %d: region %+v, want %v", i, r, want[i].Range)
		}
	}
}

// loadAll validates files the way runValidate does, without the CLI.
func loadAll(t *testing.T, files ...string) (errs, warns int, ds template.Diagnostics) {
	t.Helper()
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, validateFile(f, src, nil)...)
	}
	ds.Sort()
	errs, warns = ds.Count()
	return errs, warns, ds
}

// TestJSONDocument checks the JSON report against the diagnostics template.Load
// returns.
func TestJSONDocument(t *testing.T) {
	files := []string{clean, warn, bad, syntax}
	out, _, code := runWSGW(append([]string{"validate", "--format", "json"}, files...)...)
	var doc jsonDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	errs, warns, want := loadAll(t, files...)
	if code != 1 || !doc.Failed || doc.Errors != errs || doc.Warnings != warns || len(doc.Diagnostics) != len(want) {
		t.Fatalf("exit %d, failed %v, %d errors, %d warnings, %d diagnostics; want 1, true, %d, %d, %d",
			code, doc.Failed, doc.Errors, doc.Warnings, len(doc.Diagnostics), errs, warns, len(want))
	}
	for i, d := range want {
		g := doc.Diagnostics[i]
		if g.File != d.Range.File || g.Line != d.Range.Line || g.Col != d.Range.Col || g.Rule != d.Rule || g.Message != d.Message || g.Fix != d.Fix || g.Severity != d.Severity.String() {
			t.Errorf("diagnostic %d = %+v, want %s", i, g, d.Text())
		}
	}
	if len(doc.Files) != len(files) {
		t.Fatalf("%d files, want %d", len(doc.Files), len(files))
	}
	for i, f := range files {
		if doc.Files[i].Path != f {
			t.Errorf("files[%d] = %q, want %q", i, doc.Files[i].Path, f)
		}
	}
}

// TestJUnitWellFormed parses the JUnit report and checks that its failures
// match the exit status: a failure per error, and per warning with --strict.
func TestJUnitWellFormed(t *testing.T) {
	files := []string{clean, warn, bad, syntax}
	errs, warns, _ := loadAll(t, files...)
	for _, strict := range []bool{false, true} {
		t.Run(fmt.Sprintf("strict=%v", strict), func(t *testing.T) {
			args := []string{"validate", "--format", "junit"}
			if strict {
				args = append(args, "--strict")
			}
			out, _, _ := runWSGW(append(args, files...)...)
			var doc junitSuites
			if err := xml.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			wantFail := errs
			if strict {
				wantFail += warns
			}
			if doc.Failures != wantFail || len(doc.Suites) != len(files) {
				t.Fatalf("%d failures in %d suites, want %d in %d", doc.Failures, len(doc.Suites), wantFail, len(files))
			}
			n := 0
			for _, s := range doc.Suites {
				for _, c := range s.Cases {
					if c.Failure != nil {
						n++
					}
				}
			}
			if n != wantFail {
				t.Errorf("%d <failure> elements, want %d", n, wantFail)
			}
		})
	}
}

// SPEC: GitHub workflow command escaping.
func TestGitHubEscaping(t *testing.T) {
	tests := []struct{ in, data, prop string }{
		{"plain", "plain", "plain"},
		{"100%", "100%25", "100%25"},
		{"a\nb\r\nc", "a%0Ab%0D%0Ac", "a%0Ab%0D%0Ac"},
		{"dir,x/a:b.yaml", "dir,x/a:b.yaml", "dir%2Cx/a%3Ab.yaml"},
		{"%0A", "%250A", "%250A"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ghData(tt.in); got != tt.data {
				t.Errorf("ghData(%q) = %q, want %q", tt.in, got, tt.data)
			}
			if got := ghProperty(tt.in); got != tt.prop {
				t.Errorf("ghProperty(%q) = %q, want %q", tt.in, got, tt.prop)
			}
		})
	}
}

func TestArtifactURI(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, want string }{
		{"template.yaml", "template.yaml"},
		{"./a/../b/template.yaml", "b/template.yaml"},
		{"my dir/t 1.yaml", "my%20dir/t%201.yaml"},
		{filepath.Join(wd, "x", "t.yaml"), "x/t.yaml"},
		{"../up.yaml", "../up.yaml"},
	}
	if filepath.Separator == '/' {
		tests = append(tests, struct{ in, want string }{"/elsewhere/t.yaml", "file:///elsewhere/t.yaml"})
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := artifactURI(tt.in); got != tt.want {
				t.Errorf("artifactURI(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestTextSortedAcrossFiles: one line per diagnostic, sorted by file, line and
// column, whatever order the files are given in. SPEC.
func TestTextSortedAcrossFiles(t *testing.T) {
	a, _, _ := runWSGW("validate", warn, syntax, bad)
	b, _, _ := runWSGW("validate", bad, warn, syntax)
	if a != b {
		t.Fatalf("output depends on argument order:\n%s\n---\n%s", a, b)
	}
	lines := strings.Split(strings.TrimSpace(a), "\n")
	_, _, want := loadAll(t, bad, syntax, warn)
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d", len(lines), len(want))
	}
	if !slices.IsSortedFunc(want, func(x, y template.Diagnostic) int { return strings.Compare(x.Range.File, y.Range.File) }) {
		t.Fatal("diagnostics not sorted by file")
	}
	for i, d := range want {
		if lines[i] != d.Text() {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], d.Text())
		}
	}
}
