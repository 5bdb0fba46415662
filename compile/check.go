package compile

import (
	"slices"

	"github.com/wsgw/wsgw/template"
)

// Rules lists every validation rule wsgw has, template and API rules alike, in ID order.
func Rules() []template.Rule {
	rules := append(template.Rules(), apiRules...)
	slices.SortFunc(rules, func(a, b template.Rule) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return rules
}

// apiRules are the rules of SPEC §3 that this package checks.
var apiRules []template.Rule

// Check runs the WebSocket API rules of SPEC §3 on a stack loaded without
// errors and returns what it finds, sorted by position.
func Check(st *template.Stack) template.Diagnostics {
	var ds template.Diagnostics
	ds.Sort()
	return ds
}
