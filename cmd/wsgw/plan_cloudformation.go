package main

import (
	"encoding/json"
	"fmt"

	"github.com/wsgw/wsgw/template"
)

// writeCloudFormation prints `wsgw plan --format cloudformation`: the
// resources wsgw serves in CloudFormation form after SAM's transform (SPEC
// Only the template's own errors stop it; the checks of what serve
// runs do not, since this is the template CloudFormation would get.
func writeCloudFormation(o *planOptions, src []byte, params map[string]string) error {
	st, ds := template.Load(o.File, src, template.Options{Params: params})
	for _, d := range ds {
		fmt.Fprintln(o.IO.Err, d.Text())
	}
	if st == nil || ds.HasErrors() {
		errs, warns := ds.Count()
		fmt.Fprintf(o.IO.Err, "%s, %s in %s: no template\n", plural(errs, "error"), plural(warns, "warning"), o.File)
		return exitWith(exitFailure)
	}
	tmpl, notes := st.CloudFormation()
	for _, n := range notes {
		fmt.Fprintf(o.IO.Err, "note: %s\n", n)
	}
	enc := json.NewEncoder(o.IO.Out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(tmpl)
}
