package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wsgw/wsgw/template"
)

// templateExts are the file names a directory argument of validate reads.
var templateExts = []string{".yaml", ".yml", ".json", ".template"}

// input is one file to validate: its path as the user will see it, its
// contents, or why it could not be read.
type input struct {
	path    string
	src     []byte
	err     string
	fromDir bool
	// template is isTemplate(src), known for the files found in a directory.
	template bool
}

// expandInputs reads the files named on the command line; a directory stands
// for the template files under it, which it lists on errw.
func expandInputs(args []string, errw io.Writer) []input {
	var out []input
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil || !st.IsDir() {
			src, err := os.ReadFile(arg)
			if err != nil {
				out = append(out, input{path: arg, err: readError(err)})
				continue
			}
			out = append(out, input{path: arg, src: src})
			continue
		}
		var found []input
		var names []string
		walkErr := filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				found = append(found, input{path: p, err: readError(err)})
				return nil
			}
			if d.IsDir() {
				if p != arg && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
					return filepath.SkipDir
				}
				return nil
			}
			if !slices.Contains(templateExts, strings.ToLower(filepath.Ext(p))) {
				return nil
			}
			src, err := os.ReadFile(p)
			if err != nil {
				found = append(found, input{path: p, err: readError(err), fromDir: true})
				return nil
			}
			in := input{path: p, src: src, fromDir: true, template: isTemplate(src)}
			if in.template {
				names = append(names, p)
			}
			found = append(found, in)
			return nil
		})
		if walkErr != nil {
			out = append(out, input{path: arg, err: readError(walkErr)})
			continue
		}
		skipped := 0
		for _, in := range found {
			if in.err == "" && !in.template {
				skipped++
			}
		}
		switch {
		case len(names) == 0:
			fmt.Fprintf(errw, "wsgw: %s: no CloudFormation templates in this directory (%d other files)\n", arg, skipped)
		default:
			fmt.Fprintf(errw, "wsgw: %s: %s: %s", arg, plural(len(names), "template"), strings.Join(names, ", "))
			if skipped > 0 {
				fmt.Fprintf(errw, " (%s skipped)", plural(skipped, "other file"))
			}
			fmt.Fprintln(errw)
		}
		out = append(out, found...)
	}
	// A file named twice (itself and through its directory) is read once.
	seen := map[string]bool{}
	uniq := out[:0]
	for _, in := range out {
		if k := filepath.Clean(in.path); !seen[k] {
			seen[k] = true
			uniq = append(uniq, in)
		}
	}
	return uniq
}

// isTemplate reports whether src is a CloudFormation template: a mapping with
// a Resources, AWSTemplateFormatVersion or Transform section (cfn-lint's rule
// of thumb). A file that does not parse counts as a template when it names
// one of those sections, so that a broken template is still reported.
func isTemplate(src []byte) bool {
	sections := []string{"Resources", "AWSTemplateFormatVersion", "Transform"}
	root, _ := template.Parse("", src)
	if root == nil || root.Kind != template.Map {
		for _, s := range sections {
			if strings.Contains(string(src), s) {
				return true
			}
		}
		return false
	}
	for _, s := range sections {
		if root.Get(s) != nil {
			return true
		}
	}
	return false
}
