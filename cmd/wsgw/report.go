package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/template"
)

// report is the outcome of validating a list of files; every output format
// renders it.
type report struct {
	// Files are the paths as given on the command line, in that order.
	Files []string
	// ReadErrors maps the paths that could not be read to why.
	ReadErrors map[string]string
	// Skipped lists the files left out because they are not CloudFormation
	// templates (--skip-non-templates, or found in a directory argument).
	Skipped []string
	// Diags are sorted by file, line and column.
	Diags  template.Diagnostics
	Strict bool
}

// exitCode is 2 when a file could not be read, 1 when a diagnostic fails
// validation (an error, or a warning with --strict), else 0.
func (r *report) exitCode() int {
	errs, warns := r.Diags.Count()
	switch {
	case len(r.ReadErrors) > 0:
		return exitUsage
	case errs > 0, r.Strict && warns > 0:
		return exitFailure
	}
	return exitOK
}

// fails reports whether d makes validation fail.
func (r *report) fails(d template.Diagnostic) bool {
	return d.Severity == template.Error || r.Strict
}

// summary is the line printed on stderr after the report, such as
// "2 errors, 1 warning in 1 file" or "ok: 3 files, no problems".
func (r *report) summary() string {
	errs, warns := r.Diags.Count()
	withDiags := map[string]bool{}
	for _, d := range r.Diags {
		withDiags[d.Range.File] = true
	}
	read := len(r.Files) - len(r.ReadErrors)
	var b strings.Builder
	switch {
	case errs == 0 && warns == 0 && len(r.ReadErrors) > 0:
		// Never "ok" when the exit status says something went wrong.
		fmt.Fprintf(&b, "failed: %s could not be read", plural(len(r.ReadErrors), "file"))
		if read > 0 {
			fmt.Fprintf(&b, "; no problems in the other %s", plural(read, "file"))
		}
		r.skippedNote(&b)
		return b.String()
	case errs == 0 && warns == 0 && read == 0 && len(r.Skipped) > 0:
		b.WriteString("ok: no templates to check")
	case errs == 0 && warns == 0:
		fmt.Fprintf(&b, "ok: %s, no problems", plural(read, "file"))
	default:
		var parts []string
		if errs > 0 {
			parts = append(parts, plural(errs, "error"))
		}
		if warns > 0 {
			parts = append(parts, plural(warns, "warning"))
		}
		b.WriteString(strings.Join(parts, ", "))
		if len(withDiags) == read {
			fmt.Fprintf(&b, " in %s", plural(read, "file"))
		} else {
			fmt.Fprintf(&b, " in %d of %s", len(withDiags), plural(read, "file"))
		}
		if errs == 0 && r.Strict {
			b.WriteString(" (--strict: warnings fail)")
		}
	}
	if n := len(r.ReadErrors); n > 0 {
		fmt.Fprintf(&b, "; %s could not be read", plural(n, "file"))
	}
	r.skippedNote(&b)
	return b.String()
}

// skippedNote adds how many files were not templates, if any.
func (r *report) skippedNote(b *strings.Builder) {
	if n := len(r.Skipped); n > 0 {
		fmt.Fprintf(b, "; %s skipped (not CloudFormation templates)", plural(n, "file"))
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// message is the diagnostic's message with its fix, as the text format shows it.
func message(d template.Diagnostic) string {
	if d.Fix == "" {
		return d.Message
	}
	return d.Message + " (" + d.Fix + ")"
}

func writeReport(w io.Writer, format string, r *report) error {
	switch format {
	case "text":
		return writeText(w, r)
	case "json":
		return writeJSON(w, jsonReport(r))
	case "sarif":
		return writeJSON(w, sarifReport(r))
	case "github":
		return writeGitHub(w, r)
	case "junit":
		return writeJUnit(w, r)
	}
	return fmt.Errorf("unknown format %q", format)
}

func writeText(w io.Writer, r *report) error {
	for _, d := range r.Diags {
		if _, err := fmt.Fprintln(w, d.Text()); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// ---- json ----

type jsonFile struct {
	Path     string `json:"path"`
	Errors   int    `json:"errors"`
	Warnings int    `json:"warnings"`
	// ReadError says why the file could not be read.
	ReadError string `json:"readError,omitempty"`
}

type jsonDiag struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	EndLine  int    `json:"endLine,omitempty"`
	EndCol   int    `json:"endCol,omitempty"`
	Severity string `json:"severity"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
	Fix      string `json:"fix,omitempty"`
}

type jsonDoc struct {
	Files       []jsonFile `json:"files"`
	Diagnostics []jsonDiag `json:"diagnostics"`
	Errors      int        `json:"errors"`
	Warnings    int        `json:"warnings"`
	// Failed is true when wsgw validate exits non-zero.
	Failed bool `json:"failed"`
}

func jsonReport(r *report) jsonDoc {
	doc := jsonDoc{Files: []jsonFile{}, Diagnostics: []jsonDiag{}}
	idx := map[string]int{}
	for _, p := range r.Files {
		idx[p] = len(doc.Files)
		doc.Files = append(doc.Files, jsonFile{Path: p, ReadError: r.ReadErrors[p]})
	}
	for _, d := range r.Diags {
		doc.Diagnostics = append(doc.Diagnostics, jsonDiag{
			File: d.Range.File, Line: d.Range.Line, Col: d.Range.Col, EndLine: d.Range.EndLine, EndCol: d.Range.EndCol,
			Severity: d.Severity.String(), Rule: d.Rule, Message: d.Message, Fix: d.Fix,
		})
		if i, ok := idx[d.Range.File]; ok {
			if d.Severity == template.Error {
				doc.Files[i].Errors++
			} else {
				doc.Files[i].Warnings++
			}
		}
	}
	doc.Errors, doc.Warnings = r.Diags.Count()
	doc.Failed = r.exitCode() != exitOK
	return doc
}

// ---- sarif ----

// informationURI is where SARIF viewers send users who want to know about wsgw.
const informationURI = "https://github.com/wsgw/wsgw"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	ColumnKind  string            `json:"columnKind"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string        `json:"id"`
	ShortDescription     sarifText     `json:"shortDescription"`
	HelpURI              string        `json:"helpUri,omitempty"`
	DefaultConfiguration sarifRuleConf `json:"defaultConfiguration"`
}

type sarifRuleConf struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

func sarifReport(r *report) sarifLog {
	rules := compile.Rules()
	driver := sarifDriver{Name: "wsgw", Version: shortVersion(), InformationURI: informationURI, Rules: []sarifRule{}}
	index := map[string]int{}
	for i, rule := range rules {
		index[rule.ID] = i
		driver.Rules = append(driver.Rules, sarifRule{
			ID:                   rule.ID,
			ShortDescription:     sarifText{rule.Summary},
			HelpURI:              informationURI + "#rules",
			DefaultConfiguration: sarifRuleConf{Level: rule.Severity.String()},
		})
	}
	run := sarifRun{Tool: sarifTool{driver}, Results: []sarifResult{}, ColumnKind: "unicodeCodePoints"}
	for _, d := range r.Diags {
		i, ok := index[d.Rule]
		if !ok {
			// A rule missing from compile.Rules() is a bug; keep the result
			// and point it at nothing rather than at the wrong rule.
			i = -1
		}
		run.Results = append(run.Results, sarifResult{
			RuleID: d.Rule, RuleIndex: i, Level: d.Severity.String(), Message: sarifText{message(d)},
			Locations: []sarifLocation{sarifLoc(d.Range.File, d.Range)},
		})
	}
	inv := sarifInvocation{ExecutionSuccessful: len(r.ReadErrors) == 0}
	for _, p := range r.Files {
		if msg, ok := r.ReadErrors[p]; ok {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
				Level: "error", Message: sarifText{p + ": " + msg},
				Locations: []sarifLocation{sarifLoc(p, template.Range{})},
			})
		}
	}
	run.Invocations = []sarifInvocation{inv}
	return sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
}

func sarifLoc(path string, rg template.Range) sarifLocation {
	loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI(path)}}}
	if rg.Line > 0 {
		reg := &sarifRegion{StartLine: rg.Line, StartColumn: rg.Col}
		if rg.EndLine > 0 {
			reg.EndLine, reg.EndColumn = rg.EndLine, rg.EndCol
		}
		loc.PhysicalLocation.Region = reg
	}
	return loc
}

// artifactURI turns a path into a SARIF artifact URI: relative to the working
// directory when it lies below it, with forward slashes and percent-escapes;
// a file:// URI otherwise.
func artifactURI(path string) string {
	p := filepath.Clean(path)
	if filepath.IsAbs(p) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				p = rel
			}
		}
	}
	if filepath.IsAbs(p) {
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
	}
	return (&url.URL{Path: filepath.ToSlash(p)}).EscapedPath()
}

// ---- github ----

func writeGitHub(w io.Writer, r *report) error {
	for _, p := range r.Files {
		if msg, ok := r.ReadErrors[p]; ok {
			if _, err := fmt.Fprintf(w, "::error file=%s,title=wsgw::%s\n", ghProperty(p), ghData(msg)); err != nil {
				return err
			}
		}
	}
	for _, d := range r.Diags {
		props := []string{"file=" + ghProperty(d.Range.File)}
		if d.Range.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", d.Range.Line), fmt.Sprintf("col=%d", d.Range.Col))
			if d.Range.EndLine > 0 {
				props = append(props, fmt.Sprintf("endLine=%d", d.Range.EndLine), fmt.Sprintf("endColumn=%d", d.Range.EndCol))
			}
		}
		props = append(props, "title="+ghProperty(d.Rule))
		if _, err := fmt.Fprintf(w, "::%s %s::%s\n", d.Severity, strings.Join(props, ","), ghData(message(d))); err != nil {
			return err
		}
	}
	return nil
}

// ghData escapes the message of a workflow command.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a property value of a workflow command.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// ---- junit ----

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes one testsuite per file and one testcase per diagnostic; a
// file without diagnostics gets one passing testcase. Warnings are failures
// only with --strict, as for the exit status; otherwise their testcase passes
// and carries the warning in system-out.
func writeJUnit(w io.Writer, r *report) error {
	doc := junitSuites{Name: "wsgw validate"}
	byFile := map[string][]template.Diagnostic{}
	for _, d := range r.Diags {
		byFile[d.Range.File] = append(byFile[d.Range.File], d)
	}
	// Diagnostics about files not named on the command line (none today)
	// still get a suite, after the named ones.
	files := slices.Clone(r.Files)
	for _, d := range r.Diags {
		if !slices.Contains(files, d.Range.File) {
			files = append(files, d.Range.File)
		}
	}
	for _, p := range files {
		s := junitSuite{Name: p}
		switch msg, unreadable := r.ReadErrors[p]; {
		case unreadable:
			s.Cases = append(s.Cases, junitCase{Name: "read", Classname: p, File: p,
				Error: &junitProblem{Message: msg, Type: "ReadError", Text: p + ": " + msg}})
			s.Errors++
		case len(byFile[p]) == 0:
			s.Cases = append(s.Cases, junitCase{Name: "validate", Classname: p, File: p})
		}
		for _, d := range byFile[p] {
			c := junitCase{Name: fmt.Sprintf("%s at %d:%d", d.Rule, d.Range.Line, d.Range.Col), Classname: p, File: p, Line: d.Range.Line}
			if r.fails(d) {
				c.Failure = &junitProblem{Message: message(d), Type: d.Rule, Text: d.Text()}
				s.Failures++
			} else {
				c.SystemOut = d.Text()
			}
			s.Cases = append(s.Cases, c)
		}
		s.Tests = len(s.Cases)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Suites = append(doc.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
