package template

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Range is a position in a template file. Line and Col are 1-based; EndLine and
// EndCol, when set, point just past the last character of the value.
type Range struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	EndLine int    `json:"endLine,omitempty"`
	EndCol  int    `json:"endCol,omitempty"`
}

// String renders the range as FILE:LINE:COL.
func (r Range) String() string { return fmt.Sprintf("%s:%d:%d", r.File, r.Line, r.Col) }

// IsZero reports whether the range points nowhere.
func (r Range) IsZero() bool { return r.Line == 0 }

// Severity says whether a diagnostic fails validation.
type Severity int

const (
	// Error makes validation fail and stops serve from starting.
	Error Severity = iota
	// Warning is reported but does not fail validation unless --strict is given.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// MarshalText renders the severity as its name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Diagnostic is one problem found in a template.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	Rule     string   `json:"rule"`
	Message  string   `json:"message"`
	Range    Range    `json:"range"`
	// Fix, when set, is a short suggestion such as "did you mean `Integ`?".
	Fix string `json:"fix,omitempty"`
}

// Text renders the diagnostic as the line `wsgw validate` prints:
// PATH:LINE:COL: error: MESSAGE [RULE].
func (d Diagnostic) Text() string {
	msg := d.Message
	if d.Fix != "" {
		msg += " (" + d.Fix + ")"
	}
	return fmt.Sprintf("%s: %s: %s [%s]", d.Range, d.Severity, msg, d.Rule)
}

// Diagnostics is a list of problems.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	return slices.ContainsFunc(ds, func(d Diagnostic) bool { return d.Severity == Error })
}

// Count returns the number of errors and warnings.
func (ds Diagnostics) Count() (errs, warns int) {
	for _, d := range ds {
		if d.Severity == Error {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

// Sort orders diagnostics by file, line, column, then rule and message.
func (ds Diagnostics) Sort() {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Range.File, b.Range.File),
			cmp.Compare(a.Range.Line, b.Range.Line),
			cmp.Compare(a.Range.Col, b.Range.Col),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// Err returns nil when there are no errors, else an error listing them one per line.
func (ds Diagnostics) Err() error {
	if !ds.HasErrors() {
		return nil
	}
	var b strings.Builder
	for i, d := range ds {
		if d.Severity != Error {
			continue
		}
		if i > 0 && b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.Text())
	}
	return errors.New(b.String())
}

// Rule describes one validation rule: its stable ID, default severity and a
// one-line description shown by `wsgw validate --list-rules`.
type Rule struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Summary  string   `json:"summary"`
}

// Diag builds a diagnostic for this rule at r.
func (r Rule) Diag(at Range, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: r.Severity, Rule: r.ID, Message: fmt.Sprintf(format, args...), Range: at}
}

// Collector gathers the diagnostics of a stage, each once: one with the rule,
// range and message of a diagnostic collected before is dropped (a SAM node
// used by several generated resources, a link that several rules read).
type Collector struct {
	ds   Diagnostics
	seen map[diagKey]bool
}

// diagKey is what makes diagnostics the same: rule, message and start.
type diagKey struct {
	rule, msg, file string
	line, col       int
}

// Add collects d unless it was collected before, and reports whether it was added.
func (c *Collector) Add(d Diagnostic) bool {
	k := diagKey{d.Rule, d.Message, d.Range.File, d.Range.Line, d.Range.Col}
	if c.seen[k] {
		return false
	}
	if c.seen == nil {
		c.seen = map[diagKey]bool{}
	}
	c.seen[k] = true
	c.ds = append(c.ds, d)
	return true
}

// Report collects a diagnostic of rule at at, with fix ("" for none).
func (c *Collector) Report(rule Rule, at Range, fix, format string, args ...any) {
	d := rule.Diag(at, format, args...)
	d.Fix = fix
	c.Add(d)
}

// Diagnostics returns what was collected, in the order it was.
func (c *Collector) Diagnostics() Diagnostics { return c.ds }
