package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/template"
)

// formats are the output formats of `wsgw validate --format`.
var formats = []string{"text", "json", "sarif", "github", "junit"}

type validateOptions struct {
	IO        *iostreams
	Files     []string
	Format    string
	Params    []string
	Strict    bool
	ListRules bool
	// SkipNonTemplates leaves out files that are not CloudFormation
	// templates, as the pre-commit hook wants.
	SkipNonTemplates bool
}

// newValidateCmd is `wsgw validate` (SPEC ).
func newValidateCmd(ios *iostreams) *cobra.Command {
	opts := &validateOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "validate [flags] TEMPLATE...",
		Short: "Check templates for mistakes without starting anything",
		Long: `Check one or more CloudFormation, SAM or CDK templates (YAML or JSON) for
mistakes in their WebSocket APIs, without starting anything.

Every diagnostic has a position (file, line, column of the offending value), a
severity and a stable rule ID; 'wsgw validate --list-rules' lists the rules.

Output formats (--format):
  text    one line per diagnostic, sorted by file, line and column:
            PATH:LINE:COL: error: MESSAGE [RULE]
          followed by a summary line on stderr
  json    one JSON document: files, diagnostics (file, line, col, endLine,
          endCol, severity, rule, message, fix), error and warning counts
  sarif   SARIF 2.1.0 for code-scanning tools (GitHub code scanning, IDEs)
  github  GitHub Actions workflow commands (::error file=...,line=...::...), which
          show as annotations on the pull request
  junit   JUnit XML: one testsuite per file, one testcase per diagnostic

A summary line is written to stderr in every format, so stdout holds only the
report.

A directory argument stands for the CloudFormation templates in it and its
subdirectories (*.yaml, *.yml, *.json, *.template; hidden directories and
node_modules are left out); wsgw says on stderr which files it read. A file is a
template when it has a Resources, AWSTemplateFormatVersion or Transform section.
A file named on the command line is always validated, unless
--skip-non-templates is given (the pre-commit hook passes it, so that
package.json, workflows and docker-compose files are skipped with a note).

Exit status:
  0  no errors (warnings allowed unless --strict)
  1  at least one error, or a warning with --strict
  2  usage error, or a file that could not be read`,
		Example: `  wsgw validate template.yaml
  wsgw validate infra/
  wsgw validate --strict --param Stage=prod --param AWS::Region=eu-west-1 template.yaml
  wsgw validate --format sarif template.yaml > wsgw.sarif
  wsgw validate --format github cdk.out/*.template.json
  wsgw validate --list-rules --format json`,
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Files = args
			return runValidate(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Format, "format", "text", "output format: "+strings.Join(formats, ", "))
	f.StringArrayVar(&opts.Params, "param", nil, "override a template parameter, as `Name=Value`, or set what wsgw makes up for a resource it does not run (Resource=Value for its Ref, Resource.Attribute=Value) (repeatable)")
	f.BoolVar(&opts.Strict, "strict", false, "fail (exit 1) on warnings too")
	f.BoolVar(&opts.ListRules, "list-rules", false, "list every rule (ID, severity, summary) and exit")
	f.BoolVar(&opts.SkipNonTemplates, "skip-non-templates", false, "skip files that are not CloudFormation templates (no Resources, AWSTemplateFormatVersion or Transform) instead of reporting them")
	return cmd
}

func runValidate(o *validateOptions) error {
	if !slices.Contains(formats, o.Format) {
		return usageErrorf("unknown --format %q (want one of %s)", o.Format, strings.Join(formats, ", "))
	}
	if o.ListRules {
		if len(o.Files) > 0 {
			return usageErrorf("--list-rules takes no TEMPLATE arguments")
		}
		return listRules(o)
	}
	if len(o.Files) == 0 {
		return usageErrorf("validate needs at least one TEMPLATE")
	}
	params, err := parseParams(o.Params)
	if err != nil {
		return err
	}

	rep := &report{Strict: o.Strict, ReadErrors: map[string]string{}}
	for _, in := range expandInputs(o.Files, o.IO.Err) {
		if in.err != "" {
			rep.Files = append(rep.Files, in.path)
			rep.ReadErrors[in.path] = in.err
			fmt.Fprintf(o.IO.Err, "wsgw: %s: %s\n", in.path, in.err)
			continue
		}
		if in.fromDir && !in.template || !in.fromDir && o.SkipNonTemplates && !isTemplate(in.src) {
			rep.Skipped = append(rep.Skipped, in.path)
			if !in.fromDir {
				fmt.Fprintf(o.IO.Err, "wsgw: %s: skipped, not a CloudFormation template (no Resources, AWSTemplateFormatVersion or Transform)\n", in.path)
			}
			continue
		}
		rep.Files = append(rep.Files, in.path)
		rep.Diags = append(rep.Diags, validateFile(in.path, in.src, params)...)
	}
	if len(rep.Files) == 0 && len(rep.Skipped) > 0 {
		fmt.Fprintln(o.IO.Err, rep.summary())
		return exitWith(exitOK)
	}
	rep.Diags.Sort()

	if err := writeReport(o.IO.Out, o.Format, rep); err != nil {
		return err
	}
	fmt.Fprintln(o.IO.Err, rep.summary())
	return exitWith(rep.exitCode())
}

// validateFile loads one template and, when it loads without errors, runs the
// API rules on it.
func validateFile(path string, src []byte, params map[string]string) template.Diagnostics {
	st, ds := template.Load(path, src, template.Options{Params: params})
	if st != nil && !ds.HasErrors() {
		ds = append(ds, compile.Check(st)...)
	}
	return ds
}

// readError turns an os.ReadFile error into a short message without the path,
// which the caller prints in front.
func readError(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		if pe.Op == "read" && strings.Contains(pe.Err.Error(), "is a directory") {
			return "is a directory, not a template"
		}
		return "cannot " + pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// parseParams turns repeated Name=Value flags into a map; the last value of a
// name wins.
func parseParams(list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	params := make(map[string]string, len(list))
	for _, p := range list {
		name, value, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usageErrorf("--param %q: want Name=Value", p)
		}
		params[name] = value
	}
	return params, nil
}

func listRules(o *validateOptions) error {
	rules := compile.Rules()
	switch o.Format {
	case "text":
		for _, r := range rules {
			fmt.Fprintf(o.IO.Out, "%-9s %-7s %s\n", r.ID, r.Severity, r.Summary)
		}
		return nil
	case "json":
		return writeJSON(o.IO.Out, rules)
	default:
		return usageErrorf("--list-rules prints text or json, not %s", o.Format)
	}
}
